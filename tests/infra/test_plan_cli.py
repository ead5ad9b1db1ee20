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
