"""The `platform` stack: the cluster and everything the three approaches share.

Cluster (k3d, or an existing one) -> KubeVela + shared traits; apps namespace;
DynamoDB target (emulator or AWS identities) -> ACK DynamoDB controller;
session API image (imported into k3d, or pushed to a registry).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.ack_dynamodb import AckDynamoDB, AckDynamoDBArgs
from components.dynamodb_target import DynamoDBTarget, DynamoDBTargetArgs
from components.existing_cluster import ExistingCluster, ExistingClusterArgs
from components.k3d_cluster import K3dCluster, K3dClusterArgs
from components.kubevela import KubeVela, KubeVelaArgs
from components.session_api_image import SessionApiImage, SessionApiImageArgs
from components.vela_definitions import SharedTraits, SharedTraitsArgs
from stacks.config import (
    ConfigError,
    _validated,
    existing_kubeconfig,
    kube_context,
    platform_config,
    resolved_kube_context,
)


def build() -> None:
    cfg = platform_config()

    if cfg.cluster_mode == "k3d":
        if kube_context():
            raise ConfigError(
                "config kubeContext: only used with clusterMode existing; k3d writes its own kubeconfig"
            )
        cluster = K3dCluster(
            "cluster",
            _validated(
                "clusterName/agents/apiPort/httpPort",
                lambda: K3dClusterArgs(
                    name=cfg.cluster_name, agents=cfg.agents, api_port=cfg.api_port, http_port=cfg.http_port
                ),
            ),
        )
        image_args = SessionApiImageArgs(cluster_name=cfg.cluster_name, cluster_id=cluster.create_command.id)
        # k3d's kubeconfig has the one context `k3d-<name>`, its current one.
        context = resolved_kube_context(cluster.kubeconfig, None)
    else:
        kubeconfig = existing_kubeconfig()
        # Resolved once, here: the approach stacks and the CLI use this very context by
        # name, never whatever the kubeconfig's current context happens to be.
        context = resolved_kube_context(kubeconfig, kube_context())
        cluster = ExistingCluster(
            "cluster", ExistingClusterArgs(name=cfg.cluster_name, kubeconfig=kubeconfig, context=context)
        )
        image_args = SessionApiImageArgs(registry=cfg.image_registry, platform=cfg.image_platform)
    if cfg.ack_role_arn and cfg.dynamodb_mode != "aws":
        raise ConfigError("config ackRoleArn: only used with dynamodbMode aws (the emulator takes dummy keys)")
    on_cluster = pulumi.ResourceOptions(providers=[cluster.provider])

    kubevela = KubeVela("kubevela", KubeVelaArgs(), on_cluster)
    traits = SharedTraits(
        "shared-traits",
        SharedTraitsArgs(namespace=kubevela.namespace),
        # TraitDefinitions go through vela-core's webhooks: wait for the release.
        pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[kubevela.release])),
    )

    apps_namespace = k8s.core.v1.Namespace(
        "apps-namespace", metadata=k8s.meta.v1.ObjectMetaArgs(name=cfg.apps_namespace), opts=on_cluster
    )
    target = DynamoDBTarget(
        "dynamodb",
        _validated(
            "dynamodbMode/awsRegion/tablePrefix",
            lambda: DynamoDBTargetArgs(
                mode=cfg.dynamodb_mode,
                region=cfg.aws_region,
                table_prefix=cfg.table_prefix,
                apps_namespace=apps_namespace.metadata.name,
                # On k3d the ingress port is on the user's machine: smoke and the teardown
                # audit reach the emulator there. A shared cluster keeps it internal.
                emulator_ingress_host=f"dynamodb.{cfg.ingress_domain}" if cfg.cluster_mode == "k3d" else "",
                ingress_class=cfg.ingress_class,
            ),
        ),
        on_cluster,
    )
    ack = AckDynamoDB(
        "ack-dynamodb",
        AckDynamoDBArgs(
            region=target.region,
            endpoint=target.endpoint,
            credentials_ini=target.engine_credentials_ini,
            role_arn=cfg.ack_role_arn,
        ),
        # The controller calls STS at start-up: the emulator must already serve.
        pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[target])),
    )
    image = SessionApiImage("session-api-image", image_args)
    default_port = {"http": 80, "https": 443}[cfg.ingress_scheme]
    ingress_base_url = f"{cfg.ingress_scheme}://localhost" if cfg.cluster_mode == "k3d" else ""
    if ingress_base_url and cfg.ingress_port != default_port:
        ingress_base_url += f":{cfg.ingress_port}"

    pulumi.export("clusterMode", cfg.cluster_mode)
    pulumi.export("clusterName", cfg.cluster_name)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    pulumi.export("kubeContext", context)
    pulumi.export("velaNamespace", kubevela.namespace)
    pulumi.export("sharedTraits", sorted(traits.definitions))
    pulumi.export("appsNamespace", apps_namespace.metadata.name)
    pulumi.export("dynamodbMode", target.mode)
    pulumi.export("dynamodbRegion", target.region)
    pulumi.export("dynamodbEndpoint", target.endpoint)
    host_endpoint = ""
    if cfg.dynamodb_mode == "local" and cfg.cluster_mode == "k3d":
        host_endpoint = f"http://dynamodb.{cfg.ingress_domain}" + ("" if cfg.ingress_port == 80 else f":{cfg.ingress_port}")
    # Where tools on the user's machine reach the emulator ('' when they cannot or need not).
    pulumi.export("dynamodbHostEndpoint", host_endpoint)
    # Where they reach it through the Kubernetes API server instead (its service proxy):
    # on a cluster whose ingress the program does not control, the only way in.
    pulumi.export("dynamodbEmulatorService", target.emulator_service_ref)
    pulumi.export("tablePrefix", target.table_prefix)
    pulumi.export("engineCredentials", target.engine_credentials_ini)
    pulumi.export("appCredentialsSecret", target.app_credentials_secret.metadata.name)
    pulumi.export("ackNamespace", ack.namespace_name)
    pulumi.export("sessionApiImage", image.image)
    pulumi.export("imageRegistry", cfg.image_registry)
    # '' on k3d; the platform images for the existing cluster's nodes are built for.
    pulumi.export("imagePlatform", cfg.image_platform)
    pulumi.export("imagePullSecrets", list(cfg.image_pull_secrets))
    pulumi.export("ingressClass", cfg.ingress_class)
    pulumi.export("ingressDomain", cfg.ingress_domain)
    pulumi.export("ingressScheme", cfg.ingress_scheme)
    pulumi.export("ingressHttpPort", cfg.ingress_port)
    pulumi.export("ingressBaseUrl", ingress_base_url)
