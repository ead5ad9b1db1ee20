"""Stream and TTL as the RGD renders them, through ACK v1.9.2's reconcile (kro_ack_model).

The instance is ready only when ACK reports ACK.ResourceSynced=True, i.e. when ACK
reads back from DynamoDB what the Table's spec asks for. A table whose component
says `enabled: false` for its stream or TTL must get there, on AWS (as AWS answers:
kro_dynamodb_backends.DocumentedAws) and on the emulator of `local` mode (moto).
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from kro_ack_model import create_table_stream, reconcile
from kro_dynamodb_backends import DocumentedAws, Moto
from kro_samples import SAMPLES
from kro_simpleschema import apply_defaults, instance_spec_schema

FEATURES_OFF = {
    **SAMPLES["features"],
    "ttl": {**SAMPLES["features"]["ttl"], "enabled": False},
    "stream": {**SAMPLES["features"]["stream"], "enabled": False},
}
"""The `features` table after its owner turned stream and TTL off."""


@pytest.fixture(scope="module")
def table_spec(defs, kro_cel, rgd):
    """Component parameters -> spec of the ACK Table kro applies (CUE, CRD defaults, the RGD's CEL)."""

    def spec(parameters: dict) -> dict:
        obj = defs.render("kro", parameters)
        obj["spec"] = apply_defaults(obj["spec"], instance_spec_schema(rgd))
        (resource,) = rgd["spec"]["resources"]
        return kro_cel.resolve(resource["template"], {"schema": obj})["spec"]

    return spec


@pytest.fixture(scope="module")
def moto_dynamodb():
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture(params=["aws", "local"])
def target(request) -> str:
    """`dynamodbMode`: AWS DynamoDB or the in-cluster emulator."""
    return request.param


@pytest.fixture
def create(target, moto_dynamodb):
    """Spec -> a table made the way ACK creates it for that spec (CreateTable carries only the stream)."""
    if target == "aws":
        return lambda spec: DocumentedAws(create_table_stream(spec))
    return lambda spec: Moto(moto_dynamodb, create_table_stream(spec))


def test_samples_have_stream_and_ttl_in_both_states(table_spec):
    # The exact renderings are in test_kro_rgd_cel.py; here only that the tables
    # below cover both states.
    off, on = table_spec(SAMPLES["switched-off"]), table_spec(SAMPLES["features"])
    assert not {"streamSpecification", "timeToLive"} & set(off), off
    assert on["streamSpecification"] == {"streamEnabled": True, "streamViewType": "KEYS_ONLY"}
    assert on["timeToLive"] == {"attributeName": "expiresAt", "enabled": True}


# --- what ACK makes of it -----------------------------------------------------------


@pytest.mark.parametrize("name", ["minimal", "switched-off", "features", "session", "provisioned-indexes"])
def test_new_table_converges(table_spec, create, name):
    spec = table_spec(SAMPLES[name])
    table = create(spec)
    assert reconcile(table, spec) == [], f"{name}: ACK would never report ACK.ResourceSynced=True"


@pytest.mark.parametrize(
    "target, off, still_different",
    [
        ("aws", {"streamSpecification": {"streamEnabled": False}}, ["Spec.StreamSpecification"]),
        ("local", {"streamSpecification": {"streamEnabled": False}}, ["Spec.StreamSpecification"]),
        ("aws", {"timeToLive": {"attributeName": "expiresAt", "enabled": False}}, ["Spec.TimeToLive.AttributeName"]),
    ],
    indirect=["target"],
)
def test_the_model_catches_sending_off_explicitly(table_spec, create, off, still_different):
    # What the RGD sent before: the model must see it never converge, or the
    # convergence test above proves nothing.
    spec = {**table_spec(SAMPLES["minimal"]), **off}
    assert reconcile(create(spec), spec) == still_different


def test_on_moto_an_explicitly_disabled_ttl_converges(table_spec, moto_dynamodb):
    # moto keeps the attribute name it was sent with a disabled TTL, unlike AWS: only on
    # the emulator did the old rendering of a disabled TTL sync.
    spec = {**table_spec(SAMPLES["minimal"]), "timeToLive": {"attributeName": "expiresAt", "enabled": False}}
    assert reconcile(Moto(moto_dynamodb, create_table_stream(spec)), spec) == []


def test_turning_an_enabled_stream_or_ttl_off_is_lost(table_spec, create):
    # The price of leaving them out (docs/kro.md): ACK v1.9.2 sends an UpdateTable
    # without a stream change and an UpdateTimeToLive without an attribute name,
    # so both stay on and the Table never syncs again until they are back on.
    on, off = table_spec(SAMPLES["features"]), table_spec(FEATURES_OFF)
    table = create(on)
    assert reconcile(table, on) == []
    assert reconcile(table, off) == [
        "Spec.StreamSpecification",
        "Spec.TimeToLive.AttributeName",
        "Spec.TimeToLive.Enabled",
    ]
    assert table.describe_table()["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    assert table.describe_time_to_live() == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
    # Turned back on, it converges again.
    assert reconcile(table, on) == []


def test_turned_off_in_dynamodb_the_table_syncs_again(table_spec, create, target):
    # The way out docs/kro.md gives: turn it off in DynamoDB, with `enabled: false`
    # in the component. Not for a TTL on moto, which keeps the attribute name.
    on, off = table_spec(SAMPLES["features"]), table_spec(FEATURES_OFF)
    table = create(on)
    assert reconcile(table, on) == []
    table.update_table({"StreamEnabled": False})
    table.update_time_to_live({"AttributeName": "expiresAt", "Enabled": False})
    expected = {"aws": [], "local": ["Spec.TimeToLive.AttributeName"]}[target]
    assert reconcile(table, off) == expected
