"""cert-manager: issues the Kratix webhook and metrics certificates.

The Kratix chart ships an Issuer and two Certificates and its pod mounts their
Secrets, so Kratix cannot start without a serving cert-manager.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import helm, versions
from components.options import child_options
from components.versions import ChartPin


@dataclass
class CertManagerArgs:
    namespace: str = "cert-manager"
    chart: ChartPin = versions.CERT_MANAGER_CHART

    def __post_init__(self) -> None:
        if not self.namespace:
            raise ValueError("namespace must not be empty")


def cert_manager_values() -> dict:
    """Ref: cert-manager/cert-manager@v1.19.6 deploy/charts/cert-manager/values.yaml."""
    return {
        # The CRDs are chart templates, off by default.
        "crds": {
            "enabled": True,
            # Without `keep` the CRDs go with the release on destroy, as everything
            # else this stack installs does. Only this stack uses cert-manager.
            "keep": False,
        },
        # startupapicheck stays on (the default): it is a post-install hook Job that
        # runs `cmctl check api --wait`, and Helm waits for hook Jobs, so a finished
        # release means the cert-manager webhook really serves.
    }


class CertManager(pulumi.ComponentResource):
    """The cert-manager release; anything issuing certificates depends on `release`."""

    def __init__(self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:kratix:CertManager", name, None, opts)
        child = child_options(self, opts)
        # A Namespace of our own rather than Helm's create_namespace, which Helm never
        # deletes: destroy removes it after the release.
        self.namespace_resource = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace), opts=child
        )
        self.release = helm.release(
            name,
            args.chart,
            release_name="cert-manager",
            namespace=args.namespace,
            values=cert_manager_values(),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.namespace_resource])),
            # startupapicheck retries up to 4 times with `--wait=1m`.
            timeout_seconds=900,
        )
        self.namespace = args.namespace
        self.register_outputs({"namespace": args.namespace})
