"""`report` from recorded measurements, the inventory attribution, and timings recorded by `up`."""

from __future__ import annotations

import json
from types import SimpleNamespace


from tools import cli
from tools.inventory import attribute, counts, evidence_from_resources, to_obj
from tools.orchestrate import APPLICATION_TYPE, Orchestrator, Progress
from tools.report import build_rows, definition_lines, markdown
from tools.state import Measurements

RECORDED = {
    "crossplane": {"tableActiveSeconds": 95.2, "appReadySeconds": 140.0, "inventory": {"objects": 120, "crds": 14},
                   "smoke": {"ok": True}},
    "kro": {"tableActiveSeconds": 41.0, "appReadySeconds": 77.4, "inventory": {"objects": 30, "crds": 2},
            "smoke": {"ok": False}},
    "kratix": {"appReadySeconds": 210.9},
}
LINES = {"crossplane": (290, 20), "kro": (180, 20), "kratix": None}


def test_markdown_shows_measured_values_and_na():
    text = markdown(build_rows(RECORDED, LINES))
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in text.splitlines()
            if line.startswith("| ") and not line.startswith("| |")}
    assert rows["`pulumi up` start → table ACTIVE"] == ["95 s", "41 s", "n/a"]
    assert rows["`pulumi up` start → app ready"] == ["140 s", "77 s", "211 s"]
    assert rows["Kubernetes objects added"] == ["120", "30", "n/a"]
    assert rows["CRDs added"] == ["14", "2", "n/a"]
    assert rows["definition lines (platform team, YAML)"] == ["290", "180", "n/a"]
    assert rows["smoke"] == ["pass", "FAIL", "not run"]


def test_report_command_writes_markdown_and_png(make_ctx, tmp_path):
    # matplotlib is pinned in requirements-dev.txt: a missing chart is a failure, not a skip.
    import matplotlib  # noqa: F401
    ctx = make_ctx()
    ctx.measurements.path.write_text(json.dumps(RECORDED))
    out = tmp_path / "out"
    assert cli.cmd_report(ctx, SimpleNamespace(out=str(out)), plan_lines=lambda: LINES) == 0
    assert (out / "report.md").read_text().startswith("# Three approaches side by side")
    png = (out / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_report_on_a_broken_measurements_file_names_it(make_ctx, tmp_path):
    ctx = make_ctx()
    ctx.measurements.path.write_text("{not json")
    assert cli.main(["report", "--out", str(tmp_path)], ctx) == 1
    assert "measurements.json is not valid JSON" in ctx.text()


def test_definition_lines_count_definitions_and_the_developer_component():
    def reg(type_, inputs, custom=True):
        return SimpleNamespace(type=type_, masked_inputs=inputs, custom=custom)

    plan = SimpleNamespace(registrations=[
        reg("kubernetes:core.oam.dev/v1beta1:ComponentDefinition", {"spec": {"a": 1, "b": 2}}),
        reg("kubernetes:helm.sh/v3:Release", {"values": {"x": 1}}),
        reg("kubernetes:core/v1:Namespace", {"metadata": {"name": "n"}}),
        reg("kubevela-dynamodb:x:Component", {"z": 1}, custom=False),
        reg(APPLICATION_TYPE, {"spec": {"components": [
            {"type": "aws-dynamodb-kro", "name": "t", "properties": {"tableName": "x"}},
            {"type": "webservice", "name": "api"}]}}),
    ])
    definitions, component = definition_lines(plan)
    assert definitions == 3  # spec:, a:, b:
    assert component == 4  # name, properties, tableName, type


def _obj(group, kind, namespace, name, uid, labels=None, annotations=None, owners=(), created="2026-01-01T00:00:10Z"):
    return to_obj({"metadata": {"namespace": namespace, "name": name, "uid": uid, "labels": labels or {},
                                "annotations": annotations or {}, "creationTimestamp": created,
                                "ownerReferences": [{"uid": o} for o in owners]}}, group, kind)


def test_inventory_attribution_rules():
    t0 = 1767225600.0  # 2026-01-01T00:00:00Z
    xp = evidence_from_resources("crossplane", "session-api-app-xp", [
        {"type": "kubernetes:helm.sh/v3:Release", "namespace": "crossplane-system", "name": "crossplane", "createNamespace": True},
        {"type": "kubernetes:pkg.crossplane.io/v1:Provider", "namespace": "", "name": "provider-dynamodb"},
    ], (t0, t0 + 60))
    kro = evidence_from_resources("kro", "session-api-app-kro", [
        {"type": "kubernetes:core/v1:Namespace", "namespace": "", "name": "kro-system"},
    ], (t0 + 100, t0 + 160))
    objects = [
        _obj("", "Pod", "crossplane-system", "crossplane-abc", "1"),                                  # namespace
        _obj("pkg.crossplane.io", "Provider", "", "provider-dynamodb", "2"),                          # Pulumi-managed
        _obj("pkg.crossplane.io", "ProviderRevision", "", "provider-dynamodb-1", "3", owners=["2"]),  # owner
        _obj("apiextensions.k8s.io", "CustomResourceDefinition", "", "tables.dynamodb.aws.m.upbound.io", "4",
             owners=["3"]),                                                                           # owner chain
        _obj("rbac.authorization.k8s.io", "ClusterRole", "", "crossplane", "5",
             annotations={"meta.helm.sh/release-name": "crossplane", "meta.helm.sh/release-namespace": "crossplane-system"}),
        _obj("apps", "Deployment", "session-apps", "session-api", "6", labels={"app.oam.dev/name": "session-api-app-kro"}),
        _obj("apiextensions.k8s.io", "CustomResourceDefinition", "", "dynamodbtables.kro.run", "7",
             created="2026-01-01T00:02:10Z"),                                                         # kro's window
        _obj("apiextensions.k8s.io", "CustomResourceDefinition", "", "applications.core.oam.dev", "8",
             created="2025-12-31T00:00:00Z"),                                                         # platform
        _obj("", "ConfigMap", "kube-system", "coredns", "9"),
    ]
    found = counts(attribute(objects, [xp, kro]))
    assert found["crossplane"] == {"objects": 5, "crds": 1}
    assert found["kro"] == {"objects": 2, "crds": 1}
    assert found[""] == {"objects": 2, "crds": 1}


def test_up_records_app_ready_and_table_active_seconds(tmp_path):
    clock = iter(range(1000, 2000, 10))
    times = lambda: float(next(clock))  # noqa: E731

    class Ops:
        def up(self, stack, on_output, on_event):
            meta = SimpleNamespace(type=APPLICATION_TYPE, urn="urn:pulumi:kro::p::x::session-api-app-kro", op="create")
            on_event(SimpleNamespace(resource_pre_event=SimpleNamespace(metadata=meta, planning=False),
                                     res_outputs_event=None, diagnostic_event=None))
            on_event(SimpleNamespace(resource_pre_event=None, res_outputs_event=SimpleNamespace(metadata=meta),
                                     diagnostic_event=None))

    def watcher(stack, run, stop):
        run.table_active = run.started + 25

    measurements = Measurements(tmp_path / "m.json")
    out = __import__("io").StringIO()
    orch = Orchestrator(Ops(), Progress(out), measurements, tmp_path / "logs", times, watcher)
    orch.up(["kro"], include_platform=False)
    recorded = measurements.load()["kro"]
    assert recorded["tableActiveSeconds"] == 25.0
    assert recorded["appReadySeconds"] == 10.0
    assert recorded["up"]["ok"] is True
    assert "create   Application session-api-app-kro" in out.getvalue()
    assert "ready    session-api-app-kro is running" in out.getvalue()
    assert (tmp_path / "logs" / "kro-up.log").exists()
