"""The test processes' garbage collector: off while tests are collected, on (with the collected heap frozen) while they run."""

from __future__ import annotations

import gc
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT_CONFTEST = Path(__file__).resolve().parent / "conftest.py"


@pytest.fixture
def root_conftest(pytestconfig):
    """tests/conftest.py as pytest loaded it (`import conftest` may find another folder's)."""
    for plugin in pytestconfig.pluginmanager.get_plugins():
        if Path(getattr(plugin, "__file__", "") or "").resolve() == ROOT_CONFTEST:
            return plugin
    pytest.fail("tests/conftest.py is not loaded")


def test_the_collector_runs_during_tests_and_skips_what_collection_left():
    # tests/conftest.py turns automatic collection off at import; a process that never
    # turned it back on would keep every cycle its tests make until it ends.
    assert gc.isenabled()
    assert gc.get_freeze_count() > 10_000  # modules, plugins and plans of the collection


def _teardown(conftest, item, nextitem) -> None:
    hook = conftest.pytest_runtest_teardown(item, nextitem)
    next(hook)  # up to the teardown itself
    with pytest.raises(StopIteration):
        hook.send(None)


def test_what_a_module_leaves_is_frozen_when_the_next_test_is_another_modules(root_conftest):
    this, other = SimpleNamespace(module=object()), SimpleNamespace(module=object())
    left_behind = [[n] for n in range(1000)]  # lists are always tracked
    frozen = gc.get_freeze_count()
    _teardown(root_conftest, this, SimpleNamespace(module=this.module))  # same module: nothing frozen
    assert gc.get_freeze_count() == frozen
    _teardown(root_conftest, this, other)
    assert gc.get_freeze_count() >= frozen + len(left_behind)
    frozen = gc.get_freeze_count()
    more = [[n] for n in range(1000)]  # lists are always tracked
    _teardown(root_conftest, other, None)  # the last test of the process
    assert gc.get_freeze_count() >= frozen + len(more)


def _config(dist: str, tx: list[str], collectonly: bool = False, worker: bool = False):
    options = {"dist": dist, "tx": tx, "collectonly": collectonly}
    config = SimpleNamespace(getoption=lambda name, default=None: options.get(name, default))
    if worker:
        config.workerinput = {}
    return config


@pytest.mark.parametrize(
    "config, controller",
    [
        (_config("load", ["popen", "popen"]), True),  # -n 2: hands the tests to its workers
        (_config("load", ["popen", "popen"], worker=True), False),  # a worker collects
        (_config("load", ["popen", "popen"], collectonly=True), False),  # --collect-only -n 2
        (_config("load", []), False),  # --dist load without -n: one process
        (_config("no", []), False),  # -n 0
    ],
    ids=["controller", "worker", "collect-only", "dist-without-workers", "one-process"],
)
def test_only_the_xdist_controller_turns_collection_on_before_collecting(root_conftest, config, controller):
    assert root_conftest._hands_tests_out(config) is controller
