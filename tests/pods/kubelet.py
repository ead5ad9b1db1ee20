"""Start one container the way the kubelet starts it, on this machine, without Kubernetes.

What it reproduces (each rule names where it comes from):

* the environment: the image's ENV, then the kubelet's variables -- `envFrom`, then
  `env` (values with `$(VAR)` expanded, `valueFrom` ConfigMap/Secret keys resolved from
  the objects the stacks create), then the service links of every Service in the pod's
  namespace unless `enableServiceLinks` is false, and always those of the `kubernetes`
  Service in `default`. Nothing from the caller's own environment.
  Ref: kubernetes/kubernetes pkg/kubelet/kubelet_pods.go `makeEnvironmentVariables`,
  `getServiceEnvVarMap`; pkg/kubelet/envvars/envvars.go `FromServices`,
  `makeLinkVariables`; third_party/forked/golang/expansion/expand.go.
* the command: `command` replaces the image ENTRYPOINT, `args` its CMD, both with
  `$(VAR)` expanded from the container's environment
  (pkg/kubelet/container/helpers.go `ExpandContainerCommandAndArgs`).
* volumes: ConfigMap and Secret volumes are written to a temporary root at their mount
  paths, emptyDirs are empty directories there, read-only mounts are made read-only.
* probes: httpGet, tcpSocket and exec, on the kubelet's schedule (initialDelaySeconds,
  then every periodSeconds, each attempt bounded by timeoutSeconds; ready after
  successThreshold successes; a liveness probe failing failureThreshold times in a row
  means the kubelet would restart the container). Defaults from the API:
  pkg/apis/core/v1/defaults.go `SetDefaults_Probe` (timeout 1, period 10, success 1,
  failure 3; initialDelaySeconds 0).

What it changes, always through an explicit `Remap` (no container can bind
0.0.0.0 or a fixed port here, and no image file system exists):

* paths: an absolute path under a volume mount or an image directory (COPY target,
  WORKDIR) is rewritten in `command`/`args` and the working directory; a path a program
  hard-codes in its code is not (the caller passes the program's own override, e.g.
  KRATIX_DIR, in `Remap.env`);
* ports: a container port becomes a free port on 127.0.0.1: for probes, for a
  `command`/`args` token equal to the port number, and for the variables the caller
  names (`Remap.env`, e.g. PORT); the token `0.0.0.0` in `command`/`args` becomes
  `127.0.0.1` (and `Remap.env` sets e.g. HOST for a program whose default is 0.0.0.0);
* addresses: `Remap.addresses` replaces an in-cluster `host:port` in env values
  (e.g. the emulator's Service DNS name) with the 127.0.0.1 address of the process
  that stands for it;
* executables: `python` is the interpreter of this virtualenv, which holds the
  packages the images install (moto, gunicorn, boto3, PyYAML, pinned alike);
* the user: processes run as the current user, not the image's uid.
"""

from __future__ import annotations

import base64
import collections
import http.client
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

# k3s gives Services addresses from 10.43.0.0/16 and the `kubernetes` Service the
# first one (k3s server flag --service-cidr, default 10.43.0.0/16, docs.k3s.io cli/server). The API server
# Service has one port, `https` 443 (kube-apiserver's default Service).
SERVICE_NETWORK = "10.43"
KUBERNETES_SERVICE = {"name": "kubernetes", "namespace": "default",
                      "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}

PROBE_DEFAULTS = {"initialDelaySeconds": 0, "timeoutSeconds": 1, "periodSeconds": 10,
                  "successThreshold": 1, "failureThreshold": 3}
"""Ref: kubernetes/kubernetes pkg/apis/core/v1/defaults.go SetDefaults_Probe."""


def with_probe_defaults(probe: dict) -> dict:
    """`SetDefaults_Probe`: a field left out or set to 0 takes the default."""
    return {**probe, **{k: probe.get(k) or default for k, default in PROBE_DEFAULTS.items()}}

VENV_BIN = str(Path(sys.executable).parent)


# ─── Service links ──────────────────────────────────────────────────────────


def env_name(service_name: str) -> str:
    """`makeEnvVariableName`: upper case, `-` becomes `_`."""
    return service_name.upper().replace("-", "_")


def service_link_env(services: Iterable[dict]) -> dict[str, str]:
    """`envvars.FromServices` for Services with `name`, `clusterIP` and `ports`."""
    env: dict[str, str] = {}
    for service in services:
        ip = service.get("clusterIP")
        if not ip or ip == "None":  # headless or not yet allocated: no variables
            continue
        prefix = env_name(service["name"])
        ports = service["ports"]
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
        for port in ports:
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{env_name(port['name'])}"] = str(port["port"])
        for i, port in enumerate(ports):
            protocol = port.get("protocol") or "TCP"
            url = f"{protocol.lower()}://{ip}:{port['port']}"
            if i == 0:
                env[f"{prefix}_PORT"] = url  # Docker special-cases the first port
            base = f"{prefix}_PORT_{port['port']}_{protocol.upper()}"
            env[base] = url
            env[f"{base}_PROTO"] = protocol.lower()
            env[f"{base}_PORT"] = str(port["port"])
            env[f"{base}_ADDR"] = ip
    return env


def expand(text: str, lookup: Callable[[str], str | None]) -> str:
    """Kubernetes `$(VAR)` expansion: `$$` is a literal `$`; unknown references stay as written."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "$" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = text.find(")", i + 2)
                if end == -1:  # an incomplete reference stays; scanning goes on after `$(`
                    out.append("$(")
                    i += 2
                    continue
                value = lookup(text[i + 2:end])
                out.append(text[i:end + 1] if value is None else value)
                i = end + 1
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


# ─── Cluster objects ────────────────────────────────────────────────────────


def _decoded(data: Mapping[str, str] | None) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (data or {}).items()}


@dataclass
class Cluster:
    """The objects a kubelet reads while starting a container: Services, ConfigMaps, Secrets."""

    services: list[dict] = field(default_factory=list)
    config_maps: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    secrets: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not any(s["name"] == "kubernetes" and s["namespace"] == "default" for s in self.services):
            self.add_service(dict(KUBERNETES_SERVICE))

    def add_service(self, service: dict) -> dict:
        """Add a Service (name, namespace, ports) and give it the next cluster IP."""
        n = len(self.services) + 1
        service = {**service, "clusterIP": service.get("clusterIP") or f"{SERVICE_NETWORK}.{n // 250}.{n % 250}"}
        self.services.append(service)
        return service

    def add_manifest(self, obj: dict) -> None:
        """A Service, ConfigMap or Secret manifest (or Pulumi inputs of one); other kinds are ignored."""
        kind, meta = obj.get("kind"), obj.get("metadata") or {}
        key = (meta.get("namespace") or "default", meta["name"])
        if kind == "Service":
            spec = obj.get("spec") or {}
            if spec.get("clusterIP") == "None" or spec.get("type") == "ExternalName":
                return
            self.add_service({"name": key[1], "namespace": key[0], "ports": spec["ports"]})
        elif kind == "ConfigMap":
            self.config_maps[key] = dict(obj.get("data") or {})
        elif kind == "Secret":
            self.secrets[key] = {**_decoded(obj.get("data")), **(obj.get("stringData") or {})}

    @classmethod
    def from_plans(cls, *plans, extra: Iterable[dict] = ()) -> "Cluster":
        """Every Service, ConfigMap and Secret the plans create, plus `extra` manifests
        (objects other controllers render, e.g. a webservice's Service)."""
        cluster = cls()
        kinds = {"kubernetes:core/v1:Service": "Service", "kubernetes:core/v1:ConfigMap": "ConfigMap",
                 "kubernetes:core/v1:Secret": "Secret"}
        for plan in plans:
            for reg in plan.registrations:
                if reg.type in kinds:
                    cluster.add_manifest({**reg.inputs, "kind": kinds[reg.type]})
        for obj in extra:
            cluster.add_manifest(obj)
        return cluster

    def service(self, namespace: str, name: str) -> dict:
        for s in self.services:
            if s["namespace"] == namespace and s["name"] == name:
                return s
        raise KeyError(f"no Service {namespace}/{name}")

    def link_env(self, namespace: str, enable_service_links: bool) -> dict[str, str]:
        """`getServiceEnvVarMap`: the master Service always, the namespace's only with links on."""
        chosen = {}
        for s in self.services:
            if s["namespace"] == "default" and s["name"] == "kubernetes":
                chosen.setdefault(s["name"], s)
            elif s["namespace"] == namespace and enable_service_links:
                chosen[s["name"]] = s
        return service_link_env(chosen.values())

    def _lookup(self, store: dict, what: str, namespace: str, name: str, key: str | None, optional: bool):
        data = store.get((namespace, name))
        if data is None:
            if optional:
                return None
            raise LookupError(f"{what} {namespace}/{name} does not exist")
        if key is None:
            return data
        if key not in data:
            if optional:
                return None
            raise LookupError(f"couldn't find key {key} in {what} {namespace}/{name}")
        return data[key]

    def container_env(self, namespace: str, pod_spec: dict, container: dict) -> dict[str, str]:
        """`makeEnvironmentVariables`, in its order: envFrom, env, remaining service links."""
        links = self.link_env(namespace, pod_spec.get("enableServiceLinks", True))
        env: dict[str, str] = {}
        for source in container.get("envFrom") or []:
            prefix = source.get("prefix", "")
            for kind, store in (("configMapRef", self.config_maps), ("secretRef", self.secrets)):
                ref = source.get(kind)
                if ref:
                    data = self._lookup(store, kind[:-3], namespace, ref["name"], None, ref.get("optional", False))
                    for k, v in (data or {}).items():
                        if re.fullmatch(r"[-._a-zA-Z][-._a-zA-Z0-9]*", prefix + k):
                            env[prefix + k] = v
        for var in container.get("env") or []:
            value = var.get("value", "")
            if value:
                value = expand(value, lambda n: env.get(n, links.get(n)))
            elif var.get("valueFrom"):
                source = var["valueFrom"]
                for kind, store in (("configMapKeyRef", self.config_maps), ("secretKeyRef", self.secrets)):
                    ref = source.get(kind)
                    if ref:
                        value = self._lookup(store, kind[:-6], namespace, ref["name"], ref["key"],
                                             ref.get("optional", False))
                if value is None:
                    continue
                if not any(k in source for k in ("configMapKeyRef", "secretKeyRef")):
                    raise NotImplementedError(f"valueFrom {sorted(source)} is not emulated")
            env[var["name"]] = value
        return {**env, **{k: v for k, v in links.items() if k not in env}}


# ─── Images ─────────────────────────────────────────────────────────────────


@dataclass
class Image:
    """What the kubelet takes from an image: ENTRYPOINT, CMD, ENV, WORKDIR, and where its files are here."""

    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    files: dict[str, Path] = field(default_factory=dict)
    """Image path -> where the same files are on this machine (the build context)."""


def _instructions(text: str) -> list[tuple[str, str]]:
    lines, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        word, _, rest = current.partition(" ")
        lines.append((word.upper(), rest.strip()))
        current = ""
    return lines


def _exec_form(value: str) -> list[str]:
    if not value.startswith("["):
        raise ValueError(f"only exec-form ENTRYPOINT/CMD is emulated, got {value!r}")
    return json.loads(value)


def dockerfile_image(dockerfile: Path) -> Image:
    """The final stage of one of our Dockerfiles, as the image it builds."""
    context = dockerfile.parent
    image = Image()
    for word, rest in _instructions(dockerfile.read_text()):
        if word == "FROM":
            image = Image()  # a new stage starts from scratch as far as we can see
        elif word == "ENV":
            for token in shlex.split(rest):
                key, _, value = token.partition("=")
                image.env[key] = value  # PATH=...:$PATH is replaced when the container starts
        elif word == "WORKDIR":
            image.workdir = rest
        elif word == "COPY" and not rest.startswith("--from"):
            src, dest = shlex.split(rest)[-2:]
            if dest.endswith("/"):
                host = context / src
                image.files[dest.rstrip("/")] = host if src.endswith("/") or host.is_dir() else host.parent
            else:
                image.files[dest] = context / src
        elif word == "ENTRYPOINT":
            image.entrypoint, image.cmd = _exec_form(rest), []
        elif word == "CMD":
            image.cmd = _exec_form(rest)
    # The WORKDIR is where a COPY put files: `COPY session_api/ /app/session_api/` with
    # WORKDIR /app makes /app the build context's directory holding session_api.
    for dest, host in list(image.files.items()):
        rel = dest[len(image.workdir.rstrip("/")) + 1:] if dest.startswith(image.workdir.rstrip("/") + "/") else ""
        if image.workdir not in image.files and rel and host.as_posix().endswith("/" + rel):
            image.files[image.workdir] = Path(host.as_posix()[: -len(rel) - 1])
    return image


# ─── Starting a container ───────────────────────────────────────────────────


@dataclass
class Remap:
    """Everything the emulation changes about a container, named by the caller."""

    ports: dict[int, int] = field(default_factory=dict)
    """Container port -> free port on 127.0.0.1."""
    env: dict[str, str] = field(default_factory=dict)
    """Variables set after the kubelet's (a bind address, a port the program reads)."""
    addresses: dict[str, str] = field(default_factory=dict)
    """`host:port` in env values -> `127.0.0.1:port` of the process standing in for it."""
    paths: dict[str, Path] = field(default_factory=dict)
    """Absolute container path -> path here (volumes; image files are added from the Image)."""

    def path(self, value: str) -> str:
        for prefix in sorted(self.paths, key=len, reverse=True):
            if value == prefix or value.startswith(prefix.rstrip("/") + "/"):
                return str(self.paths[prefix]) + value[len(prefix.rstrip("/")):]
        return value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_volumes(root: Path, cluster: Cluster, namespace: str, pod_spec: dict, container: dict) -> dict[str, Path]:
    """Mount the container's volumes under `root`; return mountPath -> path here.

    Each volume is one directory, `root/.volumes/<name>`, shared by every container of
    the pod that mounts it (as emptyDirs are); `root/<mountPath>` is a link to it.
    ConfigMap/Secret volumes get one file per key (or per `items` entry); they and
    mounts marked readOnly are made read-only.
    """
    volumes = {v["name"]: v for v in pod_spec.get("volumes") or []}
    mounts: dict[str, Path] = {}
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount["name"])
        if volume is None:
            raise LookupError(f"volumeMount {mount['name']!r} names no volume of the pod")
        directory = root / ".volumes" / mount["name"]
        source = volume.get("configMap") or volume.get("secret")
        if not directory.exists():
            directory.mkdir(parents=True)
            if source is not None:
                store, name = ((cluster.config_maps, source["name"]) if "configMap" in volume
                               else (cluster.secrets, source["secretName"]))
                data = store.get((namespace, name))
                if data is None:
                    raise LookupError(f"volume {mount['name']!r}: {namespace}/{name} does not exist")
                for item in source.get("items") or [{"key": k, "path": k} for k in data]:
                    (directory / item["path"]).parent.mkdir(parents=True, exist_ok=True)
                    (directory / item["path"]).write_text(data[item["key"]])
            elif "emptyDir" not in volume:
                raise NotImplementedError(f"volume {mount['name']!r} of type {sorted(volume)} is not emulated")
        if mount.get("readOnly") or source is not None:
            for path in [directory, *directory.rglob("*")]:
                path.chmod(0o555 if path.is_dir() else 0o444)
        target = root / mount["mountPath"].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_symlink():
            target.symlink_to(directory / mount.get("subPath", ""), target_is_directory=True)
        mounts[mount["mountPath"]] = target
    return mounts


class Container:
    """A started container: its process, its last output, and its probes."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: str, spec: dict, remap: Remap) -> None:
        self.name, self.argv, self.env, self.cwd, self.spec, self.remap = name, argv, env, cwd, spec, remap
        self.lines: collections.deque[str] = collections.deque(maxlen=80)
        self.process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        self.started = time.monotonic()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in self.process.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def output(self) -> str:
        self._reader.join(timeout=0.5) if self.process.poll() is not None else None
        return "\n".join(self.lines)

    def describe(self) -> str:
        return f"container {self.name!r} ({shlex.join(self.argv)}); last output:\n{self.output()}"

    def wait(self, timeout: float) -> int:
        """Run to completion (a Job's or an init container); the exit code."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"did not finish within {timeout} s: {self.describe()}") from None

    def terminate(self) -> None:
        """Send the kubelet's stop signal (SIGTERM) to the container's process group; `stop` waits."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        """SIGTERM to the container's process group, SIGKILL after 10 s (the kubelet waits 30 s)."""
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._reader.join(timeout=2)

    def host_port(self, port) -> int:
        """A probe's port (number or container port name) as the port here."""
        if isinstance(port, str) and not port.isdigit():
            named = [p["containerPort"] for p in self.spec.get("ports") or [] if p.get("name") == port]
            if not named:
                raise LookupError(f"probe names port {port!r}, which the container does not declare")
            port = named[0]
        port = int(port)
        if port not in self.remap.ports:
            raise LookupError(f"container port {port} has no host port in the remap")
        return self.remap.ports[port]

    def probe_once(self, probe: dict) -> tuple[bool, str]:
        """One attempt, as the kubelet's prober makes it."""
        timeout = with_probe_defaults(probe)["timeoutSeconds"]
        try:
            if "httpGet" in probe:
                action = probe["httpGet"]
                if action.get("scheme", "HTTP").upper() != "HTTP":
                    raise NotImplementedError("only HTTP probes are emulated")
                conn = http.client.HTTPConnection("127.0.0.1", self.host_port(action["port"]), timeout=timeout)
                try:
                    headers = {h["name"]: h["value"] for h in action.get("httpHeaders") or []}
                    conn.request("GET", action.get("path", "/"), headers=headers)
                    status = conn.getresponse().status
                finally:
                    conn.close()
                # Ref: pkg/probe/http/http.go: 200 <= code < 400 is success.
                return 200 <= status < 400, f"HTTP {status}"
            if "tcpSocket" in probe:
                socket.create_connection(("127.0.0.1", self.host_port(probe["tcpSocket"]["port"])),
                                         timeout=timeout).close()
                return True, "connected"
            if "exec" in probe:
                argv = [self.remap.path(a) for a in probe["exec"]["command"]]
                done = subprocess.run(argv, env=self.env, cwd=self.cwd, capture_output=True, timeout=timeout,
                                      check=False)
                return done.returncode == 0, f"exit {done.returncode}: {done.stdout[-200:]!r}{done.stderr[-200:]!r}"
        except (OSError, http.client.HTTPException, subprocess.TimeoutExpired) as error:
            return False, f"{type(error).__name__}: {error}"
        raise NotImplementedError(f"probe {sorted(probe)} has no handler")

    def wait_ready(self) -> None:
        """Probe the container until the kubelet's schedule would find it ready.

        Fails (with the program's last output) when the process exits, when the liveness
        probe fails failureThreshold times in a row (the kubelet would restart it), or
        when readiness has not passed by the time its own failureThreshold periods (or
        the liveness budget, if longer) have elapsed.

        The schedule is replayed, not slept through: every probe is attempted every
        POLL_SECONDS and each probe the kubelet would make at `t` takes the outcome of the
        first attempt made at or after `t` (`replay_probe_schedule`). Once every probe
        passes, later scheduled probes take that outcome, so a program that answers after
        0.8 s is found ready at the first scheduled probe after 0.8 s without waiting for
        that second to come round. A failure is never carried forward: a schedule that
        could still turn out either way is waited for.
        """
        probes = {kind: with_probe_defaults(self.spec[kind])
                  for kind in ("readinessProbe", "livenessProbe") if self.spec.get(kind)}
        if "readinessProbe" not in probes:
            raise AssertionError(f"{self.name} declares no readiness probe: nothing tells the kubelet it is ready")
        seen: dict[str, list[Attempt]] = {kind: [] for kind in probes}
        while True:
            for kind, probe in probes.items():
                at = time.monotonic() - self.started
                if at >= probe["initialDelaySeconds"]:
                    seen[kind].append(Attempt(at, *self.probe_once(probe)))
            if self.process.poll() is not None:
                raise AssertionError(f"exited with {self.process.returncode} before it was ready: {self.describe()}")
            verdict = replay_probe_schedule(probes, seen)
            if verdict.ready:
                return
            if verdict.failure:
                raise AssertionError(f"{verdict.failure}: {self.describe()}")
            time.sleep(POLL_SECONDS)


POLL_SECONDS = 0.05
"""How often `Container.wait_ready` attempts each probe (the kubelet's own period is whole seconds)."""


@dataclass(frozen=True)
class Attempt:
    at: float  # seconds after the container started
    passed: bool
    detail: str


@dataclass(frozen=True)
class Verdict:
    ready: bool = False
    failure: str = ""  # why the kubelet would never call it ready; empty while undecided


def probe_budget(probes: Mapping[str, dict]) -> float:
    """Seconds after start by which readiness must have passed (probes with defaults applied)."""
    return max(p["initialDelaySeconds"] + p["periodSeconds"] * p["failureThreshold"] + p["timeoutSeconds"]
               for p in probes.values())


def replay_probe_schedule(probes: Mapping[str, dict], seen: Mapping[str, list[Attempt]]) -> Verdict:
    """The kubelet's probe schedule, played against attempts made more often than it probes.

    `probes`: kind (`readinessProbe`, `livenessProbe`) -> probe with defaults applied.
    `seen`: kind -> attempts in time order. The kubelet probes a kind at
    initialDelaySeconds + k * periodSeconds after start; such a probe takes the outcome of
    the first attempt at or after that time. A time later than every attempt is known only
    when the last attempt of every kind passed (the program answers and keeps answering);
    otherwise the verdict waits for more attempts. Probes due at the same time are taken
    readiness first.
    """
    budget = probe_budget(probes)
    settled = all(attempts and attempts[-1].passed for attempts in seen.values())
    schedule = sorted(
        (probe["initialDelaySeconds"] + k * probe["periodSeconds"], order, kind)
        for order, (kind, probe) in enumerate(probes.items())
        for k in range(int((budget - probe["initialDelaySeconds"]) // probe["periodSeconds"]) + 1)
    )
    successes, failures = collections.Counter(), collections.Counter()
    last: dict[str, str] = {}
    for due, _, kind in schedule:
        attempt = next((a for a in seen[kind] if a.at >= due), None)
        if attempt is None:
            if not settled:
                return Verdict()
            attempt = seen[kind][-1]
        last[kind] = attempt.detail
        if attempt.passed:
            successes[kind] += 1
            failures[kind] = 0
        else:
            successes[kind] = 0
            failures[kind] += 1
            threshold = probes[kind]["failureThreshold"]
            if kind == "livenessProbe" and failures[kind] >= threshold:
                return Verdict(failure=f"liveness failed {failures[kind]} times by {due:g} s ({attempt.detail}); "
                                       f"the kubelet would restart it")
        if kind == "readinessProbe" and successes[kind] >= probes[kind]["successThreshold"]:
            return Verdict(ready=True)
    return Verdict(failure=f"readiness never passed within {budget:g} s ({last})")


def start_container(
    *,
    cluster: Cluster,
    namespace: str,
    pod_spec: dict,
    container: dict,
    image: Image,
    root: Path,
    remap: Remap | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Container:
    """Start `container` of `pod_spec` as the kubelet would, under the temporary `root`.

    `extra_env`: variables other controllers add to the container (Kratix's KRATIX_*), as
    if they were declared first in `env`.
    """
    remap = remap or Remap()
    if extra_env:
        container = {**container, "env": [{"name": k, "value": v} for k, v in extra_env.items()]
                     + list(container.get("env") or [])}
    mounts = write_volumes(root, cluster, namespace, pod_spec, container)
    remap.paths = {**image.files, **remap.paths, **mounts}

    kubelet_env = cluster.container_env(namespace, pod_spec, container)
    # The runtime starts from the image's ENV; the kubelet's variables override it.
    env = {**image.env, **kubelet_env}
    for key, value in env.items():
        for address, here in remap.addresses.items():
            value = value.replace(address, here)
        env[key] = value
    env.update(remap.env)
    # The image's PATH names its own directories; here the interpreter is this virtualenv's.
    env["PATH"] = f"{VENV_BIN}:/usr/bin:/bin"

    # `$(VAR)` in command/args sees the kubelet's variables only: the image's ENV is applied
    # by the runtime afterwards (pkg/kubelet/container/helpers.go ExpandContainerCommandAndArgs
    # is given makeEnvironmentVariables' result). Remap.env stands in for kubelet variables.
    lookup = {k: env[k] for k in (*kubelet_env, *remap.env)}.get
    if container.get("command"):
        argv = [expand(a, lookup) for a in container["command"]] + [expand(a, lookup) for a in container.get("args") or []]
    else:
        # An empty `args` is no args: the runtime keeps the image's CMD (containerd's CRI
        # `WithProcessArgs` tests len(args) == 0).
        args = container.get("args")
        argv = list(image.entrypoint) + ([expand(a, lookup) for a in args] if args else list(image.cmd))
    if not argv:
        raise ValueError(f"container {container['name']!r} has no command and its image no entrypoint")
    argv = [remap.path(a) for a in argv]
    if argv[0] == "python":
        argv[0] = sys.executable
    for old, new in ((str(k), str(v)) for k, v in remap.ports.items()):
        argv = [new if a == old else a for a in argv]
    argv = ["127.0.0.1" if a == "0.0.0.0" else a for a in argv]
    cwd = remap.path(container.get("workingDir") or image.workdir)
    if not Path(cwd).is_dir():
        raise LookupError(f"working directory {cwd} does not exist here (no image directory maps to it)")
    return Container(container["name"], argv, env, cwd, container, remap)
