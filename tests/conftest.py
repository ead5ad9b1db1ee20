"""Shared fixtures: run a stack's real program under Pulumi mocks and inspect what it registered."""

from __future__ import annotations

from typing import Callable

import pytest

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
