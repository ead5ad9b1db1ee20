"""`python -m tools.plan`: the offline plan users and CI run."""

import json

from tools import plan as plan_cli


def test_prints_json_plan_with_secrets_masked(capsys):
    assert plan_cli.main(["platform"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["stack"] == "platform"
    types = {r["type"] for r in printed["resources"]}
    assert {"command:local:Command", "kubernetes:helm.sh/v3:Release", "pulumi:providers:kubernetes"} <= types
    provider = next(r for r in printed["resources"] if r["type"] == "pulumi:providers:kubernetes")
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert printed["outputs"]["kubeconfig"] == "[secret]"


def test_two_runs_print_the_same_bytes(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert plan_cli.main(["platform", "--out", str(first)]) == 0
    assert plan_cli.main(["platform", "--out", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()


def test_overrides_apply(capsys):
    assert plan_cli.main(["platform", "--set", "dynamodbMode=aws"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert any(r["type"] == "aws:iam/user:User" for r in printed["resources"])


def test_bad_config_fails_with_the_key_and_no_traceback(capsys):
    assert plan_cli.main(["platform", "--set", "httpPort=http"]) == 1
    err = capsys.readouterr().err
    assert "config kubevela-dynamodb:httpPort: expected a whole number, got 'http'" in err
    assert "Traceback" not in err


def test_stack_config_skips_secure_values(tmp_path, monkeypatch):
    (tmp_path / "Pulumi.x.yaml").write_text(
        "config:\n  kubevela-dynamodb:a: plain\n  kubevela-dynamodb:b:\n    secure: AAAA\n  c: short\n"
    )
    monkeypatch.setattr(plan_cli, "STACK_CONFIG_DIR", tmp_path)
    assert plan_cli.stack_config("x") == {"kubevela-dynamodb:a": "plain", "kubevela-dynamodb:c": "short"}


def test_a_key_the_stack_does_not_read_is_refused_with_where_it_belongs(capsys):
    # A platform key given to an approach stack would otherwise change nothing, silently.
    assert plan_cli.main(["kro", "--set", "dynamodbMode=aws"]) == 1
    err = capsys.readouterr().err
    assert "stack 'kro' does not read kubevela-dynamodb:dynamodbMode (a platform key? give it with --set-platform)" in err
    assert plan_cli.main(["platform", "--set", "dynamodbMod=aws"]) == 1
    assert "stack 'platform' does not read kubevela-dynamodb:dynamodbMod" in capsys.readouterr().err
    assert plan_cli.main(["platform", "--set-platform", "dynamodbMode=aws"]) == 1
    assert "--set-platform is for an approach stack's plan" in capsys.readouterr().err


def test_platform_overrides_reach_the_approach_stacks_plan(capsys):
    assert plan_cli.main(["kro", "--set-platform", "dynamodbMode=aws", "--set", "appTimeoutMinutes=30"]) == 0
    printed = json.loads(capsys.readouterr().out)
    app = next(r for r in printed["resources"] if r["type"] == "kubernetes:core.oam.dev/v1beta1:Application")
    assert app["options"]["customTimeouts"]["create"] == "30m"
    # The kro Application reads AWS's endpoint: '' in aws mode, so no emulator endpoint in its env.
    assert "dynamodb-emulator" not in json.dumps(app["inputs"])


def test_cli_plan_passes_both_kinds_of_override(capsys):
    from tools import cli

    ctx = cli.Context()
    assert cli.main(["plan", "kro", "--set-platform", "dynamodbMode=aws"], ctx) == 0
    assert "dynamodb-emulator" not in capsys.readouterr().out
    assert cli.main(["plan", "kro", "--set", "dynamodbMode=aws"], ctx) == 1
    assert "--set-platform" in capsys.readouterr().err


def test_plans_skip_the_sdks_call_stack_capture_and_restore_it(fresh_plan_stack, monkeypatch):
    """Every registration would walk and read the whole call stack for the engine's error
    messages; the mock monitor ignores it. The SDK's function is back after the run."""
    import pulumi.runtime.resource as sdk_resource

    calls = []

    def counting():
        calls.append(1)
        return sdk_resource.source_pb2.StackTrace()

    monkeypatch.setattr(sdk_resource, "_get_stack_trace", counting)
    result = fresh_plan_stack("kratix")
    assert len(result.registrations) > 20
    assert calls == []
    assert sdk_resource._get_stack_trace is counting
