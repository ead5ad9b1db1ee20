"""A local Kubernetes cluster: k3s in Docker, created and deleted by the k3d CLI.

Everything k3d-specific lives here (and in the image component), so stacks only
see a kubeconfig and a `kubernetes.Provider`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_command import local

from components import versions
from components.options import child_options

_CLUSTER_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")


@dataclass
class K3dClusterArgs:
    name: str
    """Cluster name; k3d prefixes its containers and the kubeconfig context with `k3d-`."""
    k3s_image: str = versions.K3S_IMAGE
    agents: int = 0
    """Worker nodes besides the server; 0 keeps a laptop's memory for the workloads."""
    api_port: int = 6550
    """Host port of the Kubernetes API, bound to 127.0.0.1 so the kubeconfig is stable."""
    http_port: int = 8081
    """Host port mapped to port 80 of k3d's load balancer, i.e. the k3s Traefik ingress."""

    def __post_init__(self) -> None:
        if not _CLUSTER_NAME.match(self.name):
            raise ValueError(
                f"cluster name {self.name!r} must be 1-32 lowercase letters, digits or '-', "
                "starting and ending with a letter or digit"
            )
        if not isinstance(self.agents, int) or isinstance(self.agents, bool) or not 0 <= self.agents <= 5:
            raise ValueError(f"agents must be a whole number from 0 to 5, got {self.agents!r}")
        for field_name in ("api_port", "http_port"):
            port = getattr(self, field_name)
            if not isinstance(port, int) or isinstance(port, bool) or not 1024 <= port <= 65535:
                raise ValueError(f"{field_name} must be a port from 1024 to 65535, got {port!r}")
        if self.api_port == self.http_port:
            raise ValueError(f"api_port and http_port must differ, both are {self.api_port}")
        if ":" not in self.k3s_image or self.k3s_image.rsplit(":", 1)[1] == "latest":
            raise ValueError(f"k3s_image must carry a pinned tag, got {self.k3s_image!r}")


class K3dCluster(pulumi.ComponentResource):
    """Creates the cluster, reads its kubeconfig (a secret) and builds a provider for it."""

    create_command: local.Command
    kubeconfig_command: local.Command
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(self, name: str, args: K3dClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:cluster:K3dCluster", name, None, opts)
        child = child_options(self, opts)
        cluster = shlex.quote(args.name)

        create = " ".join(
            [
                "k3d cluster create",
                cluster,
                f"--image {shlex.quote(args.k3s_image)}",
                f"--agents {args.agents}",
                f"--api-port 127.0.0.1:{args.api_port}",
                f"--port {args.http_port}:80@loadbalancer",
                # Leave the user's ~/.kube/config alone; Pulumi reads the kubeconfig itself.
                "--kubeconfig-update-default=false",
                "--kubeconfig-switch-context=false",
                "--wait",
                "--timeout 300s",
            ]
        )
        # `k3d cluster list NAME` exits non-zero when NAME does not exist, so a
        # rerun after an interrupted `pulumi up` adopts the cluster instead of failing.
        # Ref: k3d-io/k3d@v5.9.0 cmd/cluster/clusterList.go (Fatalln on a missing cluster).
        #
        # The cluster is never replaced in place. A new cluster under the same
        # name and API address would leave every object of this stack (and of the
        # approach stacks) recorded as existing while the cluster is empty: the
        # Kubernetes provider keys on the cluster name, so nothing would be
        # recreated, and Helm releases cannot be deleted through a kubeconfig whose
        # cluster is gone (pulumi-kubernetes provider.go Delete refuses them even
        # with deleteUnreachable). So a changed name, image, agent count or port
        # fails the update with the way out, and changes nothing.
        changed = (
            f"echo 'k3d cluster {args.name}: its settings (name, k3s image, agents, apiPort, httpPort) "
            "changed, and a cluster cannot be changed in place. Bring everything down first "
            "(make down), then up again (make up).' >&2; exit 1"
        )
        self.create_command = local.Command(
            f"{name}-k3d",
            local.CommandArgs(
                create=f"k3d cluster list {cluster} >/dev/null 2>&1 || {create}",
                update=changed,
                delete=f"k3d cluster delete {cluster}",
            ),
            pulumi.ResourceOptions.merge(
                child,
                # Only reachable by a manual `pulumi up --replace`: the name is
                # fixed, so the old cluster must go before its replacement comes.
                pulumi.ResourceOptions(delete_before_replace=True),
            ),
        )

        # A separate command so the kubeconfig never shows in logs, and is read
        # again whenever the cluster is recreated (triggers on its id; a new id
        # comes only from a replacement).
        self.kubeconfig_command = local.Command(
            f"{name}-kubeconfig",
            local.CommandArgs(
                create=f"k3d kubeconfig get {cluster}",
                triggers=[self.create_command.id],
                logging=local.Logging.NONE,
            ),
            pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    depends_on=[self.create_command],
                    additional_secret_outputs=["stdout"],
                ),
            ),
        )
        self.kubeconfig = pulumi.Output.secret(self.kubeconfig_command.stdout)

        self.provider = k8s.Provider(
            f"{name}-provider",
            k8s.ProviderArgs(
                kubeconfig=self.kubeconfig,
                # A regenerated kubeconfig for the same cluster is an update, not a
                # replacement of every Kubernetes object.
                cluster_identifier=args.name,
                # If the cluster was deleted behind Pulumi's back, let destroy finish.
                delete_unreachable=True,
            ),
            child,
        )

        self.cluster_name = args.name
        self.ingress_base_url = f"http://localhost:{args.http_port}"
        self.register_outputs(
            {"clusterName": args.name, "kubeconfig": self.kubeconfig, "ingressBaseUrl": self.ingress_base_url}
        )
