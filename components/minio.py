"""MinIO: the S3 bucket Kratix writes its documents to and Flux reads them from.

One Deployment on a local-path PersistentVolumeClaim (the bucket and its files
survive a pod restart), a Service, and a Job that creates the bucket: Kratix
never creates it, and its BucketStateStore stays not Ready until it exists
(syntasso/kratix lib/writers/s3.go ValidatePermissions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import versions
from components.options import child_options

API_PORT = 9000
ROOT_USER = "kratix"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# MinIO's images run as root unless told otherwise; any uid works on local-path
# volumes (the provisioner creates their directories world-writable).
_UID = 1000
# SERVICE LINKS: both pods below run with enableServiceLinks false. By default the kubelet
# injects MINIO_SERVICE_HOST, MINIO_PORT=tcp://<ip>:9000, MINIO_PORT_9000_TCP_* ... for
# the `minio` Service in this namespace: variables in MinIO's own MINIO_* configuration
# namespace that nothing asked for (the same kind of collision crashed the moto emulator
# on MOTO_PORT). Both pods reach the server by its DNS name, never through those variables.


@dataclass
class MinioArgs:
    root_password: pulumi.Input[str]
    """At least 8 characters (MinIO refuses shorter ones); a Pulumi secret."""
    namespace: str = "kratix-statestore"
    bucket: str = "kratix"
    storage_size: str = "1Gi"
    storage_class: str | None = None
    """None: the cluster default (k3s: local-path)."""
    image: str = versions.MINIO_IMAGE
    mc_image: str = versions.MINIO_MC_IMAGE

    def __post_init__(self) -> None:
        if not _DNS_LABEL.match(self.namespace):
            raise ValueError(f"namespace must be a DNS label, got {self.namespace!r}")
        if not _BUCKET.match(self.bucket):
            raise ValueError(f"bucket must be a valid S3 bucket name, got {self.bucket!r}")


def _security_context() -> k8s.core.v1.SecurityContextArgs:
    return k8s.core.v1.SecurityContextArgs(
        run_as_non_root=True,
        run_as_user=_UID,
        run_as_group=_UID,
        allow_privilege_escalation=False,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
    )


class Minio(pulumi.ComponentResource):
    """`endpoint` (host:port, no scheme, as Kratix and Flux want it) is usable once `bucket_job` completed."""

    def __init__(self, name: str, args: MinioArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:kratix:Minio", name, None, opts)
        child = child_options(self, opts)
        ns = args.namespace
        labels = {"app.kubernetes.io/name": "minio", "app.kubernetes.io/part-of": "kratix-statestore"}

        def after(*resources: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(resources)))

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=k8s.meta.v1.ObjectMetaArgs(name=ns), opts=child
        )
        self.credentials = k8s.core.v1.Secret(
            f"{name}-root",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="minio-root", namespace=ns),
            string_data={"user": ROOT_USER, "password": pulumi.Output.secret(args.root_password)},
            opts=after(self.namespace),
        )
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-data",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="minio-data",
                namespace=ns,
                # local-path binds on first consumer: waiting for Bound here would
                # wait for the Deployment that is created after it.
                annotations={"pulumi.com/skipAwait": "true"},
            ),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteOnce"],
                storage_class_name=args.storage_class,
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": args.storage_size}),
            ),
            opts=after(self.namespace),
        )
        env_from_secret = [
            k8s.core.v1.EnvVarArgs(
                name=var,
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name="minio-root", key=key)
                ),
            )
            for var, key in (("MINIO_ROOT_USER", "user"), ("MINIO_ROOT_PASSWORD", "password"))
        ]
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-server",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="minio", namespace=ns, labels=labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                # One ReadWriteOnce volume: the old pod must let go before the new one starts.
                strategy=k8s.apps.v1.DeploymentStrategyArgs(type="Recreate"),
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        enable_service_links=False,  # see SERVICE LINKS above
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="minio",
                                image=args.image,
                                args=["server", "/data"],
                                env=env_from_secret,
                                ports=[k8s.core.v1.ContainerPortArgs(name="s3", container_port=API_PORT)],
                                # Ref: MinIO healthcheck API, /minio/health/ready.
                                readiness_probe=k8s.core.v1.ProbeArgs(
                                    http_get=k8s.core.v1.HTTPGetActionArgs(path="/minio/health/ready", port=API_PORT),
                                    period_seconds=5,
                                ),
                                liveness_probe=k8s.core.v1.ProbeArgs(
                                    http_get=k8s.core.v1.HTTPGetActionArgs(path="/minio/health/live", port=API_PORT),
                                    period_seconds=20,
                                ),
                                resources=k8s.core.v1.ResourceRequirementsArgs(
                                    requests={"cpu": "50m", "memory": "256Mi"}, limits={"memory": "512Mi"}
                                ),
                                security_context=_security_context(),
                                volume_mounts=[k8s.core.v1.VolumeMountArgs(name="data", mount_path="/data")],
                            )
                        ],
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="data",
                                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                                    claim_name="minio-data"
                                ),
                            )
                        ],
                    ),
                ),
            ),
            opts=after(self.credentials, claim),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="minio", namespace=ns, labels=labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=labels, ports=[k8s.core.v1.ServicePortArgs(name="s3", port=API_PORT, target_port=API_PORT)]
            ),
            opts=after(self.namespace),
        )
        self.endpoint = f"minio.{ns}.svc.cluster.local:{API_PORT}"
        self.bucket = args.bucket
        # `mc mb --ignore-existing`: a rerun (or a replaced Job) is harmless.
        # MC_HOST_<alias> carries the credentials; $(VAR) is expanded by Kubernetes.
        self.bucket_job = k8s.batch.v1.Job(
            f"{name}-create-bucket",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="minio-create-bucket",
                namespace=ns,
                # Explicit: the Job counts only once it has completed.
                annotations={"pulumi.com/waitFor": "condition=Complete"},
            ),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=6,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    spec=k8s.core.v1.PodSpecArgs(
                        enable_service_links=False,  # see SERVICE LINKS above
                        restart_policy="OnFailure",
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="mc",
                                image=args.mc_image,
                                command=["mc", "--config-dir", "/tmp/mc", "mb", "--ignore-existing", f"minio/{args.bucket}"],
                                env=[
                                    k8s.core.v1.EnvVarArgs(name="HOME", value="/tmp"),
                                    *[
                                        k8s.core.v1.EnvVarArgs(
                                            name=var,
                                            value_from=k8s.core.v1.EnvVarSourceArgs(
                                                secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(
                                                    name="minio-root", key=key
                                                )
                                            ),
                                        )
                                        for var, key in (("ACCESS_KEY", "user"), ("SECRET_KEY", "password"))
                                    ],
                                    k8s.core.v1.EnvVarArgs(
                                        name="MC_HOST_minio",
                                        value=f"http://$(ACCESS_KEY):$(SECRET_KEY)@{self.endpoint}",
                                    ),
                                ],
                                security_context=_security_context(),
                                volume_mounts=[k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")],
                            )
                        ],
                        volumes=[k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs())],
                    )
                ),
            ),
            opts=pulumi.ResourceOptions.merge(
                after(self.deployment, self.service),
                # A Job's template is immutable: a change replaces it, and the fixed
                # name cannot exist twice.
                pulumi.ResourceOptions(delete_before_replace=True),
            ),
        )
        self.register_outputs({"endpoint": self.endpoint, "bucket": args.bucket})
