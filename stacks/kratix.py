"""The `kratix` stack: DynamoDB tables through a Kratix Promise, used from KubeVela.

cert-manager -> Kratix (controller + webhooks; images pinned by digest)
MinIO (bucket) + Flux -> BucketStateStore, Destination `platform`, Flux Bucket and
Kustomizations (what Kratix writes to the bucket is applied back into this cluster)
-> Promise `dynamodb` (API DynamoDBRequest; pipeline: request -> ACK Table, then
wait until the table is ACTIVE) -> ComponentDefinition `aws-dynamodb-kratix`
-> Application `session-api-app-kratix`.

The ACK DynamoDB controller is the platform's (shared with `kro`). `pulumi up`
returns once the Application is `running`: the request is Reconciled (its
workflow saw the table ACTIVE) and the API passed its /ready probe.

`pulumi destroy` runs the same edges backwards: the Application (KubeVela deletes
the DynamoDBRequest; Kratix deletes its Work and the file in the bucket; Flux
prunes the Table), then the wait until every ACK Table the Promise produced is
gone (ACK, still running, deletes each table first; components/kratix_table_wait.py),
then the Promise, the Kustomizations, the Destination and the state store, Flux,
MinIO, Kratix, cert-manager.
"""

from __future__ import annotations

import hashlib

import pulumi

from components.cert_manager import CertManager, CertManagerArgs
from components.flux import Flux, FluxArgs
from components.kratix import Kratix, KratixArgs
from components.kratix_destination import KratixDestination, KratixDestinationArgs
from components.kratix_promise import TABLE_LABEL, DynamoDBPromise, DynamoDBPromiseArgs, cluster_identity
from components.kratix_table_wait import TablesGone, TablesGoneArgs
from components.minio import ROOT_USER, Minio, MinioArgs
from components.session_app import SessionApplication
from components.vela_definitions import DynamoDBComponentDefinition, DynamoDBComponentDefinitionArgs
from stacks.config import _validated, kratix_config
from stacks.platform_ref import read_platform

ENGINE = "kratix"


def _state_store_password(kubeconfig: pulumi.Output[str]) -> pulumi.Output[str]:
    """A per-cluster MinIO password: stable across runs (nothing random in the plan), a secret.

    MinIO is reachable only inside the cluster; its credentials never leave Pulumi
    secrets and Kubernetes Secrets.
    """
    return pulumi.Output.secret(
        kubeconfig.apply(lambda text: hashlib.sha256(b"kratix-state-store\0" + text.encode()).hexdigest()[:40])
    )


def build() -> None:
    cfg = kratix_config()
    platform = read_platform()
    on_cluster = pulumi.ResourceOptions(providers=[platform.provider])

    def on_cluster_after(*resources: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=list(resources)))

    cert_manager = CertManager("cert-manager", CertManagerArgs(), on_cluster)
    # Kratix's chart holds an Issuer and Certificates: cert-manager's webhook must serve.
    kratix = Kratix("kratix", KratixArgs(), on_cluster_after(cert_manager.release))

    password = _state_store_password(platform.kubeconfig)
    minio = Minio(
        "kratix-state-store",
        _validated("stateStoreNamespace", lambda: MinioArgs(root_password=password, namespace=cfg.state_store_namespace)),
        on_cluster,
    )
    flux = Flux("flux", FluxArgs(), on_cluster)

    destination = KratixDestination(
        "kratix-destination",
        KratixDestinationArgs(
            endpoint=minio.endpoint,
            bucket=minio.bucket,
            access_key=ROOT_USER,
            secret_key=password,
            credentials_namespace=cfg.state_store_namespace,
            flux_namespace=flux.namespace,
        ),
        # Kratix's webhooks validate the store and Destination; the store is Ready only
        # once the bucket exists; Flux's CRDs come with its release.
        on_cluster_after(*kratix.ready, minio.bucket_job, flux.release),
    )

    promise = DynamoDBPromise(
        "dynamodb-promise",
        _validated(
            "promiseTimeoutMinutes",
            lambda: DynamoDBPromiseArgs(
                destination_selector=destination.selector,
                cluster_name=platform.cluster_name,
                cluster_identity=cluster_identity(platform.kubeconfig),
                registry=platform.image_registry,
                image_pull_secrets=platform.image_pull_secrets,
                platform=platform.image_platform,
                timeout_minutes=cfg.promise_timeout_minutes,
            ),
        ),
        # On destroy the Promise goes before the Destination, the Kustomizations and
        # Kratix, which its deletion (requests, Works, files, CRD) still needs.
        on_cluster_after(*kratix.ready, *destination.ready),
    )

    definition = DynamoDBComponentDefinition(
        "dynamodb-definition-kratix",
        DynamoDBComponentDefinitionArgs(engine=ENGINE, namespace=platform.vela_namespace, region=platform.dynamodb_region),
        on_cluster,
    )

    # Destroy only: after the Application (and its request) is gone, wait until ACK,
    # still running, has deleted every Table the Promise produced; only then may the
    # Promise, the Kustomizations, Flux and Kratix go (they depend on nothing here,
    # this depends on them). Flux prunes a Table without waiting for it.
    tables_gone = TablesGone(
        "kratix-tables-gone",
        TablesGoneArgs(
            kubeconfig=platform.kubeconfig,
            kube_context=platform.kube_context,
            selector=TABLE_LABEL,
            ack_namespace=platform.ack_namespace,
            kustomization=destination.resources_kustomization,
        ),
        pulumi.ResourceOptions(depends_on=[promise.promise, *destination.ready, *kratix.ready, flux.release]),
    )

    table_name = platform.table_name(ENGINE)
    app = SessionApplication(
        f"session-api-app-{ENGINE}",
        _validated("appTimeoutMinutes", lambda: platform.session_app_args(ENGINE, cfg.app_timeout_minutes)),
        # The DynamoDBRequest needs its definition, an Available Promise (its CRD served)
        # and Flux applying what the pipeline writes. On destroy the same edges delete
        # the Application, and with it the request, while all of them still run; then
        # the Tables' wait runs before any of them goes.
        on_cluster_after(definition, promise.promise, *destination.ready, tables_gone.command),
    )

    pulumi.export("applicationName", app.app_name)
    pulumi.export("applicationNamespace", platform.apps_namespace)
    pulumi.export("tableName", table_name)
    pulumi.export("apiUrl", platform.app_url(ENGINE))
    # The same API reached through the Kubernetes API server (`smoke` on a cluster without DNS for the ingress).
    pulumi.export("apiService", platform.api_service(ENGINE))
    pulumi.export("componentDefinition", definition.definition_name)
    pulumi.export("promise", "dynamodb")
    pulumi.export("requestKind", f"{promise.request_api_version} {promise.request_kind}")
    pulumi.export("pipelineImage", promise.image)
    pulumi.export("destination", "platform")
    pulumi.export("stateStoreEndpoint", minio.endpoint)
    pulumi.export("dynamodbMode", platform.dynamodb_mode)
