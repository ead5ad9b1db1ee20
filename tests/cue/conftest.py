"""Fixtures for the CUE definition tests: one evaluator for the session.

A missing evaluator fails the tests (never skips them)."""

from __future__ import annotations

import pytest

from cue_fixtures import Definitions
from cue_runner import CueEvaluator, EvaluatorMissing


@pytest.fixture(scope="session")
def cue():
    try:
        evaluator = CueEvaluator()
    except EvaluatorMissing as err:
        pytest.fail(str(err), pytrace=False)
    yield evaluator
    evaluator.close()


@pytest.fixture(scope="session")
def defs(cue) -> Definitions:
    return Definitions(cue)
