"""The table-status step: the request is finished only once its table is ACTIVE."""

from __future__ import annotations

import pytest
import yaml

import dynamodb_pipeline as pipeline
from dynamodb_model import with_defaults
from dynamodb_samples import VALID
from kratix_pipeline_helpers import kratix_tree, request

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/kvdemo-minimal"


def live_table(table_status=None, arn=None, conditions=()):
    status = {"conditions": list(conditions)}
    if table_status:
        status["tableStatus"] = table_status
    if arn:
        status["ackResourceMetadata"] = {"arn": arn}
    return {"apiVersion": pipeline.ACK_API_VERSION, "kind": "Table", "status": status}


def run(tmp_path, live):
    root = kratix_tree(tmp_path, request(with_defaults(VALID["minimal"])))
    asked = []

    def fetch(namespace, name):
        asked.append((namespace, name))
        return live

    active = pipeline.table_status(root / "input", root / "metadata", fetch)
    status = yaml.safe_load((root / "metadata" / "status.yaml").read_text())
    control_file = root / "metadata" / "workflow-control.yaml"
    control = yaml.safe_load(control_file.read_text()) if control_file.exists() else None
    return active, status, control, asked


def test_active_table_completes_the_workflow_and_reports_the_arn(tmp_path):
    active, status, control, asked = run(tmp_path, live_table("ACTIVE", ARN))
    assert active is True
    assert asked == [("session-apps", "sessions")]
    assert status == {
        "tableName": "kvdemo-minimal",
        "tableStatus": "ACTIVE",
        "tableArn": ARN,
        "message": "table kvdemo-minimal is ACTIVE",
    }
    # No workflow-control file: Kratix marks the configure workflow completed.
    assert control is None


def test_missing_table_retries(tmp_path):
    active, status, control, _ = run(tmp_path, None)
    assert active is False
    assert status["tableStatus"] == "PENDING"
    assert "waiting for Flux to apply Table session-apps/sessions" in status["message"]
    assert control == {"retryAfter": pipeline.RETRY_AFTER}


@pytest.mark.parametrize("table_status", ["CREATING", "UPDATING", None])
def test_table_not_active_yet_retries(tmp_path, table_status):
    active, status, control, _ = run(tmp_path, live_table(table_status))
    assert active is False
    assert status["tableStatus"] == (table_status or "PENDING")
    assert control == {"retryAfter": pipeline.RETRY_AFTER}


def test_ack_errors_are_shown_in_the_request_status(tmp_path):
    terminal = {"type": "ACK.Terminal", "status": "True", "message": "ValidationException: bad key"}
    active, status, control, _ = run(tmp_path, live_table(conditions=[terminal]))
    assert active is False
    assert "ACK reports a terminal error: ValidationException: bad key" in status["message"]
    assert control is not None


def test_retry_duration_is_one_kratix_accepts():
    # Kratix parses retryAfter with Go's time.ParseDuration.
    assert pipeline.RETRY_AFTER[:-1].isdigit() and pipeline.RETRY_AFTER.endswith("s")


def test_usage_error_for_unknown_step(capsys):
    assert pipeline.main(["explode"]) == 2
    assert "usage" in capsys.readouterr().err
