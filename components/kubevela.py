"""KubeVela's control plane (vela-core), the OAM layer every approach is used through."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import helm, versions
from components.versions import ChartPin
from components.options import child_options


@dataclass
class KubeVelaArgs:
    chart: ChartPin = versions.KUBEVELA_CHART
    namespace: str = "vela-system"
    extra_values: dict[str, Any] = field(default_factory=dict)


class KubeVela(pulumi.ComponentResource):
    """vela-core in `vela-system`; definitions and Applications depend on `release`."""

    def __init__(self, name: str, args: KubeVelaArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:kubevela:KubeVela", name, None, opts)
        values: dict[str, Any] = {
            # One cluster: the cluster-gateway (and its certificate hook Job) is not needed.
            "multicluster": {"enabled": False},
            # The chart pulls its controller image on every start (`Always`), so a restarted
            # cluster without network (a presenter's laptop after sleep) could not start
            # vela-core again. The published chart pins the tag (its release workflow rewrites
            # `latest` to the version), so a cached image is the right image.
            # Ref: kubevela/kubevela@v1.10.9:charts/vela-core/values.yaml (image.pullPolicy),
            # templates/kubevela-controller.yaml (imagePullPolicy), .github/workflows/chart.yml
            "image": {"pullPolicy": "IfNotPresent"},
            **args.extra_values,
        }
        self.release = helm.release(
            name,
            args.chart,
            # Webhook and service names derive from the release name; vela-core
            # expects `kubevela` (charts/vela-core/README.md).
            release_name="kubevela",
            namespace=args.namespace,
            create_namespace=True,
            values=values,
            opts=child_options(self, opts),
        )
        # Ready means: the controller Deployment passed its /readyz probe and the
        # post-install hook patched the webhooks' CA bundle (Helm waits for both).
        self.namespace = self.release.status.namespace
        self.register_outputs({"namespace": self.namespace})
