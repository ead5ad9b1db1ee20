"""The real Automation API path (tools.orchestrate.AutomationOps) against a scripted `pulumi` executable."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from tools import cli, orchestrate, toolchain
from tools.orchestrate import AutomationOps, EventSink, Orchestrator, Progress, StackOpsError, StackRun
from tools.state import Measurements

# Answers like Pulumi 3.272.0 does: `stack ls --json` from the file backend with
# PULUMI_FULLY_QUALIFY_STACK_NAMES set, `stack output` failing on a wrong passphrase.
FAKE_PULUMI = """#!/bin/sh
case "$*" in
  *version*) echo "v3.272.0" ;;
  *"stack ls"*) echo '[{"name": "organization/kubevela-dynamodb/platform", "current": false}]' ;;
  *"stack select"*) exit 0 ;;
  *"stack output"*) echo "error: constructing secrets manager of type \\"passphrase\\": incorrect passphrase, please set PULUMI_CONFIG_PASSPHRASE to the correct passphrase" >&2; exit 255 ;;
  *) echo "unexpected: $*" >&2; exit 3 ;;
esac
"""


def install_pulumi(tmp_path: Path, script: str) -> Path:
    """A Pulumi root (`<root>/bin/pulumi`, as AutomationOps' pulumi_root takes it) whose `pulumi` runs `script`."""
    root = tmp_path / "pulumi-root"
    (root / "bin").mkdir(parents=True)
    executable = root / "bin" / "pulumi"
    executable.write_text(script)
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)
    return root


@pytest.fixture
def pulumi_root(tmp_path):
    return install_pulumi(tmp_path, FAKE_PULUMI)


def test_stack_names_match_with_or_without_the_organization_prefix(pulumi_root, tmp_path):
    ops = AutomationOps(tmp_path, {"PATH": os.environ.get("PATH", "")}, pulumi_root)
    assert ops.exists("platform") is True
    assert ops.exists("kro") is False


def test_a_pulumi_error_reading_outputs_is_a_message_with_the_fix(pulumi_root, tmp_path):
    ops = AutomationOps(tmp_path, {"PATH": os.environ.get("PATH", "")}, pulumi_root)
    with pytest.raises(StackOpsError) as error:
        ops.outputs("platform")
    text = str(error.value)
    assert "cannot read the outputs of 'platform'" in text and "incorrect passphrase" in text
    assert "hint: the stack's encryption salt (`encryptionsalt:` in stacks/Pulumi.<stack>.yaml)" in text


def test_cli_turns_a_stack_read_error_into_one_line_not_a_traceback(make_ctx, pulumi_root, tmp_path):
    ctx = make_ctx()
    ctx.ops_factory = lambda: AutomationOps(tmp_path, {"PATH": os.environ.get("PATH", "")}, pulumi_root)
    assert cli.main(["status"], ctx) == 1
    assert ctx.text().startswith("error: cannot read the outputs of 'platform'")


def test_no_pulumi_cli_at_all_says_how_to_get_one(make_ctx, monkeypatch, tmp_path):
    """Commands that only read stacks (smoke, status, report) run without `make tools` first."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(toolchain, "TOOLS_BIN", tmp_path / "no-tools" / "bin")
    monkeypatch.setattr(cli, "pulumi_env", lambda: ({"PATH": str(empty)}, []))
    ctx = make_ctx()
    ctx.ops_factory = ctx._automation_ops
    for command in (["smoke"], ["status"], ["audit"]):
        assert cli.main(command, ctx) == 1
        assert "`make tools` installs the pinned version (3.272.0) into .tools/bin" in ctx.text()


def _event(op, type_="kubernetes:core/v1:ConfigMap", diagnostic=None):
    meta = SimpleNamespace(type=type_, urn=f"urn:pulumi:s::p::{type_}::x", op=op)
    return SimpleNamespace(resource_pre_event=None, res_outputs_event=SimpleNamespace(metadata=meta),
                           diagnostic_event=diagnostic)


def test_only_changed_resources_are_counted_and_diagnostics_lose_colour_tags():
    run = StackRun("kro", "up")
    sink = EventSink(run, Progress(io.StringIO()))
    for op in ("same", "create", "update", "same"):
        sink(_event(op))
    sink(SimpleNamespace(resource_pre_event=None, res_outputs_event=None,
                         diagnostic_event=SimpleNamespace(severity="error", message="<{%reset%}>boom<{%reset%}>\n")))
    assert run.done_steps == 2
    assert run.errors == ["boom"]


def test_a_failed_stack_prints_the_hint_for_a_known_error(tmp_path):
    class Ops:
        def up(self, stack, on_output, on_event):
            raise RuntimeError("error: incorrect passphrase, please set PULUMI_CONFIG_PASSPHRASE")

    out = io.StringIO()
    orch = Orchestrator(Ops(), Progress(out), Measurements(tmp_path / "m.json"), tmp_path / "logs")
    [run] = orch.up([], include_platform=True)
    assert not run.ok
    assert "platform     hint: the stack's encryption salt" in out.getvalue()
    assert json.loads((tmp_path / "m.json").read_text())["platform"]["up"]["ok"] is False


def test_hints_are_only_given_for_known_errors():
    assert orchestrate.hint_for("error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE") is not None
    assert orchestrate.hint_for("error: resource x failed") is None
