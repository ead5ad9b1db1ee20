"""Shared fixtures: run a stack's real program under Pulumi mocks and inspect what it registered."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import pytest

# tests/cue holds the CUE runner, the shared parameter samples and the engine-neutral
# table model that the cue, kro and kratix suites all use.
CUE_TESTS = Path(__file__).resolve().parent / "cue"
if str(CUE_TESTS) not in sys.path:
    sys.path.insert(0, str(CUE_TESTS))

from cue_fixtures import Definitions  # noqa: E402
from cue_runner import CueEvaluator, EvaluatorMissing  # noqa: E402

from tools.mock_harness import PlanResult
from tools.plan import plan


@pytest.fixture
def plan_stack() -> Callable[..., PlanResult]:
    """`plan_stack("platform", dynamodbMode="aws")`: the checked-in stack config plus overrides."""

    def run(stack: str, platform_overrides: dict | None = None, **overrides) -> PlanResult:
        return plan(stack, overrides, platform_overrides)

    return run


@pytest.fixture
def platform(plan_stack) -> PlanResult:
    """The platform stack with its checked-in defaults (local DynamoDB emulator)."""
    return plan_stack("platform")


@pytest.fixture(scope="session")
def cue() -> CueEvaluator:
    """One real CUE evaluator for the whole run; a missing evaluator fails, never skips."""
    try:
        evaluator = CueEvaluator()
    except EvaluatorMissing as err:
        pytest.fail(str(err), pytrace=False)
    yield evaluator
    evaluator.close()


@pytest.fixture(scope="session")
def defs(cue) -> Definitions:
    """The installed definition templates, rendered through that evaluator."""
    return Definitions(cue)
