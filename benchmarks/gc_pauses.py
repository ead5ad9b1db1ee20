"""pytest plugin for `benchmarks/suite_time.py --gc`: the garbage collector's pauses in each test process.

Loaded with `-p benchmarks.gc_pauses` (pytest-xdist hands the option to every worker). Each
process writes, when it ends, how many collections of each generation it ran and how long they
took to `$GC_PAUSES_DIR/<pid>.json`.
"""

from __future__ import annotations

import gc
import json
import os
import time
from pathlib import Path

_pauses = {generation: [0, 0.0] for generation in range(3)}
_started = 0.0


def _timed(phase: str, info: dict) -> None:
    global _started
    if phase == "start":
        _started = time.perf_counter()
    else:
        count_and_seconds = _pauses[info["generation"]]
        count_and_seconds[0] += 1
        count_and_seconds[1] += time.perf_counter() - _started


# At import, not in a hook: `-p` loads the plugin before the conftest files and collection.
gc.callbacks.append(_timed)


def pytest_unconfigure(config) -> None:
    folder = os.environ.get("GC_PAUSES_DIR")
    if folder:
        Path(folder, f"{os.getpid()}.json").write_text(json.dumps(_pauses))
