"""Rerunning `up` after an interrupted one: pending operations, AlreadyExists, Helm records."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest

from tools import cli, orchestrate
from tools.helm_records import forget_interrupted_release
from tools.orchestrate import AutomationOps, PendingOperation, pending_from_deployment

from test_cli_automation_ops import install_pulumi

RELEASE = orchestrate.RELEASE_TYPE
PLATFORM_OUT = {"dynamodbMode": "local", "dynamodbRegion": "us-east-1", "tablePrefix": "kvdemo-",
                "kubeconfig": "SECRET-KUBECONFIG"}

# What `pulumi stack export` holds after a run was killed mid-update (apitype DeploymentV3).
DEPLOYMENT = {
    "resources": [{"urn": "urn:pulumi:kratix::kubevela-dynamodb::pulumi:pulumi:Stack::kubevela-dynamodb-kratix"}],
    "pending_operations": [
        {
            "resource": {
                "urn": "urn:pulumi:kratix::kubevela-dynamodb::kubevela-dynamodb:kratix:Kratix$kubernetes:helm.sh/v3:Release::kratix",
                "type": RELEASE,
                "inputs": {"name": "kratix", "namespace": "default", "chart": "kratix"},
            },
            "type": "creating",
        },
        {
            "resource": {
                "urn": "urn:pulumi:kratix::kubevela-dynamodb::kubernetes:core/v1:Namespace::flux-namespace",
                "type": "kubernetes:core/v1:Namespace",
                "inputs": {"metadata": {"name": "flux-system"}},
            },
            "type": "creating",
        },
    ],
}


def test_pending_operations_are_read_from_the_exported_state():
    assert pending_from_deployment(DEPLOYMENT) == [
        PendingOperation("creating", RELEASE, "kratix", ("default", "kratix")),
        PendingOperation("creating", "kubernetes:core/v1:Namespace", "flux-namespace", None),
    ]
    assert pending_from_deployment({"resources": []}) == []


# ─── a model of the interrupted first `up` ──────────────────────────────────


class ClusterModel:
    """Objects in the cluster and Helm's records, as an interrupted run leaves them."""

    def __init__(self):
        self.objects: set[str] = set()
        self.helm_records: dict[tuple[str, str], str] = {}
        self.deleted: list[str] = []

    # the Kubernetes API the CLI's release recovery uses
    def list(self, path, params=None):
        namespace = path.split("/")[4]
        release = params["labelSelector"].split("name=")[1]
        if (namespace, release) in self.helm_records:
            name = f"sh.helm.release.v1.{release}.v1"
            status = self.helm_records[(namespace, release)]
            return iter([{"metadata": {"name": name, "labels": {"owner": "helm", "name": release, "status": status}}}])
        return iter([])

    def delete(self, path):
        self.deleted.append(path)
        namespace, name = path.split("/")[4], path.split("/")[-1]
        release = name.split(".")[4]
        self.helm_records.pop((namespace, release), None)

    def close(self):
        pass


PROGRAM = [("kubernetes:core/v1:Namespace", "flux-namespace"), (RELEASE, "kratix"), ("kubernetes:core/v1:Secret", "creds")]


class PulumiModel:
    """`pulumi up` of a small program: client-side creates (AlreadyExists), Helm installs, pending operations."""

    def __init__(self, fake_ops_cls, cluster: ClusterModel):
        self.cluster = cluster
        self.state: set[str] = set()
        self.interrupt_at: str | None = None
        model = self

        class Ops(fake_ops_cls):
            def up(self, stack, on_output, on_event, adopt_existing=False):
                super().up(stack, on_output, on_event, adopt_existing)
                model.up(stack, adopt_existing, self)

        self.ops = Ops(existing={"platform"}, outputs={"platform": PLATFORM_OUT})

    def up(self, stack, adopt, ops):
        for type_, name in PROGRAM:
            if name in self.state:
                continue
            if type_ == RELEASE:
                if ("default", name) in self.cluster.helm_records:
                    raise RuntimeError("error: Helm release failed: cannot re-use a name that is still in use")
                self.cluster.helm_records[("default", name)] = "pending-install"
            elif name in self.cluster.objects and not adopt:
                raise RuntimeError(f'error: resource "{name}" was not successfully created: ... already exists')
            self.cluster.objects.add(name)
            if name == self.interrupt_at:
                # Killed right after the object landed: never recorded, left pending.
                self.interrupt_at = None
                ops.pending[stack] = [
                    PendingOperation("creating", type_, name, ("default", name) if type_ == RELEASE else None)
                ]
                raise RuntimeError("error: the update was interrupted")
            if type_ == RELEASE:
                self.cluster.helm_records[("default", name)] = "deployed"
            self.state.add(name)


@pytest.mark.parametrize("killed_after", [name for _, name in PROGRAM])
def test_rerunning_up_after_a_killed_run_recovers(make_ctx, fake_ops, killed_after):
    cluster = ClusterModel()
    pulumi = PulumiModel(fake_ops, cluster)
    pulumi.interrupt_at = killed_after
    ctx = make_ctx(pulumi.ops)
    ctx.kube_factory = lambda kubeconfig, context=None: cluster
    ctx.target_factory = lambda outputs: (_ for _ in ()).throw(cli.TargetError("x"))
    assert cli.main(["up", "kratix", "--no-platform"], ctx) == 1
    assert cli.main(["up", "kratix", "--no-platform"], ctx) == 0
    assert pulumi.state == {name for _, name in PROGRAM}
    assert pulumi.ops.adopted == ["kratix"]
    text = ctx.text()
    assert "recovering: 1 operation(s) of an interrupted run never finished:" in text
    assert "cleared (pulumi refresh --clear-pending-creates)" in text
    if killed_after == "kratix":
        assert "Helm release default/kratix: dropped Helm's record of the interrupted install (pending-install)" in text
        assert cluster.deleted == ["/api/v1/namespaces/default/secrets/sh.helm.release.v1.kratix.v1"]
    else:
        assert cluster.deleted == []
    # Only the recovering run adopts; the next one is an ordinary `up`.
    assert cli.main(["up", "kratix", "--no-platform"], ctx) == 0
    assert pulumi.ops.adopted == ["kratix"]


def test_the_same_rerun_without_recovery_is_a_dead_end(fake_ops):
    """What the recovery is for: the bare rerun fails the same way every time."""
    cluster = ClusterModel()
    pulumi = PulumiModel(fake_ops, cluster)
    pulumi.interrupt_at = "flux-namespace"
    with pytest.raises(RuntimeError, match="interrupted"):
        pulumi.up("kratix", False, pulumi.ops)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="already exists"):
            pulumi.up("kratix", False, pulumi.ops)


def test_without_a_kubeconfig_the_exact_command_is_printed(make_ctx, fake_ops):
    pending = {"platform": [PendingOperation("creating", RELEASE, "kubevela", ("vela-system", "kubevela"))]}
    ops = fake_ops(existing={"platform"}, outputs={"platform": {}}, pending=pending)
    ctx = make_ctx(ops)
    ctx.target_factory = lambda outputs: (_ for _ in ()).throw(cli.TargetError("x"))
    assert cli.main(["up", "platform"], ctx) == 0
    assert ops.calls[:2] == [("clear-pending", "platform"), ("up", "platform")]
    assert ("Helm release vela-system/kubevela: if Helm answers \"cannot re-use a name that is still in use\", run "
            "`kubectl -n vela-system delete secret -l owner=helm,name=kubevela`") in ctx.text()


APPLICATION = "kubernetes:core.oam.dev/v1beta1:Application"


def _answering_cluster(ctx):
    """The platform's cluster answers `down`'s probe (GET /version)."""
    ctx.kube_factory = lambda kubeconfig, context=None: SimpleNamespace(
        request=lambda method, path, **_: SimpleNamespace(status_code=200), close=lambda: None
    )
    return ctx


def test_an_approach_with_pending_creates_is_not_destroyed(make_ctx, fake_ops):
    # The Application's create is the step that waits longest, so the likeliest to be cut short;
    # destroying the stack then would remove kro and leave the Application and its table.
    pending = {"kro": [PendingOperation("creating", APPLICATION, "session-api-app-kro")]}
    ops = fake_ops(existing={"platform", "kro"}, outputs={"platform": PLATFORM_OUT}, pending=pending)
    ctx = _answering_cluster(make_ctx(ops))
    assert cli.main(["down", "kro", "--skip-audit"], ctx) == 1
    assert ("down", "kro") not in ops.calls
    text = ctx.text()
    assert "not destroyed: an interrupted run was creating 1 object(s) that are not in the state " \
           "(Application session-api-app-kro)" in text
    assert "Run `up kro` first (it adopts them), then `down kro`; `down --ignore-pending` destroys anyway." in text


def test_the_whole_down_keeps_the_platform_when_an_approach_has_pending_creates(make_ctx, fake_ops):
    pending = {"kratix": [PendingOperation("creating", APPLICATION, "session-api-app-kratix")]}
    ops = fake_ops(existing={"platform", "kro", "kratix"}, outputs={"platform": PLATFORM_OUT}, pending=pending)
    ctx = _answering_cluster(make_ctx(ops))
    assert cli.main(["down", "--skip-audit"], ctx) == 1
    assert ("down", "kro") in ops.calls
    assert ("down", "kratix") not in ops.calls and ("down", "platform") not in ops.calls
    assert "kept: an approach stack failed to destroy" in ctx.text()


def test_ignore_pending_destroys_and_says_what_it_cannot_delete(make_ctx, fake_ops):
    pending = {"kro": [PendingOperation("creating", "kubernetes:core/v1:Namespace", "kro-namespace")]}
    ops = fake_ops(existing={"platform", "kro"}, outputs={"platform": PLATFORM_OUT}, pending=pending)
    ctx = _answering_cluster(make_ctx(ops))
    assert cli.main(["down", "kro", "--skip-audit", "--ignore-pending"], ctx) == 0
    assert ("down", "kro") in ops.calls
    text = ctx.text()
    assert "note: 1 object(s) an interrupted run was creating are not in the state" in text
    assert "Namespace kro-namespace" in text


def test_the_platform_is_destroyed_with_pending_creates_and_a_note(make_ctx, fake_ops):
    # Its objects go with the k3d cluster it deletes.
    pending = {"platform": [PendingOperation("creating", RELEASE, "kubevela", ("vela-system", "kubevela"))]}
    ops = fake_ops(existing={"platform"}, outputs={"platform": PLATFORM_OUT}, pending=pending)
    ctx = make_ctx(ops)
    assert cli.main(["down", "--skip-audit"], ctx) == 0
    assert ("down", "platform") in ops.calls
    assert "note: 1 object(s) an interrupted run was creating are not in the state" in ctx.text()


class HelmRecords:
    """The Secrets API holding Helm's records of one release."""

    def __init__(self, *records):
        self.records = [
            {"metadata": {"name": name, "labels": {"owner": "helm", "name": "flux2", "status": status}}}
            for name, status in records
        ]
        self.seen = []

    def list(self, path, params=None):
        self.seen.append((path, params))
        return iter(self.records)

    def delete(self, path):
        self.seen.append(("DELETE", path))


def test_helm_record_of_an_unfinished_install_is_dropped_only_for_that_release():
    kube = HelmRecords(("sh.helm.release.v1.flux2.v1", "pending-install"))
    text = forget_interrupted_release(kube, "flux-system", "flux2")
    assert kube.seen == [
        ("/api/v1/namespaces/flux-system/secrets", {"labelSelector": "owner=helm,name=flux2"}),
        ("DELETE", "/api/v1/namespaces/flux-system/secrets/sh.helm.release.v1.flux2.v1"),
    ]
    assert text.startswith("dropped Helm's record of the interrupted install (pending-install)")


@pytest.mark.parametrize(
    "records",
    [
        [("sh.helm.release.v1.flux2.v1", "deployed")],
        [("sh.helm.release.v1.flux2.v1", "superseded"), ("sh.helm.release.v1.flux2.v2", "pending-upgrade")],
        [("sh.helm.release.v1.flux2.v1", "pending-install"), ("sh.helm.release.v1.flux2.v2", "deployed")],
        [("sh.helm.release.v1.flux2.v1", "failed")],
    ],
)
def test_helm_record_of_a_release_with_a_history_is_left_alone(records):
    # A deployed (or once deployed) release may be another owner's: its history is never deleted.
    kube = HelmRecords(*records)
    text = forget_interrupted_release(kube, "flux-system", "flux2")
    assert [entry for entry in kube.seen if entry[0] == "DELETE"] == []
    assert text.startswith("left alone")
    for name, status in records:
        if status != "pending-install":
            assert f"{name.rsplit('.', 1)[-1]} {status}" in text
    assert "`kubectl -n flux-system delete secret -l owner=helm,name=flux2`" in text


@pytest.mark.parametrize(
    "error, fragment",
    [
        ("Helm release \"default/kratix\" failed: cannot re-use a name that is still in use",
         "`kubectl -n <release namespace> delete secret -l owner=helm,name=<release>`"),
        # Whose record it is comes first: a deployed release of someone else's is never to be dropped.
        ("Helm release \"default/kratix\" failed: cannot re-use a name that is still in use",
         "`kubectl -n <release namespace> get secret -l owner=helm,name=<release> -L status`; if it is this project's"),
        ("UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress", "status=pending-install"),
    ],
)
def test_helm_errors_get_the_command_that_recovers(error, fragment):
    assert fragment in orchestrate.hint_for(error)


# ─── the Automation API calls behind it (scripted `pulumi`) ─────────────────

FAKE_PULUMI = """#!/bin/sh
[ -n "$FAKE_PULUMI_LOG" ] && echo "$* | adopt=${PULUMI_K8S_UPSERT_EXISTING_OBJECTS:-}" >> "$FAKE_PULUMI_LOG"
case "$*" in
  *version*) echo "v3.272.0" ;;
  *"stack ls"*) echo '[{"name": "kratix", "current": false}]' ;;
  *"stack select"*) exit 0 ;;
  *"stack export"*) cat "$FAKE_PULUMI_EXPORT" ;;
  *"stack history"*) echo '[{"kind": "refresh", "startTime": "2026-12-02T17:00:00.000Z", "message": "", "environment": {}, "config": {}, "result": "succeeded", "endTime": "2026-12-02T17:00:01.000Z", "version": 3}]' ;;
  *refresh*) echo "refreshed" ;;
  *" up "*) echo "updated" ;;
  *"stack output"*) echo '{}' ;;
  *) echo "unexpected: $*" >&2; exit 3 ;;
esac
"""


@pytest.fixture
def scripted_pulumi(tmp_path):
    root = install_pulumi(tmp_path, FAKE_PULUMI)
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"version": 3, "deployment": DEPLOYMENT}))
    log = tmp_path / "pulumi.log"
    env = {"PATH": os.environ.get("PATH", ""), "FAKE_PULUMI_LOG": str(log), "FAKE_PULUMI_EXPORT": str(export)}
    return SimpleNamespace(ops=AutomationOps(tmp_path, env, root), log=log)


def test_automation_reads_pending_operations_and_clears_them_with_refresh(scripted_pulumi):
    ops = scripted_pulumi.ops
    assert [op.name for op in ops.pending_operations("kratix")] == ["kratix", "flux-namespace"]
    assert ops.pending_operations("kro") == []  # no such stack: nothing to read
    lines = []
    ops.clear_pending("kratix", lines.append)
    calls = scripted_pulumi.log.read_text().splitlines()
    refresh = next(c for c in calls if " refresh " in c)
    assert "--clear-pending-creates" in refresh and "--stack kratix" in refresh and "--yes" in refresh
    assert refresh.endswith("| adopt=")
    assert lines == ["refreshed"]


def test_automation_up_adopts_only_when_asked(scripted_pulumi):
    """The variable reaches the `pulumi up` process (and so the program and the provider) only when asked."""
    ops = scripted_pulumi.ops
    ops.up("kratix", print, print)
    ops.up("kratix", print, print, adopt_existing=True)
    ops.up("kratix", print, print)
    ups = [c for c in scripted_pulumi.log.read_text().splitlines() if c.startswith("--non-interactive up ")]
    assert [c.rsplit("| adopt=", 1)[1] for c in ups] == ["", "true", ""]
    assert all("--stack kratix" in c for c in ups)
