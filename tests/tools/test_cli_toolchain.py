"""Prerequisite checks and the pinned installs, with a fake runner and a fake downloader (nothing is downloaded)."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from tools import toolchain
from tools.toolchain import ToolError


def runner(outputs):
    """A fake `run_program`: "program subcommand" or program -> (code, output); missing programs exit 127."""
    calls = []

    def run(argv, env=None):
        calls.append(argv)
        result = outputs.get(" ".join(argv[:2]), outputs.get(argv[0]))
        if callable(result):
            return result()
        return result if result is not None else (127, f"{argv[0]}: not found")

    run.calls = calls
    return run


GOOD = {
    "docker": (0, "27.3.1\n"),
    "docker buildx": (0, "github.com/docker/buildx v0.17.1 257815a\n"),
    "k3d": (0, "k3d version v5.9.0\nk3s version v1.31.5-k3s1 (default)\n"),
    "pulumi": (0, "v3.272.0\n"),
}


def test_all_present_at_the_pinned_versions():
    checks = toolchain.check_all(runner(GOOD), env={})
    assert [(c.name, c.ok, c.found) for c in checks][1:] == [
        ("docker", True, "27.3.1"),
        ("buildx", True, "v0.17.1"),
        ("k3d", True, "v5.9.0"),
        ("pulumi", True, "3.272.0"),
    ]


ENGINE_DOWN = (1, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
NO_ACCESS = (1, "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock")


def test_docker_missing_engine_down_and_no_access_have_different_hints():
    missing = toolchain.check_docker(runner({}))
    assert not missing.ok and "Docker is not installed" in missing.hint and "https://docs.docker.com/get-docker/" in missing.hint
    down = toolchain.check_docker(runner({"docker": ENGINE_DOWN}))
    assert not down.ok and down.found == "engine down"
    assert down.hint.startswith("Docker is installed but its engine is not running: start Docker Desktop")
    assert "sudo systemctl start docker" in down.hint
    denied = toolchain.check_docker(runner({"docker": NO_ACCESS}))
    assert not denied.ok and "usermod -aG docker" in denied.hint


NO_BUILDX = (1, "docker: 'buildx' is not a docker command.\nSee 'docker --help'")


def test_a_missing_buildx_plugin_is_said_before_anything_is_downloaded(tmp_path):
    run = runner({"docker": GOOD["docker"], "docker buildx": NO_BUILDX})
    lines = []
    with pytest.raises(ToolError) as raised:
        toolchain.ensure(run, _no_downloads, ("linux", "amd64"), tmp_path, lines.append)
    message = str(raised.value)
    assert message.startswith("Docker's buildx plugin is missing") and "\n" not in message
    assert "docker-buildx-plugin" in message
    assert [argv[:2] for argv in run.calls] == [["docker", "version"], ["docker", "buildx"]]
    assert lines == [] and list(tmp_path.iterdir()) == []
    check = toolchain.check_buildx(run)
    assert not check.ok and check.line().startswith("  MISSING  buildx: not installed; Docker's buildx plugin")


def _no_downloads(url):
    raise AssertionError(f"downloaded {url}")


@pytest.mark.parametrize(
    "docker, first_words",
    [(None, "Docker is not installed"), (ENGINE_DOWN, "Docker is installed but its engine is not running"),
     (NO_ACCESS, "Docker is installed but this user may not use its engine")],
)
def test_docker_is_checked_before_k3d_and_pulumi_and_nothing_is_downloaded(tmp_path, docker, first_words):
    # k3d and Pulumi are missing too: the message is still only Docker's, and nothing is installed.
    run = runner({} if docker is None else {"docker": docker})
    lines = []
    with pytest.raises(ToolError) as raised:
        toolchain.ensure(run, _no_downloads, ("linux", "amd64"), tmp_path, lines.append)
    message = str(raised.value)
    assert message.startswith(first_words) and "\n" not in message
    assert [argv[0] for argv in run.calls] == ["docker"]
    assert lines == [] and list(tmp_path.iterdir()) == []


def test_every_prerequisite_line_is_one_line_with_its_fix():
    bad = toolchain.check_all(runner({"docker": ENGINE_DOWN, "pulumi": (0, "v3.100.0\n")}), env={})
    for check in bad[1:]:
        line = check.line()
        assert "\n" not in line and not check.ok
        assert check.hint in line, line
    assert "k3d: not installed; `make tools` installs k3d v5.9.0" in bad[3].line()
    assert "pulumi: found 3.100.0, wanted 3.272.0; `make tools` installs Pulumi 3.272.0" in bad[4].line()
    good = toolchain.check_all(runner(GOOD), env={})
    assert [c.line() for c in good[1:]] == [
        "  ok       docker: 27.3.1", "  ok       buildx: v0.17.1", "  ok       k3d: v5.9.0", "  ok       pulumi: 3.272.0"
    ]


def test_wrong_versions_are_reported_with_both_versions():
    checks = toolchain.check_all(runner({**GOOD, "k3d": (0, "k3d version v5.6.0\n"), "pulumi": (0, "v3.100.0\n")}), env={})
    k3d, pulumi = checks[3], checks[4]
    assert (k3d.ok, k3d.found, k3d.wanted) == (False, "v5.6.0", "v5.9.0")
    assert (pulumi.ok, pulumi.found, pulumi.wanted) == (False, "3.100.0", "3.272.0")
    assert "WRONG" in k3d.line() and "installs k3d v5.9.0 into .tools/bin" in k3d.line()


def test_old_python_is_refused():
    assert not toolchain.check_python((3, 10, 12)).ok
    assert toolchain.check_python((3, 11, 0)).ok


@pytest.mark.parametrize(
    "system,machine,expected",
    [("Linux", "x86_64", ("linux", "amd64")), ("Linux", "aarch64", ("linux", "arm64")), ("Darwin", "arm64", ("darwin", "arm64"))],
)
def test_host_platform(system, machine, expected):
    assert toolchain.host_platform(system, machine) == expected


def test_unsupported_platform_is_named():
    with pytest.raises(ToolError, match="windows/amd64"):
        toolchain.host_platform("Windows", "AMD64")


def test_every_supported_platform_has_a_pinned_k3d_checksum():
    assert set(toolchain.K3D_SHA256) == {(o, a) for o in ("linux", "darwin") for a in ("amd64", "arm64")}
    assert all(len(v) == 64 for v in toolchain.K3D_SHA256.values())


def test_k3d_install_verifies_the_pinned_sha256(tmp_path, monkeypatch):
    payload = b"#!/bin/sh\necho k3d version v5.9.0\n"
    monkeypatch.setitem(toolchain.K3D_SHA256, ("linux", "amd64"), hashlib.sha256(payload).hexdigest())
    fetched = []

    def fetch(url):
        fetched.append(url)
        return payload

    message = toolchain.install_k3d(fetch, ("linux", "amd64"), tmp_path)
    assert fetched == ["https://github.com/k3d-io/k3d/releases/download/v5.9.0/k3d-linux-amd64"]
    assert (tmp_path / "k3d").read_bytes() == payload and (tmp_path / "k3d").stat().st_mode & 0o111
    assert "sha256 verified" in message


def test_tampered_k3d_is_not_installed(tmp_path):
    with pytest.raises(ToolError, match="does not match"):
        toolchain.install_k3d(lambda url: b"tampered", ("linux", "amd64"), tmp_path)
    assert not (tmp_path / "k3d").exists()


def _pulumi_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, body in (("pulumi/pulumi", b"pulumi"), ("pulumi/pulumi-language-python", b"py"), ("../evil", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def test_pulumi_install_checks_the_release_checksum_file(tmp_path):
    archive = _pulumi_archive()
    name = "pulumi-v3.272.0-darwin-arm64.tar.gz"
    files = {
        "https://get.pulumi.com/releases/sdk/pulumi-3.272.0-checksums.txt":
            f"{'0' * 64}  pulumi-v3.272.0-linux-x64.tar.gz\n{hashlib.sha256(archive).hexdigest()}  {name}\n".encode(),
        f"https://get.pulumi.com/releases/sdk/{name}": archive,
    }
    message = toolchain.install_pulumi(files.__getitem__, ("darwin", "arm64"), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pulumi", "pulumi-language-python"]
    assert "checksums.txt of the same release" in message
    assert not (tmp_path.parent / "evil").exists()


def test_pulumi_archive_not_in_checksum_file_is_refused(tmp_path):
    with pytest.raises(ToolError, match="is not listed"):
        toolchain.install_pulumi(lambda url: b"", ("linux", "amd64"), tmp_path)


def test_ensure_installs_what_is_missing_and_reports(tmp_path, monkeypatch):
    installed = {}
    monkeypatch.setattr(toolchain, "install_k3d", lambda fetch, plat, bin_dir: installed.setdefault("k3d", "k3d done"))
    monkeypatch.setattr(toolchain, "install_pulumi", lambda fetch, plat, bin_dir: installed.setdefault("pulumi", "pulumi done"))
    state = {"k3d": (127, ""), "pulumi": (0, "v3.1.0\n")}
    outputs = {**GOOD, "k3d": lambda: state["k3d"], "pulumi": lambda: state["pulumi"]}

    def fake_fetch(url):
        raise AssertionError("no downloads in tests")

    lines = []
    run = runner(outputs)

    def after_install(*_):
        state["k3d"] = GOOD["k3d"]
        state["pulumi"] = GOOD["pulumi"]

    monkeypatch.setattr(toolchain, "install_pulumi", lambda fetch, plat, bin_dir: (after_install(), "pulumi done")[1])
    checks = toolchain.ensure(run, fake_fetch, ("linux", "amd64"), tmp_path, lines.append)
    assert all(c.ok for c in checks)
    assert f"k3d: not installed; installing the pinned v5.9.0 into {tmp_path}" in lines
    assert f"pulumi: found 3.1.0; installing the pinned 3.272.0 into {tmp_path}" in lines and "  pulumi done" in lines


def test_ensure_fails_naming_what_is_still_wrong_after_installing(tmp_path, monkeypatch):
    # The install "worked" but k3d still answers with another version (say, an older one earlier on PATH).
    monkeypatch.setattr(toolchain, "install_k3d", lambda fetch, plat, bin_dir: "k3d done")
    lines = []
    with pytest.raises(ToolError) as raised:
        toolchain.ensure(runner({**GOOD, "k3d": (0, "k3d version v5.6.0\n")}), _no_downloads, ("linux", "amd64"),
                         tmp_path, lines.append)
    assert str(raised.value) == "k3d: `make tools` installs k3d v5.9.0 into .tools/bin (or see https://k3d.io)"
    assert "  WRONG    k3d: found v5.6.0, wanted v5.9.0; `make tools` installs k3d v5.9.0 into .tools/bin (or see https://k3d.io)" in lines


def test_checksum_file_parsing():
    text = "abc  x\n" + "a" * 64 + "  _dist/k3d-linux-amd64\n" + "b" * 64 + " *other\n"
    assert toolchain.checksum_from_file(text, "k3d-linux-amd64") == "a" * 64
    assert toolchain.checksum_from_file(text, "other") == "b" * 64
    assert toolchain.checksum_from_file(text, "missing") is None


def test_a_failed_download_is_a_tool_error_naming_the_url(tmp_path):
    import urllib.error

    def offline(url):
        raise urllib.error.URLError("Temporary failure in name resolution")

    with pytest.raises(ToolError, match=r"could not download https://get\.pulumi\.com/releases/sdk/pulumi-3\.272\.0-checksums\.txt"):
        toolchain.install_pulumi(offline, ("linux", "amd64"), tmp_path)
    with pytest.raises(ToolError, match=r"could not download https://github\.com/k3d-io/k3d/releases/download/v5\.9\.0/k3d-linux-arm64 \(URLError"):
        toolchain.install_k3d(offline, ("linux", "arm64"), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_make_up_with_the_docker_engine_down_says_so_first_and_only(make_ctx, monkeypatch):
    from tools import cli

    real_ensure = toolchain.ensure
    run = runner({"docker": ENGINE_DOWN})  # k3d and Pulumi are missing too
    monkeypatch.setattr(toolchain, "ensure", lambda say: real_ensure(run, _no_downloads, ("linux", "amd64"), say=say))
    ctx = make_ctx()
    ctx.ensure_tools = ctx._ensure_tools
    assert cli.main(["up"], ctx) == 1
    assert ctx.text().splitlines() == [
        "error: Docker is installed but its engine is not running: start Docker Desktop, or `sudo systemctl start docker`"
    ]


def test_cli_reports_an_offline_install_as_a_message(make_ctx, monkeypatch):
    from tools import cli

    def ensure(say):
        toolchain._fetch(lambda url: (_ for _ in ()).throw(TimeoutError("timed out")), "https://example.invalid/x")

    monkeypatch.setattr(toolchain, "ensure", ensure)
    ctx = make_ctx()
    ctx.ensure_tools = ctx._ensure_tools
    assert cli.main(["tools"], ctx) == 1
    assert ctx.text().startswith("error: could not download https://example.invalid/x (TimeoutError: timed out)")
