"""The RGD's instance schema is the DynamoDB contract: same field names, and what
aws-dynamodb-kro renders (real CUE) is valid against the CRD kro generates."""

from __future__ import annotations

import re

import jsonschema
import pytest

from components import cue_templates
from components.kro import instance_plural, permission_rules
from kro_samples import SAMPLES
from kro_simpleschema import SimpleSchema, closed, field_paths, instance_spec_schema


def _contract_parameter_labels() -> set[str]:
    """Top-level labels of `parameter: close({...})` in contract.cue (one per line, tab-indented)."""
    text = (cue_templates.DYNAMODB_DIR / "contract.cue").read_text()
    block = text[text.index("parameter: close({") : text.index("\n})\n", text.index("parameter: close({"))]
    return set(re.findall(r"^\t(\w+)\??:", block, flags=re.MULTILINE))


# Every contract field set at once (accepted by the contract: checked below).
EVERYTHING = {
    "tableName": "kvdemo-everything",
    "hashKey": {"name": "pk", "type": "S"},
    "rangeKey": {"name": "sk", "type": "N"},
    "billingMode": "PROVISIONED",
    "provisionedThroughput": {"readCapacityUnits": 1, "writeCapacityUnits": 1},
    "ttl": {"attributeName": "expiresAt", "enabled": True},
    "stream": {"enabled": True, "viewType": "OLD_IMAGE"},
    "globalSecondaryIndexes": [
        {
            "name": "gsi-one",
            "hashKey": {"name": "g", "type": "S"},
            "rangeKey": {"name": "sk", "type": "N"},
            "projection": {"type": "INCLUDE", "nonKeyAttributes": ["x"]},
            "provisionedThroughput": {"readCapacityUnits": 1, "writeCapacityUnits": 1},
        }
    ],
    "localSecondaryIndexes": [
        {"name": "lsi-one", "rangeKey": {"name": "l", "type": "B"}, "projection": {"type": "INCLUDE", "nonKeyAttributes": ["y"]}}
    ],
    "deletionProtection": False,
    "encryption": {"enabled": True, "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/abc"},
    "tags": {"a": "b"},
}


def _value_paths(value, prefix: str = "") -> set[str]:
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= _value_paths(child, path)
    elif isinstance(value, list):
        for item in value:
            paths |= _value_paths(item, f"{prefix}[]")
    return paths


def test_top_level_fields_are_the_contract_parameters(rgd):
    assert set(rgd["spec"]["schema"]["spec"]) == _contract_parameter_labels()


def test_every_nested_field_is_a_contract_field(rgd, defs):
    # The contract as evaluated by CUE (closed structs, defaults filled in).
    parameter = defs.parameter("kro", EVERYTHING)
    assert set(parameter) == _contract_parameter_labels(), "EVERYTHING must set every contract parameter"
    contract_paths = _value_paths(parameter) - {"tags.a"}
    schema_paths = field_paths(instance_spec_schema(rgd))
    assert schema_paths == contract_paths


@pytest.mark.parametrize("name", sorted(SAMPLES) + ["everything"])
def test_rendered_instance_is_valid_for_the_generated_crd(rgd, defs, name):
    parameters = EVERYTHING if name == "everything" else SAMPLES[name]
    rendered = defs.render("kro", parameters)
    # The instance kind aws-dynamodb-kro renders is the one the RGD defines.
    schema = rgd["spec"]["schema"]
    assert rendered["apiVersion"] == f"{schema.get('group', 'kro.run')}/{schema['apiVersion']}"
    assert rendered["kind"] == schema["kind"]
    # Closed: a contract field the CRD lacks would be pruned silently by the API server.
    jsonschema.validate(rendered["spec"], closed(instance_spec_schema(rgd)))


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ({"hashKey": {"name": "id"}}, "'tableName' is a required property"),
        ({"tableName": "kv", "hashKey": {"name": "id"}}, "does not match"),
        ({"tableName": "kvdemo-x", "hashKey": {"name": "id", "type": "STRING"}}, "is not one of"),
        ({"tableName": "kvdemo-x", "hashKey": {"name": "id"}, "billingMode": "ON_DEMAND"}, "is not one of"),
        ({"tableName": "kvdemo-x", "hashKey": {"name": "id"}, "stream": {"viewType": "KEYS_ONLY"}}, "'enabled' is a required property"),
        (
            {"tableName": "kvdemo-x", "hashKey": {"name": "id"}, "billingMode": "PROVISIONED",
             "provisionedThroughput": {"readCapacityUnits": 0, "writeCapacityUnits": 1}},
            "less than the minimum",
        ),
    ],
)
def test_generated_crd_refuses_what_the_contract_refuses(rgd, spec, fragment):
    with pytest.raises(jsonschema.ValidationError, match=fragment):
        jsonschema.validate(spec, instance_spec_schema(rgd))


def test_optional_blocks_get_no_object_default(rgd):
    # kro gives an object with no required child and a child default `default: {}`
    # (pkg/simpleschema/transform.go): such a block would always be present.
    props = instance_spec_schema(rgd)["properties"]
    for name in ("ttl", "stream", "encryption", "rangeKey", "provisionedThroughput"):
        assert "default" not in props[name], name
    # Projection is always present in the contract (type defaults to ALL), so there it is right.
    gsi = props["globalSecondaryIndexes"]["items"]["properties"]
    assert gsi["projection"]["default"] == {}
    assert gsi["projection"]["properties"]["type"]["default"] == "ALL"


def test_contract_defaults_are_the_crd_defaults(rgd):
    props = instance_spec_schema(rgd)["properties"]
    assert props["billingMode"]["default"] == "PAY_PER_REQUEST"
    assert props["deletionProtection"]["default"] is False
    assert props["hashKey"]["properties"]["type"]["default"] == "S"
    assert props["ttl"]["properties"]["enabled"]["default"] is True
    assert props["stream"]["properties"]["viewType"]["default"] == "NEW_AND_OLD_IMAGES"


def test_simple_schema_reader_applies_kros_object_default_rule():
    schema = SimpleSchema({}).object({"a": {"x": "string | default=\"v\""}, "b": {"x": "string | required=true", "y": "integer | default=1"}})
    assert schema["properties"]["a"]["default"] == {}
    assert "default" not in schema["properties"]["b"]


def test_status_names_are_what_the_health_and_status_cue_read(rgd):
    status = rgd["spec"]["schema"]["status"]
    assert set(status) == {"tableName", "tableArn", "tableStatus"}
    # `state` and `conditions` are kro's own.
    assert not {"state", "conditions"} & set(status)
    custom_status = cue_templates.dynamodb_custom_status("kro")
    for name in ("tableStatus", "tableArn"):
        assert f"context.output.status.{name}" in custom_status


def test_the_graph_is_one_ack_table(rgd):
    assert rgd["apiVersion"] == "kro.run/v1alpha1"
    assert rgd["metadata"] == {"name": "dynamodbtable"}
    assert rgd["spec"]["schema"]["kind"] == "DynamoDBTable"
    assert rgd["spec"]["schema"]["apiVersion"] == "v1alpha1"
    assert "scope" not in rgd["spec"]["schema"], "instances are namespaced (the default), like the Applications"
    (resource,) = rgd["spec"]["resources"]
    assert resource["id"] == "table"
    assert (resource["template"]["apiVersion"], resource["template"]["kind"]) == ("dynamodb.services.k8s.aws/v1alpha1", "Table")
    # No credentials, region or provider wiring: the platform's ACK controller has them.
    assert set(resource["template"]) == {"apiVersion", "kind", "metadata", "spec"}


def test_permissions_cover_tables_and_instances(rgd):
    assert instance_plural(rgd) == "dynamodbtables"
    rules = {(rule["apiGroups"][0], resource): set(rule["verbs"]) for rule in permission_rules(rgd) for resource in rule["resources"]}
    assert rules[("dynamodb.services.k8s.aws", "tables")] >= {"create", "get", "list", "watch", "patch", "delete"}
    assert rules[("kro.run", "dynamodbtables")] >= {"get", "list", "watch", "patch", "update"}
    assert rules[("kro.run", "dynamodbtables/status")] >= {"update", "patch"}
