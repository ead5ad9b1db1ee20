"""The table-status step: the request is finished only once its table is ACTIVE."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


# ─── answers that say nothing about the table ───────────────────────────────

TABLE_PATH = pipeline.ACK_TABLES_PATH.format(namespace="session-apps", name="sessions")


class FakeApi:
    """A Kubernetes API on loopback answering scripted (status, body) per path; 'hang' never answers in time."""

    def __init__(self, answers):
        self.answers = answers
        self.seen = []
        self.tokens = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                api.seen.append(self.path)
                api.tokens.append(self.headers.get("Authorization"))
                answer = api.answers.get(self.path, (404, {"kind": "Status", "reason": "NotFound"}))
                if answer == "hang":
                    time.sleep(1.0)
                    answer = (200, {})
                code, body = answer
                data = json.dumps(body).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def fetch(self, timeout=2.0):
        return pipeline.api_fetch(self.url, "pipeline-token", None, timeout=timeout)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_api():
    made = []

    def make(answers):
        api = FakeApi(answers)
        made.append(api)
        return api

    yield make
    for api in made:
        api.close()


def test_api_fetch_reads_the_table_with_the_service_account_token(fake_api):
    api = fake_api({TABLE_PATH: (200, live_table("ACTIVE", ARN))})
    assert api.fetch()("session-apps", "sessions")["status"]["tableStatus"] == "ACTIVE"
    assert api.tokens == ["Bearer pipeline-token"]


def test_api_fetch_tells_a_missing_table_from_a_missing_table_api(fake_api):
    api = fake_api({pipeline.ACK_GROUP_VERSION_PATH: (200, {"kind": "APIResourceList", "resources": []})})
    assert api.fetch()("session-apps", "sessions") is None
    api = fake_api({})  # neither the Table nor its API group/version
    with pytest.raises(pipeline.TableApiMissing):
        api.fetch()("session-apps", "sessions")
    assert api.seen == [TABLE_PATH, pipeline.ACK_GROUP_VERSION_PATH]


@pytest.mark.parametrize(
    "answer, fragment",
    [
        ((403, {"reason": "Forbidden"}), "HTTP 403 Forbidden: the pipeline's ServiceAccount may not get tables"),
        ((500, {"reason": "InternalError"}), "HTTP 500 Internal Server Error"),
        ((503, {}), "HTTP 503 Service Unavailable"),
        ("hang", "the API server did not answer in time"),
    ],
)
def test_api_fetch_turns_every_other_answer_into_not_known_yet(fake_api, answer, fragment):
    api = fake_api({TABLE_PATH: answer})
    with pytest.raises(pipeline.ApiUnavailable, match=re.escape(fragment)):
        api.fetch(timeout=0.3)("session-apps", "sessions")


def test_api_fetch_without_a_server_is_not_known_yet(fake_api):
    api = fake_api({})
    url = api.url
    api.close()
    with pytest.raises(pipeline.ApiUnavailable):
        pipeline.api_fetch(url, "t", None, timeout=0.5)("session-apps", "sessions")


def run_with_status(tmp_path, fetch, current_status=None):
    obj = request(with_defaults(VALID["minimal"]))
    if current_status is not None:
        obj["status"] = current_status
    root = kratix_tree(tmp_path, obj)
    active = pipeline.table_status(root / "input", root / "metadata", fetch)
    status = yaml.safe_load((root / "metadata" / "status.yaml").read_text())
    control_file = root / "metadata" / "workflow-control.yaml"
    control = yaml.safe_load(control_file.read_text()) if control_file.exists() else None
    return active, status, control


ACTIVE_STATUS = {"tableName": "kvdemo-minimal", "tableStatus": "ACTIVE", "tableArn": ARN,
                 "message": "table kvdemo-minimal is ACTIVE", "conditions": []}


@pytest.mark.parametrize(
    "answer, fragment",
    [((403, {}), "HTTP 403"), ((500, {}), "HTTP 500"), ("hang", "did not answer in time")],
)
def test_api_errors_keep_the_last_observed_status_and_retry(tmp_path, fake_api, answer, fragment):
    api = fake_api({TABLE_PATH: answer})
    active, status, control = run_with_status(tmp_path, api.fetch(timeout=0.3), ACTIVE_STATUS)
    assert active is False
    assert control == {"retryAfter": pipeline.RETRY_AFTER}
    # An app whose table was ACTIVE stays healthy through a passing API error.
    assert status["tableStatus"] == "ACTIVE" and status["tableArn"] == ARN
    assert status["message"].startswith("table kvdemo-minimal: cannot read Table session-apps/sessions yet (")
    assert fragment in status["message"]


def test_api_error_on_a_first_run_is_pending(tmp_path):
    def fail(namespace, name):
        raise pipeline.ApiUnavailable("HTTP 500 Internal Server Error")

    active, status, control = run_with_status(tmp_path, fail)
    assert (active, status["tableStatus"], control) == (False, "PENDING", {"retryAfter": pipeline.RETRY_AFTER})
    assert "tableArn" not in status


def test_missing_table_crd_is_named(tmp_path, fake_api):
    api = fake_api({})
    active, status, control = run_with_status(tmp_path, api.fetch())
    assert active is False and control == {"retryAfter": pipeline.RETRY_AFTER}
    assert status["tableStatus"] == "PENDING"
    assert "does not serve the ACK Table API (tables.dynamodb.services.k8s.aws, dynamodb.services.k8s.aws/v1alpha1)" in (
        status["message"]
    )
    assert "Flux" not in status["message"]


def test_rerun_of_an_active_table_stays_active(tmp_path, fake_api):
    api = fake_api({TABLE_PATH: (200, live_table("ACTIVE", ARN))})
    active, status, control = run_with_status(tmp_path, api.fetch(), ACTIVE_STATUS)
    assert active is True and status["tableStatus"] == "ACTIVE"
    assert control is None


def test_the_step_exits_zero_when_the_api_fails(tmp_path, monkeypatch, capsys):
    """A failing Job would wait for Kratix's next reconcile (10 h); a retrying step comes back in 15 s."""
    root = kratix_tree(tmp_path, request(with_defaults(VALID["minimal"])))
    monkeypatch.setenv("KRATIX_DIR", str(root))

    def fail(namespace, name):
        raise pipeline.ApiUnavailable("the API server did not answer in time")

    assert pipeline.main(["table-status"], fetch=fail) == 0
    assert yaml.safe_load((root / "metadata" / "workflow-control.yaml").read_text()) == {
        "retryAfter": pipeline.RETRY_AFTER
    }
    assert "retry in 15s" in capsys.readouterr().out


def test_the_container_without_in_cluster_credentials_retries_instead_of_crashing(tmp_path):
    root = kratix_tree(tmp_path, request(with_defaults(VALID["minimal"])))
    env = {"KRATIX_DIR": str(root), "KRATIX_WORKFLOW_ACTION": "configure", "PATH": "/usr/bin:/bin",
           "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, str(pipeline.__file__), "table-status"], env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    status = yaml.safe_load((root / "metadata" / "status.yaml").read_text())
    assert "KUBERNETES_SERVICE_HOST is not set" in status["message"]
    assert status["tableStatus"] == "PENDING"
