"""One builder per stack; `__main__.py` picks one by stack name (or the `approach` config key).

A stack is a module `stacks/<name>.py` with a `build()` function; the modules
below are helpers, not stacks.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Callable

_HELPER_MODULES = {"__init__", "config", "platform_ref"}


def stack_names() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(p.stem for p in here.glob("*.py") if p.stem not in _HELPER_MODULES)


def select_builder(stack_name: str, approach: str | None) -> Callable[[], None]:
    wanted = approach or stack_name
    valid = stack_names()
    if wanted not in valid:
        source = f"config 'approach' = {approach!r}" if approach else f"stack name {stack_name!r}"
        raise LookupError(
            f"{source} is not a known stack; valid stacks: {', '.join(valid)} "
            "(name the stack after one, or set `pulumi config set approach <name>`)"
        )
    return importlib.import_module(f"stacks.{wanted}").build
