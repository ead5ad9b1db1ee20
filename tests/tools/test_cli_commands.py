"""Argument handling and the order of stack operations for `up` and `down` (fake Pulumi)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tools import cli
from tools.kube import KubeError
from tools.targets import Target

from compare_fakes import FakeClock

PLATFORM_OUT = {"dynamodbMode": "local", "dynamodbRegion": "us-east-1", "tablePrefix": "kvdemo-"}


def test_unknown_approach_is_named(make_ctx):
    ctx = make_ctx()
    assert cli.main(["up", "kro", "bogus"], ctx) == 1
    assert "unknown approach 'bogus'; valid: crossplane, kro, kratix, platform" in ctx.text()


def test_unknown_command_and_bad_numbers_are_usage_errors(make_ctx, capsys):
    with pytest.raises(SystemExit) as bad_command:
        cli.main(["launch"], make_ctx())
    assert bad_command.value.code == 2
    with pytest.raises(SystemExit):
        cli.main(["smoke", "--local", "--local-ttl", "0"], make_ctx())
    assert "must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["smoke", "--local", "--local-ttl", "1"], make_ctx())
    assert "--local-ttl: must be at least 2 (a 1 s session can expire before it is read), got 1" in capsys.readouterr().err


def test_api_url_needs_a_table(make_ctx):
    ctx = make_ctx()
    assert cli.main(["smoke", "--api-url", "http://x.localhost:8081"], ctx) == 1
    assert "--api-url and --table go together" in ctx.text()


def test_up_runs_platform_first_then_all_approaches(make_ctx, fake_ops):
    ops = fake_ops(outputs={"platform": PLATFORM_OUT})
    ctx = make_ctx(ops, target=None)
    ctx.target_factory = lambda outputs: (_ for _ in ()).throw(cli.TargetError("no endpoint"))
    assert cli.main(["up"], ctx) == 0
    assert ops.calls[0] == ("up", "platform")
    assert sorted(ops.calls[1:]) == [("up", "crossplane"), ("up", "kratix"), ("up", "kro")]
    text = ctx.text()
    assert "table timing not measured: no endpoint" in text
    # Progress lines carry elapsed time and stack name.
    assert "] platform   up started" in text and "] kro        up done in" in text


def test_up_one_approach(make_ctx, fake_ops):
    ops = fake_ops(outputs={"platform": PLATFORM_OUT})
    ctx = make_ctx(ops)
    ctx.target_factory = lambda outputs: (_ for _ in ()).throw(cli.TargetError("x"))
    assert cli.main(["up", "kro", "--sequential"], ctx) == 0
    assert ops.calls == [("up", "platform"), ("up", "kro")]


def test_failed_platform_stops_before_the_approaches(make_ctx, fake_ops):
    ops = fake_ops(fail={"platform"})
    ctx = make_ctx(ops)
    assert cli.main(["up"], ctx) == 1
    assert ops.calls == [("up", "platform")]
    assert "platform failed on purpose" in ctx.text()


def test_failed_approach_fails_the_command_and_says_where_to_look(make_ctx, fake_ops):
    ops = fake_ops(outputs={"platform": PLATFORM_OUT}, fail={"kratix"})
    ctx = make_ctx(ops)
    ctx.target_factory = lambda outputs: (_ for _ in ()).throw(cli.TargetError("x"))
    assert cli.main(["up"], ctx) == 1
    assert "failed: kratix — `status kratix` shows what blocks" in ctx.text()


class ScriptedTarget(Target):
    """A target whose table listing is scripted: `tables`, read at each listing (a live set works)."""

    def __init__(self, tables):
        super().__init__("local", "us-east-1", "http://dynamodb.localhost:8081", "kvdemo-")
        self.tables = tables

    def client(self):
        tables = self.tables

        class Client:
            def list_tables(self, **_):
                return {"TableNames": list(tables)}

        return Client()


class DeletingTarget(Target):
    """A DynamoDB target whose tables go through the states `script` gives each, one per DescribeTable.

    A table whose script is used up is gone (no longer listed, ResourceNotFound), as a
    table DynamoDB finished deleting.
    """

    def __init__(self, script: dict[str, list[str]]):
        super().__init__("aws", "eu-west-1", None, "kvdemo-")
        self.script = {name: list(states) for name, states in script.items()}

    def client(self):
        script = self.script

        class NotFound(Exception):
            pass

        class Client:
            exceptions = type("Exceptions", (), {"ResourceNotFoundException": NotFound})

            def list_tables(self, **_):
                return {"TableNames": sorted(name for name, states in script.items() if states)}

            def describe_table(self, TableName):
                states = script.get(TableName)
                if not states:
                    raise NotFound(TableName)
                return {"Table": {"TableStatus": states.pop(0)}}

        return Client()


def _on_a_fake_clock(ctx) -> list[float]:
    """`ctx.clock` and `ctx.sleep` on compare's FakeClock; returns how long each sleep was."""
    clock = FakeClock()
    ctx.clock, ctx.sleep = clock.now, clock.sleep
    slept, woke = [], [clock.now()]

    def on_wake(now: float) -> None:
        slept.append(now - woke[-1])
        woke.append(now)

    clock.listeners.append(on_wake)
    return slept


def test_down_waits_for_a_table_dynamodb_is_deleting_then_destroys_the_platform(make_ctx, fake_ops):
    # ACK lets its Table go once DeleteTable is accepted: the table is DELETING, still listed.
    ops = fake_ops(existing={"platform", "kro"}, outputs={"platform": PLATFORM_OUT})
    ctx = make_ctx(ops, target=DeletingTarget({"kvdemo-sessions-kro": ["DELETING", "DELETING"]}))
    slept = _on_a_fake_clock(ctx)
    assert cli.main(["down"], ctx) == 0
    assert ("down", "platform") in ops.calls
    text = ctx.text()
    assert "audit: waiting for DynamoDB to finish deleting kvdemo-sessions-kro (up to 300s)" in text
    assert text.index("audit: ok") < text.index("platform   down started")
    assert slept == [cli.AUDIT_POLL_SECONDS] * 2


def test_a_table_still_deleting_at_the_deadline_keeps_the_platform(make_ctx, fake_ops):
    ops = fake_ops(existing={"platform", "kro"}, outputs={"platform": PLATFORM_OUT})
    ctx = make_ctx(ops, target=DeletingTarget({"kvdemo-sessions-kro": ["DELETING"] * 1000}))
    slept = _on_a_fake_clock(ctx)
    assert cli.main(["down"], ctx) == 1
    assert ("down", "platform") not in ops.calls
    assert "  kvdemo-sessions-kro (still DELETING after 300s)" in ctx.text()
    assert sum(slept) == cli.AUDIT_DELETING_WAIT_SECONDS


def test_a_table_in_any_other_state_fails_the_audit_without_waiting(make_ctx, fake_ops):
    ops = fake_ops(existing={"platform", "kro", "kratix"}, outputs={"platform": PLATFORM_OUT})
    target = DeletingTarget({"kvdemo-sessions-kro": ["DELETING"] * 10, "kvdemo-sessions-kratix": ["ACTIVE"] * 10})
    ctx = make_ctx(ops, target=target)
    slept = _on_a_fake_clock(ctx)
    assert cli.main(["down"], ctx) == 1
    assert slept == []
    text = ctx.text()
    assert "audit: FAIL — 2 table(s) with prefix 'kvdemo-'" in text
    assert "  kvdemo-sessions-kratix (ACTIVE)\n" in text
    assert "  kvdemo-sessions-kro (DELETING)\n" in text
    assert "waiting for DynamoDB" not in text


def test_down_destroys_approaches_then_audits_then_platform(make_ctx, fake_ops):
    ops = fake_ops(existing={"platform", "crossplane", "kro", "kratix"}, outputs={"platform": PLATFORM_OUT})
    ctx = make_ctx(ops, target=ScriptedTarget([]))
    assert cli.main(["down"], ctx) == 0
    assert sorted(ops.calls[:3]) == [("down", "crossplane"), ("down", "kratix"), ("down", "kro")]
    assert ops.calls[3] == ("down", "platform")
    text = ctx.text()
    assert text.index("audit: ok") < text.index("platform   down started")


def test_down_keeps_the_platform_when_tables_are_left(make_ctx, fake_ops):
    ops = fake_ops(existing={"platform", "kro"}, outputs={"platform": PLATFORM_OUT})
    ctx = make_ctx(ops, target=ScriptedTarget(["kvdemo-sessions-kro", "other-table"]))
    assert cli.main(["down"], ctx) == 1
    assert ("down", "platform") not in ops.calls
    text = ctx.text()
    assert "audit: FAIL — 1 table(s) with prefix 'kvdemo-'" in text
    assert "  kvdemo-sessions-kro" in text and "other-table" not in text
    assert "no such stack: nothing to destroy" in text  # crossplane and kratix were never up


def test_down_skip_audit_goes_on(make_ctx, fake_ops):
    ops = fake_ops(existing={"platform"}, outputs={"platform": PLATFORM_OUT})
    ctx = make_ctx(ops, target=ScriptedTarget(["kvdemo-sessions-kro"]))
    assert cli.main(["down", "--skip-audit"], ctx) == 0
    assert ("down", "platform") in ops.calls


def test_down_one_approach_keeps_the_platform_and_audits_only_its_table(make_ctx, fake_ops):
    ops = fake_ops(existing={"platform", "kro", "crossplane"}, outputs={"platform": PLATFORM_OUT})
    ctx = make_ctx(ops, target=ScriptedTarget(["kvdemo-sessions-xp"]))
    assert cli.main(["down", "kro"], ctx) == 0
    assert ops.calls == [("down", "kro")]
    assert "audit: ok" in ctx.text()


def test_failed_approach_destroy_keeps_the_platform(make_ctx, fake_ops):
    ops = fake_ops(existing={"platform", "kro"}, outputs={"platform": PLATFORM_OUT}, fail={"kro"})
    ctx = make_ctx(ops, target=ScriptedTarget([]))
    assert cli.main(["down"], ctx) == 1
    assert ("down", "platform") not in ops.calls
    assert "controllers (in the platform)" in ctx.text()


def test_smoke_skips_approaches_that_are_not_deployed(make_ctx, fake_ops):
    # kro has no stack; kratix's stack was emptied by `down` (destroy keeps the stack).
    ops = fake_ops(existing={"platform", "kratix"}, outputs={"platform": PLATFORM_OUT})
    ctx = make_ctx(ops, target=ScriptedTarget([]))
    assert cli.main(["smoke", "kro", "kratix"], ctx) == 1
    text = ctx.text()
    assert "kro: not deployed — skipped (`up kro` deploys it)" in text
    assert "kratix: not deployed — skipped" in text
    assert "smoke: FAIL — none of kro, kratix is deployed: run `up` first" in text


def test_smoke_of_a_stack_without_the_outputs_fails_and_says_why(make_ctx, fake_ops):
    ops = fake_ops(existing={"platform", "kro"}, outputs={"platform": PLATFORM_OUT, "kro": {"dynamodbMode": "local"}})
    ctx = make_ctx(ops, target=ScriptedTarget([]))
    assert cli.main(["smoke", "kro"], ctx) == 1
    assert "kro: FAIL — the stack has no apiUrl/tableName outputs; run `up kro`" in ctx.text()


def test_status_without_platform_says_what_to_run(make_ctx, fake_ops):
    ctx = make_ctx(fake_ops())
    assert cli.main(["status"], ctx) == 1
    assert "stack 'platform' does not exist: bring it up first (`up`)" in ctx.text()


def test_secrets_are_not_printed(make_ctx, fake_ops):
    outputs = {"platform": {**PLATFORM_OUT, "kubeconfig": "SECRET-KUBECONFIG"}, "kro": {"apiUrl": "http://a", "tableName": "t"}}
    ops = fake_ops(outputs=outputs)
    ctx = make_ctx(ops)
    ctx.target_factory = lambda o: (_ for _ in ()).throw(cli.TargetError("x"))
    cli.main(["up", "kro"], ctx)
    assert "SECRET-KUBECONFIG" not in ctx.text()


def test_up_no_platform_needs_the_platform_stack(make_ctx, fake_ops):
    ops = fake_ops()
    ctx = make_ctx(ops)
    assert cli.main(["up", "kro", "--no-platform"], ctx) == 1
    assert "--no-platform needs an existing platform stack: run `up platform` first" in ctx.text()
    assert ops.calls == []


def test_down_after_a_failed_first_platform_up_still_removes_the_platform(make_ctx, fake_ops):
    """No outputs were recorded, so there is no target to audit; the platform (the cluster) must not be kept."""
    ops = fake_ops(existing={"platform"}, outputs={"platform": {}})
    ctx = make_ctx(ops)
    ctx.target_factory = lambda outputs: (_ for _ in ()).throw(cli.TargetError("no output dynamodbMode"))
    assert cli.main(["down"], ctx) == 0
    assert ops.calls == [("down", "platform")]
    assert "audit: the platform stack records no DynamoDB target" in ctx.text()


def test_down_whose_target_cannot_be_read_keeps_the_platform(make_ctx, fake_ops):
    ops = fake_ops(existing={"platform"}, outputs={"platform": PLATFORM_OUT})
    ctx = make_ctx(ops)
    ctx.target_factory = lambda outputs: (_ for _ in ()).throw(cli.TargetError("no dynamodbHostEndpoint"))
    assert cli.main(["down"], ctx) == 1
    assert ("down", "platform") not in ops.calls
    assert "audit: cannot read the DynamoDB target: no dynamodbHostEndpoint" in ctx.text()


def test_commands_write_logs_where_the_context_says(make_ctx, fake_ops, tmp_path):
    """So the test suite never overwrites a user's .pulumi-state/logs."""
    ctx = make_ctx(fake_ops(fail={"platform"}))
    assert cli.main(["up", "platform"], ctx) == 1
    assert (tmp_path / "logs" / "platform-up.log").read_text() == "Updating (platform)\n"
    assert f"log: {tmp_path / 'logs' / 'platform-up.log'}" in ctx.text()


def test_make_targets_run_the_cli_and_refuse_an_old_python(tmp_path):
    import shutil
    import subprocess

    from components.project_paths import PROJECT_DIR

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry = subprocess.run(["make", "-n", "up-kro", "ARGS=--sequential"], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert "venv/bin/python -m tools.cli up kro --sequential" in dry.stdout
    old = tmp_path / "python3.10"
    old.write_text('#!/bin/sh\ncase "$2" in *platform*) echo 3.10.12;; *) exit 1;; esac\n')
    old.chmod(0o755)
    venv = tmp_path / "venv"
    run = subprocess.run(["make", f"VENV={venv}", f"PYTHON={old}", f"{venv}/.installed"], cwd=PROJECT_DIR,
                         capture_output=True, text=True)
    assert run.returncode != 0
    assert f"{old} is Python 3.10.12; 3.11+ is needed" in run.stdout
    assert not venv.exists()


def test_ci_workflow_runs_up_smoke_and_always_down():
    import yaml

    from components.project_paths import PROJECT_DIR

    workflow = yaml.safe_load((PROJECT_DIR / ".github/workflows/demo-local.yml").read_text())
    steps = workflow["jobs"]["demo"]["steps"]
    runs = [s.get("run") for s in steps]
    assert runs.index("make up") < runs.index("make smoke") < runs.index("make down")
    down = next(s for s in steps if s.get("run") == "make down")
    assert down.get("if") == "always()"
    # Day 2 on the deployed demo, before the report that shows it and the teardown; bounded.
    assert runs.index("make smoke") < runs.index("make compare") < runs.index("make report") < runs.index("make down")
    compare = next(s for s in steps if s.get("run") == "make compare")
    assert 0 < compare["timeout-minutes"] < workflow["jobs"]["demo"]["timeout-minutes"]
    report = next(s for s in steps if s.get("run") == "make report")
    assert report.get("if") == "${{ !cancelled() }}"  # a failed compare still gets its report
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert "out/" in upload["with"]["path"].split() and upload.get("if") == "always()"
    # Node 24 releases: the Node 20 ones stop running on GitHub-hosted runners.
    uses = {s["uses"].split("@")[0]: s["uses"].split("@")[1] for s in steps if "uses" in s}
    assert uses == {"actions/checkout": "v5", "actions/setup-python": "v6", "actions/upload-artifact": "v6"}


@pytest.mark.parametrize(
    "given, expected",
    [([], ["-n", "auto"]), (["-q", "tests/tools"], ["-n", "auto", "-q", "tests/tools"]), (["-n", "0"], ["-n", "0"]),
     (["-n0", "-x"], ["-n0", "-x"]), (["--numprocesses=3"], ["--numprocesses=3"])],
)
def test_cli_test_runs_one_worker_per_core_unless_told(make_ctx, monkeypatch, given, expected):
    import subprocess
    import sys

    from tools import cli

    calls = []
    monkeypatch.setattr(subprocess, "call", lambda argv, cwd=None: calls.append(argv) or 0)
    assert cli.main(["test", *given], make_ctx()) == 0
    assert calls == [[sys.executable, "-m", "pytest", *expected]]


def test_every_cluster_client_comes_from_the_one_factory_with_the_platforms_context(make_ctx, fake_ops):
    from tools.kube import KubeError

    platform = {"kubeconfig": "apiVersion: v1\n", "kubeContext": "eks-demo"}
    ctx = make_ctx(fake_ops(existing=["platform"], outputs={"platform": platform}))
    made = []
    ctx.kube_factory = lambda kubeconfig, context=None: made.append((kubeconfig, context)) or f"client-{len(made)}"
    assert ctx.kube() == ctx.kube() == "client-1", "one client per command"
    assert made == [("apiVersion: v1\n", "eks-demo")]

    refused = make_ctx(fake_ops(existing=["platform"], outputs={"platform": platform}))
    refused.kube_factory = lambda kubeconfig, context=None: (_ for _ in ()).throw(KubeError("no such context"))
    with pytest.raises(cli.CliError, match="cannot use the cluster: no such context"):
        refused.kube()


class _Cluster:
    """The platform's API server as `down` probes it (GET /version): no answer at all, or an HTTP status."""

    def __init__(self, status: int | None):
        self.status = status
        self.asked = []

    def request(self, method, path, **_):
        from tools.kube import Unreachable

        self.asked.append((method, path))
        if self.status is None:
            raise Unreachable("the Kubernetes API at https://127.0.0.1:6550 does not answer: ConnectionError")
        return SimpleNamespace(status_code=self.status)

    def close(self):
        pass


WITH_KUBECONFIG = PLATFORM_OUT | {"kubeconfig": "apiVersion: v1\n", "clusterName": "kubevela-dynamodb"}


def _down_with(make_ctx, fake_ops, factory, outputs=WITH_KUBECONFIG, argv=("down",)):
    ops = fake_ops(existing={"platform", "kro"}, outputs={"platform": outputs})
    ctx = make_ctx(ops, target=ScriptedTarget([]))
    ctx.kube_factory = factory
    return cli.main(list(argv), ctx), ops, ctx.text()


def test_down_does_not_start_while_the_cluster_does_not_answer(make_ctx, fake_ops):
    # The approach stacks' provider deletes nothing it cannot reach (deleteUnreachable): a
    # stopped cluster would keep its Applications and tables while the stacks forget them.
    cluster = _Cluster(status=None)
    code, ops, text = _down_with(make_ctx, fake_ops, lambda kubeconfig, context=None: cluster)
    assert code == 1 and ops.calls == [] and cluster.asked == [("GET", "/version")]
    assert "down: not started — the platform's cluster cannot be used (it does not answer: the Kubernetes API at " \
           "https://127.0.0.1:6550 does not answer: ConnectionError)." in text
    assert "Start the cluster (`k3d cluster start kubevela-dynamodb`), then rerun." in text
    assert "`down --ignore-unreachable` empties the stacks (add --skip-audit: the emulator went with the cluster)." in text

    code, ops, _ = _down_with(make_ctx, fake_ops, lambda kubeconfig, context=None: cluster,
                              argv=("down", "--ignore-unreachable"))
    assert code == 0 and ops.calls == [("down", "kro"), ("down", "platform")]


def test_credentials_that_fail_stop_down_too(make_ctx, fake_ops):
    # The provider cannot tell a failing exec plugin or a refused token from a cluster that is gone.
    def plugin_fails(kubeconfig, context=None):
        raise KubeError("exec plugin `aws eks get-token` failed (exit 255): the SSO session has expired")

    code, ops, text = _down_with(make_ctx, fake_ops, plugin_fails, WITH_KUBECONFIG | {"clusterMode": "existing"})
    assert code == 1 and ops.calls == []
    assert "(its credentials cannot be used: cannot use the cluster: exec plugin `aws eks get-token` failed" in text
    assert "Make the cluster reachable with the platform's kubeconfig and context, then rerun." in text

    code, ops, text = _down_with(make_ctx, fake_ops, lambda kubeconfig, context=None: _Cluster(status=401),
                                 WITH_KUBECONFIG | {"dynamodbMode": "aws"})
    assert code == 1 and ops.calls == []
    assert "(it does not accept the credentials (HTTP 401))" in text
    assert "`down --ignore-unreachable` empties the stacks; the audit then lists the tables left in AWS." in text


@pytest.mark.parametrize("status", [200, 403])
def test_down_goes_ahead_when_the_cluster_answers(make_ctx, fake_ops, status):
    # 403: the credentials are taken, only /version is not allowed to this user.
    cluster = _Cluster(status=status)
    code, ops, _ = _down_with(make_ctx, fake_ops, lambda kubeconfig, context=None: cluster, argv=("down", "kro"))
    assert code == 0 and ops.calls == [("down", "kro")] and cluster.asked == [("GET", "/version")]


def test_down_without_a_kubeconfig_output_does_not_probe(make_ctx, fake_ops):
    def never(kubeconfig, context=None):
        raise AssertionError("no kubeconfig output: nothing to probe")

    code, ops, _ = _down_with(make_ctx, fake_ops, never, PLATFORM_OUT, argv=("down", "kro"))
    assert code == 0 and ops.calls == [("down", "kro")]
