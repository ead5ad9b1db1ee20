"""The Promise's API accepts exactly the requests aws-dynamodb-kratix renders."""

from __future__ import annotations

import jsonschema
import pytest

from components.kratix_promise import GROUP, KIND, VERSION, request_crd
from dynamodb_model import with_defaults
from dynamodb_samples import VALID

SPEC_SCHEMA = request_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
VALIDATOR = jsonschema.Draft7Validator(SPEC_SCHEMA)


@pytest.mark.parametrize("name", sorted(VALID))
def test_rendered_request_fits_the_promise_api(defs, name):
    rendered = defs.render("kratix", VALID[name])
    assert rendered["apiVersion"] == f"{GROUP}/{VERSION}"
    assert rendered["kind"] == KIND
    assert [e.message for e in VALIDATOR.iter_errors(rendered["spec"])] == []
    # The spec is the contract with its defaults: nothing for the API to default.
    assert rendered["spec"] == with_defaults(VALID[name])


@pytest.mark.parametrize(
    "spec",
    [
        {"hashKey": {"name": "id"}},
        {"tableName": "ab", "hashKey": {"name": "id"}},
        {"tableName": "kvdemo-x", "hashKey": {"name": "id", "type": "X"}},
        {"tableName": "kvdemo-x", "hashKey": {"name": "id"}, "billingMode": "ON_DEMAND"},
        {"tableName": "kvdemo-x", "hashKey": {"name": "id"}, "provisionedThroughput": {"readCapacityUnits": 0,
                                                                                         "writeCapacityUnits": 1}},
    ],
)
def test_promise_api_refuses_what_the_contract_refuses(spec):
    assert list(VALIDATOR.iter_errors(spec)), spec


def _structural(schema: dict, path: str = "spec") -> list[str]:
    """Kubernetes structural-schema rules the API server enforces on a CRD."""
    problems = []
    if "type" not in schema:
        problems.append(f"{path}: no type")
    for key, sub in (schema.get("properties") or {}).items():
        problems += _structural(sub, f"{path}.{key}")
    if isinstance(schema.get("items"), dict):
        problems += _structural(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        problems += _structural(schema["additionalProperties"], f"{path}{{}}")
    return problems


def test_request_schema_is_structural():
    assert _structural(SPEC_SCHEMA) == []


def _pruned(value, schema: dict, path: str = "spec") -> list[str]:
    """Fields the API server would silently drop: unknown to the structural schema.

    A CRD prunes every field its schema does not declare (no
    x-kubernetes-preserve-unknown-fields here), and jsonschema does not flag
    them, so a contract field missing from the Promise API would vanish from
    the request before the pipeline reads it.
    """
    problems = []
    if isinstance(value, dict):
        declared = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, sub in value.items():
            if declared is not None and key in declared:
                problems += _pruned(sub, declared[key], f"{path}.{key}")
            elif isinstance(extra, dict):
                problems += _pruned(sub, extra, f"{path}.{key}")
            else:
                problems.append(f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems += _pruned(item, schema.get("items") or {}, f"{path}[{index}]")
    return problems


@pytest.mark.parametrize("name", sorted(VALID))
def test_rendered_request_loses_no_field_to_pruning(defs, name):
    rendered = defs.render("kratix", VALID[name])
    assert _pruned(rendered["spec"], SPEC_SCHEMA) == []


def test_pruning_check_sees_an_undeclared_field():
    assert _pruned({"tableName": "kvdemo-x", "hashKey": {"name": "id", "size": 3}}, SPEC_SCHEMA) == [
        "spec.hashKey.size"
    ]
