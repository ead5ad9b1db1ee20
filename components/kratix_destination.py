"""A single-cluster Kratix Destination: Kratix writes to a bucket, Flux applies it here.

    BucketStateStore ──> MinIO bucket <── Flux Bucket ──> Kustomizations
    Destination (path P) writes P/dependencies/... and P/resources/...

- BucketStateStore + its Secret (keys accessKeyID/secretAccessKey), Ready once
  Kratix could write to the bucket;
- Destination (label `environment: <name>`), Ready once Kratix wrote its canary
  files (P/dependencies/kratix-canary-namespace.yaml and
  P/resources/kratix-canary-configmap.yaml), so both paths exist;
- Flux Bucket + its Secret (keys accesskey/secretkey) and two Kustomizations,
  dependencies first, as upstream's single-cluster setup does. Both prune: a
  file Kratix removes (a deleted request) is deleted from the cluster.

Ref: CRDs platform.kratix.io_{bucketstatestores,destinations}.yaml (v1alpha1, cluster
scoped); syntasso/kratix lib/writers/s3.go (endpoint host:port, no scheme; secret keys),
internal/controller/destination_controller.go (canaries, condition Ready),
internal/controller/shared.go (StateStoreReadyConditionType "Ready"),
hack/destination/gitops-tk-resources-single-cluster.yaml (the two Kustomizations);
Flux source.toolkit.fluxcd.io/v1 Bucket and kustomize.toolkit.fluxcd.io/v1
Kustomization, both served by Flux v2.6 (source-controller v1.6.2,
kustomize-controller v1.6.1), Bucket secret keys accesskey/secretkey.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.options import child_options

KRATIX_API = "platform.kratix.io/v1alpha1"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# The pattern of Flux's duration fields (Kustomization CRD spec.interval/timeout).
_GO_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")


@dataclass
class KratixDestinationArgs:
    endpoint: str
    """S3 endpoint as host:port, without a scheme (Kratix and Flux both take it so)."""
    bucket: str
    access_key: pulumi.Input[str]
    secret_key: pulumi.Input[str]
    """A Pulumi secret."""
    credentials_namespace: str
    """Namespace of the Secret Kratix reads (the state store's namespace)."""
    flux_namespace: str
    name: str = "platform"
    """Destination name, its label value and its path in the bucket."""
    flux_interval: str = "10s"
    deletion_timeout: str = "5m"
    """How long deleting a Kustomization waits for what it applied to be gone."""
    insecure: bool = True
    """Plain HTTP to the in-cluster MinIO."""

    def __post_init__(self) -> None:
        if "://" in self.endpoint:
            raise ValueError(f"endpoint must be host:port without a scheme, got {self.endpoint!r}")
        for field_name in ("flux_interval", "deletion_timeout"):
            if not _GO_DURATION.match(getattr(self, field_name)):
                raise ValueError(f"{field_name} must be a duration like 10s or 5m, got {getattr(self, field_name)!r}")
        for field_name in ("name", "credentials_namespace", "flux_namespace"):
            if not _DNS_LABEL.match(getattr(self, field_name)):
                raise ValueError(f"{field_name} must be a DNS label, got {getattr(self, field_name)!r}")


def _ready() -> dict:
    # Every object here reports a `Ready` condition; `kubectl describe` shows its reason.
    return {"pulumi.com/waitFor": "condition=Ready"}


class KratixDestination(pulumi.ComponentResource):
    """`selector` is what a Promise's destinationSelectors match; `ready` = everything Flux needs."""

    def __init__(self, name: str, args: KratixDestinationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:kratix:KratixDestination", name, None, opts)
        child = child_options(self, opts)

        def after(*resources: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(resources)))

        store_name = f"{args.name}-minio"
        self.selector = {"environment": args.name}

        kratix_secret = k8s.core.v1.Secret(
            f"{name}-kratix-credentials",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="kratix-state-store", namespace=args.credentials_namespace),
            string_data={
                "accessKeyID": args.access_key,
                "secretAccessKey": pulumi.Output.secret(args.secret_key),
            },
            opts=child,
        )
        self.state_store = k8s.apiextensions.CustomResource(
            f"{name}-state-store",
            api_version=KRATIX_API,
            kind="BucketStateStore",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=store_name,
                annotations=_ready(),
            ),
            spec={
                "endpoint": args.endpoint,
                "insecure": args.insecure,
                "bucketName": args.bucket,
                "authMethod": "accessKey",
                "secretRef": {"name": "kratix-state-store", "namespace": args.credentials_namespace},
            },
            opts=after(kratix_secret),
        )
        self.destination = k8s.apiextensions.CustomResource(
            f"{name}-destination",
            api_version=KRATIX_API,
            kind="Destination",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name,
                labels=self.selector,
                annotations=_ready(),
            ),
            spec={
                "path": args.name,
                "stateStoreRef": {"kind": "BucketStateStore", "name": store_name},
                # Deleting the Destination removes its files (canaries) from the bucket.
                "cleanup": "all",
            },
            opts=after(self.state_store),
        )

        flux_secret = k8s.core.v1.Secret(
            f"{name}-flux-credentials",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="kratix-bucket", namespace=args.flux_namespace),
            string_data={"accesskey": args.access_key, "secretkey": pulumi.Output.secret(args.secret_key)},
            opts=child,
        )
        bucket_name = f"kratix-{args.name}"
        self.flux_bucket = k8s.apiextensions.CustomResource(
            f"{name}-flux-bucket",
            api_version="source.toolkit.fluxcd.io/v1",
            kind="Bucket",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=bucket_name,
                namespace=args.flux_namespace,
                annotations=_ready(),
            ),
            spec={
                "interval": args.flux_interval,
                "provider": "generic",
                "bucketName": args.bucket,
                "endpoint": args.endpoint,
                "insecure": args.insecure,
                "secretRef": {"name": "kratix-bucket"},
            },
            # The Destination's canaries make the bucket non-empty and both paths exist.
            opts=after(flux_secret, self.destination),
        )

        def kustomization(kind: str, depends_on: list[dict], after_resources: list[pulumi.Resource]):
            ks_name = f"kratix-{args.name}-{kind}"
            return k8s.apiextensions.CustomResource(
                f"{name}-{kind}",
                api_version="kustomize.toolkit.fluxcd.io/v1",
                kind="Kustomization",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=ks_name,
                    namespace=args.flux_namespace,
                    annotations=_ready(),
                ),
                spec={
                    "interval": args.flux_interval,
                    "sourceRef": {"kind": "Bucket", "name": bucket_name},
                    "path": f"./{args.name}/{kind}",
                    "prune": True,
                    "dependsOn": depends_on,
                    # Deleting the Kustomization deletes what it still applies AND waits until
                    # those objects are gone. A Table whose file Kratix already removed is NOT
                    # among them: Flux's reconcile pruned it without waiting and dropped it from
                    # the inventory (kustomize-controller v1.6.1 prune()). The stack's destroy
                    # waits for those Tables itself (components/kratix_table_wait.py).
                    "deletionPolicy": "WaitForTermination",
                    # That wait lasts spec.timeout, which defaults to interval-30s with a
                    # 30s floor, and on expiry the finalizer goes anyway (kustomize-controller
                    # v1.6.1 internal/controller/kustomization_controller.go finalize,
                    # api/v1 GetTimeout). An AWS table can take longer than 30s to delete;
                    # Pulumi's own wait for the deletion is 10 minutes.
                    "timeout": args.deletion_timeout,
                },
                opts=after(*after_resources),
            )

        self.dependencies = kustomization("dependencies", [], [self.flux_bucket])
        self.resources = kustomization(
            "resources", [{"name": f"kratix-{args.name}-dependencies"}], [self.flux_bucket, self.dependencies]
        )
        self.resources_kustomization = f"{args.flux_namespace}/kratix-{args.name}-resources"
        """namespace/name of the Kustomization that applies what requests produce (their Tables)."""
        self.ready: list[pulumi.Resource] = [self.destination, self.dependencies, self.resources]
        self.register_outputs({"destination": args.name, "stateStore": store_name})
