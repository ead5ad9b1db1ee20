"""Fixtures for the kro RGD tests: the RGD as written, its CEL evaluator and the real CUE evaluator.

tests/cue holds the CUE runner, the shared parameter samples and the engine-neutral
table model; they are imported from there by path (that directory is put on
sys.path as pytest itself does for its own tests), not copied.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

CUE_TESTS = Path(__file__).resolve().parents[1] / "cue"
if str(CUE_TESTS) not in sys.path:
    sys.path.insert(0, str(CUE_TESTS))

from cue_fixtures import Definitions  # noqa: E402
from cue_runner import CueEvaluator, EvaluatorMissing  # noqa: E402

from components.kro import load_rgd  # noqa: E402
from kro_cel import KroCel  # noqa: E402

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


@pytest.fixture(scope="session")
def rgd() -> dict:
    return load_rgd()


@pytest.fixture(scope="session")
def kro_cel() -> KroCel:
    return KroCel(variables=("schema", "table"))


@pytest.fixture(scope="session")
def ack_table_schema() -> dict:
    return json.loads((SCHEMAS / "ack_dynamodb_table_v1alpha1.schema.json").read_text())


@pytest.fixture(scope="session")
def kro_defs():
    """aws-dynamodb-xp / aws-dynamodb-kro rendered with the real CUE evaluator."""
    try:
        evaluator = CueEvaluator()
    except EvaluatorMissing as err:
        pytest.fail(str(err), pytrace=False)
    yield Definitions(evaluator)
    evaluator.close()
