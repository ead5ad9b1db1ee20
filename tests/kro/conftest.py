"""Fixtures for the kro RGD tests: the RGD as written, its CEL evaluator and the real CUE evaluator.

The CUE evaluator (`defs`) and tests/cue's samples and table model come from
tests/conftest.py, which puts tests/cue on sys.path.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.kro import load_rgd
from kro_cel import KroCel

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

