"""The destroy-time wait for the kratix stack's ACK Tables (tools/wait_tables_gone.py)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from components import kratix_table_wait
from components.kratix_promise import TABLE_LABEL
from tools import wait_tables_gone as wait
from tools.kube import KubeError, NotFound, Unreachable

PROJECT_DIR = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def table(name="sessions-table-kratix", deleting=False, conditions=(), namespace="session-apps"):
    meta = {"name": name, "namespace": namespace, "labels": {TABLE_LABEL: name}}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-02T17:00:00Z"
        meta["finalizers"] = ["finalizers.dynamodb.services.k8s.aws/Table"]
    return {"metadata": meta, "spec": {"tableName": f"kvdemo-{name}"}, "status": {"conditions": list(conditions)}}


class ScriptedClient:
    """Each list call takes the next answer (a list of Tables or an exception); the last one repeats."""

    def __init__(self, answers, requests=()):
        self.answers = list(answers)
        self.requests = dict(requests)
        self.listed = []

    def list(self, path, params=None):
        self.listed.append((path, params))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return iter(answer)

    def get(self, path, params=None):
        if path in self.requests:
            return self.requests[path]
        raise NotFound(path)


def run(client, timeout=60.0):
    clock, said = Clock(), []
    result = wait.TableWait(client, timeout=timeout, clock=clock, sleep=clock.sleep, say=said.append).run()
    return result, said, clock


def test_the_wait_selects_what_the_pipeline_stamps_on_its_tables():
    sys.path.insert(0, str(PROJECT_DIR / "components" / "kratix" / "pipeline"))
    try:
        import dynamodb_pipeline
    finally:
        sys.path.pop(0)
    assert wait.REQUEST_LABEL == TABLE_LABEL == dynamodb_pipeline.REQUEST_LABEL


def test_the_wait_starts_without_pulumi():
    """Without a venv the delete command runs plain `python3 -m tools.wait_tables_gone`,
    whose interpreter need not have Pulumi: the module must import without it."""
    blocked = "import sys; sys.modules.update(dict.fromkeys(['pulumi', 'pulumi_command'])); "
    done = subprocess.run([sys.executable, "-c", blocked + "import tools.wait_tables_gone"], cwd=PROJECT_DIR,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_returns_at_once_when_no_table_is_left():
    client = ScriptedClient([[]])
    result, _, clock = run(client)
    assert "no ACK Table labelled kubevela-dynamodb.dev/dynamodb-request is left" in result
    assert client.listed == [(wait.TABLES_PATH, {"labelSelector": TABLE_LABEL})]
    assert clock.now == 0


def test_waits_while_the_controller_deletes_the_table():
    client = ScriptedClient([[table()], [table(deleting=True)], [table(deleting=True)], []])
    result, said, clock = run(client)
    assert "is left" in result
    assert clock.now == 3 * wait.POLL_SECONDS
    # One line per change, not per poll.
    assert said[:2] == [
        "waiting for 1 ACK Table(s) to be deleted by their controller: session-apps/sessions-table-kratix",
        "waiting for 1 ACK Table(s) to be deleted by their controller: session-apps/sessions-table-kratix (deleting)",
    ]


def test_no_table_crd_means_no_table():
    result, _, _ = run(ScriptedClient([NotFound(wait.TABLES_PATH)]))
    assert "(tables.dynamodb.services.k8s.aws) is not served" in result


def test_timeout_names_each_table_its_state_and_what_to_inspect():
    stuck = table(deleting=True, conditions=[{"type": "ACK.Recoverable", "status": "True", "message": "AccessDenied"}])
    kept = table("orders", namespace="team-a")
    kept_request = {"metadata": {"name": "orders", "namespace": "team-a"}}
    client = ScriptedClient([[stuck, kept]], requests={wait.REQUESTS_PATH.format(namespace="team-a", name="orders"): kept_request})
    with pytest.raises(wait.WaitFailed) as failed:
        run(client, timeout=30)
    text = str(failed.value)
    assert "2 ACK Table(s) made by the DynamoDB Promise still exist after 0.5 minute(s)" in text
    assert "nothing was force-deleted and no finalizer removed" in text
    assert (
        "session-apps/sessions-table-kratix (DynamoDB table kvdemo-sessions-table-kratix): being deleted since "
        "2026-12-02T17:00:00Z, finalizers ['finalizers.dynamodb.services.k8s.aws/Table']; ACK.Recoverable: AccessDenied"
    ) in text
    assert "team-a/orders (DynamoDB table kvdemo-orders): not being deleted: its DynamoDBRequest team-a/orders still exists" in text
    assert "kubectl -n ack-system logs -l app.kubernetes.io/instance=ack-dynamodb-controller" in text
    assert "kubectl -n flux-system describe kustomization kratix-platform-resources" in text
    assert "KVDEMO_SKIP_TABLE_WAIT=1" in text


def test_a_request_still_being_deleted_is_named_as_such():
    path = wait.REQUESTS_PATH.format(namespace="session-apps", name="sessions-table-kratix")
    request = {"metadata": {"deletionTimestamp": "2026-12-02T17:01:00Z", "finalizers": ["kratix.io/work-cleanup"]}}
    with pytest.raises(wait.WaitFailed) as failed:
        run(ScriptedClient([[table()]], requests={path: request}), timeout=10)
    assert ("not being deleted: its DynamoDBRequest session-apps/sessions-table-kratix is itself being deleted since "
            "2026-12-02T17:01:00Z, finalizers ['kratix.io/work-cleanup']") in str(failed.value)


def test_api_errors_are_retried_until_the_deadline_and_then_named():
    client = ScriptedClient([KubeError("GET /apis/...: HTTP 403 forbidden")])
    with pytest.raises(wait.WaitFailed, match="could not check the ACK Tables .* HTTP 403 forbidden"):
        run(client, timeout=20)
    assert len(client.listed) == 5  # t = 0, 5, 10, 15, 20


def test_an_error_between_answers_does_not_end_the_wait():
    client = ScriptedClient([[table()], KubeError("HTTP 500"), Unreachable("no answer"), []])
    result, _, clock = run(client)
    assert "is left" in result and clock.now == 15


def test_a_cluster_that_never_answers_is_gone_with_its_tables():
    client = ScriptedClient([Unreachable("the Kubernetes API at https://0.0.0.0:6550 does not answer: ConnectionError")])
    result, _, clock = run(client)
    assert "the cluster is treated as gone" in result
    assert len(client.listed) == wait.UNREACHABLE_TRIES


def test_a_cluster_that_answered_once_is_waited_for():
    client = ScriptedClient([[table()], Unreachable("gone for a moment")])
    with pytest.raises(wait.WaitFailed):
        run(client, timeout=30)


def _main(environ, client=None, **options):
    out, err = io.StringIO(), io.StringIO()
    clock = Clock()
    code = wait.main(environ, client_factory=lambda text, context=None: client, out=out, err=err, clock=clock,
                     sleep=clock.sleep, **options)
    return code, out.getvalue(), err.getvalue()


def test_main_fails_with_the_message_and_never_prints_the_kubeconfig():
    def refuse(text, context=None):
        raise KubeError("the kubeconfig's credential plugin `aws` is not installed (context 'eks')")

    out, err = io.StringIO(), io.StringIO()
    code = wait.main({wait.ENV_KUBECONFIG: "SECRET-KUBECONFIG-CONTENT"}, client_factory=refuse, out=out, err=err)
    assert code == 1
    assert "credential plugin `aws` is not installed" in err.getvalue() and "KVDEMO_SKIP_TABLE_WAIT=1" in err.getvalue()
    assert "SECRET-KUBECONFIG-CONTENT" not in out.getvalue() + err.getvalue()


def test_main_timeout_comes_from_the_environment():
    code, _, err = _main({wait.ENV_TIMEOUT: "10"}, ScriptedClient([[table()]]))
    assert code == 1 and "after 0.166667 minute(s)" in err
    code, _, err = _main({wait.ENV_TIMEOUT: "soon"}, ScriptedClient([[]]))
    assert code == 1 and "KVDEMO_TABLE_WAIT_SECONDS must be a number of seconds, got 'soon'" in err


def test_skip_only_when_asked():
    code, out, _ = _main({wait.ENV_SKIP: "1"}, ScriptedClient([[table()]]))
    assert code == 0 and "not waiting" in out
    code, _, _ = _main({wait.ENV_SKIP: "0", wait.ENV_TIMEOUT: "5"}, ScriptedClient([[table()]]))
    assert code == 1


class _FakeApi(BaseHTTPRequestHandler):
    tables: list = []

    def do_GET(self):  # noqa: N802 - http.server API
        if self.path.startswith(wait.TABLES_PATH):
            self.server.seen.append(self.path)
            body = json.dumps({"items": self.tables, "metadata": {}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


def test_the_components_delete_command_runs_the_module_from_the_project_folder(tmp_path):
    """The exact command pulumi-command runs on destroy, against a fake API on loopback."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeApi)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    kubeconfig = (
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{server.server_port}'}}}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: SECRET-TOKEN}}]\n"
    )
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONDONTWRITEBYTECODE": "1",  # nothing written into the project tree
        wait.ENV_KUBECONFIG: kubeconfig,
        wait.ENV_SELECTOR: TABLE_LABEL,
        wait.ENV_TIMEOUT: "30",
    }
    try:
        done = subprocess.run(["/bin/sh", "-c", kratix_table_wait.WAIT_COMMAND], cwd=PROJECT_DIR, env=env,
                              capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr
    assert "no ACK Table labelled kubevela-dynamodb.dev/dynamodb-request is left" in done.stdout
    assert server.seen and "labelSelector=kubevela-dynamodb.dev%2Fdynamodb-request" in server.seen[0]
    assert "SECRET-TOKEN" not in done.stdout + done.stderr


def test_main_uses_the_platforms_context_from_the_environment():
    seen = []

    def factory(text, context=None):
        seen.append(context)
        return ScriptedClient([[]])

    environ = {wait.ENV_KUBECONFIG: "kubeconfig", wait.ENV_KUBE_CONTEXT: "eks-demo"}
    assert wait.main(environ, client_factory=factory, out=io.StringIO(), err=io.StringIO()) == 0
    # No context in the environment: the kubeconfig's current one (None), never a guess.
    assert wait.main({wait.ENV_KUBECONFIG: "kubeconfig"}, client_factory=factory, out=io.StringIO(), err=io.StringIO()) == 0
    assert seen == ["eks-demo", None]
