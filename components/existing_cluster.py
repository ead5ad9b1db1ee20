"""A cluster the program does not own (EKS or any kubeconfig): only a provider for it.

Nothing here creates or deletes the cluster, so `pulumi destroy` removes only
the objects the stacks created on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import yaml

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


def kubeconfig_context(kubeconfig: str, wanted: str | None) -> str:
    """`wanted` if the kubeconfig has that context, else its current context; ValueError says what is wrong."""
    try:
        config = yaml.safe_load(kubeconfig) or {}
    except yaml.YAMLError:
        # Not echoed: the YAML error's snippet would show key material.
        raise ValueError("the kubeconfig is not valid YAML") from None
    if not isinstance(config, dict):
        raise ValueError("the kubeconfig is not a YAML mapping")
    names = [c.get("name") for c in config.get("contexts") or [] if isinstance(c, dict)]
    name = wanted or config.get("current-context")
    if not name:
        raise ValueError(f"the kubeconfig has no current-context; set kubeContext to one of {names}")
    if name not in names:
        raise ValueError(f"context {name!r} is not in the kubeconfig; its contexts: {names}")
    return name


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
