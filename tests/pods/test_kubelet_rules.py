"""The kubelet emulation's own rules: service-link variables, $(VAR) expansion, env
precedence, volumes, images and probes. Expected values are the kubelet's documented
output (kubernetes/kubernetes pkg/kubelet/envvars, kubelet_pods.go)."""

from __future__ import annotations

import http.server
import sys
import threading
from pathlib import Path

import pytest

from kubelet import (Attempt, Cluster, Container, Image, Remap, dockerfile_image, env_name, expand, free_port,
                     replay_probe_schedule, service_link_env, start_container, with_probe_defaults, write_volumes)

REPO = Path(__file__).resolve().parents[2]


# ─── Service links ──────────────────────────────────────────────────────────


def test_link_variables_of_a_service_with_two_ports():
    env = service_link_env([{
        "name": "redis-master", "clusterIP": "10.0.0.11",
        "ports": [{"port": 6379, "name": "redis"}, {"port": 9121, "name": "metrics-exporter", "protocol": "UDP"}],
    }])
    assert env == {
        "REDIS_MASTER_SERVICE_HOST": "10.0.0.11",
        "REDIS_MASTER_SERVICE_PORT": "6379",  # the first port, under its backwards-compatible name
        "REDIS_MASTER_SERVICE_PORT_REDIS": "6379",
        "REDIS_MASTER_SERVICE_PORT_METRICS_EXPORTER": "9121",
        "REDIS_MASTER_PORT": "tcp://10.0.0.11:6379",  # Docker's first-port variable
        "REDIS_MASTER_PORT_6379_TCP": "tcp://10.0.0.11:6379",
        "REDIS_MASTER_PORT_6379_TCP_PROTO": "tcp",
        "REDIS_MASTER_PORT_6379_TCP_PORT": "6379",
        "REDIS_MASTER_PORT_6379_TCP_ADDR": "10.0.0.11",
        "REDIS_MASTER_PORT_9121_UDP": "udp://10.0.0.11:9121",
        "REDIS_MASTER_PORT_9121_UDP_PROTO": "udp",
        "REDIS_MASTER_PORT_9121_UDP_PORT": "9121",
        "REDIS_MASTER_PORT_9121_UDP_ADDR": "10.0.0.11",
    }


def test_unnamed_port_and_headless_service():
    env = service_link_env([
        {"name": "moto", "clusterIP": "10.43.7.7", "ports": [{"port": 5000}]},
        {"name": "headless", "clusterIP": "None", "ports": [{"port": 80}]},
    ])
    assert env["MOTO_PORT"] == "tcp://10.43.7.7:5000"
    assert not [k for k in env if k.startswith("MOTO_SERVICE_PORT_")]
    assert not [k for k in env if k.startswith("HEADLESS")]


def test_env_name():
    assert env_name("session-api-kratix") == "SESSION_API_KRATIX"


def test_links_of_the_namespace_only_and_the_api_server_always():
    cluster = Cluster()
    cluster.add_service({"name": "moto", "namespace": "dynamodb-emulator", "ports": [{"port": 5000, "name": "api"}]})
    cluster.add_service({"name": "other", "namespace": "elsewhere", "ports": [{"port": 80}]})
    linked = cluster.link_env("dynamodb-emulator", True)
    assert linked["KUBERNETES_SERVICE_HOST"] == "10.43.0.1"
    assert linked["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"
    assert linked["MOTO_SERVICE_PORT_API"] == "5000"
    assert not [k for k in linked if k.startswith("OTHER_")]
    unlinked = cluster.link_env("dynamodb-emulator", False)
    assert sorted(k for k in unlinked if not k.startswith("KUBERNETES_")) == []
    assert unlinked["KUBERNETES_PORT"] == "tcp://10.43.0.1:443"


# ─── $(VAR) expansion and precedence ───────────────────────────────────────


@pytest.mark.parametrize("text, expected", [
    ("http://$(USER):$(PASS)@host", "http://u:p@host"),
    ("$(MISSING)", "$(MISSING)"),
    ("$$(USER)", "$(USER)"),
    ("cost: $5", "cost: $5"),
    ("$(USER", "$(USER"),
    ("$(USER $$5", "$(USER $5"),  # after an incomplete reference, `$$` is still an escaped `$`
    ("a$", "a$"),
])
def test_expansion(text, expected):
    assert expand(text, {"USER": "u", "PASS": "p"}.get) == expected


def _cluster_with_objects() -> Cluster:
    cluster = Cluster()
    cluster.add_manifest({"kind": "Secret", "metadata": {"name": "creds", "namespace": "ns"},
                          "data": {"user": "YWRtaW4="}, "stringData": {"password": "s3cret"}})
    cluster.add_manifest({"kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "ns"},
                          "data": {"LOG_LEVEL": "DEBUG", "MOTO_PORT": "5000", "bad key": "x"}})
    cluster.add_manifest({"kind": "Service", "metadata": {"name": "moto", "namespace": "ns"},
                          "spec": {"ports": [{"port": 5000}]}})
    return cluster


def test_env_precedence_and_sources():
    cluster = _cluster_with_objects()
    container = {
        "name": "c",
        "envFrom": [{"configMapRef": {"name": "settings"}}],
        "env": [
            {"name": "LOG_LEVEL", "value": "INFO"},  # env wins over envFrom
            {"name": "USER", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "user"}}},
            {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
            {"name": "URL", "value": "http://$(USER):$(PASS)@$(MOTO_SERVICE_HOST):$(LATER)"},
            {"name": "LATER", "value": "1"},
            {"name": "GONE", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k", "optional": True}}},
        ],
    }
    env = cluster.container_env("ns", {}, container)
    assert env["LOG_LEVEL"] == "INFO"
    assert env["USER"] == "admin" and env["PASS"] == "s3cret"
    ip = cluster.service("ns", "moto")["clusterIP"]
    # Only variables declared before it (and service links) expand; LATER comes after.
    assert env["URL"] == f"http://admin:s3cret@{ip}:$(LATER)"
    # A declared variable (here from envFrom) wins over the service link of the same name.
    assert env["MOTO_PORT"] == "5000"
    assert "bad key" not in env and "GONE" not in env


def test_missing_secret_key_is_an_error_naming_it():
    with pytest.raises(LookupError, match="couldn't find key nope in secret ns/creds"):
        _cluster_with_objects().container_env(
            "ns", {}, {"name": "c", "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "creds",
                                                                                          "key": "nope"}}}]})


def test_plan_secrets_carry_their_values(plans):
    """Secret values are Pulumi secrets in the plan; the kubelet sees the plain values."""
    cluster = Cluster.from_plans(plans["platform"])
    assert cluster.secrets[("session-apps", "dynamodb-app-credentials")]["AWS_ACCESS_KEY_ID"] == "testing"
    assert "moto_server.py" in cluster.config_maps[("dynamodb-emulator", "moto-wrapper")]


# ─── Images, volumes, command ──────────────────────────────────────────────


def test_session_api_image():
    image = dockerfile_image(REPO / "app" / "Dockerfile")
    assert image.entrypoint[:3] == ["python", "-m", "gunicorn"]
    assert image.env["PORT"] == "8080"
    assert image.workdir == "/app"
    assert image.files["/app"] == REPO / "app"


def test_volumes_are_written_at_their_mount_paths(tmp_path):
    cluster = _cluster_with_objects()
    pod = {"volumes": [{"name": "cfg", "configMap": {"name": "settings", "items": [{"key": "LOG_LEVEL",
                                                                                     "path": "conf/level"}]}},
                       {"name": "scratch", "emptyDir": {}}]}
    container = {"name": "c", "volumeMounts": [{"name": "cfg", "mountPath": "/etc/app"},
                                               {"name": "scratch", "mountPath": "/work", "readOnly": True}]}
    mounts = write_volumes(tmp_path, cluster, "ns", pod, container)
    assert (mounts["/etc/app"] / "conf" / "level").read_text() == "DEBUG"
    assert mounts["/work"].is_dir() and mounts["/work"] == tmp_path / "work"


def test_command_args_and_env_as_the_kubelet_builds_them(tmp_path):
    cluster = _cluster_with_objects()
    image = Image(entrypoint=["python", "-c"], cmd=["print('image cmd')"], env={"GREETING": "image"},
                  workdir="/srv", files={"/srv": tmp_path})
    pod = {"volumes": [{"name": "cfg", "configMap": {"name": "settings"}}]}
    script = "import os, sys; print(sys.argv[1:], os.environ['GREETING'])"
    container = {"name": "c", "args": [script, "$(GREETING)", "/etc/cfg/LOG_LEVEL", "5000"],
                 "env": [{"name": "GREETING", "value": "pod"}],
                 "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}]}
    started = start_container(cluster=cluster, namespace="ns", pod_spec=pod, container=container, image=image,
                              root=tmp_path, remap=Remap(ports={5000: 4242}))
    assert started.wait(timeout=30) == 0, started.describe()
    assert started.argv[0] == sys.executable
    # args replace the image CMD, keep its ENTRYPOINT; $(VAR) expands; mount paths and
    # the container port are remapped; nothing of this process's own environment leaks in.
    assert started.output() == f"['pod', '{tmp_path}/etc/cfg/LOG_LEVEL', '4242'] pod"
    assert set(started.env) - set(cluster.link_env("ns", True)) == {"GREETING", "PATH"}


# ─── Probes ─────────────────────────────────────────────────────────────────


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200 if self.path == "/ok" else 503)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_port():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _idle(tmp_path, spec: dict, ports: dict) -> Container:
    script = "import time; print('listening nowhere', flush=True); time.sleep(60)"
    return Container("idle", [sys.executable, "-c", script], {"PATH": "/usr/bin:/bin"}, str(tmp_path),
                     {"name": "idle", **spec}, Remap(ports=ports))


def test_probe_kinds(tmp_path, http_port):
    container = _idle(tmp_path, {"ports": [{"name": "web", "containerPort": 80}]}, {80: http_port, 81: free_port()})
    try:
        assert container.probe_once({"httpGet": {"path": "/ok", "port": "web"}})[0]
        assert container.probe_once({"httpGet": {"path": "/down", "port": 80}}) == (False, "HTTP 503")
        assert container.probe_once({"tcpSocket": {"port": 80}})[0]
        assert not container.probe_once({"tcpSocket": {"port": 81}})[0]
        assert container.probe_once({"exec": {"command": ["true"]}})[0]
        assert not container.probe_once({"exec": {"command": ["false"]}})[0]
        with pytest.raises(LookupError, match="does not declare"):
            container.probe_once({"tcpSocket": {"port": "metrics"}})
    finally:
        container.stop()


def test_a_probe_that_never_passes_fails_with_the_programs_output(tmp_path):
    probe = {"tcpSocket": {"port": 80}, "periodSeconds": 1, "failureThreshold": 1}
    container = _idle(tmp_path, {"readinessProbe": probe}, {80: free_port()})
    try:
        with pytest.raises(AssertionError, match=r"(?s)readiness never passed within 2 s.*listening nowhere"):
            container.wait_ready()
    finally:
        container.stop()


def test_a_failing_liveness_probe_is_a_restart(tmp_path, http_port):
    container = _idle(tmp_path, {"readinessProbe": {"httpGet": {"path": "/down", "port": 80}, "periodSeconds": 5},
                                 "livenessProbe": {"httpGet": {"path": "/down", "port": 80}, "periodSeconds": 1,
                                                   "failureThreshold": 2}}, {80: http_port})
    try:
        with pytest.raises(AssertionError, match="liveness failed 2 times .*would restart"):
            container.wait_ready()
    finally:
        container.stop()


def test_command_expansion_sees_the_kubelets_variables_not_the_images(tmp_path):
    """The kubelet expands $(VAR) from the variables it computes; the image's ENV reaches
    only the process (pkg/kubelet/container/helpers.go ExpandContainerCommandAndArgs)."""
    image = Image(entrypoint=["python", "-c"], env={"FROM_IMAGE": "image"}, workdir="/srv", files={"/srv": tmp_path})
    container = {"name": "c", "args": ["import sys; print(sys.argv[1:])", "$(FROM_IMAGE)", "$(FROM_POD)"],
                 "env": [{"name": "FROM_POD", "value": "pod"}]}
    started = start_container(cluster=Cluster(), namespace="ns", pod_spec={}, container=container, image=image,
                              root=tmp_path)
    assert started.wait(timeout=30) == 0, started.describe()
    assert started.output() == "['$(FROM_IMAGE)', 'pod']"
    assert started.env["FROM_IMAGE"] == "image"


def test_empty_args_keep_the_images_cmd(tmp_path):
    """containerd's CRI WithProcessArgs: no command and len(args) == 0 -> ENTRYPOINT + CMD."""
    image = Image(entrypoint=["python", "-c"], cmd=["print('image cmd')"], workdir="/srv", files={"/srv": tmp_path})
    started = start_container(cluster=Cluster(), namespace="ns", pod_spec={}, container={"name": "c", "args": []},
                              image=image, root=tmp_path)
    assert started.wait(timeout=30) == 0, started.describe()
    assert started.output() == "image cmd"


def test_probe_defaults_fill_fields_left_out_or_zero():
    """SetDefaults_Probe replaces 0 as well as an absent field."""
    probe = with_probe_defaults({"tcpSocket": {"port": 80}, "periodSeconds": 0, "failureThreshold": 5})
    assert probe == {"tcpSocket": {"port": 80}, "initialDelaySeconds": 0, "timeoutSeconds": 1, "periodSeconds": 10,
                     "successThreshold": 1, "failureThreshold": 5}


# The schedule replayed against attempts made every 0.05 s (`Container.wait_ready`).


def _attempts(until: float, passes_from: float | None) -> list[Attempt]:
    """An attempt every 0.05 s from 0 to `until`, passing from `passes_from` on (never if None)."""
    times = [round(0.05 * i, 2) for i in range(int(round(until / 0.05)) + 1)]
    return [Attempt(t, passes_from is not None and t >= passes_from, "ok" if passes_from is not None
                    and t >= passes_from else "refused") for t in times]


def _probes(**kinds: dict) -> dict:
    return {kind: with_probe_defaults({"tcpSocket": {"port": 80}, **fields}) for kind, fields in kinds.items()}


def test_a_program_that_answers_is_ready_at_the_next_scheduled_probe_without_waiting_for_it():
    probes = _probes(readinessProbe={"periodSeconds": 5}, livenessProbe={"periodSeconds": 10})
    # Before the program answers every scheduled probe after 0 s is still open.
    assert replay_probe_schedule(probes, {k: _attempts(0.75, None) for k in probes}).ready is False
    assert replay_probe_schedule(probes, {k: _attempts(0.75, None) for k in probes}).failure == ""
    # It answers at 0.8 s: the probe due at 5 s will find it so.
    assert replay_probe_schedule(probes, {k: _attempts(0.85, 0.8) for k in probes}).ready is True


def test_an_answer_seen_by_one_probe_only_is_not_carried_forward():
    probes = _probes(readinessProbe={"periodSeconds": 5}, livenessProbe={"periodSeconds": 10})
    seen = {"readinessProbe": _attempts(0.85, 0.8), "livenessProbe": _attempts(0.85, None)}
    assert replay_probe_schedule(probes, seen) == replay_probe_schedule(probes, {k: [] for k in probes})


def test_liveness_failures_before_the_answer_are_a_restart_even_if_it_answers_later():
    probes = _probes(readinessProbe={"periodSeconds": 5}, livenessProbe={"periodSeconds": 1})
    late = replay_probe_schedule(probes, {k: _attempts(2.6, 2.5) for k in probes})
    assert late.ready is False
    assert late.failure.startswith("liveness failed 3 times by 2 s (refused)")
    # Answering at 1.5 s leaves two failures (0 s, 1 s), one short of failureThreshold 3.
    assert replay_probe_schedule(probes, {k: _attempts(1.6, 1.5) for k in probes}).ready is True


def test_success_threshold_counts_scheduled_probes_in_a_row():
    probes = _probes(readinessProbe={"periodSeconds": 2, "successThreshold": 2, "failureThreshold": 2})
    # Due at 0 s (fails), 2 s (passes), 4 s (passes): ready at 4 s, inside the 2*2+1 = 5 s budget.
    assert replay_probe_schedule(probes, {"readinessProbe": _attempts(0.2, 0.1)}).ready is True
    # Answering only at 2.1 s leaves 4 s as the one passing probe before the budget runs out.
    verdict = replay_probe_schedule(probes, {"readinessProbe": _attempts(2.2, 2.1)})
    assert (verdict.ready, verdict.failure) == (False, "readiness never passed within 5 s ({'readinessProbe': 'ok'})")


def test_a_probe_that_never_passes_is_decided_only_once_the_budget_has_been_observed():
    probes = _probes(readinessProbe={"periodSeconds": 1, "failureThreshold": 2})
    assert replay_probe_schedule(probes, {"readinessProbe": _attempts(2.9, None)}) == replay_probe_schedule(
        probes, {"readinessProbe": []})
    verdict = replay_probe_schedule(probes, {"readinessProbe": _attempts(3.0, None)})
    assert verdict.failure == "readiness never passed within 3 s ({'readinessProbe': 'refused'})"
