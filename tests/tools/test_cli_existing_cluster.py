"""`smoke`, `status`, `audit` and `down` on an existing cluster in local mode, through the API server.

The cluster is a fake API server (tests/tools/fake_apiserver.py) in front of the
real emulator wrapper (components/emulator/moto_server.py, the file the cluster
runs) and a real session API. The kubeconfig holds two contexts; its current one
points at a decoy API server, so any client that ignored the platform's
`kubeContext` output would show up there.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import boto3
import pytest
from fake_apiserver import FakeApiServer, Pki
from session_api import local

from components.dynamodb_target import EMULATOR_WRAPPER
from tools import cli
from tools.kube import KubeClient, KubeError
from tools.targets import SIGNATURE_HEADER

REGION = "eu-west-1"  # not moto's default: a request that lost its signature would land in us-east-1 (or S3)
CONTEXT = "arn:aws:eks:eu-west-1:111122223333:cluster/demo"
APPS = "session-apps"
KRO_TABLE = "kvdemo-sessions-kro"
EMULATOR = {"namespace": "dynamodb-emulator", "name": "moto", "port": "api"}
TOKEN = "eks-token-" + uuid.uuid4().hex


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def pki():
    return Pki.create()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """The emulator wrapper as the cluster runs it, on a free loopback port."""
    port = local.free_port()
    log = open(tmp_path_factory.mktemp("emulator") / "moto.log", "wb")
    process = subprocess.Popen(
        [sys.executable, str(EMULATOR_WRAPPER), "-H", local.LOOPBACK, "-p", str(port)], stdout=log, stderr=log
    )
    url = f"http://{local.LOOPBACK}:{port}"
    try:
        local.wait_for_http(f"{url}/moto-api/", process)
        yield url
    finally:
        local.stop(process)
        log.close()


def _direct(emulator_url):
    """What an engine in the cluster does: talk to the emulator directly."""
    return boto3.session.Session().client(
        "dynamodb", endpoint_url=emulator_url, region_name=REGION,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def session_api(emulator, tmp_path_factory):
    """The kro approach's session API, in the cluster (on loopback), on its table in the emulator."""
    local.create_session_table(emulator, KRO_TABLE, REGION)
    port = local.free_port()
    process = local.start_gunicorn(
        local.app_environment(emulator, KRO_TABLE, REGION, port),
        tmp_path_factory.mktemp("api") / "api.log",
    )
    try:
        yield f"http://{local.LOOPBACK}:{port}"
    finally:
        local.stop(process)


@pytest.fixture
def cluster(pki, tmp_path, emulator, session_api):
    """(target API server, decoy API server) with the emulator and the kro API behind the target's proxy."""
    target = FakeApiServer(pki, tmp_path, tokens={TOKEN})
    decoy = FakeApiServer(pki, tmp_path, tokens={"laptop-token"})
    target.services[(EMULATOR["namespace"], "moto:api")] = emulator
    target.services[(APPS, "session-api-kro:8080")] = session_api
    target.objects.update(_kro_objects())
    try:
        yield target, decoy
    finally:
        target.close()
        decoy.close()


def _kro_objects() -> dict:
    return {
        f"/apis/core.oam.dev/v1beta1/namespaces/{APPS}/applications/session-api-app-kro": {
            "status": {"status": "running", "services": [{"name": "sessions-table-kro", "healthy": True}]},
        },
        f"/apis/kro.run/v1alpha1/namespaces/{APPS}/dynamodbtables/sessions-table-kro": {
            "metadata": {"name": "sessions-table-kro", "namespace": APPS},
            "status": {"state": "ACTIVE", "conditions": [{"type": "Ready", "status": "True"}]},
        },
        "/apis/dynamodb.services.k8s.aws/v1alpha1/tables": {"items": [
            {"metadata": {"name": "sessions-table-kro", "namespace": APPS}, "spec": {"tableName": KRO_TABLE},
             "status": {"tableStatus": "ACTIVE", "conditions": [{"type": "ACK.ResourceSynced", "status": "True"}]}},
        ]},
    }


def kubeconfig(pki, target, decoy, user: dict) -> str:
    """Two contexts; the current one is the decoy's."""
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "laptop",
        "clusters": [
            {"name": "laptop", "cluster": {"server": decoy.url, "certificate-authority-data": _b64(pki.ca)}},
            {"name": "eks", "cluster": {"server": target.url, "certificate-authority-data": _b64(pki.ca)}},
        ],
        "contexts": [
            {"name": "laptop", "context": {"cluster": "laptop", "user": "laptop"}},
            {"name": CONTEXT, "context": {"cluster": "eks", "user": "eks"}},
        ],
        "users": [{"name": "laptop", "user": {"token": "laptop-token"}}, {"name": "eks", "user": user}],
    })


def platform_outputs(config: str, prefix: str = "kvdemo-") -> dict:
    """What the platform exports on an existing cluster in local mode."""
    return {
        "clusterMode": "existing",
        "kubeconfig": config,
        "kubeContext": CONTEXT,
        "appsNamespace": APPS,
        "dynamodbMode": "local",
        "dynamodbRegion": REGION,
        "tablePrefix": prefix,
        "dynamodbHostEndpoint": "",
        "dynamodbEmulatorService": EMULATOR,
    }


KRO_OUTPUTS = {
    # No DNS for it anywhere: reaching it would prove the ingress was used.
    "apiUrl": "https://session-api-kro.demo.invalid",
    "tableName": KRO_TABLE,
    "apiService": {"namespace": APPS, "name": "session-api-kro", "port": 8080},
}


def test_smoke_reaches_api_and_table_through_the_api_server(make_ctx, fake_ops, cluster, pki):
    target, decoy = cluster
    config = kubeconfig(pki, target, decoy, {"token": TOKEN})
    ops = fake_ops(existing={"platform", "kro"}, outputs={"platform": platform_outputs(config), "kro": KRO_OUTPUTS})
    ctx = make_ctx(ops)
    assert cli.main(["smoke", "kro"], ctx) == 0, ctx.text()
    text = ctx.text()
    assert "kro: PASS" in text and "smoke: all deployed approaches pass" in text
    for check in ("ready", "create", "read", "update", "list by user", "delete", "table exists", "user GSI", "TTL"):
        assert f"[  ok] {check}" in text
    api_calls = target.proxied(APPS, "session-api-kro:8080")
    emulator_calls = target.proxied("dynamodb-emulator", "moto:api")
    assert {h.method for h in api_calls} >= {"GET", "POST", "PUT", "DELETE"}
    assert emulator_calls and all(h.method == "POST" for h in emulator_calls)
    assert {h.auth for h in target.hits} == {"token"}
    # The bearer token stays with the API server; the signature reaches the emulator aside.
    for hit in emulator_calls:
        assert "Authorization" not in hit.forwarded_headers
        assert f"/{REGION}/dynamodb/aws4_request" in hit.forwarded_headers[SIGNATURE_HEADER]
    assert decoy.hits == [] and decoy.rejected == [], "a client used the kubeconfig's current context"
    assert ctx.measurements.load()["kro"]["smoke"]["ok"] is True  # what `report` shows


def test_status_reads_the_configured_cluster_and_the_table_through_it(make_ctx, fake_ops, cluster, pki):
    target, decoy = cluster
    config = kubeconfig(pki, target, decoy, {"token": TOKEN})
    ctx = make_ctx(fake_ops(existing={"platform"}, outputs={"platform": platform_outputs(config)}))
    assert cli.main(["status", "kro"], ctx) == 0, ctx.text()
    text = ctx.text()
    assert "kro: READY" in text
    assert f"ok   DynamoDB table {KRO_TABLE} — status ACTIVE" in text
    assert target.proxied("dynamodb-emulator", "moto:api"), "the table was not described through the API server"
    assert decoy.hits == [] and decoy.rejected == []


def _make_tables(emulator, prefix, engines):
    client = _direct(emulator)
    for engine in engines:
        client.create_table(
            TableName=f"{prefix}sessions-{engine}",
            KeySchema=[{"AttributeName": "sessionId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "sessionId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    return client


def test_down_audits_through_the_api_server_then_removes_the_platform(make_ctx, fake_ops, cluster, pki, emulator):
    target, decoy = cluster
    prefix = f"down{uuid.uuid4().hex[:6]}-"
    client = _make_tables(emulator, prefix, ["xp", "kro", "kratix"])
    engine = {"crossplane": "xp", "kro": "kro", "kratix": "kratix"}

    def engine_deletes_its_table(stack):
        if stack in engine:
            client.delete_table(TableName=f"{prefix}sessions-{engine[stack]}")

    config = kubeconfig(pki, target, decoy, {"client-certificate-data": _b64(pki.client_cert),
                                             "client-key-data": _b64(pki.client_key)})
    ops = fake_ops(existing={"platform", "crossplane", "kro", "kratix"},
                   outputs={"platform": platform_outputs(config, prefix)}, on_destroy=engine_deletes_its_table)
    ctx = make_ctx(ops)
    assert cli.main(["down"], ctx) == 0, ctx.text()
    assert ops.calls[-1] == ("down", "platform")
    text = ctx.text()
    assert f"audit: ok — no table with prefix {prefix!r} left in the emulator at {target.url}/api/v1/namespaces/" \
           "dynamodb-emulator/services/moto:api/proxy" in text
    assert {h.auth for h in target.proxied("dynamodb-emulator", "moto:api")} == {"certificate"}
    assert decoy.hits == [] and decoy.rejected == []


def test_down_keeps_the_platform_when_the_audit_finds_a_table_through_the_api_server(make_ctx, fake_ops, cluster, pki,
                                                                                    emulator):
    target, decoy = cluster
    prefix = f"left{uuid.uuid4().hex[:6]}-"
    _make_tables(emulator, prefix, ["kro"])
    config = kubeconfig(pki, target, decoy, {"token": TOKEN})
    ops = fake_ops(existing={"platform", "kro"}, outputs={"platform": platform_outputs(config, prefix)})
    ctx = make_ctx(ops)
    assert cli.main(["down"], ctx) == 1
    assert ("down", "platform") not in ops.calls
    text = ctx.text()
    assert f"audit: FAIL — 1 table(s) with prefix {prefix!r} still in the emulator" in text
    assert f"  {prefix}sessions-kro" in text


def test_rejected_credentials_are_named_not_mistaken_for_an_empty_target(make_ctx, fake_ops, cluster, pki):
    target, decoy = cluster
    config = kubeconfig(pki, target, decoy, {"token": "expired"})
    ops = fake_ops(existing={"platform"}, outputs={"platform": platform_outputs(config)})
    ctx = make_ctx(ops)
    assert cli.main(["audit"], ctx) == 1
    assert "audit: cannot list tables" in ctx.text()
    assert target.rejected
    ctx = make_ctx(ops)
    assert cli.main(["status", "kro"], ctx) == 1
    assert f"HTTP 401 from {target.url} (kubeconfig context {CONTEXT!r}): the credentials are not accepted" in ctx.text()


# ─── exec credential plugins ────────────────────────────────────────────────


def _plugin(tmp_path, answer: dict | None = None, exit_code: int = 0) -> tuple[str, object]:
    """A fake credential plugin; it logs what it was given and prints `answer` in the asked apiVersion."""
    log = tmp_path / "plugin.log"
    script = tmp_path / "fake-get-token"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, os, sys
        info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
        with open({str(log)!r}, "a") as handle:
            handle.write(json.dumps({{"info": info, "args": sys.argv[1:], "profile": os.environ.get("AWS_PROFILE"),
                                      "stdin_tty": sys.stdin is not None and sys.stdin.isatty()}}) + "\\n")
        if {exit_code}:
            sys.stderr.write("the SSO session has expired; run aws sso login\\n")
            sys.exit({exit_code})
        print(json.dumps({{"apiVersion": info["apiVersion"], "kind": "ExecCredential", "status": {answer!r}}}))
        """))
    script.chmod(0o700)

    def calls():
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return str(script), calls


@pytest.mark.parametrize("api_version", ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])
def test_exec_plugin_token_works_for_smoke_and_status(make_ctx, fake_ops, cluster, pki, tmp_path, api_version):
    target, decoy = cluster
    command, calls = _plugin(tmp_path, {"token": TOKEN, "expirationTimestamp": "2099-01-01T00:00:00Z"})
    user = {"exec": {
        "apiVersion": api_version, "command": command, "args": ["eks", "get-token", "--cluster-name", "demo"],
        "env": [{"name": "AWS_PROFILE", "value": "demo"}], "interactiveMode": "Never", "provideClusterInfo": True,
    }}
    ops = fake_ops(existing={"platform", "kro"},
                   outputs={"platform": platform_outputs(kubeconfig(pki, target, decoy, user)), "kro": KRO_OUTPUTS})
    ctx = make_ctx(ops)
    assert cli.main(["smoke", "kro"], ctx) == 0, ctx.text()
    ctx = make_ctx(ops)
    assert cli.main(["status", "kro"], ctx) == 0, ctx.text()
    assert {h.auth for h in target.hits} == {"token"}
    assert decoy.hits == []
    runs = calls()
    assert len(runs) == 2, "one plugin run per command"
    first = runs[0]
    assert first["info"]["apiVersion"] == api_version and first["info"]["kind"] == "ExecCredential"
    assert first["info"]["spec"]["interactive"] is False
    assert first["info"]["spec"]["cluster"]["server"] == target.url
    assert first["args"] == ["eks", "get-token", "--cluster-name", "demo"] and first["profile"] == "demo"
    assert first["stdin_tty"] is False


def test_exec_plugin_client_certificate_works(make_ctx, fake_ops, cluster, pki, tmp_path):
    target, decoy = cluster
    command, _ = _plugin(tmp_path, {"clientCertificateData": pki.client_cert.decode(),
                                    "clientKeyData": pki.client_key.decode()})
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command, "interactiveMode": "Never"}}
    prefix = f"exec{uuid.uuid4().hex[:6]}-"
    outputs = platform_outputs(kubeconfig(pki, target, decoy, user), prefix)
    ctx = make_ctx(fake_ops(existing={"platform"}, outputs={"platform": outputs}))
    assert cli.main(["audit"], ctx) == 0, ctx.text()
    assert f"audit: ok — no table with prefix {prefix!r} left" in ctx.text()
    assert {h.auth for h in target.hits} == {"certificate"}


def test_exec_plugin_failures_say_what_to_run(make_ctx, fake_ops, cluster, pki, tmp_path):
    target, decoy = cluster

    def status_with(user):
        ops = fake_ops(existing={"platform"}, outputs={"platform": platform_outputs(kubeconfig(pki, target, decoy, user))})
        ctx = make_ctx(ops)
        assert cli.main(["status", "kro"], ctx) == 1
        return ctx.text()

    missing = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(tmp_path / "no-such-aws"),
                        "installHint": "Install the AWS CLI: https://aws.amazon.com/cli/"}}
    assert f"credential plugin `{tmp_path / 'no-such-aws'}` is not installed (context {CONTEXT!r}): " \
           "Install the AWS CLI: https://aws.amazon.com/cli/" in status_with(missing)
    command, _ = _plugin(tmp_path, exit_code=255)
    failing = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command, "args": ["eks", "get-token"],
                        "interactiveMode": "Never"}}
    assert f"`{command} eks get-token` failed (exit 255): the SSO session has expired; run aws sso login" in status_with(failing)
    command, _ = _plugin(tmp_path, {})
    empty = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command, "interactiveMode": "Never"}}
    assert "returned neither a token nor a certificate and key" in status_with(empty)
    always = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command, "interactiveMode": "Always"}}
    assert "needs a terminal (interactiveMode Always)" in status_with(always)
    assert target.hits == [] and decoy.hits == []


def test_exec_plugin_answer_in_another_api_version_is_refused(pki, tmp_path):
    script = tmp_path / "old-plugin"
    script.write_text(f"#!{sys.executable}\nprint('{{\"apiVersion\": \"client.authentication.k8s.io/v1alpha1\", "
                      "\"kind\": \"ExecCredential\", \"status\": {\"token\": \"x\"}}')\n")
    script.chmod(0o700)
    config = json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(script),
                                                  "interactiveMode": "Never"}}}],
    })
    with pytest.raises(KubeError, match="answered apiVersion 'client.authentication.k8s.io/v1alpha1'; the kubeconfig asks "
                                        "for 'client.authentication.k8s.io/v1'"):
        KubeClient.from_kubeconfig(config)


@pytest.mark.parametrize("provider", ["oidc", "custom"])
def test_an_auth_provider_client_go_still_has_is_not_called_removed(provider):
    config = json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"auth-provider": {"name": provider, "config": {"id-token": "SECRET"}}}}],
    })
    with pytest.raises(KubeError) as refused:
        KubeClient.from_kubeconfig(config)
    message = str(refused.value)
    assert f"the auth-provider {provider!r}, which this client does not run" in message
    assert "removed" not in message and "SECRET" not in message
    assert "exec credential plugin" in message


def test_service_proxy_url_names_namespace_service_and_port(pki, tmp_path):
    config = json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "https://api.example.com:443/"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
    })
    with KubeClient.from_kubeconfig(config) as kube:
        assert kube.service_proxy_url("dynamodb-emulator", "moto", "api") == \
            "https://api.example.com:443/api/v1/namespaces/dynamodb-emulator/services/moto:api/proxy"
        assert kube.token == "t"
    assert os.environ.get("KUBERNETES_EXEC_INFO") is None


def _rotating_plugin(tmp_path) -> tuple[dict, Path]:
    """A kubeconfig user whose exec plugin hands out token-1 (already expired), then
    token-2, token-3, ... (valid for years); and the file that counts its runs."""
    counter = tmp_path / "runs"
    script = tmp_path / "rotating-plugin"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, os
        path = {str(counter)!r}
        n = int(open(path).read()) + 1 if os.path.exists(path) else 1
        open(path, "w").write(str(n))
        print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                          "status": {{"token": f"token-{{n}}", "expirationTimestamp": "2000-01-01T00:00:00Z" if n == 1
                                      else "2099-01-01T00:00:00Z"}}}}))
        """))
    script.chmod(0o700)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(script), "interactiveMode": "Never"}}
    return user, counter


def test_exec_credentials_are_renewed_before_they_expire_and_after_a_401(pki, tmp_path, cluster):
    target, decoy = cluster
    user, counter = _rotating_plugin(tmp_path)
    # Only the third token is accepted by the API server.
    target.tokens = {"token-3"}
    target.objects["/api/v1/namespaces/default"] = {"metadata": {"name": "default"}}
    with KubeClient.from_kubeconfig(kubeconfig(pki, target, decoy, user), CONTEXT) as kube:
        # Run 1 at creation: already expired, so run 2 before the first request; 401, so run 3 and retry.
        assert kube.get("/api/v1/namespaces/default") == {"metadata": {"name": "default"}}
        assert counter.read_text() == "3"
        assert kube.token == "token-3"
        assert counter.read_text() == "3", "a valid token is not renewed"
    assert target.rejected == ["/api/v1/namespaces/default"]


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH"])
def test_writes_are_made_again_with_a_fresh_credential_after_a_401(pki, tmp_path, cluster, method):
    """`down` deletes and `compare` writes the Application through the same client as `get`:
    a token revoked or expired early costs one more plugin run, not the command."""
    target, decoy = cluster
    user, counter = _rotating_plugin(tmp_path)
    target.tokens = {"token-3"}
    path = "/apis/core.oam.dev/v1beta1/namespaces/session-apps/applications/gone"
    with KubeClient.from_kubeconfig(kubeconfig(pki, target, decoy, user), CONTEXT) as kube:
        if method == "DELETE":
            kube.delete(path)  # answered 404 once accepted: already gone is fine
        else:
            assert kube.request(method, path, json={"spec": {}}).status_code == 404
        assert counter.read_text() == "3"
    assert target.rejected == [path]
    assert [(hit.method, hit.path, hit.auth) for hit in target.hits] == [(method, path, "token")]


def test_the_planned_stack_outputs_lead_smoke_and_status_to_the_configured_cluster(make_ctx, fake_ops, cluster, pki):
    """The same path from the outputs the stacks really export (offline plan), not hand-written ones."""
    from tools.plan import plan

    target, decoy = cluster
    platform_config = {
        "clusterMode": "existing",
        "clusterName": "eks-demo",
        "kubeconfig": kubeconfig(pki, target, decoy, {"token": TOKEN}),
        "kubeContext": CONTEXT,
        "imageRegistry": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/kvdemo",
        "ingressDomain": "demo.invalid",
        "awsRegion": REGION,
    }
    platform = plan("platform", platform_config).outputs
    kro = plan("kro", {}, platform_config).outputs
    assert kro["tableName"] == KRO_TABLE
    ops = fake_ops(existing={"platform", "kro"}, outputs={"platform": platform, "kro": kro})
    ctx = make_ctx(ops)
    assert cli.main(["smoke", "kro"], ctx) == 0, ctx.text()
    ctx = make_ctx(ops)
    assert cli.main(["status", "kro"], ctx) == 0, ctx.text()
    assert target.proxied(APPS, "session-api-kro:8080") and target.proxied("dynamodb-emulator", "moto:api")
    assert decoy.hits == [] and decoy.rejected == []


def test_compare_opens_each_demo_on_the_configured_cluster_through_the_api_server(make_ctx, fake_ops, cluster, pki):
    from tools.compare_cluster import LiveDemos

    target, decoy = cluster
    config = kubeconfig(pki, target, decoy, {"token": TOKEN})
    no_service = {"apiUrl": "https://session-api-xp.demo.invalid", "tableName": "kvdemo-sessions-xp"}
    ops = fake_ops(existing={"platform", "kro", "crossplane"},
                   outputs={"platform": platform_outputs(config), "kro": KRO_OUTPUTS, "crossplane": no_service})
    ctx = make_ctx(ops)
    app_path = f"/apis/core.oam.dev/v1beta1/namespaces/{APPS}/applications/session-api-app-kro"
    target.objects[app_path] = {
        **target.objects[app_path],
        "metadata": {"name": "session-api-app-kro", "namespace": APPS, "managedFields": [{"manager": "pulumi-kubernetes"}]},
        "spec": {"components": [{"name": "sessions-table-kro", "type": "aws-dynamodb-kro"}]},
    }
    demos = LiveDemos(ctx)
    try:
        demo = demos.open("kro")
        assert demo.table == KRO_TABLE
        # The API answers through the service proxy (its ingress URL has no DNS anywhere).
        assert demo.api_ready() is True
        assert any(h.method == "GET" for h in target.proxied(APPS, "session-api-kro:8080"))
        # The table is read through the API server too.
        assert demo.dynamodb.describe_table(TableName=KRO_TABLE)["Table"]["TableStatus"] == "ACTIVE"
        # No apiService output: a reason to skip, not a call to the ingress.
        reason = demos.open("crossplane")
        assert isinstance(reason, str) and "apiService" in reason and "up crossplane" in reason
    finally:
        demos.close()
        ctx.close()
    assert decoy.hits == [] and decoy.rejected == [], "compare used the kubeconfig's current context"
