"""Where the tables live: an in-cluster DynamoDB emulator, or real AWS.

`local` (default) runs moto server in the cluster, so every engine really
reconciles a table with no AWS account. moto is chosen because it serves what the
controllers call besides DynamoDB: STS GetCallerIdentity (ACK at start-up) and
DescribeContinuousBackups / GetResourcePolicy (ACK on every read).

`aws` creates two least-privilege IAM users scoped to the demo's table-name
prefix: one for the engines (create/describe/update/delete tables) and one for
the session API (item reads and writes only). Nothing gets `*` on all tables.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import versions
from components.options import child_options

MODES = ("local", "aws")

EMULATOR_PORT = 5000
"""moto server's port (its image runs `moto_server -H 0.0.0.0`, default port 5000)."""

EMULATOR_WRAPPER = Path(__file__).resolve().parent / "emulator" / "moto_server.py"
"""moto server plus the DynamoDB call ACK reads on every sync (see that file)."""

LOCAL_DUMMY_KEY = "testing"
"""moto accepts any credentials; the engines and the app still need some to sign requests."""

APP_CREDENTIALS_SECRET = "dynamodb-app-credentials"
"""Secret (in the apps namespace) with keys AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY."""

# What the engines call on a table: ACK's read path (DescribeTable, ListTagsOfResource,
# DescribeTimeToLive, DescribeContinuousBackups, GetResourcePolicy; runtime hooks in
# aws-controllers-k8s/dynamodb-controller pkg/resource/table) and Terraform's
# aws_dynamodb_table (the Upbound provider), plus the matching writes.
ENGINE_TABLE_ACTIONS = [
    "dynamodb:CreateTable",
    "dynamodb:DeleteTable",
    "dynamodb:DescribeTable",
    "dynamodb:UpdateTable",
    "dynamodb:TagResource",
    "dynamodb:UntagResource",
    "dynamodb:ListTagsOfResource",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:UpdateTimeToLive",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:GetResourcePolicy",
    "dynamodb:DescribeKinesisStreamingDestination",
    "dynamodb:DescribeContributorInsights",
]

# What the session API does: item CRUD, the user index query, paginated listing, /ready.
APP_TABLE_ACTIONS = [
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:Query",
    "dynamodb:Scan",
]

_TABLE_PREFIX = re.compile(r"^[a-zA-Z0-9_.-]{2,40}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


@dataclass
class DynamoDBTargetArgs:
    mode: str
    region: str
    table_prefix: str
    apps_namespace: pulumi.Input[str]
    """Namespace of the session APIs; their credentials Secret is created there."""
    emulator_namespace: str = "dynamodb-emulator"
    emulator_image: str = versions.MOTO_IMAGE
    emulator_ingress_host: str = ""
    """Expose the emulator on this ingress host (local mode), so tools on the host can
    check tables (smoke, the teardown audit); '' keeps it cluster-internal."""
    ingress_class: str = "traefik"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"dynamodb mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not _REGION.match(self.region):
            raise ValueError(f"region {self.region!r} is not an AWS region name like 'us-east-1'")
        if not _TABLE_PREFIX.match(self.table_prefix):
            raise ValueError(
                f"table prefix {self.table_prefix!r} must be 2-40 characters of letters, digits, '_', '.' or '-'"
            )


def credentials_ini(access_key_id: pulumi.Input[str], secret_access_key: pulumi.Input[str]) -> pulumi.Output[str]:
    """An AWS shared-credentials file (profile `default`), the format ACK and the Upbound provider read."""
    return pulumi.Output.secret(
        pulumi.Output.format(
            "[default]\naws_access_key_id = {0}\naws_secret_access_key = {1}\n", access_key_id, secret_access_key
        )
    )


def table_policy(partition: str, region: str, account_id: str, table_prefix: str, actions: list[str]) -> str:
    """An IAM policy allowing `actions` on the demo's tables and their indexes, and nothing else."""
    table = f"arn:{partition}:dynamodb:{region}:{account_id}:table/{table_prefix}*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DemoTablesOnly",
                    "Effect": "Allow",
                    "Action": sorted(actions),
                    "Resource": [table, f"{table}/index/*"],
                }
            ],
        },
        indent=2,
    )


class DynamoDBTarget(pulumi.ComponentResource):
    """The DynamoDB endpoint, region and credentials every engine and app uses."""

    mode: str
    region: str
    endpoint: str
    """In-cluster URL of the emulator; empty in `aws` mode (the SDK default endpoints apply)."""
    engine_credentials_ini: pulumi.Output[str]
    app_credentials_secret: k8s.core.v1.Secret
    emulator_service_ref: dict[str, str]
    """Namespace, name and port name of the emulator's Service (local mode; empty in `aws`
    mode): tools outside the cluster reach it there through the API server's service proxy."""

    def __init__(self, name: str, args: DynamoDBTargetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:dynamodb:DynamoDBTarget", name, None, opts)
        child = child_options(self, opts)
        self.mode = args.mode
        self.region = args.region
        self.table_prefix = args.table_prefix

        if args.mode == "local":
            self._deploy_emulator(name, args, child)
            engine_key = app_key = pulumi.Output.secret(LOCAL_DUMMY_KEY)
            engine_secret = app_secret = pulumi.Output.secret(LOCAL_DUMMY_KEY)
        else:
            self.endpoint = ""
            self.emulator_service_ref = {}
            engine_key, engine_secret, app_key, app_secret = self._create_identities(name, args, child)

        self.engine_credentials_ini = credentials_ini(engine_key, engine_secret)
        self.app_credentials_secret = k8s.core.v1.Secret(
            f"{name}-app-credentials",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=APP_CREDENTIALS_SECRET, namespace=args.apps_namespace),
            string_data={"AWS_ACCESS_KEY_ID": app_key, "AWS_SECRET_ACCESS_KEY": app_secret},
            opts=child,
        )
        self.register_outputs(
            {
                "mode": self.mode,
                "region": self.region,
                "endpoint": self.endpoint,
                "appCredentialsSecret": APP_CREDENTIALS_SECRET,
                "emulatorService": self.emulator_service_ref,
            }
        )

    def _deploy_emulator(self, name: str, args: DynamoDBTargetArgs, child: pulumi.ResourceOptions) -> None:
        labels = {"app.kubernetes.io/name": "moto", "app.kubernetes.io/part-of": "kubevela-dynamodb"}
        self.emulator_namespace = k8s.core.v1.Namespace(
            f"{name}-emulator",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.emulator_namespace),
            opts=child,
        )
        in_namespace = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.emulator_namespace]))
        wrapper = EMULATOR_WRAPPER.read_bytes()
        self.emulator_wrapper = k8s.core.v1.ConfigMap(
            f"{name}-emulator-wrapper",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="moto-wrapper", namespace=args.emulator_namespace, labels=labels),
            data={"moto_server.py": wrapper.decode("utf-8")},
            opts=in_namespace,
        )
        port_probe = k8s.core.v1.ProbeArgs(
            tcp_socket=k8s.core.v1.TCPSocketActionArgs(port="api"), period_seconds=5, failure_threshold=6
        )
        self.emulator_deployment = k8s.apps.v1.Deployment(
            f"{name}-emulator",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="moto", namespace=args.emulator_namespace, labels=labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                # moto keeps tables in memory: one replica, so every client sees the same tables.
                replicas=1,
                strategy=k8s.apps.v1.DeploymentStrategyArgs(type="Recreate"),
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=labels,
                        # A changed wrapper must restart the pod; a ConfigMap change alone does not.
                        annotations={"kubevela-dynamodb/wrapper-sha256": hashlib.sha256(wrapper).hexdigest()},
                    ),
                    spec=k8s.core.v1.PodSpecArgs(
                        # No service-link variables: the kubelet would inject MOTO_PORT=tcp://<ip>:5000
                        # for the `moto` Service next to this pod, and moto's server parses MOTO_PORT as
                        # its port number at start-up (int(os.environ.get("MOTO_PORT", 5000)),
                        # getmoto/moto@5.2.3:moto/server.py), so it would crash-loop. The pod finds
                        # nothing through those variables anyway.
                        enable_service_links=False,
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="moto",
                                image=args.emulator_image,
                                image_pull_policy="IfNotPresent",
                                # The image's entrypoint is `moto_server -H 0.0.0.0`; the wrapper
                                # adds one call and then runs the same server.
                                command=["python", "/opt/moto-wrapper/moto_server.py"],
                                args=["-H", "0.0.0.0", "-p", str(EMULATOR_PORT)],
                                volume_mounts=[
                                    k8s.core.v1.VolumeMountArgs(name="wrapper", mount_path="/opt/moto-wrapper", read_only=True)
                                ],
                                ports=[k8s.core.v1.ContainerPortArgs(name="api", container_port=EMULATOR_PORT)],
                                readiness_probe=port_probe,
                                liveness_probe=port_probe,
                                resources=k8s.core.v1.ResourceRequirementsArgs(
                                    requests={"cpu": "50m", "memory": "128Mi"},
                                    limits={"cpu": "1", "memory": "512Mi"},
                                ),
                                security_context=k8s.core.v1.SecurityContextArgs(allow_privilege_escalation=False),
                            )
                        ],
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="wrapper",
                                config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name="moto-wrapper"),
                            )
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions.merge(in_namespace, pulumi.ResourceOptions(depends_on=[self.emulator_wrapper])),
        )
        self.emulator_service = k8s.core.v1.Service(
            f"{name}-emulator",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="moto", namespace=args.emulator_namespace, labels=labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=labels,
                ports=[k8s.core.v1.ServicePortArgs(name="api", port=EMULATOR_PORT, target_port="api")],
            ),
            opts=in_namespace,
        )
        self.endpoint = f"http://moto.{args.emulator_namespace}.svc.cluster.local:{EMULATOR_PORT}"
        self.emulator_service_ref = {"namespace": args.emulator_namespace, "name": "moto", "port": "api"}
        if args.emulator_ingress_host:
            # moto routes by the request's signature, not its Host, so a plain
            # host-based route works for every service it emulates.
            self.emulator_ingress = k8s.networking.v1.Ingress(
                f"{name}-emulator",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="moto", namespace=args.emulator_namespace, labels=labels),
                spec=k8s.networking.v1.IngressSpecArgs(
                    ingress_class_name=args.ingress_class,
                    rules=[
                        k8s.networking.v1.IngressRuleArgs(
                            host=args.emulator_ingress_host,
                            http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                                paths=[
                                    k8s.networking.v1.HTTPIngressPathArgs(
                                        path="/",
                                        path_type="Prefix",
                                        backend=k8s.networking.v1.IngressBackendArgs(
                                            service=k8s.networking.v1.IngressServiceBackendArgs(
                                                name="moto",
                                                port=k8s.networking.v1.ServiceBackendPortArgs(name="api"),
                                            )
                                        ),
                                    )
                                ]
                            ),
                        )
                    ],
                ),
                opts=pulumi.ResourceOptions.merge(in_namespace, pulumi.ResourceOptions(depends_on=[self.emulator_service])),
            )

    def _create_identities(self, name: str, args: DynamoDBTargetArgs, child: pulumi.ResourceOptions):
        provider = aws.Provider(f"{name}-aws", aws.ProviderArgs(region=args.region), child)
        with_provider = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(provider=provider))
        invoke = pulumi.InvokeOutputOptions(provider=provider)
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition

        keys = []
        for role, actions in (("engines", ENGINE_TABLE_ACTIONS), ("apps", APP_TABLE_ACTIONS)):
            user = aws.iam.User(
                f"{name}-{role}",
                aws.iam.UserArgs(
                    name=f"{args.table_prefix}{role}",
                    tags={"app.kubernetes.io/part-of": "kubevela-dynamodb"},
                ),
                with_provider,
            )
            aws.iam.UserPolicy(
                f"{name}-{role}",
                aws.iam.UserPolicyArgs(
                    user=user.name,
                    policy=pulumi.Output.all(partition, account_id).apply(
                        lambda pa, actions=actions: table_policy(pa[0], args.region, pa[1], args.table_prefix, actions)
                    ),
                ),
                with_provider,
            )
            key = aws.iam.AccessKey(f"{name}-{role}", aws.iam.AccessKeyArgs(user=user.name), with_provider)
            keys += [pulumi.Output.secret(key.id), pulumi.Output.secret(key.secret)]
        return keys
