"""The table-status step: the request is finished only once its table is what it asks for.

Done means: the live Table carries this request's spec (the digest annotation the configure
step writes), DynamoDB reports it ACTIVE, ACK reports ACK.ResourceSynced=True and no
ACK.Terminal. ACK.Terminal=True suspends the workflow with ACK's message; anything else retries.
"""

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
SYNCED = {"type": "ACK.ResourceSynced", "status": "True", "message": "Resource synced successfully"}
NOT_SYNCED = {"type": "ACK.ResourceSynced", "status": "False", "message": "table is currently being updated"}
TERMINAL = {"type": "ACK.Terminal", "status": "True",
            "message": "api error ValidationException: TimeToLive is already enabled"}
RETRY_CONTROL = {"retryAfter": pipeline.RETRY_AFTER}


def live_table(table_status=None, arn=None, conditions=(), spec=None, managed_fields=None):
    """The Table as the API server returns it: what the configure step wrote for `spec` (the
    request's by default) as Flux applied it, with the status ACK wrote after that apply
    (`managed_fields`: the API server's record of both writes; [] for none)."""
    if managed_fields is None:
        managed_fields = managed("2026-08-10T12:00:05Z", "2026-08-10T12:00:09Z")
    table = pipeline.table_manifest(request(with_defaults(spec or VALID["minimal"])))
    status = {"conditions": list(conditions)}
    if table_status:
        status["tableStatus"] = table_status
    if arn:
        status["ackResourceMetadata"] = {"arn": arn}
    if managed_fields is not None:
        table["metadata"]["managedFields"] = managed_fields
    return {**table, "status": status}


def run(tmp_path, live):
    root = kratix_tree(tmp_path, request(with_defaults(VALID["minimal"])))
    asked = []

    def fetch(namespace, name):
        asked.append((namespace, name))
        return live

    outcome = pipeline.table_status(root / "input", root / "metadata", fetch)
    status = yaml.safe_load((root / "metadata" / "status.yaml").read_text())
    control_file = root / "metadata" / "workflow-control.yaml"
    control = yaml.safe_load(control_file.read_text()) if control_file.exists() else None
    return outcome, status, control, asked


def test_active_synced_table_completes_the_workflow_and_reports_the_arn(tmp_path):
    outcome, status, control, asked = run(tmp_path, live_table("ACTIVE", ARN, [SYNCED]))
    assert outcome == pipeline.DONE
    assert asked == [("session-apps", "sessions")]
    assert status == {
        "tableName": "kvdemo-minimal",
        "tableStatus": "ACTIVE",
        "tableArn": ARN,
        "message": "table kvdemo-minimal is ACTIVE",
    }
    # No workflow-control file: Kratix marks the configure workflow completed.
    assert control is None


@pytest.mark.parametrize(
    "conditions, why",
    [
        ([], "no ACK.ResourceSynced yet"),
        ([NOT_SYNCED], "ACK.ResourceSynced=False: table is currently being updated"),
        ([{"type": "ACK.ResourceSynced", "status": "Unknown", "reason": "requeue needed"}],
         "ACK.ResourceSynced=Unknown: requeue needed"),
        ([{"type": "ACK.Terminal", "status": "False"}, NOT_SYNCED], "ACK.ResourceSynced=False"),
    ],
)
def test_active_table_not_synced_with_the_request_retries(tmp_path, conditions, why):
    """ACK copies tableStatus from DescribeTable and applies TTL, indexes, SSE after the
    table exists: ACTIVE alone does not say the table is what the request asks for."""
    outcome, status, control, _ = run(tmp_path, live_table("ACTIVE", ARN, conditions))
    assert outcome == pipeline.RETRY
    assert control == RETRY_CONTROL
    assert status["tableStatus"] == "ACTIVE" and status["tableArn"] == ARN
    assert status["message"].startswith("table kvdemo-minimal is ACTIVE but not yet synced with the request (")
    assert why in status["message"]


def test_active_table_that_ack_is_retrying_says_why(tmp_path):
    recoverable = {"type": "ACK.Recoverable", "status": "True", "message": "ThrottlingException: slow down"}
    outcome, status, control, _ = run(tmp_path, live_table("ACTIVE", ARN, [recoverable, NOT_SYNCED]))
    assert (outcome, control) == (pipeline.RETRY, RETRY_CONTROL)
    assert status["message"] == "table kvdemo-minimal is ACTIVE; ACK is retrying: ThrottlingException: slow down"


def test_missing_table_retries(tmp_path):
    outcome, status, control, _ = run(tmp_path, None)
    assert outcome == pipeline.RETRY
    assert status["tableStatus"] == "PENDING"
    assert "waiting for Flux to apply Table session-apps/sessions" in status["message"]
    assert control == RETRY_CONTROL


@pytest.mark.parametrize("table_status", ["CREATING", "UPDATING", "ARCHIVED", None])
def test_table_not_active_retries_even_when_synced(tmp_path, table_status):
    # ACK counts ARCHIVED as synced (dynamodb-controller generator.yaml `synced.when`).
    outcome, status, control, _ = run(tmp_path, live_table(table_status, conditions=[SYNCED]))
    assert outcome == pipeline.RETRY
    assert status["tableStatus"] == (table_status or "PENDING")
    assert status["message"] == f"table kvdemo-minimal is {table_status or 'PENDING'}"
    assert control == RETRY_CONTROL


# ─── a Table that does not carry the request yet ────────────────────────────


def test_table_from_before_a_change_retries_even_when_active_and_synced(tmp_path):
    """After a spec change Kratix reruns the workflow; Flux applies the new table.yaml only
    later. Until it has, the Table is the old one, ACTIVE and synced with the old spec."""
    before = {**VALID["minimal"], "deletionProtection": True}
    outcome, status, control, _ = run(tmp_path, live_table("ACTIVE", ARN, [SYNCED], spec=before))
    assert outcome == pipeline.RETRY
    assert control == RETRY_CONTROL
    assert status["message"] == (
        "table kvdemo-minimal: waiting for Flux to apply the requested change to Table session-apps/sessions"
    )
    assert status["tableStatus"] == "ACTIVE" and status["tableArn"] == ARN


def test_table_written_before_the_digest_existed_waits_for_flux(tmp_path):
    live = live_table("ACTIVE", ARN, [SYNCED])
    del live["metadata"]["annotations"][pipeline.SPEC_DIGEST_ANNOTATION]
    outcome, status, control, _ = run(tmp_path, live)
    assert (outcome, control) == (pipeline.RETRY, RETRY_CONTROL)
    assert "waiting for Flux to apply the requested change" in status["message"]


def test_the_digest_follows_the_spec_not_its_key_order():
    spec = pipeline.table_spec(with_defaults(VALID["indexes"]))
    reordered = dict(reversed(list(spec.items())))
    assert pipeline.spec_digest(reordered) == pipeline.spec_digest(spec)
    assert re.fullmatch(r"[0-9a-f]{64}", pipeline.spec_digest(spec))
    changed = {**spec, "deletionProtectionEnabled": not spec["deletionProtectionEnabled"]}
    assert pipeline.spec_digest(changed) != pipeline.spec_digest(spec)


def test_what_ack_writes_into_the_live_spec_does_not_matter(tmp_path):
    # ACK writes the CreateTable answer into the live spec (0/0 throughput for an on-demand
    # table): the step compares the digest annotation, never the live spec.
    live = live_table("ACTIVE", ARN, [SYNCED])
    live["spec"]["provisionedThroughput"] = {"readCapacityUnits": 0, "writeCapacityUnits": 0}
    outcome, _, control, _ = run(tmp_path, live)
    assert (outcome, control) == (pipeline.DONE, None)


# ─── ACK.Terminal: ACK gave up ──────────────────────────────────────────────


@pytest.mark.parametrize("table_status, conditions", [
    ("ACTIVE", [TERMINAL, SYNCED]),  # e.g. a TTL change DynamoDB rejected after the table was created
    ("ACTIVE", [TERMINAL, NOT_SYNCED]),
    (None, [TERMINAL, NOT_SYNCED]),  # CreateTable itself rejected
])
def test_terminal_error_fails_the_request_with_acks_message(tmp_path, table_status, conditions):
    outcome, status, control, _ = run(tmp_path, live_table(table_status, ARN, conditions))
    assert outcome == pipeline.FAILED
    assert status["message"] == (
        "table kvdemo-minimal: ACK gave up (ACK.Terminal): api error ValidationException: TimeToLive is already "
        "enabled; the workflow is suspended until the request changes"
    )
    # Suspended, not retried: Kratix resumes the workflow when the request's spec changes.
    assert control == {"suspend": True, "message": status["message"]}


def test_terminal_message_is_kept_on_one_line(tmp_path):
    terminal = {**TERMINAL, "message": "api error ValidationException:\n  One or more parameter values were invalid"}
    _, status, _, _ = run(tmp_path, live_table("ACTIVE", ARN, [terminal]))
    assert "\n" not in status["message"]
    assert "ValidationException: One or more parameter values were invalid;" in status["message"]


def managed(apply_time, status_time):
    """managedFields as the API server keeps them: Flux's apply (owning the digest
    annotation) and ACK's last write of the status subresource."""
    return [
        {"manager": "kustomize-controller", "operation": "Apply", "time": apply_time, "fieldsType": "FieldsV1",
         "fieldsV1": {"f:metadata": {"f:annotations": {f"f:{pipeline.SPEC_DIGEST_ANNOTATION}": {},
                                                      "f:services.k8s.aws/deletion-policy": {}}},
                      "f:spec": {"f:tableName": {}}}},
        {"manager": "controller", "operation": "Update", "subresource": "status", "time": status_time,
         "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:conditions": {}}}},
    ]


def test_a_terminal_error_is_not_final_when_the_times_cannot_tell(tmp_path):
    # An API server that keeps no managedFields: a retry can end, a wrong suspension holds
    # until the request changes.
    got, _, control, _ = run(tmp_path, live_table("ACTIVE", ARN, [TERMINAL, SYNCED], managed_fields=[]))
    assert (got, control) == (pipeline.RETRY, RETRY_CONTROL)


@pytest.mark.parametrize(
    "apply_time, status_time, outcome",
    [
        # ACK wrote the Terminal before Flux applied this spec: it is about the old spec.
        ("2026-08-10T12:00:05Z", "2026-08-10T12:00:00Z", pipeline.RETRY),
        # ACK reconciled this spec (same second, or later) and gave up on it.
        ("2026-08-10T12:00:05Z", "2026-08-10T12:00:05Z", pipeline.FAILED),
        ("2026-08-10T12:00:05Z", "2026-08-10T12:00:06Z", pipeline.FAILED),
    ],
)
def test_terminal_error_from_before_the_change_is_not_final(tmp_path, apply_time, status_time, outcome):
    """A user who fixes a rejected request must not find it suspended on the old error."""
    live = live_table("ACTIVE", ARN, [TERMINAL, SYNCED], managed_fields=managed(apply_time, status_time))
    got, status, control, _ = run(tmp_path, live)
    assert got == outcome
    if outcome == pipeline.RETRY:
        assert control == RETRY_CONTROL
        assert status["message"] == (
            "table kvdemo-minimal: ACK has not reconciled the requested change yet (its last answer: "
            "api error ValidationException: TimeToLive is already enabled)"
        )
    else:
        assert control["suspend"] is True


def test_the_step_exits_zero_and_suspends_on_a_terminal_error(tmp_path, monkeypatch, capsys):
    """A failing step would leave the status unwritten: Kratix's status writer runs after it."""
    root = kratix_tree(tmp_path, request(with_defaults(VALID["minimal"])))
    monkeypatch.setenv("KRATIX_DIR", str(root))
    assert pipeline.main(["table-status"], fetch=lambda ns, name: live_table("ACTIVE", ARN, [TERMINAL])) == 0
    control = yaml.safe_load((root / "metadata" / "workflow-control.yaml").read_text())
    assert control["suspend"] is True and "retryAfter" not in control
    out = capsys.readouterr().out
    assert "ACK gave up (ACK.Terminal)" in out and "retry in" not in out


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
    outcome = pipeline.table_status(root / "input", root / "metadata", fetch)
    status = yaml.safe_load((root / "metadata" / "status.yaml").read_text())
    control_file = root / "metadata" / "workflow-control.yaml"
    control = yaml.safe_load(control_file.read_text()) if control_file.exists() else None
    return outcome, status, control


ACTIVE_STATUS = {"tableName": "kvdemo-minimal", "tableStatus": "ACTIVE", "tableArn": ARN,
                 "message": "table kvdemo-minimal is ACTIVE", "conditions": []}


@pytest.mark.parametrize(
    "answer, fragment",
    [((403, {}), "HTTP 403"), ((500, {}), "HTTP 500"), ("hang", "did not answer in time")],
)
def test_api_errors_keep_the_last_observed_status_and_retry(tmp_path, fake_api, answer, fragment):
    api = fake_api({TABLE_PATH: answer})
    outcome, status, control = run_with_status(tmp_path, api.fetch(timeout=0.3), ACTIVE_STATUS)
    assert outcome == pipeline.RETRY
    assert control == {"retryAfter": pipeline.RETRY_AFTER}
    # An app whose table was ACTIVE stays healthy through a passing API error.
    assert status["tableStatus"] == "ACTIVE" and status["tableArn"] == ARN
    assert status["message"].startswith("table kvdemo-minimal: cannot read Table session-apps/sessions yet (")
    assert fragment in status["message"]


def test_api_error_on_a_first_run_is_pending(tmp_path):
    def fail(namespace, name):
        raise pipeline.ApiUnavailable("HTTP 500 Internal Server Error")

    outcome, status, control = run_with_status(tmp_path, fail)
    assert (outcome, status["tableStatus"], control) == (pipeline.RETRY, "PENDING", RETRY_CONTROL)
    assert "tableArn" not in status


def test_missing_table_crd_is_named(tmp_path, fake_api):
    api = fake_api({})
    outcome, status, control = run_with_status(tmp_path, api.fetch())
    assert outcome == pipeline.RETRY and control == RETRY_CONTROL
    assert status["tableStatus"] == "PENDING"
    assert "does not serve the ACK Table API (tables.dynamodb.services.k8s.aws, dynamodb.services.k8s.aws/v1alpha1)" in (
        status["message"]
    )
    assert "Flux" not in status["message"]


def test_rerun_of_an_active_table_stays_active(tmp_path, fake_api):
    api = fake_api({TABLE_PATH: (200, live_table("ACTIVE", ARN, [SYNCED]))})
    outcome, status, control = run_with_status(tmp_path, api.fetch(), ACTIVE_STATUS)
    assert outcome == pipeline.DONE and status["tableStatus"] == "ACTIVE"
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
