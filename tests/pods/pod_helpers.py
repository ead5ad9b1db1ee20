"""Shared by the pod tests' fixtures and tests (a module of its own: conftest modules
cannot be imported reliably from tests)."""

from __future__ import annotations

from pathlib import Path

from kubelet import Cluster, Container, Image, Remap, free_port, start_container

REPO = Path(__file__).resolve().parents[2]
STACKS = ("platform", "crossplane", "kro", "kratix")
APPROACHES = ("crossplane", "kro", "kratix")


def moto_image(workdir: Path) -> Image:
    """The pinned motoserver/moto image as far as the kubelet sees it.

    Ref: getmoto/moto@5.2.3:Dockerfile: ENTRYPOINT ["/usr/local/bin/moto_server", "-H",
    "0.0.0.0"], WORKDIR /moto/, ENV PYTHONUNBUFFERED=1. Our pod overrides the entrypoint
    (`python /opt/moto-wrapper/moto_server.py`); moto itself is the PyPI package here,
    and the image's /moto (moto's source tree) is an empty `workdir`.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    return Image(entrypoint=["/usr/local/bin/moto_server", "-H", "0.0.0.0"], env={"PYTHONUNBUFFERED": "1"},
                 workdir="/moto", files={"/moto": workdir})


def start_moto(cluster: Cluster, pod, root: Path) -> tuple[Container, int]:
    port = free_port()
    container = start_container(cluster=cluster, namespace=pod.namespace, pod_spec=pod.spec,
                                container=pod.container("moto"), image=moto_image(root / ".image-moto"), root=root,
                                remap=Remap(ports={5000: port}))
    return container, port
