"""Crossplane with the Upbound DynamoDB provider, configured for the platform's DynamoDB target.

What lands in the cluster, in order (each step waits for the one before):
namespace -> Crossplane release -> family provider (Installed+Healthy) -> DynamoDB
provider (Installed+Healthy) -> activation policy (Table MRD active) -> Table MRD
Established (its CRD is served); credentials
Secret + ClusterProviderConfig `default` after the family provider. `pulumi destroy`
walks the same graph backwards, so the providers are still running when whatever
uses them (the ProviderConfig, the tables of the Applications that depend on this
component) is deleted.

Providers and the activation policy are Pulumi resources, not chart values: the
chart only passes `provider.packages` / `provider.defaultActivations` to its init
container, which creates those objects itself (create-only for the policy, and it
re-patches providers on every pod start), so Pulumi could neither wait for them,
update them nor delete them on destroy.
Ref: crossplane/crossplane@v2.3.4 cluster/charts/crossplane/templates/deployment.yaml
(init container args), internal/initializer/{installer.go,managed_resource_activation_policy.go}.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import helm, versions
from components.options import child_options
from components.versions import ChartPin

MODES = ("local", "aws")

PROVIDER_API = "pkg.crossplane.io/v1"
ACTIVATION_POLICY_API = "apiextensions.crossplane.io/v1alpha1"
MRD_API = "apiextensions.crossplane.io/v1alpha1"
PROVIDER_CONFIG_API = "aws.m.upbound.io/v1beta1"

TABLE_MRD = "tables.dynamodb.aws.m.upbound.io"
"""The only managed resource this platform uses (the namespaced Table, see xp.cue)."""

CREDENTIALS_SECRET = "aws-dynamodb-credentials"
CREDENTIALS_KEY = "credentials"

PROVIDER_READY = json.dumps(["condition=Installed", "condition=Healthy"])
# Installed: the package revision is active; Healthy: its objects (CRDs/MRDs) are
# in place and the provider Deployment runs.
# Ref: crossplane/crossplane@v2.3.4 apis/pkg/v1/conditions.go; printer columns
# INSTALLED/HEALTHY of providers.pkg.crossplane.io.

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# registry/path:tag, with a version tag: a digest or `latest` would not be a pin we can read.
_PINNED_PACKAGE = re.compile(r"^[a-z0-9.-]+\.[a-z]+(:\d+)?/[a-z0-9._/-]+:v\d+\.\d+\.\d+$")


def package_object_name(package: str) -> str:
    """The Provider name Crossplane's dependency resolver gives a package.

    The resolver names the Provider it installs for a missing dependency
    `ToDNSLabel(<repository path without registry>)`, e.g.
    `crossplane-contrib-provider-family-aws`. Creating the family provider under that
    same name (and source) means the dependency is already satisfied, so the
    resolver installs nothing of its own.
    Ref: crossplane/crossplane@v2.3.4 internal/controller/pkg/resolver/reconciler.go
    `NewPackage` (`xpkg.ToDNSLabel(ref.Context().RepositoryStr())`); ToDNSLabel keeps
    [a-z0-9], turns . / : - into '-', stops after 63 characters and trims '-'.
    """
    repository = package.rsplit(":", 1)[0].split("/", 1)[1]
    cut = []
    for i, char in enumerate(repository):
        if "a" <= char <= "z" or "0" <= char <= "9":
            cut.append(char)
        if char in "./:-" and i not in (0, 62, len(repository) - 1):
            cut.append("-")
        if i == 62:
            break
    return "".join(cut).strip("-")


def chart_values() -> dict:
    """Crossplane chart values. Ref: crossplane/crossplane@v2.3.4 cluster/charts/crossplane/values.yaml."""
    return {
        # Providers and the activation policy are Pulumi resources (module docstring).
        # An empty list renders no `--activation` argument, and `core init` then
        # creates no `default` policy (which would otherwise activate every MRD of
        # every provider: ["*"] is the chart default).
        "provider": {"packages": [], "defaultActivations": []},
        # A laptop runs all three approaches side by side. Lower the scheduling
        # reservations (chart requests: 256Mi each); the limits stay the chart's.
        "resourcesCrossplane": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "1024Mi"},
        },
        "resourcesRBACManager": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "100m", "memory": "512Mi"},
        },
    }


def provider_config_spec(mode: str, endpoint: str, namespace: str) -> dict:
    """`ClusterProviderConfig` spec for the platform's DynamoDB target.

    Ref: provider-upjet-aws v2.6.0 CRD aws.m.upbound.io_clusterproviderconfigs.yaml
    (`credentials` required; `endpoint` and the `skip_*` flags at the top of spec);
    internal/clients/aws.go for what each flag does.
    """
    if mode not in MODES:
        raise ValueError(f"dynamodb mode must be one of {', '.join(MODES)}, got {mode!r}")
    spec: dict = {
        # An INI file, profile [default] (internal/clients/provider_config.go).
        "credentials": {
            "source": "Secret",
            "secretRef": {"namespace": namespace, "name": CREDENTIALS_SECRET, "key": CREDENTIALS_KEY},
        },
    }
    if mode == "local":
        if not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"local mode needs the emulator URL as endpoint, got {endpoint!r}")
        spec["endpoint"] = {
            "url": {"type": "Static", "static": endpoint},
            # The static URL is used only for the services listed here. DynamoDB is
            # what tables need; STS and KMS keep any identity or SSE key lookup
            # away from real AWS.
            "services": ["dynamodb", "sts", "kms"],
            "hostnameImmutable": True,
            "source": "Custom",
        }
        # The emulator has no account behind its dummy keys and no instance metadata:
        # skip the STS identity check (account id becomes 000000000000), IMDS and
        # the region name check. skip_requesting_account_id is ignored by v2.6.0
        # (its Terraform client always sets it) but states the intent.
        spec.update(
            {
                "skip_credentials_validation": True,
                "skip_requesting_account_id": True,
                "skip_metadata_api_check": True,
                "skip_region_validation": True,
            }
        )
    return spec


@dataclass
class CrossplaneArgs:
    dynamodb_mode: pulumi.Input[str]
    """`local` (in-cluster emulator) or `aws`, from the platform stack."""
    endpoint: pulumi.Input[str]
    """Emulator URL in `local` mode, '' in `aws` mode."""
    credentials_ini: pulumi.Input[str]
    """The engines' shared-credentials file (secret)."""
    namespace: str = "crossplane-system"
    chart: ChartPin = versions.CROSSPLANE_CHART
    family_provider_package: str = versions.CROSSPLANE_AWS_FAMILY_PROVIDER
    dynamodb_provider_package: str = versions.CROSSPLANE_DYNAMODB_PROVIDER
    provider_config_name: str = "default"
    """`default` is what a namespaced MR refers to when it names no ProviderConfig."""
    provider_timeout_minutes: int = 10
    """Per provider: pulling the package and starting its pod on a first run."""

    def __post_init__(self) -> None:
        for field_name in ("namespace", "provider_config_name"):
            value = getattr(self, field_name)
            if not isinstance(value, str) or not _DNS_LABEL.match(value):
                raise ValueError(f"{field_name} must be a DNS label, got {value!r}")
        for field_name in ("family_provider_package", "dynamodb_provider_package"):
            value = getattr(self, field_name)
            if not isinstance(value, str) or not _PINNED_PACKAGE.match(value):
                raise ValueError(
                    f"{field_name} must be a fully qualified package with a version tag "
                    f"(registry/org/name:vX.Y.Z), got {value!r}"
                )
        if not isinstance(self.provider_timeout_minutes, int) or not 1 <= self.provider_timeout_minutes <= 60:
            raise ValueError(
                f"provider_timeout_minutes must be a whole number from 1 to 60, got {self.provider_timeout_minutes!r}"
            )


class Crossplane(pulumi.ComponentResource):
    """Crossplane, its AWS providers and the ClusterProviderConfig the Tables use.

    Anything that creates Tables depends on `table_gates` (the DynamoDB provider,
    the Table MRD activation, the served Table CRD and the ClusterProviderConfig).
    """

    def __init__(self, name: str, args: CrossplaneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:crossplane:Crossplane", name, None, opts)
        child = child_options(self, opts)

        def after(*resources: pulumi.Resource, timeout_minutes: int | None = None) -> pulumi.ResourceOptions:
            timeouts = (
                pulumi.CustomTimeouts(create=f"{timeout_minutes}m", update=f"{timeout_minutes}m")
                if timeout_minutes
                else None
            )
            return pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=list(resources), custom_timeouts=timeouts)
            )

        # Owned here (not Helm's create_namespace) so destroy removes it, with the
        # Secrets Crossplane itself writes there.
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace), opts=child
        )
        # Ready = the crossplane pod passed readiness, i.e. its init container
        # installed Crossplane's CRDs (they are not in the chart).
        # Ref: crossplane/crossplane@v2.3.4 cmd/crossplane/core/init.go.
        self.release = helm.release(
            name,
            args.chart,
            release_name="crossplane",
            namespace=self.namespace.metadata.name,
            values=chart_values(),
            opts=child,
        )

        # The family provider first, under the resolver's own name: provider-aws-dynamodb
        # declares `dependsOn provider-family-aws >= 0.0.0`, and a missing dependency
        # would be installed at the newest release, not at our pin. It also owns the
        # ProviderConfig CRDs.
        self.family_provider = self._crossplane_provider(
            name, "family", args.family_provider_package, after(self.release, timeout_minutes=args.provider_timeout_minutes)
        )
        # After the family provider is Healthy: its lock entry then satisfies the
        # dependency, and there is no race with the resolver.
        self.dynamodb_provider = self._crossplane_provider(
            name,
            "dynamodb",
            args.dynamodb_provider_package,
            after(self.family_provider, timeout_minutes=args.provider_timeout_minutes),
        )

        # provider-aws-dynamodb has the SafeStart capability: its MR CRDs arrive as
        # inactive ManagedResourceDefinitions, and a CRD exists only once a policy
        # activates it. Activating just the Table keeps 15 unused CRDs out of the API
        # server and their controllers out of the provider pod.
        # Created after the provider so the MRD exists: `status.activated` then lists
        # it once the MRD was switched to Active (the Table CRD follows from that).
        # Ref: crossplane/crossplane@v2.3.4 internal/controller/apiextensions/activationpolicy/reconciler.go;
        # crossplane/docs content/v2.3/managed-resources/managed-resource-activation-policies.md.
        self.activation_policy = k8s.apiextensions.CustomResource(
            f"{name}-activations",
            api_version=ACTIVATION_POLICY_API,
            kind="ManagedResourceActivationPolicy",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="kubevela-dynamodb",
                annotations={"pulumi.com/waitFor": f"jsonpath={{.status.activated[0]}}={TABLE_MRD}"},
            ),
            spec={"activate": [TABLE_MRD]},
            opts=after(self.dynamodb_provider, timeout_minutes=5),
        )

        # The policy lists an MRD in `status.activated` as soon as it has set the
        # MRD's spec.state to Active, before the MRD controller has applied the
        # Table CRD and seen it Established (crossplane/crossplane#7822): a Table
        # created in that window fails with "no matches for kind". The MRD's own
        # `Established` condition turns True only once its CRD is established.
        # Ref: crossplane/crossplane@v2.3.4
        # internal/controller/apiextensions/activationpolicy/reconciler.go (AppendActivated
        # right after the patch), internal/controller/apiextensions/managed/reconciler.go
        # (PendingManaged until xcrd.IsEstablished, then EstablishedManaged),
        # apis/apiextensions/v1alpha1/conditions.go (TypeEstablished).
        # pulumi-kubernetes can wait on an object it does not own only through a
        # Patch resource: `.get()` reads from the cluster without any await logic
        # and fails at once if the object is missing (await.go `Read`,
        # ReadFromCluster), while a Patch is a server-side apply that then goes
        # through the same await as a create, `pulumi.com/waitFor` included
        # (await.go `Creation`: ApplyPatchType for patch resources, then
        # metadata.ReadyCondition). Ref: pulumi/pulumi-kubernetes@94977969d (v4.32.0-27)
        # provider/pkg/await/await.go and provider/pkg/provider/provider.go `Read`.
        # The patch carries only that annotation. It comes after the policy, which
        # lists only MRDs that exist, and goes before it on destroy (the provider that
        # owns the MRD still runs): a server-side apply, and the field release on
        # delete (ssa.Relinquish), would otherwise create a bare MRD, whose spec is
        # not required by its CRD.
        self.table_established = k8s.apiextensions.CustomResourcePatch(
            f"{name}-table-established",
            api_version=MRD_API,
            kind="ManagedResourceDefinition",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=TABLE_MRD,
                annotations={"pulumi.com/waitFor": "condition=Established"},
            ),
            opts=after(self.activation_policy, timeout_minutes=5),
        )

        self.credentials = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=CREDENTIALS_SECRET, namespace=self.namespace.metadata.name),
            string_data={CREDENTIALS_KEY: pulumi.Output.secret(args.credentials_ini)},
            opts=child,
        )
        # Cluster-scoped, named `default`: the namespaced Table's default reference
        # ({kind: ClusterProviderConfig, name: default}; Ref: provider-upjet-aws v2.6.0
        # CRD dynamodb.aws.m.upbound.io_tables.yaml spec.providerConfigRef).
        # Its CRD comes with the family provider, hence the dependency; on destroy the
        # family provider is still running to release it once no Table uses it.
        self.provider_config = k8s.apiextensions.CustomResource(
            f"{name}-provider-config",
            api_version=PROVIDER_CONFIG_API,
            kind="ClusterProviderConfig",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.provider_config_name),
            spec=pulumi.Output.all(args.dynamodb_mode, args.endpoint, self.namespace.metadata.name).apply(
                lambda v: provider_config_spec(*v)
            ),
            opts=after(self.family_provider, self.credentials),
        )

        self.namespace_name = args.namespace
        self.provider_config_name = args.provider_config_name
        self.table_gates: list[pulumi.Resource] = [
            self.dynamodb_provider,
            self.activation_policy,
            self.table_established,
            self.provider_config,
        ]
        self.register_outputs(
            {
                "namespace": args.namespace,
                "providerConfigName": args.provider_config_name,
                "providers": [args.family_provider_package, args.dynamodb_provider_package],
            }
        )

    def _crossplane_provider(
        self, name: str, suffix: str, package: str, opts: pulumi.ResourceOptions
    ) -> k8s.apiextensions.CustomResource:
        # If this times out: `kubectl get providers.pkg.crossplane.io` and
        # `kubectl describe providerrevisions.pkg.crossplane.io` say why (pull error,
        # unhealthy pod); the provider pod's logs are in the Crossplane namespace.
        return k8s.apiextensions.CustomResource(
            f"{name}-provider-{suffix}",
            api_version=PROVIDER_API,
            kind="Provider",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=package_object_name(package),
                annotations={"pulumi.com/waitFor": PROVIDER_READY},
            ),
            # Everything else stays at the CRD defaults (pull IfNotPresent, automatic
            # revision activation, runtime config `default` created by `core init`).
            spec={"package": package},
            opts=opts,
        )
