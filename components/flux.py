"""Flux: applies what Kratix writes to the state store back into this cluster.

Only source-controller (reads the bucket) and kustomize-controller (applies and
prunes) are needed; the chart's other controllers are switched off.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import helm, versions
from components.options import child_options
from components.versions import ChartPin


@dataclass
class FluxArgs:
    namespace: str = "flux-system"
    chart: ChartPin = versions.FLUX_CHART

    def __post_init__(self) -> None:
        if not self.namespace:
            raise ValueError("namespace must not be empty")


def flux_values() -> dict:
    """Ref: fluxcd-community/helm-charts charts/flux2/values.yaml (chart 2.16.4, commit e07cfacf)."""
    return {
        "helmController": {"create": False},
        "imageAutomationController": {"create": False},
        "imageReflectionController": {"create": False},
        # The kustomize-controller template drops --events-addr when this is off.
        "notificationController": {"create": False},
        # Defaults kept on purpose: installCRDs true (Bucket/Kustomization CRDs come
        # with the release), watchAllNamespaces true, and the cluster-reconciler
        # binding to cluster-admin, which lets Kustomizations apply ACK Tables.
    }


class Flux(pulumi.ComponentResource):
    """The Flux release; Bucket and Kustomization objects depend on `release`."""

    def __init__(self, name: str, args: FluxArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:kratix:Flux", name, None, opts)
        child = child_options(self, opts)
        # A Namespace of our own rather than Helm's create_namespace, which Helm never
        # deletes: destroy removes it after the release.
        self.namespace_resource = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace), opts=child
        )
        self.release = helm.release(
            name,
            args.chart,
            release_name="flux2",
            namespace=args.namespace,
            values=flux_values(),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.namespace_resource])),
        )
        self.namespace = args.namespace
        self.register_outputs({"namespace": args.namespace})
