"""On destroy: wait until the ACK Tables the DynamoDB Promise produced are deleted.

A `local.Command` with no create command and a `delete` that runs
`python -m tools.wait_tables_gone` from the project folder (the virtualenv's
Python when there is one). Its place in the graph is the point:

    Application ──depends on──> TablesGone ──depends on──> Promise, Destination,
                                                           Kustomizations, Flux, Kratix

so on destroy the Application (and with it the request) is deleted first, then
this command waits for the Tables, while the Promise, Flux, Kratix and the
platform's ACK controller still run; only then do they go. Why Flux's own
`WaitForTermination` is not enough: tools/wait_tables_gone.py.

pulumi-command runs `delete` with the inputs stored by the last create/update
(pulumi/pulumi-command@v1.2.1 provider/pkg/provider/local/commandController.go
Delete), so the kubeconfig goes in as an environment input, a Pulumi secret:
encrypted in the state, never on a command line or in the logs; a new
kubeconfig updates the stored inputs (no create command runs). The command
runs in the provider's working directory, the project folder
(commandOutputs.go: `cmd.Dir = os.Getwd()` when `dir` is unset; the engine starts
every provider plugin in the program's directory: pulumi/pulumi
sdk/go/common/resource/plugin/plugin.go `execPlugin`, `cmd.Dir = pwd`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_command import local

from components.options import child_options
from components.table_wait_env import (
    ENV_ACK_NAMESPACE,
    ENV_KUBE_CONTEXT,
    ENV_KUBECONFIG,
    ENV_KUSTOMIZATION,
    ENV_SELECTOR,
    ENV_TIMEOUT,
)

WAIT_COMMAND = (
    "if [ -x venv/bin/python ]; then exec venv/bin/python -m tools.wait_tables_gone; "
    "else exec python3 -m tools.wait_tables_gone; fi"
)
"""`venv` is the project's virtualenv (Pulumi.yaml `virtualenv: venv`), which holds the
client's dependencies (requests, PyYAML); the command runs in the project folder."""


@dataclass
class TablesGoneArgs:
    kubeconfig: pulumi.Input[str]
    """The cluster's kubeconfig (a Pulumi secret)."""
    selector: str
    """Label selector of the Tables to wait for (what the pipeline stamps on them)."""
    ack_namespace: pulumi.Input[str] = "ack-system"
    """Where the ACK controller runs (named in the timeout message)."""
    kustomization: str = "flux-system/kratix-platform-resources"
    """namespace/name of the Flux Kustomization that applies the Tables (named in the timeout message)."""
    timeout_minutes: int = 10
    kube_context: pulumi.Input[str] = ""
    """The kubeconfig context the platform uses ('' = the kubeconfig's current one), so the wait
    watches the same cluster every other object of the stack was applied to."""

    def __post_init__(self) -> None:
        if not self.selector or any(c.isspace() for c in self.selector):
            raise ValueError(f"selector must be a label selector without spaces, got {self.selector!r}")
        if "/" not in self.kustomization:
            raise ValueError(f"kustomization must be namespace/name, got {self.kustomization!r}")
        if not isinstance(self.timeout_minutes, int) or not 1 <= self.timeout_minutes <= 60:
            raise ValueError(f"timeout_minutes must be a whole number from 1 to 60, got {self.timeout_minutes!r}")


class TablesGone(pulumi.ComponentResource):
    """`command` is what the Application depends on; its own `depends_on` are what must outlive the wait."""

    def __init__(self, name: str, args: TablesGoneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:kratix:TablesGone", name, None, opts)
        self.command = local.Command(
            f"{name}-wait",
            local.CommandArgs(
                # Nothing to do on create: the wait matters only on destroy.
                delete=WAIT_COMMAND,
                environment={
                    ENV_KUBECONFIG: pulumi.Output.secret(args.kubeconfig),
                    ENV_KUBE_CONTEXT: args.kube_context,
                    ENV_SELECTOR: args.selector,
                    ENV_TIMEOUT: str(args.timeout_minutes * 60),
                    ENV_ACK_NAMESPACE: args.ack_namespace,
                    ENV_KUSTOMIZATION: args.kustomization,
                },
            ),
            child_options(self, opts),
        )
        self.register_outputs({"selector": args.selector})
