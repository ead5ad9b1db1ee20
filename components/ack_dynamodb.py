"""The ACK DynamoDB controller: reconciles `dynamodb.services.k8s.aws/v1alpha1` Tables.

It lives in the platform because two approaches provision through it (KRO
composes ACK Tables; the Kratix Promise emits them) and a cluster can hold only
one release that owns these CRDs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import helm, versions
from components.versions import ChartPin
from components.options import child_options

RELEASE_NAME = "ack-dynamodb-controller"
"""The Helm release; its pods carry it as `app.kubernetes.io/instance` (compare restarts them by it)."""

CREDENTIALS_SECRET = "ack-dynamodb-credentials"
CREDENTIALS_KEY = "credentials"


@dataclass
class AckDynamoDBArgs:
    region: str
    endpoint: str
    """Emulator URL, or '' for the real AWS endpoints."""
    credentials_ini: pulumi.Input[str]
    """Shared-credentials file content (secret) for the controller's identity."""
    role_arn: str = ""
    """IAM role for the controller's service account (IRSA on EKS) instead of keys."""
    namespace: str = "ack-system"
    chart: ChartPin = versions.ACK_DYNAMODB_CHART


def ack_values(region: str, endpoint: str, role_arn: str = "") -> dict:
    """Chart values. Ref: aws-controllers-k8s/dynamodb-controller@v1.9.2:helm/values.yaml."""
    # Required: the controller exits at start-up without a region.
    aws_values: dict = {"region": region}
    values: dict = {"aws": aws_values}
    if role_arn:
        # IRSA: the pod's service account assumes the role; no key Secret is mounted
        # (templates/deployment.yaml mounts one only when credentials.secretName is set).
        values["serviceAccount"] = {"annotations": {"eks.amazonaws.com/role-arn": role_arn}}
    else:
        aws_values["credentials"] = {
            "secretName": CREDENTIALS_SECRET,
            "secretKey": CREDENTIALS_KEY,
            "profile": "default",
        }
    if endpoint:
        aws_values.update(
            {
                "endpoint_url": endpoint,
                # The controller calls STS GetCallerIdentity at start-up; the emulator serves it too.
                "identity_endpoint_url": endpoint,
                # Without this an http:// endpoint is refused at start-up
                # (aws-controllers-k8s/runtime@v0.61.0:pkg/config/config.go).
                "allow_unsafe_aws_endpoint_urls": True,
            }
        )
    return values


class AckDynamoDB(pulumi.ComponentResource):
    """Namespace, credentials Secret and the controller release; Table CRs depend on `release`."""

    def __init__(self, name: str, args: AckDynamoDBArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:ack:AckDynamoDB", name, None, opts)
        child = child_options(self, opts)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace), opts=child
        )
        before_release: list[pulumi.Resource] = [self.namespace]
        if not args.role_arn:
            self.credentials = k8s.core.v1.Secret(
                f"{name}-credentials",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=CREDENTIALS_SECRET, namespace=args.namespace),
                string_data={CREDENTIALS_KEY: pulumi.Output.secret(args.credentials_ini)},
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.namespace])),
            )
            # The pod mounts the credentials Secret; it must exist before the pod starts.
            before_release.append(self.credentials)
        self.release = helm.release(
            name,
            args.chart,
            release_name=RELEASE_NAME,
            namespace=args.namespace,
            values=ack_values(args.region, args.endpoint, args.role_arn),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=before_release)),
        )
        self.namespace_name = args.namespace
        self.register_outputs({"namespace": args.namespace})
