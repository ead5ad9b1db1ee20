"""Fixtures for the pod tests: the four stacks' plans, the cluster objects they create,
and one moto emulator pod per test process (xdist workers each start their own)."""

from __future__ import annotations

import pytest

from kubelet import Cluster, dockerfile_image
from pod_helpers import APPROACHES, REPO, STACKS, start_moto
from tools.plan import plan
from workloads import pod_written_by, session_api_pod


@pytest.fixture(scope="session")
def plans() -> dict:
    """Each stack's offline plan with its checked-in config (what `make plan` prints)."""
    return {stack: plan(stack) for stack in STACKS}


@pytest.fixture(scope="session")
def session_api_pods(plans, cue) -> dict:
    """approach -> (pod, Service) of its session API, rendered by KubeVela's rules and our CUE."""
    return {a: session_api_pod(plans[a], plans["platform"], cue) for a in APPROACHES}


@pytest.fixture(scope="session")
def cluster(plans, session_api_pods) -> Cluster:
    """Every Service, ConfigMap and Secret of the four stacks, plus the Services the
    session APIs' webservice components render (all in the apps namespace)."""
    return Cluster.from_plans(*plans.values(), extra=[service for _, service in session_api_pods.values()])


@pytest.fixture(scope="session")
def moto(plans, cluster, tmp_path_factory):
    """The platform's moto Deployment, started as the kubelet would and ready; yields its 127.0.0.1 port."""
    pod = pod_written_by(plans["platform"], "Deployment", "moto")
    container, port = start_moto(cluster, pod, tmp_path_factory.mktemp("moto-pod"))
    try:
        container.wait_ready()
        yield container, port
    finally:
        container.stop()


@pytest.fixture(scope="session")
def session_api_image():
    return dockerfile_image(REPO / "app" / "Dockerfile")


@pytest.fixture(scope="session")
def pipeline_image():
    return dockerfile_image(REPO / "components" / "kratix" / "pipeline" / "Dockerfile")
