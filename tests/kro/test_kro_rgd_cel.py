"""The RGD's CEL, evaluated: instances as aws-dynamodb-kro renders them (real CUE)
become the ACK Tables kro would apply, checked against the ACK Table schema."""

from __future__ import annotations

import jsonschema
import pytest

from kro_cel import OMIT, KroCel, KroCelError, expressions_in, extract_expressions, is_standalone
from kro_samples import SAMPLES
from kro_simpleschema import apply_defaults, instance_spec_schema

from session_api import table as session_table


def table_template(rgd: dict) -> dict:
    (resource,) = rgd["spec"]["resources"]
    return resource["template"]


def instance(defs, rgd: dict, parameters: dict) -> dict:
    """The DynamoDBTable KubeVela creates, as kro reads it (after the API server's defaulting)."""
    rendered = defs.render("kro", parameters)
    rendered["spec"] = apply_defaults(rendered["spec"], instance_spec_schema(rgd))
    return rendered


def render(kro_cel: KroCel, rgd: dict, obj: dict) -> dict:
    return kro_cel.resolve(table_template(rgd), {"schema": obj})


@pytest.fixture(scope="module")
def rendered(defs, kro_cel, rgd):
    """sample name -> (instance, ACK Table), each sample rendered once."""
    cache = {}

    def get(name: str):
        if name not in cache:
            obj = instance(defs, rgd, SAMPLES[name])
            cache[name] = (obj, render(kro_cel, rgd, obj))
        return cache[name]

    return get


# --- the expressions themselves --------------------------------------------------


def test_every_expression_compiles(rgd, kro_cel):
    found = expressions_in(rgd["spec"])
    assert len(found) >= 16, found
    for path, expression in found:
        try:
            kro_cel.env.compile(expression)
        except Exception as error:  # noqa: BLE001 - the message is the point
            pytest.fail(f"{path}: {error}")


def test_template_fields_are_whole_expressions(rgd):
    # A field that is exactly one ${...} takes the value's type (lists, objects,
    # booleans); anything else would be string interpolation.
    for path, value in _strings(table_template(rgd)):
        if extract_expressions(value):
            assert is_standalone(value), f"{path} mixes text and expressions: {value!r}"


def test_expression_extraction_matches_kro_on_map_literals():
    text = '${{"a": "}", "b": [1]}.size() > 0}'
    (match,) = extract_expressions(text)
    assert match.expr == '{"a": "}", "b": [1]}.size() > 0'
    assert is_standalone(text)
    assert not is_standalone("prefix-${schema.spec.tableName}")


def test_missing_fields_fail_instead_of_rendering_something(kro_cel):
    # kro treats a missing key as data not there yet and waits; the evaluator
    # here must fail the same expression, or a forgotten has() would go unnoticed.
    with pytest.raises(KroCelError, match="Key not found"):
        kro_cel.evaluate("schema.spec.rangeKey.name", {"schema": {"spec": {}}})


# --- every sample ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_rendered_table_is_a_valid_ack_table(rendered, ack_table_schema, name):
    _, table = rendered(name)
    jsonschema.validate(table, ack_table_schema)
    assert OMIT not in repr(table)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_table_is_named_after_the_component_in_its_namespace(rendered, name):
    obj, table = rendered(name)
    assert table["apiVersion"] == "dynamodb.services.k8s.aws/v1alpha1"
    assert table["kind"] == "Table"
    assert table["metadata"] == {"name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"]}
    assert table["metadata"] == {"name": "sessions", "namespace": "demo"}
    assert table["spec"]["tableName"] == SAMPLES[name]["tableName"]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_rendering_is_deterministic(kro_cel, rgd, rendered, name):
    obj, table = rendered(name)
    assert render(kro_cel, rgd, obj) == table


# --- exact renderings --------------------------------------------------------------


def test_minimal_table_sends_only_what_it_needs(rendered):
    _, table = rendered("minimal")
    assert table["spec"] == {
        "tableName": "kvdemo-minimal",
        "billingMode": "PAY_PER_REQUEST",
        "deletionProtectionEnabled": False,
        "keySchema": [{"attributeName": "id", "keyType": "HASH"}],
        "attributeDefinitions": [{"attributeName": "id", "attributeType": "S"}],
    }


def test_session_table(defs, kro_cel, rgd):
    obj = instance(defs, rgd, session_table.component_properties("kvdemo-sessions-kro"))
    spec = render(kro_cel, rgd, obj)["spec"]
    assert spec == {
        "tableName": "kvdemo-sessions-kro",
        "billingMode": "PAY_PER_REQUEST",
        "deletionProtectionEnabled": False,
        "keySchema": [{"attributeName": session_table.HASH_KEY, "keyType": "HASH"}],
        "attributeDefinitions": [
            {"attributeName": session_table.HASH_KEY, "attributeType": "S"},
            {"attributeName": session_table.USER_INDEX_HASH_KEY, "attributeType": "S"},
            {"attributeName": session_table.USER_INDEX_RANGE_KEY, "attributeType": "S"},
        ],
        "timeToLive": {"attributeName": session_table.TTL_ATTRIBUTE, "enabled": True},
        "globalSecondaryIndexes": [
            {
                "indexName": session_table.USER_INDEX,
                "keySchema": [
                    {"attributeName": session_table.USER_INDEX_HASH_KEY, "keyType": "HASH"},
                    {"attributeName": session_table.USER_INDEX_RANGE_KEY, "keyType": "RANGE"},
                ],
                "projection": {"projectionType": "ALL"},
            }
        ],
    }
    # What the API's own boto3 path creates (local runs and tests) is the same table.
    kwargs = session_table.create_table_kwargs("kvdemo-sessions-kro")
    assert [(a["attributeName"], a["attributeType"]) for a in spec["attributeDefinitions"]] == [
        (a["AttributeName"], a["AttributeType"]) for a in kwargs["AttributeDefinitions"]
    ]


def test_indexes_derive_keys_and_attributes(rendered):
    _, table = rendered("indexes")
    spec = table["spec"]
    assert spec["keySchema"] == [
        {"attributeName": "customerId", "keyType": "HASH"},
        {"attributeName": "orderId", "keyType": "RANGE"},
    ]
    # Declaration order: table keys, GSI hash keys, GSI range keys, LSI range keys.
    assert spec["attributeDefinitions"] == [
        {"attributeName": "customerId", "attributeType": "S"},
        {"attributeName": "orderId", "attributeType": "S"},
        {"attributeName": "status", "attributeType": "S"},
        {"attributeName": "sku", "attributeType": "B"},
        {"attributeName": "total", "attributeType": "N"},
        {"attributeName": "createdAt", "attributeType": "N"},
    ]
    gsis = {ix["indexName"]: ix for ix in spec["globalSecondaryIndexes"]}
    assert gsis["status-total-index"]["projection"] == {
        "projectionType": "INCLUDE",
        "nonKeyAttributes": ["customerId", "createdAt"],
    }
    assert gsis["sku-index"] == {
        "indexName": "sku-index",
        "keySchema": [{"attributeName": "sku", "keyType": "HASH"}],
        "projection": {"projectionType": "KEYS_ONLY"},
    }
    assert spec["localSecondaryIndexes"] == [
        {
            "indexName": "customer-created-index",
            # An LSI's partition key is the table's.
            "keySchema": [
                {"attributeName": "customerId", "keyType": "HASH"},
                {"attributeName": "createdAt", "keyType": "RANGE"},
            ],
            "projection": {"projectionType": "ALL"},
        }
    ]


def test_an_attribute_shared_by_table_and_index_is_defined_once(rendered):
    _, table = rendered("lsi-include-shared-attribute")
    names = [a["attributeName"] for a in table["spec"]["attributeDefinitions"]]
    assert names == ["tenant", "at", "kind", "size"]


def test_provisioned_capacity_on_table_and_every_index(rendered):
    _, table = rendered("provisioned-indexes")
    spec = table["spec"]
    assert spec["billingMode"] == "PROVISIONED"
    assert spec["provisionedThroughput"] == {"readCapacityUnits": 10, "writeCapacityUnits": 4}
    capacities = {ix["indexName"]: ix["provisionedThroughput"] for ix in spec["globalSecondaryIndexes"]}
    assert capacities == {
        "by-day": {"readCapacityUnits": 2, "writeCapacityUnits": 1},
        "by-blob": {"readCapacityUnits": 1, "writeCapacityUnits": 1},
    }


def test_on_demand_tables_send_no_capacity(rendered):
    for name in ("minimal", "indexes", "features", "session"):
        spec = rendered(name)[1]["spec"]
        assert "provisionedThroughput" not in spec, name
        assert all("provisionedThroughput" not in ix for ix in spec.get("globalSecondaryIndexes", [])), name


def test_stream_ttl_protection_encryption_tags(rendered):
    _, table = rendered("features")
    spec = table["spec"]
    assert spec["timeToLive"] == {"attributeName": "expiresAt", "enabled": True}
    assert spec["streamSpecification"] == {"streamEnabled": True, "streamViewType": "KEYS_ONLY"}
    assert spec["deletionProtectionEnabled"] is True
    assert spec["sseSpecification"] == {
        "enabled": True,
        "sseType": "KMS",
        "kmsMasterKeyID": SAMPLES["features"]["encryption"]["kmsKeyId"],
    }
    assert spec["tags"] == [{"key": "cost-center", "value": "42"}, {"key": "team", "value": "platform"}]


def test_switched_off_stream_and_ttl_are_left_out(rendered):
    # ACK reads a table without a stream or TTL back as no stream and a TTL with no
    # attribute name; anything else sent for "off" would never sync
    # (test_kro_ack_stream_ttl.py). Encryption off stays explicit: ACK counts
    # {enabled: false} equal to the AWS owned key.
    _, table = rendered("switched-off")
    assert table["spec"] == {
        "tableName": "kvdemo-off",
        "billingMode": "PAY_PER_REQUEST",
        "deletionProtectionEnabled": False,
        "keySchema": [{"attributeName": "id", "keyType": "HASH"}],
        "attributeDefinitions": [{"attributeName": "id", "attributeType": "S"}],
        "sseSpecification": {"enabled": False},
    }


def test_kms_with_the_aws_managed_key(rendered):
    _, table = rendered("lsi-include-shared-attribute")
    assert table["spec"]["sseSpecification"] == {"enabled": True, "sseType": "KMS"}


def test_tags_are_sorted_whatever_the_input_order(kro_cel, rgd, rendered):
    obj, table = rendered("lsi-include-shared-attribute")
    assert [t["key"] for t in table["spec"]["tags"]] == ["alpha", "mid", "zeta"]
    assert {"key": "mid", "value": ""} in table["spec"]["tags"]
    reversed_tags = dict(reversed(list(obj["spec"]["tags"].items())))
    other = {**obj, "spec": {**obj["spec"], "tags": reversed_tags}}
    assert render(kro_cel, rgd, other)["spec"]["tags"] == table["spec"]["tags"]


def test_empty_lists_and_maps_are_left_out(kro_cel, rgd, rendered):
    obj, _ = rendered("minimal")
    spec = {**obj["spec"], "globalSecondaryIndexes": [], "localSecondaryIndexes": [], "tags": {}}
    table = render(kro_cel, rgd, {**obj, "spec": spec})
    assert not {"globalSecondaryIndexes", "localSecondaryIndexes", "tags"} & set(table["spec"])


# --- used without KubeVela: only the generated CRD's defaults --------------------


def test_a_bare_instance_renders_with_the_crd_defaults(kro_cel, rgd, ack_table_schema):
    # `kubectl apply` of a DynamoDBTable gets only the API server's defaulting
    # from the generated CRD. Optional blocks must stay absent (no `default: {}`
    # on stream/encryption/ttl), or the template would read fields nobody set.
    spec = apply_defaults(
        {
            "tableName": "kvdemo-bare",
            "hashKey": {"name": "id"},
            "globalSecondaryIndexes": [{"name": "by-owner", "hashKey": {"name": "owner"}}],
        },
        instance_spec_schema(rgd),
    )
    assert not {"ttl", "stream", "encryption"} & set(spec)
    obj = {"apiVersion": "kro.run/v1alpha1", "kind": "DynamoDBTable", "metadata": {"name": "bare", "namespace": "demo"}, "spec": spec}
    table = render(kro_cel, rgd, obj)
    jsonschema.validate(table, ack_table_schema)
    assert table["spec"]["billingMode"] == "PAY_PER_REQUEST"
    assert table["spec"]["globalSecondaryIndexes"][0]["projection"] == {"projectionType": "ALL"}
    assert table["spec"]["attributeDefinitions"] == [
        {"attributeName": "id", "attributeType": "S"},
        {"attributeName": "owner", "attributeType": "S"},
    ]


# --- readiness and status ----------------------------------------------------------


def _ack_table(status: dict | None) -> dict:
    obj = {"apiVersion": "dynamodb.services.k8s.aws/v1alpha1", "kind": "Table", "metadata": {"name": "sessions"},
           "spec": {"tableName": "kvdemo-sessions-kro"}}
    if status is not None:
        obj["status"] = status
    return obj


SYNCED = {"type": "ACK.ResourceSynced", "status": "True"}
NOT_SYNCED = {"type": "ACK.ResourceSynced", "status": "False", "message": "table not ACTIVE"}
ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/kvdemo-sessions-kro"


@pytest.mark.parametrize(
    "status, ready",
    [
        (None, False),
        ({}, False),
        ({"tableStatus": "CREATING", "conditions": [NOT_SYNCED]}, False),
        ({"tableStatus": "ACTIVE"}, False),
        ({"tableStatus": "ACTIVE", "conditions": [NOT_SYNCED]}, False),
        ({"tableStatus": "UPDATING", "conditions": [SYNCED]}, False),
        ({"tableStatus": "ACTIVE", "conditions": [{"type": "Ready", "status": "True"}, SYNCED]}, True),
    ],
)
def test_ready_only_when_active_and_synced(rgd, kro_cel, status, ready):
    (resource,) = rgd["spec"]["resources"]
    results = [
        kro_cel.evaluate(extract_expressions(expr)[0].expr, {"table": _ack_table(status)})
        for expr in resource["readyWhen"]
    ]
    assert all(isinstance(r, bool) for r in results), results
    assert all(results) is ready


def test_status_copies_name_arn_and_table_status(rgd, kro_cel):
    table = _ack_table({"tableStatus": "ACTIVE", "ackResourceMetadata": {"arn": ARN, "ownerAccountID": "000000000000", "region": "us-east-1"}})
    status = kro_cel.resolve(rgd["spec"]["schema"]["status"], {"table": table})
    assert status == {"tableName": "kvdemo-sessions-kro", "tableArn": ARN, "tableStatus": "ACTIVE"}


def test_status_waits_for_what_ack_has_not_written(rgd, kro_cel):
    # kro resolves status best effort: a field whose data is missing stays unset
    # ("no such key" is data pending), the others are written.
    table = _ack_table({"tableStatus": "CREATING"})
    expressions = {k: extract_expressions(v)[0].expr for k, v in rgd["spec"]["schema"]["status"].items()}
    assert kro_cel.evaluate(expressions["tableStatus"], {"table": table}) == "CREATING"
    with pytest.raises(KroCelError, match="Key not found"):
        kro_cel.evaluate(expressions["tableArn"], {"table": table})


def _strings(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node
