"""Fakes of the `k3d` and `docker` command lines, for running the plan's shell commands for real.

Only what the commands of this project touch, written from the pinned versions' behaviour:

- k3d v5.9.0 logs Info/Debug/Trace lines to **stdout** and Warn/Error/Fatal to stderr; `LOG_LEVEL`
  (logrus.ParseLevel; an unknown name keeps info) sets the level unless `--verbose`/`--trace` is
  given; `LOG_TIMESTAMPS` or `--timestamps` gives full timestamps; lines are coloured unless
  `LOG_COLORS` is a false boolean (k3d-io/k3d@v5.9.0 cmd/root.go `initLogging`; the format is
  sirupsen/logrus text_formatter.go: `\x1b[<colour>mDEBU\x1b[0m[0000] <message padded to 44> `
  coloured, `time="..." level=debug msg="..."` plain). `kubeconfig get` prints `---` and the YAML on the
  same stdout; `kubeconfig merge --output FILE --overwrite` writes only the YAML to FILE and prints
  the file's path (cmd/kubeconfig/kubeconfigGet.go, kubeconfigMerge.go). `cluster list NAME` fails
  for a missing cluster (cmd/cluster/clusterList.go).
- `docker build` is buildx's build; a builder with the `docker-container` driver keeps a result
  without an output in its build cache only, `--load` (= `--output=type=docker`) puts it in the
  engine's image store (docs.docker.com/build/drivers/). `--platform` picks the image's platform;
  the default is the machine's.

State lives in the directory named by FAKE_TOOLS_DIR: `calls` (one line per invocation),
`clusters/<name>`, `images/<ref>` (its platform), `pushed/<ref>`, `imported/<cluster>/<ref>`.
FAKE_DOCKER_DRIVER (`docker` or `docker-container`, default `docker`) and FAKE_NATIVE_PLATFORM
(default linux/amd64) describe the machine.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

KUBECONFIG = """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ZmFrZS1jYQ==
    server: https://127.0.0.1:{port}
  name: k3d-{name}
contexts:
- context:
    cluster: k3d-{name}
    user: admin@k3d-{name}
  name: k3d-{name}
current-context: k3d-{name}
kind: Config
preferences: {{}}
users:
- name: admin@k3d-{name}
  user:
    client-certificate-data: ZmFrZS1jZXJ0
    client-key-data: ZmFrZS1rZXk=
"""

_LEVELS = {"panic": 0, "fatal": 1, "error": 2, "warning": 3, "warn": 3, "info": 4, "debug": 5, "trace": 6}
# logrus text_formatter.go: gray for debug/trace, yellow for warn, red for error and worse, blue for info.
_COLOURS = {"panic": 31, "fatal": 31, "error": 31, "warning": 33, "info": 36, "debug": 37, "trace": 37}
_GO_FALSE = {"0", "f", "F", "false", "FALSE", "False"}  # strconv.ParseBool's false values
_STAMP = "2026-01-01T00:00:00Z"
_BARE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/@^+")


def _logfmt_value(text: str) -> str:
    """A value as logrus's TextFormatter writes it: bare when every character is in its
    safe set, else quoted with Go's %q (sirupsen/logrus text_formatter.go needsQuoting,
    appendValue; an empty value stays bare, QuoteEmptyFields being off). json.dumps with
    ensure_ascii off quotes printable text the same way."""
    return text if set(text) <= _BARE else json.dumps(text, ensure_ascii=False)


def install(bin_dir: Path, *names: str) -> Path:
    """Write executable `k3d`/`docker` wrappers into `bin_dir` that run this module."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = bin_dir / name
        path.write_text(f'#!/bin/sh\nexec {sys.executable} {Path(__file__).resolve()} {name} "$@"\n')
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return bin_dir


def calls(state: Path) -> list[str]:
    path = state / "calls"
    return path.read_text().splitlines() if path.exists() else []


class _K3d:
    def __init__(self, state: Path, flags: set[str]) -> None:
        self.state = state
        if "--trace" in flags:
            self.level = _LEVELS["trace"]
        elif "--verbose" in flags:
            self.level = _LEVELS["debug"]
        else:
            self.level = _LEVELS.get(os.environ.get("LOG_LEVEL", "").lower(), _LEVELS["info"])
        colours = os.environ.get("LOG_COLORS", "")
        self.coloured = colours not in _GO_FALSE  # ForceColors unless LOG_COLORS parses as false
        self.full_stamp = "--timestamps" in flags or bool(os.environ.get("LOG_TIMESTAMPS"))

    def log(self, level: str, message: str) -> None:
        if _LEVELS[level] > self.level:
            return
        level = "warning" if level == "warn" else level
        stream = sys.stdout if _LEVELS[level] >= _LEVELS["info"] else sys.stderr
        if self.coloured:
            when = _STAMP if self.full_stamp else "0000"
            line = f"\x1b[{_COLOURS[level]}m{level[:4].upper()}\x1b[0m[{when}] {message:<44} "
        else:
            line = f"time={_logfmt_value(_STAMP)} level={level} msg={_logfmt_value(message)}"
        print(line, file=stream, flush=True)

    def fatal(self, message: str) -> int:
        self.log("fatal", message)
        return 1

    def cluster_file(self, name: str) -> Path:
        return self.state / "clusters" / name

    def run(self, args: list[str]) -> int:
        self.log("debug", "Runtime Info:\n&{Name:docker Endpoint:/var/run/docker.sock Version:27.0.0}")
        if args[:2] == ["cluster", "list"]:
            if len(args) > 2 and not self.cluster_file(args[2]).exists():
                return self.fatal(f"failed to get cluster {args[2]}: No nodes found for given cluster")
            print("NAME   SERVERS   AGENTS   LOADBALANCER", flush=True)
            return 0
        if args[:2] == ["cluster", "create"]:
            name = args[2]
            if self.cluster_file(name).exists():
                return self.fatal(f"Failed to create cluster '{name}' because a cluster with that name already exists")
            self.cluster_file(name).parent.mkdir(parents=True, exist_ok=True)
            port = args[args.index("--api-port") + 1].rsplit(":", 1)[-1]
            self.cluster_file(name).write_text(port)
            self.log("info", f"Cluster '{name}' created successfully!")
            return 0
        if args[:2] == ["cluster", "delete"]:
            name = args[2]
            self.cluster_file(name).unlink(missing_ok=True)
            self.log("info", f"Successfully deleted cluster {name}!")
            return 0
        if args[:2] in (["kubeconfig", "get"], ["kubeconfig", "merge"]):
            name = args[2]
            if not self.cluster_file(name).exists():
                return self.fatal(f"failed to get cluster {name}")
            self.log("debug", f"Getting kubeconfig for cluster '{name}'")
            text = KUBECONFIG.format(name=name, port=self.cluster_file(name).read_text())
            self.log("trace", f"Modified Kubeconfig: {text!r}")
            if args[1] == "get":
                print("---", flush=True)
                sys.stdout.write(text)
                return 0
            output = Path(args[args.index("--output") + 1])
            if "--overwrite" not in args:
                return self.fatal("this fake only writes fresh files (--overwrite)")
            output.write_text(text)
            self.log("debug", f"Wrote kubeconfig to '{output}'")
            print(output, flush=True)
            return 0
        if args[:2] == ["image", "import"]:
            image, cluster = args[2], args[args.index("--cluster") + 1]
            if not self.cluster_file(cluster).exists():
                return self.fatal(f"failed to get cluster {cluster}")
            if not (self.state / "images" / image.replace("/", "_")).exists():
                return self.fatal(f"Failed to import image(s) into cluster '{cluster}': image '{image}' not found")
            target = self.state / "imported" / cluster / image.replace("/", "_")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text((self.state / "images" / image.replace("/", "_")).read_text())
            self.log("info", f"Successfully imported 1 image(s) into 1 cluster(s)")
            return 0
        return self.fatal(f"fake k3d does not know {' '.join(args)!r}")


def _docker(state: Path, args: list[str]) -> int:
    if args[:1] == ["build"]:
        args = ["buildx", "build", *args[1:]]  # buildx is the default `docker build` frontend
    if args[:2] == ["buildx", "build"]:
        options = args[2:]
        tag = options[options.index("--tag") + 1]
        platform = (
            options[options.index("--platform") + 1]
            if "--platform" in options
            else os.environ.get("FAKE_NATIVE_PLATFORM", "linux/amd64")
        )
        driver = os.environ.get("FAKE_DOCKER_DRIVER", "docker")
        if "--load" in options or driver == "docker":
            (state / "images").mkdir(parents=True, exist_ok=True)
            (state / "images" / tag.replace("/", "_")).write_text(platform)
        else:
            print(
                "WARNING: No output specified with docker-container driver. Build result will only remain in "
                "the build cache. To push result image into registry use --push or to load image into docker "
                "use --load",
                file=sys.stderr,
            )
        return 0
    if args[:1] == ["push"]:
        image = state / "images" / args[1].replace("/", "_")
        if not image.exists():
            print(f"An image does not exist locally with the tag: {args[1]}", file=sys.stderr)
            return 1
        (state / "pushed").mkdir(parents=True, exist_ok=True)
        (state / "pushed" / args[1].replace("/", "_")).write_text(image.read_text())
        return 0
    print(f"fake docker does not know {' '.join(args)!r}", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    tool, args = argv[0], argv[1:]
    state = Path(os.environ["FAKE_TOOLS_DIR"])
    state.mkdir(parents=True, exist_ok=True)
    with (state / "calls").open("a") as log:
        log.write(" ".join([tool, *args]) + "\n")
    if tool == "k3d":
        flags = {"--verbose", "--trace", "--timestamps"}
        return _K3d(state, flags & set(args)).run([a for a in args if a not in flags])
    return _docker(state, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
