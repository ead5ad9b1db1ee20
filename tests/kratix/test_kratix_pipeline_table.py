"""The configure step: a DynamoDBRequest becomes an ACK Table Flux can apply."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

import dynamodb_pipeline as pipeline
from dynamodb_model import with_defaults
from dynamodb_samples import VALID
from kratix_pipeline_helpers import kratix_tree, request, schema_errors
from session_api.table import component_properties


@pytest.mark.parametrize("name", sorted(VALID))
def test_every_sample_becomes_a_valid_ack_table(tmp_path, name):
    root = kratix_tree(tmp_path, request(with_defaults(VALID[name])))
    pipeline.configure(root / "input", root / "output", root / "metadata")
    table = yaml.safe_load((root / "output" / "table.yaml").read_text())
    assert schema_errors(table) == []


def test_session_table_as_the_app_reads_it(tmp_path):
    spec = with_defaults(component_properties("kvdemo-sessions-kratix"))
    root = kratix_tree(tmp_path, request(spec, name="sessions-table-kratix"))
    table = pipeline.configure(root / "input", root / "output", root / "metadata")
    assert table["metadata"] == {
        "name": "sessions-table-kratix",
        "namespace": "session-apps",
        "labels": {pipeline.REQUEST_LABEL: "sessions-table-kratix"},
        "annotations": {
            "services.k8s.aws/deletion-policy": "delete",
            # What table-status compares with the live Table: has Flux applied this spec yet?
            pipeline.SPEC_DIGEST_ANNOTATION: pipeline.spec_digest(table["spec"]),
        },
    }
    assert table["spec"] == {
        "tableName": "kvdemo-sessions-kratix",
        "attributeDefinitions": [
            {"attributeName": "sessionId", "attributeType": "S"},
            {"attributeName": "userId", "attributeType": "S"},
            {"attributeName": "createdAt", "attributeType": "S"},
        ],
        "keySchema": [{"attributeName": "sessionId", "keyType": "HASH"}],
        "billingMode": "PAY_PER_REQUEST",
        "deletionProtectionEnabled": False,
        "globalSecondaryIndexes": [
            {
                "indexName": "userId-createdAt-index",
                "keySchema": [
                    {"attributeName": "userId", "keyType": "HASH"},
                    {"attributeName": "createdAt", "keyType": "RANGE"},
                ],
                "projection": {"projectionType": "ALL"},
            }
        ],
        "timeToLive": {"attributeName": "expiresAt", "enabled": True},
    }
    status = yaml.safe_load((root / "metadata" / "status.yaml").read_text())
    assert status == {
        "message": "table kvdemo-sessions-kratix requested",
        "tableName": "kvdemo-sessions-kratix",
        "tableStatus": "REQUESTED",
    }


def test_table_always_names_its_namespace(tmp_path):
    # Flux's generated kustomization rejects a namespaced object without one.
    root = kratix_tree(tmp_path, request(with_defaults(VALID["minimal"]), namespace="team-a"))
    table = pipeline.configure(root / "input", root / "output", root / "metadata")
    assert table["metadata"]["namespace"] == "team-a"


def test_provisioned_capacity_reaches_table_and_indexes():
    spec = pipeline.table_spec(with_defaults(VALID["provisioned"]))
    assert spec["billingMode"] == "PROVISIONED"
    assert spec["provisionedThroughput"] == {"readCapacityUnits": 5, "writeCapacityUnits": 2}
    assert spec["globalSecondaryIndexes"][0]["provisionedThroughput"] == {"readCapacityUnits": 3, "writeCapacityUnits": 1}


def test_features_map_to_ack_fields():
    spec = pipeline.table_spec(with_defaults(VALID["features"]))
    assert spec["streamSpecification"] == {"streamEnabled": True, "streamViewType": "KEYS_ONLY"}
    assert spec["sseSpecification"]["sseType"] == "KMS"
    assert spec["sseSpecification"]["kmsMasterKeyID"].startswith("arn:aws:kms:")
    assert spec["deletionProtectionEnabled"] is True
    assert spec["tags"] == [{"key": "cost-center", "value": "42"}, {"key": "team", "value": "platform"}]


def test_switched_off_stream_and_ttl_are_left_out_and_encryption_is_sent_off():
    # As the kro engine renders them (tests/kro/test_kro_rgd_cel.py): the shapes ACK reads
    # back for a table without a stream, a TTL or KMS (tests/kro/test_kro_ack_stream_ttl.py).
    spec = pipeline.table_spec(with_defaults(VALID["switched-off"]))
    assert not {"timeToLive", "streamSpecification"} & set(spec)
    assert spec["sseSpecification"] == {"enabled": False}
    # No encryption block at all: nothing sent.
    assert "sseSpecification" not in pipeline.table_spec(with_defaults(VALID["minimal"]))


def test_lsi_shares_the_table_partition_key():
    spec = pipeline.table_spec(with_defaults(VALID["indexes"]))
    (lsi,) = spec["localSecondaryIndexes"]
    assert lsi["keySchema"] == [
        {"attributeName": "customerId", "keyType": "HASH"},
        {"attributeName": "createdAt", "keyType": "RANGE"},
    ]


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ({"tableName": "kvdemo-x", "hashKey": {"name": "id", "type": "S"}, "rangeKey": {"name": "id", "type": "N"}},
         "two types"),
        ({"tableName": "kvdemo-x", "hashKey": {"name": "id"}, "billingMode": "PROVISIONED"}, "provisionedThroughput"),
        ({"tableName": "kvdemo-x", "hashKey": {"name": "id"},
          "localSecondaryIndexes": [{"name": "lsi", "rangeKey": {"name": "d"}}]}, "rangeKey"),
        ({"hashKey": {"name": "id"}}, "spec.tableName"),
    ],
)
def test_requests_that_cannot_be_a_table_are_refused(spec, fragment):
    with pytest.raises(pipeline.RequestError, match=fragment):
        pipeline.table_spec(spec)


def test_program_runs_like_the_container(tmp_path):
    """The entry point as the image runs it: files in, files out, exit code."""
    root = kratix_tree(tmp_path, request(with_defaults(VALID["minimal"])))
    env = {"KRATIX_DIR": str(root), "KRATIX_WORKFLOW_ACTION": "configure", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, str(pipeline.__file__), "configure"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "wrote Table session-apps/sessions" in done.stdout
    assert yaml.safe_load((root / "output" / "table.yaml").read_text())["kind"] == "Table"


def test_program_rejects_a_bad_request_with_a_message(tmp_path):
    root = kratix_tree(tmp_path, request({"hashKey": {"name": "id"}}))
    env = {"KRATIX_DIR": str(root), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, str(pipeline.__file__), "configure"], env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 1
    assert "invalid request: spec.tableName is required" in done.stderr
    assert not (root / "output" / "table.yaml").exists()


def test_delete_action_writes_nothing(tmp_path):
    root = kratix_tree(tmp_path, request(with_defaults(VALID["minimal"])))
    env = {"KRATIX_DIR": str(root), "KRATIX_WORKFLOW_ACTION": "delete", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, str(pipeline.__file__), "configure"], env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0
    assert list((root / "output").iterdir()) == []




# ─── reruns: Kratix runs the whole workflow again (10 h, spec change, Promise update) ──


def _configure_with_status(tmp_path, current_status):
    obj = request(with_defaults(VALID["minimal"]))
    obj["status"] = current_status
    root = kratix_tree(tmp_path, obj)
    pipeline.configure(root / "input", root / "output", root / "metadata")
    return yaml.safe_load((root / "metadata" / "status.yaml").read_text())


def test_rerun_after_active_keeps_the_observed_status(tmp_path):
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/kvdemo-minimal"
    current = {
        "tableName": "kvdemo-minimal",
        "tableStatus": "ACTIVE",
        "tableArn": arn,
        "message": "table kvdemo-minimal is ACTIVE",
        "conditions": [{"type": "Reconciled", "status": "True"}],
        "kratix": {"workflows": {}},
    }
    assert _configure_with_status(tmp_path, current) == {
        "tableName": "kvdemo-minimal",
        "tableStatus": "ACTIVE",
        "tableArn": arn,
        "message": "table kvdemo-minimal is ACTIVE",
    }


def test_a_new_table_name_is_requested_again(tmp_path):
    current = {"tableName": "kvdemo-old", "tableStatus": "ACTIVE", "message": "table kvdemo-old is ACTIVE"}
    status = _configure_with_status(tmp_path, current)
    assert status == {"tableName": "kvdemo-minimal", "tableStatus": "REQUESTED", "message": "table kvdemo-minimal requested"}


def test_a_status_without_a_table_status_is_requested(tmp_path):
    # What Kratix itself puts there before any pipeline ran.
    status = _configure_with_status(tmp_path, {"message": "Pending", "conditions": []})
    assert status["tableStatus"] == "REQUESTED"
