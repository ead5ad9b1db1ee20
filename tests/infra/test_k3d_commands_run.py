"""The k3d commands of the plan, run by /bin/sh against a fake k3d, the way pulumi-command runs them.

pulumi-command runs `create`, `update` (or `create` again when there is no `update`) and `delete`
under `/bin/sh -c` with the engine's environment, giving `update` and `delete` the previous
stdout in PULUMI_COMMAND_STDOUT; a `delete` runs the text stored in the state.
Ref: pulumi/pulumi-command@v1.2.1 provider/pkg/provider/local/{commandController.go,commandOutputs.go}.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

import fake_cli_tools
from components import k3d_cluster
from tools import toolchain
from tools.mock_harness import PlanResult
from tools.plan import plan

COMMAND = "command:local:Command"
CLUSTER = "kubevela-dynamodb"
# Where the commands run: no k3d anywhere on this PATH.
BARE_PATH = "/usr/bin:/bin"


@pytest.fixture
def tools(tmp_path, monkeypatch) -> Path:
    """A project `.tools/bin` in tmp_path holding the fake k3d; the plan's commands point at it."""
    bin_dir = fake_cli_tools.install(tmp_path / "checkout" / ".tools" / "bin", "k3d")
    monkeypatch.setattr(k3d_cluster, "TOOLS_BIN", bin_dir)
    return bin_dir


@pytest.fixture
def state(tmp_path) -> Path:
    return tmp_path / "fake-state"


def sh(command: str, state: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    # TMPDIR: the kubeconfig read's temporary directory stays under tmp_path too.
    environment = {"PATH": BARE_PATH, "HOME": str(tmp_path), "TMPDIR": str(tmp_path), "FAKE_TOOLS_DIR": str(state), **env}
    return subprocess.run(
        ["/bin/sh", "-c", command], env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


class Engine:
    """Just enough of pulumi-command's lifecycle: what runs on create, on a changed input, on delete."""

    def __init__(self, state: Path, tmp_path: Path) -> None:
        self.state, self.tmp_path = state, tmp_path
        self.stored: dict[str, tuple[dict, str]] = {}  # name -> (inputs, stdout)

    def apply(self, plan_result: PlanResult, names: list[str], **env: str) -> subprocess.CompletedProcess | None:
        """Create or update `names` in dependency order; stop at the first failure (and return it)."""
        for name in names:
            inputs = plan_result.find(COMMAND, name).inputs
            old = self.stored.get(name)
            if old is not None and old[0] == inputs:
                continue  # no diff, nothing runs
            command = inputs["create"] if old is None else inputs.get("update", inputs["create"])
            extra = {"PULUMI_COMMAND_STDOUT": old[1]} if old is not None and old[1] else {}
            done = sh(command, self.state, self.tmp_path, **env, **extra)
            if done.returncode != 0:
                return done
            # pulumi-command trims one trailing newline of stdout.
            self.stored[name] = (inputs, done.stdout.removesuffix("\n"))
        return None

    def delete(self, name: str, **env: str) -> subprocess.CompletedProcess:
        inputs, stdout = self.stored.pop(name)
        return sh(inputs["delete"], self.state, self.tmp_path, PULUMI_COMMAND_STDOUT=stdout, **env)


# The order their dependencies impose (asserted just below).
CLUSTER_COMMANDS = ["cluster-settings", "cluster-k3d", "cluster-kubeconfig"]


def test_commands_run_in_the_order_their_dependencies_give(tools):
    result = plan("platform")
    guard, cluster, kubeconfig = (result.find(COMMAND, n) for n in CLUSTER_COMMANDS)
    assert cluster.depends_on(COMMAND, guard.name)
    assert kubeconfig.depends_on(COMMAND, cluster.name)


# ─── LOG_LEVEL and friends must not reach the kubeconfig ─────────────────────


@pytest.mark.parametrize(
    "env",
    [{}, {"LOG_LEVEL": "debug"}, {"LOG_LEVEL": "trace"}, {"LOG_LEVEL": "DEBUG", "LOG_TIMESTAMPS": "1"},
     {"LOG_LEVEL": "trace", "LOG_COLORS": "false"}],
    ids=["default", "debug", "trace", "debug-timestamps", "trace-plain"],
)
def test_kubeconfig_stdout_is_only_the_kubeconfig_whatever_the_log_level(tools, state, tmp_path, env):
    engine = Engine(state, tmp_path)
    assert engine.apply(plan("platform"), CLUSTER_COMMANDS, **env) is None
    stdout = engine.stored["cluster-kubeconfig"][1]
    assert stdout == fake_cli_tools.KUBECONFIG.format(name=CLUSTER, port=6550).removesuffix("\n")
    config = yaml.safe_load(stdout)
    assert config["kind"] == "Config" and config["current-context"] == f"k3d-{CLUSTER}"
    assert list(tmp_path.glob("tmp.*")) == [], "the temporary kubeconfig directory must be gone"


def test_the_fake_reproduces_the_hazard_of_kubeconfig_get(tools, state, tmp_path):
    # Guards the test above: with the same fake, the plain `get` is polluted by a debug LOG_LEVEL.
    Engine(state, tmp_path).apply(plan("platform"), ["cluster-settings", "cluster-k3d"])
    done = sh(f"{tools}/k3d kubeconfig get {CLUSTER}", state, tmp_path, LOG_LEVEL="debug")
    assert done.returncode == 0
    assert "\x1b[37mDEBU\x1b[0m[0000] Getting kubeconfig" in done.stdout
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(done.stdout)


def test_kubeconfig_read_fails_with_nothing_on_stdout_when_the_cluster_is_missing(tools, state, tmp_path):
    done = sh(k3d_cluster.kubeconfig_read_command("nope"), state, tmp_path, LOG_LEVEL="trace")
    assert done.returncode != 0
    assert done.stdout == ""
    assert "failed to get cluster nope" in done.stderr


# ─── k3d from the project's .tools/bin, without the user's PATH ──────────────


def test_up_and_plain_destroy_find_the_k3d_the_cli_installed(tools, state, tmp_path):
    engine = Engine(state, tmp_path)
    assert engine.apply(plan("platform"), CLUSTER_COMMANDS) is None
    assert (state / "clusters" / CLUSTER).exists()
    # `pulumi destroy --stack platform` from a shell whose PATH has no k3d: the stored delete.
    done = engine.delete("cluster-k3d")
    assert done.returncode == 0, done.stderr
    assert not (state / "clusters" / CLUSTER).exists()
    assert f"k3d cluster delete {CLUSTER}" in fake_cli_tools.calls(state)


def test_the_tools_path_is_the_projects_and_the_same_on_every_run(monkeypatch):
    assert k3d_cluster.TOOLS_BIN == toolchain.TOOLS_BIN, "the CLI installs k3d where the commands look"
    first = plan("platform").find(COMMAND, "cluster-k3d").inputs
    monkeypatch.setenv("PATH", "/somewhere/else:/usr/bin:/bin")
    second = plan("platform").find(COMMAND, "cluster-k3d").inputs
    assert first == second, "a second run must not see a diff"
    assert first["delete"].startswith(f'PATH={toolchain.TOOLS_BIN}:"$PATH"; export PATH; ')
    assert "/somewhere/else" not in first["delete"] + first["create"]


def test_a_state_from_before_still_deletes_through_the_cli(tools, state, tmp_path):
    # A state written by an earlier version stored the bare delete. `make down` runs Pulumi with
    # the CLI's environment (tools_env: .tools/bin first), so that text finds k3d too.
    Engine(state, tmp_path).apply(plan("platform"), ["cluster-settings", "cluster-k3d"])
    old_delete = f"k3d cluster delete {CLUSTER}"
    cli_env = toolchain.tools_env({"PATH": BARE_PATH})
    assert cli_env["PATH"].startswith(str(toolchain.TOOLS_BIN))
    cli_env["PATH"] = cli_env["PATH"].replace(str(toolchain.TOOLS_BIN), str(tools), 1)
    done = sh(old_delete, state, tmp_path, PATH=cli_env["PATH"])
    assert done.returncode == 0, done.stderr
    assert not (state / "clusters" / CLUSTER).exists()


def test_image_import_finds_the_project_k3d_too(tools, state, tmp_path):
    fake_cli_tools.install(tmp_path / "docker-bin", "docker")
    engine = Engine(state, tmp_path)
    result = plan("platform")
    assert engine.apply(result, CLUSTER_COMMANDS) is None
    path = f"{tmp_path / 'docker-bin'}:{BARE_PATH}"  # docker on PATH, k3d only in .tools/bin
    assert engine.apply(result, ["session-api-image-build-import"], PATH=path) is None
    assert list((state / "imported" / CLUSTER).iterdir())


# ─── Only a real cluster setting change is refused ───────────────────────────


def test_a_changed_command_text_alone_goes_through(tools, state, tmp_path, monkeypatch):
    engine = Engine(state, tmp_path)
    assert engine.apply(plan("platform"), CLUSTER_COMMANDS) is None
    # The checkout moved: every k3d command's text changes, no cluster setting does.
    moved = fake_cli_tools.install(tmp_path / "moved" / ".tools" / "bin", "k3d")
    monkeypatch.setattr(k3d_cluster, "TOOLS_BIN", moved)
    second = plan("platform")
    assert second.find(COMMAND, "cluster-k3d").inputs != engine.stored["cluster-k3d"][0]
    assert engine.apply(second, CLUSTER_COMMANDS) is None
    assert [c for c in fake_cli_tools.calls(state) if " create " in c or " delete " in c] == [
        f"k3d cluster create {CLUSTER} --image {k3d_cluster.versions.K3S_IMAGE} --agents 0 "
        "--api-port 127.0.0.1:6550 --port 8081:80@loadbalancer --kubeconfig-update-default=false "
        "--kubeconfig-switch-context=false --wait --timeout 300s"
    ], "the cluster is created once, adopted on the rerun, never deleted"
    # The new text is stored: the next delete uses the moved checkout's k3d.
    assert engine.stored["cluster-k3d"][0]["delete"].startswith(f'PATH={moved}:"$PATH"')


def test_a_state_from_before_is_adopted_not_refused(tools, state, tmp_path):
    # What the previous version stored: bare k3d commands and an `update` that always refused.
    engine = Engine(state, tmp_path)
    result = plan("platform")
    assert engine.apply(result, ["cluster-settings", "cluster-k3d"]) is None
    engine.stored["cluster-k3d"] = (
        {
            "create": f"k3d cluster list {CLUSTER} >/dev/null 2>&1 || k3d cluster create {CLUSTER} --wait",
            "update": "echo 'settings changed' >&2; exit 1",
            "delete": f"k3d cluster delete {CLUSTER}",
        },
        "",
    )
    assert engine.apply(result, CLUSTER_COMMANDS) is None
    assert engine.stored["cluster-k3d"][0]["delete"].endswith(f"k3d cluster delete {CLUSTER}")
    assert "PATH=" in engine.stored["cluster-k3d"][0]["delete"]


@pytest.mark.parametrize(
    "config, expected",
    [
        ({"agents": "2"}, "agents (0 -> 2)"),
        ({"apiPort": "7443"}, "apiPort (6550 -> 7443)"),
        ({"httpPort": "9090"}, "httpPort (8081 -> 9090)"),
        ({"clusterName": "other"}, f"name ({CLUSTER} -> other)"),
    ],
)
def test_a_real_setting_change_is_refused_naming_it(tools, state, tmp_path, config, expected):
    engine = Engine(state, tmp_path)
    assert engine.apply(plan("platform"), CLUSTER_COMMANDS) is None
    before = fake_cli_tools.calls(state)
    failed = engine.apply(plan("platform", config), CLUSTER_COMMANDS)
    assert failed is not None and failed.returncode != 0
    assert f"changed settings: {expected}." in failed.stderr
    assert "make down" in failed.stderr and "make up" in failed.stderr
    assert fake_cli_tools.calls(state) == before, "nothing may touch the cluster after a refusal"
    assert failed.stdout == ""


def test_a_changed_k3s_image_is_refused_too(state, tmp_path):
    old = settings_for("rancher/k3s:v1.30.0-k3s1")
    new = settings_for("rancher/k3s:v1.31.0-k3s1")
    recorded = sh(k3d_cluster.settings_record_command(old), state, tmp_path).stdout.removesuffix("\n")
    failed = sh(k3d_cluster.settings_check_command(new), state, tmp_path, PULUMI_COMMAND_STDOUT=recorded)
    assert failed.returncode != 0
    assert "k3sImage (rancher/k3s:v1.30.0-k3s1 -> rancher/k3s:v1.31.0-k3s1)" in failed.stderr


def test_the_guard_passes_and_records_again_when_nothing_changed(state, tmp_path):
    settings = settings_for("rancher/k3s:v1.31.0-k3s1")
    recorded = sh(k3d_cluster.settings_record_command(settings), state, tmp_path).stdout
    assert recorded.splitlines() == [f"{k}={v}" for k, v in settings.items()]
    again = sh(k3d_cluster.settings_check_command(settings), state, tmp_path, PULUMI_COMMAND_STDOUT=recorded)
    assert again.returncode == 0 and again.stdout == recorded
    # A record without a setting (one added later) does not count as a change.
    partial = "\n".join(line for line in recorded.splitlines() if not line.startswith("httpPort="))
    assert sh(k3d_cluster.settings_check_command(settings), state, tmp_path, PULUMI_COMMAND_STDOUT=partial).returncode == 0


def settings_for(image: str) -> dict[str, str]:
    return k3d_cluster.K3dClusterArgs(name=CLUSTER, k3s_image=image).settings()

