"""A cluster the program does not own (EKS or any kubeconfig): only a provider for it.

Nothing here creates or deletes the cluster, so `pulumi destroy` removes only
the objects the stacks created on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.options import child_options


@dataclass
class ExistingClusterArgs:
    name: str
    """A stable name for the cluster; a changed name replaces every object on it."""
    kubeconfig: pulumi.Input[str]
    """Kubeconfig content (a secret)."""
    context: pulumi.Input[str] | None = None
    """Context in the kubeconfig; its current context when unset."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name must not be empty")


class ExistingCluster(pulumi.ComponentResource):
    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:cluster:ExistingCluster", name, None, opts)
        self.kubeconfig = pulumi.Output.secret(args.kubeconfig)
        self.provider = k8s.Provider(
            f"{name}-provider",
            k8s.ProviderArgs(
                kubeconfig=self.kubeconfig,
                context=args.context,
                cluster_identifier=args.name,
            ),
            child_options(self, opts),
        )
        self.cluster_name = args.name
        self.register_outputs({"clusterName": args.name})
