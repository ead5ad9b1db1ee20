"""KRO with the `dynamodbtable` ResourceGraphDefinition over the platform's ACK Tables.

What lands in the cluster, in order (each step waits for the one before):
namespace -> KRO release; ClusterRole for Tables and DynamoDBTable instances;
then the ResourceGraphDefinition (state Active = its CRD `dynamodbtables.kro.run`
is served and its controller runs). Anything that creates DynamoDBTable
instances depends on `rgd`. `pulumi destroy` walks the graph backwards, so the
instances (and through them the ACK Tables) are gone before the RGD, the
permissions and KRO itself.

The ACK controller and its Table CRD belong to the `platform` stack (shared with
the `kratix` stack), which must be up before this component is created: kro
type-checks the RGD against the Table CRD's schema and refuses it while that CRD
is missing. `ack_table_crd` reads the CRD, so a missing platform fails the
update up front with the CRD's name, instead of after the RGD timeout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components import helm, versions
from components.options import child_options
from components.versions import ChartPin

RGD_FILE = Path(__file__).resolve().parent / "kro" / "dynamodbtable-rgd.yaml"

ACK_TABLE_CRD = "tables.dynamodb.services.k8s.aws"
ACK_TABLE_GROUP = "dynamodb.services.k8s.aws"
# Ref: aws-controllers-k8s/dynamodb-controller@v1.9.2 helm/crds/dynamodb.services.k8s.aws_tables.yaml.

RGD_ACTIVE = "jsonpath={.status.state}=Active"
# Active once the graph was accepted (it type-checks against the ACK Table schema),
# the instance CRD exists and its controller runs; Inactive otherwise.
# Ref: kubernetes-sigs/kro@v0.9.3 api/v1alpha1/resourcegraphdefinition_types.go
# (ResourceGraphDefinitionStateActive), pkg/controller/resourcegraphdefinition/controller_status.go.

AGGREGATE_LABEL = "rbac.kro.run/aggregate-to-controller"
# With rbac.mode=aggregation the chart's ClusterRole `<fullname>:controller` holds
# only kro's own objects plus every ClusterRole carrying this label.
# Ref: kubernetes-sigs/kro@v0.9.3 helm/templates/cluster-role.yaml;
# website/docs/docs/advanced/01-access-control.md.

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def chart_values() -> dict:
    """Values of the KRO chart. Ref: kubernetes-sigs/kro@v0.9.3 helm/values.yaml."""
    return {
        # Not the default `unrestricted` (a `*/*/*` ClusterRole): kro gets its own
        # objects from the chart and Tables/DynamoDBTables from `permissions` below.
        "rbac": {"mode": "aggregation"},
        "config": {
            # The RGD drops absent optional parameters with omit(), an alpha function
            # behind this gate; with the gate off kro rejects the RGD at build time.
            # Rendered as `--feature-gates CELOmitFunction=true`
            # (helm/templates/deployment.yaml; pkg/features/features.go).
            "featureGates": {"CELOmitFunction": True},
        },
    }


def load_rgd(path: Path = RGD_FILE) -> dict:
    """The ResourceGraphDefinition object, as written in `components/kro/`."""
    rgd = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(rgd, dict) or rgd.get("kind") != "ResourceGraphDefinition":
        raise ValueError(f"{path} does not hold a ResourceGraphDefinition")
    return rgd


def instance_plural(rgd: dict) -> str:
    """Resource name of the generated kind (`dynamodbtables`).

    kro uses flect.Pluralize(strings.ToLower(kind)) (kubernetes-sigs/kro@v0.9.3
    pkg/graph/crd/crd.go), which appends "s" to a kind ending like ours; the
    permissions would silently miss the instances if that did not hold, so
    other endings are refused rather than guessed.
    """
    kind = rgd["spec"]["schema"]["kind"].lower()
    if not re.search(r"[^sxyh]$", kind):
        raise ValueError(f"kind {kind!r}: pluralisation other than a plain 's' is not handled here")
    return f"{kind}s"


def permission_rules(rgd: dict) -> list[dict]:
    """What kro needs beyond its own objects: the ACK Tables it writes and the instances it reconciles."""
    group = rgd["spec"]["schema"].get("group", "kro.run")
    plural = instance_plural(rgd)
    return [
        {
            "apiGroups": [ACK_TABLE_GROUP],
            "resources": ["tables"],
            "verbs": ["create", "get", "list", "watch", "update", "patch", "delete"],
        },
        {
            # kro watches instances, patches their labels/finalizers and writes status.
            "apiGroups": [group],
            "resources": [plural, f"{plural}/status"],
            "verbs": ["create", "get", "list", "watch", "update", "patch"],
        },
    ]


@dataclass
class KroArgs:
    namespace: str = "kro-system"
    chart: ChartPin = versions.KRO_CHART
    rgd_file: Path = RGD_FILE
    rgd_timeout_minutes: int = 5
    """Until the RGD is Active: kro compiles it and starts its controller in seconds."""

    def __post_init__(self) -> None:
        if not isinstance(self.namespace, str) or not _DNS_LABEL.match(self.namespace):
            raise ValueError(f"namespace must be a DNS label, got {self.namespace!r}")
        if not isinstance(self.rgd_timeout_minutes, int) or not 1 <= self.rgd_timeout_minutes <= 60:
            raise ValueError(
                f"rgd_timeout_minutes must be a whole number from 1 to 60, got {self.rgd_timeout_minutes!r}"
            )
        if not Path(self.rgd_file).is_file():
            raise ValueError(f"rgd_file {str(self.rgd_file)!r} does not exist")


class Kro(pulumi.ComponentResource):
    """KRO, its permissions for ACK Tables and the `dynamodbtable` ResourceGraphDefinition.

    Anything that creates DynamoDBTable instances depends on `rgd`.
    """

    def __init__(self, name: str, args: KroArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:kro:Kro", name, None, opts)
        child = child_options(self, opts)
        rgd_object = load_rgd(args.rgd_file)

        def after(*resources: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(resources)))

        # Owned here (not Helm's create_namespace) so destroy removes it.
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace), opts=child
        )
        # Helm waits for the Deployment: ready = /readyz on 8079 answers.
        self.release = helm.release(
            name,
            args.chart,
            # The release name contains the chart name, so objects are named `kro...`
            # (helm/templates/_helpers.tpl kro.fullname).
            release_name="kro",
            namespace=self.namespace.metadata.name,
            values=chart_values(),
            opts=child,
        )
        self.permissions = k8s.rbac.v1.ClusterRole(
            f"{name}-dynamodbtables",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"kro:controller:{instance_plural(rgd_object)}",
                labels={AGGREGATE_LABEL: "true"},
            ),
            rules=permission_rules(rgd_object),
            opts=child,
        )
        # Read, not created: the platform's ACK release installed it. Failing here
        # means the platform stack is not up (or has no ACK).
        self.ack_table_crd = k8s.apiextensions.v1.CustomResourceDefinition.get(
            f"{name}-ack-table-crd", ACK_TABLE_CRD, opts=child
        )
        # Cluster-scoped. After the release (CRD + controller), the permissions (the
        # instances it will reconcile need them, also while being deleted) and the
        # ACK Table CRD (kro type-checks the template against it).
        # If this times out: `kubectl get rgd dynamodbtable -o yaml`; the condition
        # GraphAccepted=False names the expression or field kro refused.
        self.rgd = k8s.apiextensions.CustomResource(
            f"{name}-rgd",
            api_version=rgd_object["apiVersion"],
            kind=rgd_object["kind"],
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=rgd_object["metadata"]["name"],
                annotations={"pulumi.com/waitFor": RGD_ACTIVE},
            ),
            spec=rgd_object["spec"],
            opts=pulumi.ResourceOptions.merge(
                after(self.release, self.permissions, self.ack_table_crd),
                pulumi.ResourceOptions(
                    custom_timeouts=pulumi.CustomTimeouts(
                        create=f"{args.rgd_timeout_minutes}m", update=f"{args.rgd_timeout_minutes}m"
                    )
                ),
            ),
        )
        self.namespace_name = args.namespace
        self.rgd_name = rgd_object["metadata"]["name"]
        self.instance_api_version = f"{rgd_object['spec']['schema'].get('group', 'kro.run')}/{rgd_object['spec']['schema']['apiVersion']}"
        self.instance_kind = rgd_object["spec"]["schema"]["kind"]
        self.register_outputs(
            {"namespace": args.namespace, "rgd": self.rgd_name, "instanceKind": self.instance_kind}
        )
