"""Shared fixtures: run a stack's real program under Pulumi mocks and inspect what it registered."""

from __future__ import annotations

import copy
import fcntl
import gc
import hashlib
import json
import os
import pickle
import sys
from pathlib import Path
from typing import Callable

import pytest

# No automatic garbage collection until the tests are collected (pytest_collection_finish):
# importing moto, botocore, pulumi, hypothesis and schemathesis, and the plans made at
# collection, build a heap that each automatic full collection walked again as it grew.
# The pytest-xdist controller never collects tests: it turns collection back on at once.
gc.disable()

# tests/cue holds the CUE runner, the shared parameter samples and the engine-neutral
# table model that the cue, kro and kratix suites all use.
CUE_TESTS = Path(__file__).resolve().parent / "cue"
if str(CUE_TESTS) not in sys.path:
    sys.path.insert(0, str(CUE_TESTS))

from cue_fixtures import Definitions  # noqa: E402
from cue_runner import CueEvaluator, EvaluatorMissing  # noqa: E402
from session_api import local  # noqa: E402

import tools.plan  # noqa: E402
from tools.mock_harness import PlanResult  # noqa: E402
from tools.plan import plan  # noqa: E402

# -- one run of each distinct plan per test process ------------------------------
#
# A plan is a function of the stack name, its config and the platform outputs it
# reads (the test_plan_is_deterministic tests prove it, with `fresh_plan_stack`),
# and the suite asks for the same few plans about two hundred times. Each test
# process (each pytest-xdist worker) runs a distinct plan once and hands every
# caller its own deep copy, so no test sees another's changes. A test that uses
# `monkeypatch` (directly or through a fixture) may change what the program sees
# (a module constant, the environment): its plans are neither taken from nor
# put in the cache.
_real_run_stack = tools.plan.run_stack
_plans: dict[str, PlanResult] = {}
_cache_plans = True


@pytest.fixture(autouse=True)
def _plans_cached_unless_patched(request):
    global _cache_plans
    _cache_plans = "monkeypatch" not in request.fixturenames
    yield
    _cache_plans = True


def _plan_key(stack: str, config: dict | None, stack_outputs: dict | None) -> str | None:
    kubeconfig = next((v for k, v in (config or {}).items() if k.endswith("kubeconfig")), None)
    if isinstance(kubeconfig, str) and "\n" not in kubeconfig:
        return None  # a file path: the plan depends on the file's content too
    return json.dumps([stack, config, stack_outputs], sort_keys=True, default=repr)


# Under pytest-xdist the workers also share their plans through the run's base
# temporary directory (set in pytest_configure): a plan is run by whichever worker
# asks first, under a lock, and the others read its pickle. Both workers plan at
# collection (tests/infra/test_cr_schemas.py), so each starts from another end of
# its list and the planning is split between them.
_shared_plans: Path | None = None


def pytest_collection_finish(session):
    """Collect once and freeze what is alive once the tests are collected (modules, plugins, plans).

    Every test process holds a large heap of imported objects (pulumi, moto, botocore,
    hypothesis, schemathesis); each full garbage collection walked all of it, about a
    quarter of an in-process test's time. Frozen objects are left out of collections;
    objects the tests create are still collected.
    """
    gc.collect()
    gc.freeze()
    gc.enable()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Freeze again at the end of each test module, once its module fixtures are gone.

    What outlives a module (boto3's loaded service models, caches) would otherwise be
    walked by every later full collection, which then cost about 150 ms each, some
    fifteen per worker. Garbage still uncollected at the module's end (cycles its
    fixtures drop at teardown, too) is frozen with it and kept until the process ends:
    20-40 MB of a worker's peak. Collecting first would free it, but each such collection
    cost about 40 ms, some 3-5 s of a run's wall time.
    """
    result = yield
    if nextitem is None or getattr(nextitem, "module", None) is not getattr(item, "module", None):
        gc.freeze()
    return result


def _hands_tests_out(config) -> bool:
    """The pytest-xdist controller: it starts the workers and never collects tests itself."""
    # As pytest-xdist decides it (xdist.plugin._is_distribution_mode): `--dist` alone,
    # without `-n`, starts no workers and the process collects its tests itself.
    distributes = config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None))
    return distributes and not config.getoption("collectonly") and not hasattr(config, "workerinput")


def pytest_configure(config):
    global _shared_plans
    if _hands_tests_out(config):
        gc.enable()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # pytest-xdist starts each worker with `--basetemp <the run's base>/popen-<id>`;
        # the run's base, which the controller made, is the folder the workers share.
        _shared_plans = Path(config.option.basetemp).parent / "plans"
        _shared_plans.mkdir(exist_ok=True)


def _shared_plan(key: str, run: Callable[[], PlanResult]) -> PlanResult:
    path = _shared_plans / hashlib.sha256(key.encode()).hexdigest()
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return pickle.loads(path.read_bytes())
        result = run()
        partial = path.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(result))
        partial.replace(path)
        return result


def _cached_run_stack(stack, config=None, stack_outputs=None, *args, **kwargs) -> PlanResult:
    key = None if args or kwargs or not _cache_plans else _plan_key(stack, config, stack_outputs)
    if key is None:
        return _real_run_stack(stack, config, stack_outputs, *args, **kwargs)
    if key not in _plans:
        run = lambda: _real_run_stack(stack, config, stack_outputs)  # noqa: E731
        _plans[key] = run() if _shared_plans is None else _shared_plan(key, run)
    return copy.deepcopy(_plans[key])


# Installed at import, not in a fixture: test modules plan at collection time too.
tools.plan.run_stack = _cached_run_stack


@pytest.fixture
def plan_stack() -> Callable[..., PlanResult]:
    """`plan_stack("platform", dynamodbMode="aws")`: the checked-in stack config plus overrides."""

    def run(stack: str, platform_overrides: dict | None = None, **overrides) -> PlanResult:
        return plan(stack, overrides, platform_overrides)

    return run


@pytest.fixture
def fresh_plan_stack(monkeypatch, plan_stack) -> Callable[..., PlanResult]:
    """`plan_stack` that runs the program every time (for the determinism tests)."""
    monkeypatch.setattr(tools.plan, "run_stack", _real_run_stack)
    return plan_stack


@pytest.fixture
def platform(plan_stack) -> PlanResult:
    """The platform stack with its checked-in defaults (local DynamoDB emulator)."""
    return plan_stack("platform")


@pytest.fixture(scope="session")
def cue(tmp_path_factory) -> CueEvaluator:
    """One real CUE evaluator per test process; a missing evaluator fails, never skips.

    Under pytest-xdist each worker has its own, and they share their results
    through the run's base temporary directory (the parent of each worker's).
    """
    shared = None
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = tmp_path_factory.getbasetemp().parent / "cue-results"
    try:
        evaluator = CueEvaluator(shared)
    except EvaluatorMissing as err:
        pytest.fail(str(err), pytrace=False)
    yield evaluator
    evaluator.close()


@pytest.fixture(scope="session")
def defs(cue) -> Definitions:
    """The installed definition templates, rendered through that evaluator."""
    return Definitions(cue)


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory) -> str:
    """moto's DynamoDB server as `python -m session_api.local` runs it, one per test process.

    The app and CLI tests share it; each test makes tables of its own names.
    """
    port = local.free_port()
    process = local.start_moto_server(port, tmp_path_factory.mktemp("moto") / "moto.log")
    yield f"http://{local.LOOPBACK}:{port}"
    local.stop(process)


@pytest.fixture
def boto3_sessions_made(monkeypatch) -> list:
    """Every boto3 Session made while the test runs (each reads botocore's data files for
    its first client, about 0.1 s of CPU)."""
    import boto3

    made = []

    class CountedSession(boto3.session.Session):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(boto3.session, "Session", CountedSession)
    return made
