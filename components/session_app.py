"""A session API application: one KubeVela Application with the table and the API.

The same Application shape serves every approach; only the table component's
type (`aws-dynamodb-<engine>`) differs. The table's properties come from the
session table definition the API itself reads (app/session_api/table.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from app.session_api import table as session_table
from components.options import child_options
from components.vela_definitions import dynamodb_definition_name

API_PORT = 8080
"""The port the session API image listens on (its PORT default)."""


@dataclass
class SessionApplicationArgs:
    engine: str
    """`xp`, `kro` or `kratix`: picks the `aws-dynamodb-<engine>` component type."""
    app_name: str
    namespace: pulumi.Input[str]
    table_name: pulumi.Input[str]
    image: pulumi.Input[str]
    region: pulumi.Input[str]
    endpoint: pulumi.Input[str]
    """DynamoDB endpoint override for the API ('' for AWS)."""
    credentials_secret: pulumi.Input[str]
    ingress_host: pulumi.Input[str]
    ingress_class: pulumi.Input[str]
    image_pull_secrets: pulumi.Input[list[str]] = ()
    """Secrets (in the app namespace) for pulling the image from a private registry."""
    replicas: int = 1
    timeout_minutes: int = 20

    def __post_init__(self) -> None:
        if not isinstance(self.replicas, int) or not 1 <= self.replicas <= 10:
            raise ValueError(f"replicas must be a whole number from 1 to 10, got {self.replicas!r}")
        if not isinstance(self.timeout_minutes, int) or self.timeout_minutes < 1:
            raise ValueError(f"timeout_minutes must be a whole number of at least 1, got {self.timeout_minutes!r}")


def table_component_name(engine: str) -> str:
    return f"sessions-table-{engine}"


def api_component_name(engine: str) -> str:
    return f"session-api-{engine}"


def application_spec(
    engine: str,
    table_name: str,
    image: str,
    region: str,
    endpoint: str,
    credentials_secret: str,
    ingress_host: str,
    ingress_class: str,
    replicas: int,
    image_pull_secrets: list[str] | tuple[str, ...] = (),
) -> dict:
    """The Application's spec (plain values; see SessionApplication for the Pulumi wiring)."""
    table_component = table_component_name(engine)
    client = {"tableName": table_name, "region": region, "credentialsSecret": credentials_secret}
    if endpoint:
        client["endpoint"] = endpoint
    probe = {"httpGet": {"path": "/health", "port": API_PORT}, "periodSeconds": 10, "failureThreshold": 3}
    api_properties = {
        "image": image,
        # Imported into the k3d nodes (never pulled), or pushed under a content-hash tag.
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"port": API_PORT, "expose": True}],
        "livenessProbe": probe,
        # /ready answers 200 only when the table exists and is ACTIVE.
        "readinessProbe": {**probe, "httpGet": {"path": "/ready", "port": API_PORT}, "periodSeconds": 5},
    }
    if image_pull_secrets:
        api_properties["imagePullSecrets"] = list(image_pull_secrets)
    return {
        "components": [
            {
                "name": table_component,
                "type": dynamodb_definition_name(engine),
                "properties": session_table.component_properties(table_name),
            },
            {
                "name": api_component_name(engine),
                "type": "webservice",
                # The API starts only once the table component reports healthy.
                "dependsOn": [table_component],
                "properties": api_properties,
                "traits": [
                    {"type": "scaler", "properties": {"replicas": replicas}},
                    {
                        "type": "resource",
                        "properties": {
                            "requests": {"cpu": "100m", "memory": "128Mi"},
                            "limits": {"cpu": "500m", "memory": "256Mi"},
                        },
                    },
                    {"type": "dynamodb-client", "properties": client},
                    {"type": "http-ingress", "properties": {"host": ingress_host, "ingressClassName": ingress_class}},
                ],
            },
        ]
    }


class SessionApplication(pulumi.ComponentResource):
    """The Application CR; Pulumi waits until KubeVela reports it `running`."""

    def __init__(self, name: str, args: SessionApplicationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:apps:SessionApplication", name, None, opts)
        spec = pulumi.Output.all(
            args.table_name,
            args.image,
            args.region,
            args.endpoint,
            args.credentials_secret,
            args.ingress_host,
            args.ingress_class,
            args.image_pull_secrets,
        ).apply(lambda v: application_spec(args.engine, *v[:7], replicas=args.replicas, image_pull_secrets=v[7]))
        self.application = k8s.apiextensions.CustomResource(
            name,
            api_version="core.oam.dev/v1beta1",
            kind="Application",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.app_name,
                namespace=args.namespace,
                annotations={
                    # `running` = workflow succeeded and every component is healthy:
                    # the table is ready and the API passed its /ready probe.
                    # If this times out: `vela status <app> -n <namespace>` names the
                    # component that is not healthy, and its status message says why.
                    "pulumi.com/waitFor": "jsonpath={.status.status}=running",
                },
            ),
            spec=spec,
            opts=pulumi.ResourceOptions.merge(
                child_options(self, opts),
                pulumi.ResourceOptions(
                    # Delete waits too: KubeVela keeps the Application until every
                    # resource it applied is gone, i.e. until the engine deleted the
                    # table. Without a delete timeout Pulumi gives up after its
                    # default 10 minutes and leaves the Application (and a table
                    # still being deleted) behind a failed destroy.
                    custom_timeouts=pulumi.CustomTimeouts(
                        create=f"{args.timeout_minutes}m",
                        update=f"{args.timeout_minutes}m",
                        delete=f"{args.timeout_minutes}m",
                    )
                ),
            ),
        )
        self.app_name = args.app_name
        self.register_outputs({"appName": args.app_name})
