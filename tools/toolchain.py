"""Prerequisites: check what is there, install the pinned k3d and Pulumi CLI when they are not.

Nothing here touches the user's system: missing or wrong-version tools are
installed into the project's `.tools/bin` (git-ignored) from their official
release downloads, checksum-verified, and put first on PATH for the commands
this CLI runs. Docker cannot be installed that way; it is only checked.

Every outside effect goes through two small seams so tests can fake them:
`Runner` (run a program, return its output) and `Downloader` (fetch a URL).
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from components import versions
from components.project_paths import TOOLS_BIN

K3D_VERSION = versions.K3D_VERSION  # "v5.9.0"
PULUMI_VERSION = versions.PULUMI_CLI_VERSION  # "3.272.0"
MIN_PYTHON = (3, 11)

K3D_URL = "https://github.com/k3d-io/k3d/releases/download/{version}/k3d-{os}-{arch}"
K3D_CHECKSUMS_URL = "https://github.com/k3d-io/k3d/releases/download/{version}/checksums.txt"
# sha256 of the k3d v5.9.0 release binaries. Confirmed by several independent
# public pins of these exact artifacts (packaging scripts, Bazel modules, an AUR
# PKGBUILD for linux amd64/arm64), all agreeing. A download whose hash differs
# is refused.
K3D_SHA256 = {
    ("linux", "amd64"): "06d8f25bc3a971c4eb29e0ff08429b180402db0f4dec838c9eac427e296800a0",
    ("linux", "arm64"): "03cde5cf23e6e8e67de5a039ecf26e5b85aca82fba3e5d13dadf904cd218a250",
    ("darwin", "amd64"): "b4aabc37534f95b9c764e7823f2df923f50d57600837aa60a06266cce47db732",
    ("darwin", "arm64"): "fe106541d5d0a3f18debcd4d432a16f8c0ce3e6ddc06f8fbb6f696a122313e00",
}

# Pulumi names its archives `pulumi-v<version>-<os>-<x64|arm64>.tar.gz` and
# publishes `pulumi-<version>-checksums.txt` ("<sha256>  <file>" lines, no `v`
# in that name) beside them on get.pulumi.com (as pulumi/actions does).
PULUMI_URL = "https://get.pulumi.com/releases/sdk/pulumi-v{version}-{os}-{arch}.tar.gz"
PULUMI_CHECKSUMS_URL = "https://get.pulumi.com/releases/sdk/pulumi-{version}-checksums.txt"
# No public source pinning the 3.272.0 archives' sha256 could be found, so these
# are verified against the checksum file of the same release (see docs/prerequisites.md).
PULUMI_SHA256: dict[tuple[str, str], str] = {}

_PULUMI_ARCH = {"amd64": "x64", "arm64": "arm64"}


class ToolError(RuntimeError):
    """A prerequisite is missing or unusable; the message says what to do."""


class Runner(Protocol):
    def __call__(self, argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]: ...


Downloader = Callable[[str], bytes]


def run_program(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `argv`; (exit code, stdout+stderr). A missing program is exit code 127."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    except FileNotFoundError:
        return 127, f"{argv[0]}: not found"
    except subprocess.TimeoutExpired:
        return 124, f"{' '.join(argv)} did not answer within 60 s"
    return done.returncode, (done.stdout or "") + (done.stderr or "")


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - fixed https URLs above
        return response.read()


def _fetch(fetch: Downloader, url: str) -> bytes:
    """`fetch(url)`; a network or HTTP failure becomes a ToolError naming the URL and the way around it."""
    try:
        return fetch(url)
    except (OSError, ValueError) as error:  # URLError/HTTPError/timeouts are OSErrors
        raise ToolError(
            f"could not download {url} ({error.__class__.__name__}: {error}); check the network or proxy "
            "(HTTPS_PROXY), or install that version yourself and put it on PATH"
        ) from None


def host_platform(system: str | None = None, machine: str | None = None) -> tuple[str, str]:
    """(`linux`|`darwin`, `amd64`|`arm64`) of this machine, or a ToolError naming what is unsupported."""
    system = (system or platform.system()).lower()
    machine = (machine or platform.machine()).lower()
    os_name = {"linux": "linux", "darwin": "darwin"}.get(system)
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)
    if not os_name or not arch:
        raise ToolError(
            f"no pinned k3d/Pulumi downloads for {system}/{machine}; supported: linux and macOS on amd64 or arm64 "
            "(on Windows, use WSL2)"
        )
    return os_name, arch


def tools_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment whose PATH finds the project-local tools first."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join([str(TOOLS_BIN), env.get("PATH", "")])
    return env


# ─── version parsing ─────────────────────────────────────────────────────────

def parse_k3d_version(output: str) -> str | None:
    """`k3d version` prints `k3d version v5.9.0` (then the k3s default)."""
    match = re.search(r"k3d version (v\d+\.\d+\.\d+\S*)", output)
    return match.group(1) if match else None


def parse_pulumi_version(output: str) -> str | None:
    """`pulumi version` prints `v3.272.0`."""
    match = re.search(r"^v?(\d+\.\d+\.\d+\S*)\s*$", output.strip(), re.MULTILINE)
    return match.group(1) if match else None


def parse_docker_version(output: str) -> str | None:
    match = re.search(r"(\d+\.\d+\.\d+\S*)", output)
    return match.group(1) if match else None


# ─── checks ──────────────────────────────────────────────────────────────────

@dataclass
class Check:
    name: str
    ok: bool
    found: str
    wanted: str
    hint: str = ""
    installable: bool = False
    """Whether `ensure` can install the pinned version into .tools/bin."""

    def line(self) -> str:
        """One line: what was found and, when it is not right, the fix."""
        if self.ok:
            return f"  ok       {self.name}: {self.found}"
        mark = "MISSING" if self.found == "not found" else "WRONG  "
        found = "not installed" if self.found == "not found" else f"found {self.found}, wanted {self.wanted}"
        return f"  {mark}  {self.name}: {found}; {self.hint}"


def check_python(version_info: tuple[int, ...] | None = None) -> Check:
    info = tuple(version_info or sys.version_info[:3])
    found = ".".join(str(p) for p in info[:3])
    wanted = ".".join(map(str, MIN_PYTHON))
    return Check(
        "python",
        info[:2] >= MIN_PYTHON,
        found,
        f">= {wanted}",
        f"install Python {wanted}+ with venv (https://www.python.org/downloads/ or your package manager), "
        f"then run make PYTHON=python{wanted} ...",
    )


DOCKER_MISSING = "Docker is not installed: install Docker Desktop or Docker Engine (https://docs.docker.com/get-docker/)"
DOCKER_DOWN = "Docker is installed but its engine is not running: start Docker Desktop, or `sudo systemctl start docker`"
DOCKER_DENIED = (
    "Docker is installed but this user may not use its engine: "
    "`sudo usermod -aG docker $USER`, then log out and in again"
)


def check_docker(run: Runner = run_program) -> Check:
    """Installed, then answering: k3d runs the cluster's nodes as Docker containers."""
    # `docker version` prints the engine's version only when the engine answers.
    # Ref: docker/cli:docs/reference/commandline/version.md (`--format '{{.Server.Version}}'`)
    code, out = run(["docker", "version", "--format", "{{.Server.Version}}"])
    if code == 127:
        return Check("docker", False, "not found", "a running engine", DOCKER_MISSING)
    if code != 0:
        # The client reports both cases on stderr: "permission denied while trying to
        # connect to the Docker daemon socket" or "Cannot connect to the Docker daemon ...
        # Is the docker daemon running?".
        denied = "permission denied" in out.lower()
        return Check(
            "docker", False, "no access" if denied else "engine down", "a running engine",
            DOCKER_DENIED if denied else DOCKER_DOWN,
        )
    return Check("docker", True, parse_docker_version(out) or out.strip()[:16], "a running engine")


# Debian's docker-buildx is in trixie (13) and sid, not bookworm; Ubuntu's is in universe for
# jammy (22.04, -updates/-security) and later (questing's and resolute's depend on docker.io)
# (packages.debian.org/docker-buildx, packages.ubuntu.com/source/jammy/docker-buildx).
BUILDX_MISSING = (
    "Docker's buildx plugin is missing (the images are built with `docker buildx build --load`): install Docker "
    "Desktop, or the docker-buildx-plugin package from Docker's repository (Debian 13 and Ubuntu 22.04 and later "
    "package it as docker-buildx; Debian 12 has none)"
)


def check_buildx(run: Runner = run_program) -> Check:
    """The image builds need buildx (components/session_api_image.py `build_command`).

    Without the plugin, Docker answers "'buildx' is not a docker command" only when
    the first image is built, minutes into `up`; asking here says it first. The
    plugin is client-side: `docker buildx version` answers with the engine down too.
    """
    code, out = run(["docker", "buildx", "version"])
    if code != 0:
        return Check("buildx", False, "not found", "the docker buildx plugin", BUILDX_MISSING)
    # e.g. "github.com/docker/buildx v0.17.1 257815a"
    version = re.search(r"\bv\d+\.\d+\.\d+\S*", out)
    return Check("buildx", True, version.group(0) if version else "installed", "the docker buildx plugin")


def check_k3d(run: Runner = run_program, env: dict[str, str] | None = None) -> Check:
    code, out = run(["k3d", "version"], env)
    found = parse_k3d_version(out) if code == 0 else None
    return Check(
        "k3d",
        found == K3D_VERSION,
        found or "not found",
        K3D_VERSION,
        f"`make tools` installs k3d {K3D_VERSION} into .tools/bin (or see https://k3d.io)",
        installable=True,
    )


def check_pulumi(run: Runner = run_program, env: dict[str, str] | None = None) -> Check:
    code, out = run(["pulumi", "version"], env)
    found = parse_pulumi_version(out) if code == 0 else None
    return Check(
        "pulumi",
        found == PULUMI_VERSION,
        found or "not found",
        PULUMI_VERSION,
        f"`make tools` installs Pulumi {PULUMI_VERSION} into .tools/bin "
        "(or see https://www.pulumi.com/docs/install/)",
        installable=True,
    )


def check_all(run: Runner = run_program, env: dict[str, str] | None = None) -> list[Check]:
    env = tools_env() if env is None else env
    return [check_python(), check_docker(run), check_buildx(run), check_k3d(run, env), check_pulumi(run, env)]


# ─── installs ────────────────────────────────────────────────────────────────

def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checksum_from_file(text: str, filename: str) -> str | None:
    """The sha256 for `filename` in a `sha256sum`-style file (`<hex>  <path>`; paths may carry a directory)."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and re.fullmatch(r"[0-9a-fA-F]{64}", parts[0]):
            name = parts[-1].lstrip("*")
            if name == filename or name.rsplit("/", 1)[-1] == filename:
                return parts[0].lower()
    return None


def _verified(data: bytes, expected: str, what: str, source: str) -> bytes:
    actual = sha256_hex(data)
    if actual != expected:
        raise ToolError(f"{what}: sha256 {actual} does not match {expected} ({source}); not installed")
    return data


def install_k3d(fetch: Downloader = download, plat: tuple[str, str] | None = None, bin_dir: Path = TOOLS_BIN) -> str:
    os_name, arch = plat or host_platform()
    url = K3D_URL.format(version=K3D_VERSION, os=os_name, arch=arch)
    expected = K3D_SHA256.get((os_name, arch))
    source = "pinned in tools/toolchain.py"
    if expected is None:  # only reachable if a platform is added without a pin
        checksums = _fetch(fetch, K3D_CHECKSUMS_URL.format(version=K3D_VERSION)).decode()
        expected = checksum_from_file(checksums, f"k3d-{os_name}-{arch}")
        source = "the release's checksums.txt"
        if not expected:
            raise ToolError(f"k3d-{os_name}-{arch} is not listed in the release's checksums.txt")
    data = _verified(_fetch(fetch, url), expected, f"k3d {K3D_VERSION} {os_name}/{arch}", source)
    bin_dir.mkdir(parents=True, exist_ok=True)
    target = bin_dir / "k3d"
    tmp = target.with_suffix(".partial")
    tmp.write_bytes(data)
    tmp.chmod(0o755)
    tmp.replace(target)
    return f"installed k3d {K3D_VERSION} ({os_name}/{arch}) into {target}, sha256 verified against the value {source}"


def install_pulumi(fetch: Downloader = download, plat: tuple[str, str] | None = None, bin_dir: Path = TOOLS_BIN) -> str:
    os_name, arch = plat or host_platform()
    archive = f"pulumi-v{PULUMI_VERSION}-{os_name}-{_PULUMI_ARCH[arch]}.tar.gz"
    expected = PULUMI_SHA256.get((os_name, arch))
    source = "pinned in tools/toolchain.py"
    if expected is None:
        checksums = _fetch(fetch, PULUMI_CHECKSUMS_URL.format(version=PULUMI_VERSION)).decode()
        expected = checksum_from_file(checksums, archive)
        source = f"pulumi-{PULUMI_VERSION}-checksums.txt of the same release"
        if not expected:
            raise ToolError(f"{archive} is not listed in pulumi-{PULUMI_VERSION}-checksums.txt")
    data = _verified(
        _fetch(fetch, PULUMI_URL.format(version=PULUMI_VERSION, os=os_name, arch=_PULUMI_ARCH[arch])),
        expected,
        archive,
        source,
    )
    bin_dir.mkdir(parents=True, exist_ok=True)
    installed = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            # The archive holds `pulumi/<binary>` files only; anything else (links,
            # nested paths, `..`) is skipped rather than trusted.
            parts = Path(member.name).parts
            if not member.isfile() or len(parts) != 2 or parts[0] != "pulumi" or parts[1] in ("", "..", "."):
                continue
            source_file = tar.extractfile(member)
            if source_file is None:
                continue
            target = bin_dir / parts[1]
            tmp = target.with_suffix(target.suffix + ".partial")
            tmp.write_bytes(source_file.read())
            tmp.chmod(0o755)
            tmp.replace(target)
            installed.append(parts[1])
    if "pulumi" not in installed:
        raise ToolError(f"{archive} has no pulumi/pulumi binary; not installed")
    return (
        f"installed Pulumi {PULUMI_VERSION} ({os_name}/{arch}, {len(installed)} binaries) into {bin_dir}, "
        f"sha256 verified against {source}"
    )


def ensure(
    run: Runner = run_program,
    fetch: Downloader = download,
    plat: tuple[str, str] | None = None,
    bin_dir: Path = TOOLS_BIN,
    say: Callable[[str], None] = print,
) -> list[Check]:
    """Check everything; install k3d/Pulumi into `bin_dir` when missing or at another version.

    In order, stopping at the first that fails with its fix as the whole message:
    Python, Docker installed, Docker's engine answering, Docker's buildx plugin
    (nothing is downloaded for a machine that cannot run or build anyway), then k3d and Pulumi, which are
    installed when needed. Raises ToolError, one line per problem left.
    """
    for checker in (check_python, lambda: check_docker(run), lambda: check_buildx(run)):
        check = checker()  # one at a time: nothing after the first failure is even asked
        if not check.ok:
            raise ToolError(check.hint if check.name != "python" else f"Python {check.found} is too old: {check.hint}")
    env = tools_env()
    env["PATH"] = os.pathsep.join([str(bin_dir), env["PATH"]])
    checks = check_all(run, env)
    for check in checks:
        if check.ok or not check.installable:
            continue
        installer = install_k3d if check.name == "k3d" else install_pulumi
        have = "not installed" if check.found == "not found" else f"found {check.found}"
        say(f"{check.name}: {have}; installing the pinned {check.wanted} into {bin_dir}")
        say("  " + installer(fetch, plat, bin_dir))
    if any(not c.ok and c.installable for c in checks):
        checks = check_all(run, env)
    say("prerequisites:")
    for check in checks:
        say(check.line())
    missing = [c for c in checks if not c.ok]
    if missing:
        raise ToolError("; ".join(f"{c.name}: {c.hint}" for c in missing))
    return checks


def which(name: str) -> str | None:
    return shutil.which(name, path=tools_env()["PATH"])
