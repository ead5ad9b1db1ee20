"""The test processes' garbage collector: off while tests are collected, on (with the collected heap frozen) while they run."""

from __future__ import annotations

import gc


def test_the_collector_runs_during_tests_and_skips_what_collection_left():
    # tests/conftest.py turns automatic collection off at import; a process that never
    # turned it back on would keep every cycle its tests make until it ends.
    assert gc.isenabled()
    assert gc.get_freeze_count() > 10_000  # modules, plugins and plans of the collection
