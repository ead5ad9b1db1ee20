"""Fixtures for the Kratix Promise pipeline tests.

The pipeline is a standalone program (it runs in its own image), so it is
imported from its directory; the CUE helpers of tests/cue render the same
requests KubeVela would hand to Kratix.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PIPELINE_DIR = REPO / "components" / "kratix" / "pipeline"
CUE_TESTS_DIR = REPO / "tests" / "cue"
for _path in (PIPELINE_DIR, CUE_TESTS_DIR):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from cue_fixtures import Definitions  # noqa: E402
from cue_runner import CueEvaluator, EvaluatorMissing  # noqa: E402


@pytest.fixture(scope="session")
def kratix_defs():
    """The CUE definitions, rendered by a real evaluator (missing evaluator = failure)."""
    try:
        evaluator = CueEvaluator()
    except EvaluatorMissing as err:
        pytest.fail(str(err), pytrace=False)
    yield Definitions(evaluator)
    evaluator.close()
