"""Renders the three DynamoDB ComponentDefinition templates exactly as the
Pulumi registrar installs them and checks what each engine would create."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from cue_fixtures import CONTEXT, PROVIDER_CONFIG, REGION
from dynamodb_model import with_defaults
from dynamodb_samples import INVALID, KMS_KEY, VALID
from session_api.table import component_properties

ENGINES = ("xp", "kro", "kratix")
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "schemas" / "upbound-dynamodb-table-v1beta1.schema.json").read_text()
)


def forprovider(defs, name):
    return defs.render("xp", VALID[name])["spec"]["forProvider"]


# --- aws-dynamodb-xp: the Upbound Table, field by field ---------------------


def test_xp_object_identity_and_provider_config(defs):
    table = defs.render("xp", VALID["minimal"])
    assert table["apiVersion"] == "dynamodb.aws.m.upbound.io/v1beta1"
    assert table["kind"] == "Table"
    assert table["metadata"] == {
        "name": CONTEXT["name"],
        "namespace": CONTEXT["namespace"],
        "annotations": {"crossplane.io/external-name": "kvdemo-minimal"},
    }
    assert table["spec"]["providerConfigRef"] == {"kind": "ClusterProviderConfig", "name": PROVIDER_CONFIG}
    assert set(table["spec"]) == {"providerConfigRef", "forProvider"}


def test_xp_minimal(defs):
    assert forprovider(defs, "minimal") == {
        "region": REGION,
        "attribute": [{"name": "id", "type": "S"}],
        "hashKey": "id",
        "billingMode": "PAY_PER_REQUEST",
        "streamEnabled": False,
        "deletionProtectionEnabled": False,
    }


def test_xp_follows_context_and_platform(defs):
    other = {**CONTEXT, "name": "orders-table", "namespace": "shop"}
    table = defs.render("xp", VALID["minimal"], context=other)
    assert (table["metadata"]["name"], table["metadata"]["namespace"]) == ("orders-table", "shop")
    from components import cue_templates
    from cue_runner import kubevela_text

    text = kubevela_text(
        cue_templates.dynamodb_template("xp", "us-east-2", "tenant-a"), context=CONTEXT, parameter=VALID["minimal"]
    )
    rendered = defs.cue.export(text, "output")
    assert rendered["spec"]["forProvider"]["region"] == "us-east-2"
    assert rendered["spec"]["providerConfigRef"]["name"] == "tenant-a"


def test_xp_keys_and_indexes(defs):
    fp = forprovider(defs, "indexes")
    # Each key attribute once, first declaration order, types as declared.
    assert fp["attribute"] == [
        {"name": "customerId", "type": "S"},
        {"name": "orderId", "type": "S"},
        {"name": "status", "type": "S"},
        {"name": "sku", "type": "B"},
        {"name": "total", "type": "N"},
        {"name": "createdAt", "type": "N"},
    ]
    assert (fp["hashKey"], fp["rangeKey"]) == ("customerId", "orderId")
    assert fp["globalSecondaryIndex"] == [
        {
            "name": "status-total-index",
            "hashKey": "status",
            "rangeKey": "total",
            "projectionType": "INCLUDE",
            "nonKeyAttributes": ["customerId", "createdAt"],
        },
        {"name": "sku-index", "hashKey": "sku", "projectionType": "KEYS_ONLY"},
    ]
    assert fp["localSecondaryIndex"] == [
        {"name": "customer-created-index", "rangeKey": "createdAt", "projectionType": "ALL"}
    ]
    assert "readCapacity" not in fp and "writeCapacity" not in fp


def test_xp_provisioned_capacity_on_table_and_indexes(defs):
    fp = forprovider(defs, "provisioned")
    assert fp["billingMode"] == "PROVISIONED"
    assert (fp["readCapacity"], fp["writeCapacity"]) == (5, 2)
    [gsi] = fp["globalSecondaryIndex"]
    assert (gsi["readCapacity"], gsi["writeCapacity"]) == (3, 1)
    assert gsi["projectionType"] == "ALL"
    assert fp["attribute"] == [{"name": "pk", "type": "N"}, {"name": "owner", "type": "S"}]


def test_xp_streams_ttl_protection_encryption_tags(defs):
    fp = forprovider(defs, "features")
    assert fp["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    assert (fp["streamEnabled"], fp["streamViewType"]) == (True, "KEYS_ONLY")
    assert fp["deletionProtectionEnabled"] is True
    assert fp["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": KMS_KEY}
    assert fp["tags"] == {"team": "platform", "cost-center": "42"}


def test_xp_switched_off_features(defs):
    fp = forprovider(defs, "switched-off")
    # The provider accepts ttl.attributeName only while TTL is enabled.
    assert fp["ttl"] == {"enabled": False}
    # streamViewType is only valid on an enabled stream.
    assert fp["streamEnabled"] is False and "streamViewType" not in fp
    assert fp["serverSideEncryption"] == {"enabled": False}


def test_xp_encryption_without_key_uses_aws_managed_key(defs):
    params = {**VALID["minimal"], "encryption": {}}
    assert defs.render("xp", params)["spec"]["forProvider"]["serverSideEncryption"] == {"enabled": True}


@pytest.mark.parametrize("name", sorted(VALID))
def test_xp_output_matches_upbound_table_schema(defs, name):
    jsonschema.validate(defs.render("xp", VALID[name]), SCHEMA)


def test_table_schema_catches_misspelt_fields():
    table = {
        "apiVersion": "dynamodb.aws.m.upbound.io/v1beta1",
        "kind": "Table",
        "metadata": {"name": "t", "namespace": "n", "annotations": {"crossplane.io/external-name": "tbl"}},
        "spec": {
            "providerConfigRef": {"kind": "ClusterProviderConfig", "name": "default"},
            "forProvider": {"region": "r", "attribute": [{"name": "id", "type": "S"}], "hashKey": "id",
                            "billingMode": "PAY_PER_REQUEST"},
        },
    }
    jsonschema.validate(table, SCHEMA)
    for path, bad in [
        (("forProvider",), {"billing_mode": "PAY_PER_REQUEST"}),
        (("forProvider",), {"ttl": [{"attributeName": "x", "enabled": True}]}),  # legacy array shape
        (("forProvider",), {"globalSecondaryIndex": [{"name": "i", "hashKey": "id", "projection": "ALL"}]}),
        (("forProvider",), {"billingMode": "ON_DEMAND"}),
        ((), {"deletionPolicy": "Delete"}),  # namespaced MRs have none
    ]:
        broken = json.loads(json.dumps(table))
        target = broken["spec"]
        for p in path:
            target = target[p]
        target.update(bad)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, SCHEMA)


# --- aws-dynamodb-kro and aws-dynamodb-kratix: the contract as the spec -----

KINDS = {
    "kro": ("kro.run/v1alpha1", "DynamoDBTable"),
    "kratix": ("dynamodb.kubevela-dynamodb.dev/v1alpha1", "DynamoDBRequest"),
}


@pytest.mark.parametrize("engine", sorted(KINDS))
@pytest.mark.parametrize("name", sorted(VALID))
def test_spec_is_the_contract_with_defaults(defs, engine, name):
    rendered = defs.render(engine, VALID[name])
    assert (rendered["apiVersion"], rendered["kind"]) == KINDS[engine]
    assert rendered["metadata"] == {"name": CONTEXT["name"], "namespace": CONTEXT["namespace"]}
    assert rendered["spec"] == with_defaults(VALID[name])


# --- the session table and invalid parameters, through every engine ---------


@pytest.mark.parametrize("engine", ENGINES)
def test_session_table_properties_are_accepted(defs, engine):
    props = component_properties(f"kvdemo-sessions-{engine}")
    rendered = defs.render(engine, props)
    if engine == "xp":
        fp = rendered["spec"]["forProvider"]
        assert rendered["metadata"]["annotations"]["crossplane.io/external-name"] == "kvdemo-sessions-xp"
        assert fp["ttl"] == {"attributeName": "expiresAt", "enabled": True}
        assert fp["globalSecondaryIndex"][0]["name"] == "userId-createdAt-index"
    else:
        assert rendered["spec"]["tableName"] == f"kvdemo-sessions-{engine}"
        assert rendered["spec"]["ttl"] == {"attributeName": "expiresAt", "enabled": True}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_parameters_fail_rendering_with_a_clear_error(defs, engine, case):
    parameter, fragments = INVALID[case]
    result = defs.render_result(engine, parameter)
    assert not result.ok, f"{case}: rendered although invalid:\n{result.stdout}"
    for fragment in fragments:
        assert fragment in result.stderr, f"{case}: expected {fragment!r} in the error, got:\n{result.stderr}"
