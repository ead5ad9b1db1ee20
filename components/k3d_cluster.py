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
from components.project_paths import TOOLS_BIN  # where the CLI installs the pinned k3d

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


    def settings(self) -> dict[str, str]:
        """What shapes the cluster; a change of any of these needs a new cluster."""
        return {
            "name": self.name,
            "k3sImage": self.k3s_image,
            "agents": str(self.agents),
            "apiPort": str(self.api_port),
            "httpPort": str(self.http_port),
        }


def with_project_tools(command: str) -> str:
    """`command` with the project's `.tools/bin` first on PATH.

    The CLI installs the pinned k3d there when the user's is missing or another
    version, and runs Pulumi with that PATH. A plain `pulumi destroy --stack
    platform` (or `pulumi up`) in the user's own shell does not, and pulumi-command
    runs every command with the engine's environment (os.Environ() plus
    `environment`; Ref: pulumi/pulumi-command@v1.2.1
    provider/pkg/provider/local/commandOutputs.go `run`). The directory is the
    project's own, derived from this file and not from the shell, so the command
    text is the same on every run of one checkout (no diff on a second `up`).
    A `delete` runs with the text stored in the state at the last create or update
    (commandController.go `Delete` uses `req.State`), so the path has to be in the
    command itself.
    """
    return f'PATH={shlex.quote(str(TOOLS_BIN))}:"$PATH"; export PATH; {command}'


def kubeconfig_read_command(cluster_name: str) -> str:
    """Print the cluster's kubeconfig, and nothing else, on stdout.

    k3d writes its info, debug and trace log lines to stdout, not stderr, and a
    `LOG_LEVEL` in the user's environment raises the level (`debug` prints the
    runtime info and "Getting kubeconfig ..." before the YAML; `trace` prints the
    whole kubeconfig struct, keys included). `LOG_COLORS`/`LOG_TIMESTAMPS` change
    those lines too. Ref: k3d-io/k3d@v5.9.0 cmd/root.go `initLogging` (hooks:
    Info/Debug/Trace -> os.Stdout, Warn and worse -> os.Stderr; LOG_LEVEL is read
    unless --verbose/--trace is given). So `k3d kubeconfig get`, which prints to
    that same stdout, cannot be read as a kubeconfig. `k3d kubeconfig merge
    --output FILE --overwrite` writes only the kubeconfig to FILE (a fresh file,
    current-context `k3d-<name>`; Ref: cmd/kubeconfig/kubeconfigMerge.go,
    pkg/client/kubeconfig.go `KubeconfigGetWrite`/`KubeconfigWriteToPath`); its
    stdout (the path and any log lines) is discarded and the file is printed. The
    file lives in a private temporary directory that is removed on exit.
    """
    cluster = shlex.quote(cluster_name)
    return with_project_tools(
        "dir=$(mktemp -d) || exit 1; trap 'rm -rf \"$dir\"' EXIT; "
        f'k3d kubeconfig merge {cluster} --output "$dir/kubeconfig" --overwrite >/dev/null '
        '&& cat "$dir/kubeconfig"'
    )


def settings_record_command(settings: dict[str, str]) -> str:
    """Prints `key=value` lines: the stdout the settings guard keeps in the state."""
    return "printf '%s\\n' " + " ".join(shlex.quote(f"{k}={v}") for k, v in settings.items())


def settings_check_command(settings: dict[str, str]) -> str:
    """The guard's `update`: refuse a changed setting, naming it; let anything else through.

    pulumi-command runs `update` whenever any input of the guard changed, with the
    stdout of the previous run in PULUMI_COMMAND_STDOUT (commandOutputs.go `run`,
    AddPreviousOutputInEnv defaults to true; commandController.go `Update` keeps
    the old outputs). The guard's inputs are only the settings and this script, so
    it runs for a changed setting or a reworded script, and compares the recorded
    settings with the new ones. A setting the old record does not have (one added
    in a later version) counts as unchanged. On success it prints the new record.
    """
    name = shlex.quote(settings["name"])
    pairs = " ".join(shlex.quote(f"{k}={v}") for k, v in settings.items())
    return (
        'old=${PULUMI_COMMAND_STDOUT-}; changed=""; '
        f"for pair in {pairs}; do "
        'key=${pair%%=*}; '
        'printf "%s\\n" "$old" | grep -q "^$key=" || continue; '
        'printf "%s\\n" "$old" | grep -qxF -- "$pair" && continue; '
        'was=$(printf "%s\\n" "$old" | sed -n "s/^$key=//p"); '
        'changed="$changed $key ($was -> ${pair#*=})"; '
        "done; "
        'if [ -n "$changed" ]; then '
        f"echo \"k3d cluster {name}: changed settings:$changed. A cluster cannot be changed in place. "
        "Bring everything down first (make down), then up again (make up).\" >&2; exit 1; "
        "fi; "
        + settings_record_command(settings)
    )


class K3dCluster(pulumi.ComponentResource):
    """Creates the cluster, reads its kubeconfig (a secret) and builds a provider for it."""

    settings_guard: local.Command
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

        # The cluster is never replaced in place. A new cluster under the same
        # name and API address would leave every object of this stack (and of the
        # approach stacks) recorded as existing while the cluster is empty: the
        # Kubernetes provider keys on the cluster name, so nothing would be
        # recreated, and Helm releases cannot be deleted through a kubeconfig whose
        # cluster is gone (pulumi-kubernetes provider.go Delete refuses them even
        # with deleteUnreachable). So a changed name, image, agent count or port
        # fails the update with the way out, and changes nothing.
        #
        # That check is its own command whose inputs are the settings alone: the
        # cluster command's text also changes for reasons that are no cluster
        # change (the tools PATH above, a new flag, quoting), and those must go
        # through. Everything below waits for the guard, so a refused change stops
        # before anything touches the cluster.
        settings = args.settings()
        self.settings_guard = local.Command(
            f"{name}-settings",
            local.CommandArgs(
                create=settings_record_command(settings),
                update=settings_check_command(settings),
            ),
            child,
        )

        # `k3d cluster list NAME` exits non-zero when NAME does not exist, so a
        # rerun after an interrupted `pulumi up` adopts the cluster instead of failing.
        # Ref: k3d-io/k3d@v5.9.0 cmd/cluster/clusterList.go (Fatalln on a missing cluster).
        # No `update`: pulumi-command then runs `create` again on a changed text
        # (commandController.go `Update`), which finds the cluster and does nothing.
        self.create_command = local.Command(
            f"{name}-k3d",
            local.CommandArgs(
                create=with_project_tools(f"k3d cluster list {cluster} >/dev/null 2>&1 || {create}"),
                delete=with_project_tools(f"k3d cluster delete {cluster}"),
            ),
            pulumi.ResourceOptions.merge(
                child,
                # Only reachable by a manual `pulumi up --replace`: the name is
                # fixed, so the old cluster must go before its replacement comes.
                pulumi.ResourceOptions(delete_before_replace=True, depends_on=[self.settings_guard]),
            ),
        )

        # A separate command so the kubeconfig never shows in logs, and is read
        # again whenever the cluster is recreated (triggers on its id; a new id
        # comes only from a replacement).
        self.kubeconfig_command = local.Command(
            f"{name}-kubeconfig",
            local.CommandArgs(
                create=kubeconfig_read_command(args.name),
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
