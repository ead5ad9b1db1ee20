"""What stays in the cluster after a stack's destroy, and why. `down` prints it; docs/cli.md explains it.

Everything a stack creates through Pulumi is deleted with it, in reverse order.
What stays is what neither Pulumi nor Helm deletes by their own rules:

- Helm installs a chart's `crds/` directory but never upgrades or deletes those
  CRDs (helm/helm-www content/en/docs/chart_best_practices/custom_resource_definitions.md:
  "There is no support at this time for upgrading or deleting CRDs using Helm";
  helm/helm@v3.20.2 pkg/action/uninstall.go deletes the release's manifest, which
  holds no `crds/` file), nor a namespace it made with --create-namespace;
- kro deletes a CRD it generated for a ResourceGraphDefinition only when started
  with --allow-crd-deletion (kubernetes-sigs/kro@v0.9.3
  pkg/controller/resourcegraphdefinition/controller_cleanup.go; chart value
  config.allowCRDDeletion, default false), and this project keeps that default;
- Crossplane's own CRDs and its `crossplane-no-usages` webhook configuration are
  applied by its init container (`crossplane core init`, crossplane/crossplane@v2.3.4
  cmd/crossplane/core/init.go, cluster/crds/, cluster/webhookconfigurations/), not by Helm.

None of them blocks a later `up` of the same stack: CRDs are not namespaced and
hold no objects once the stack is gone; Helm skips `crds/` CRDs that exist;
Crossplane's init applies its CRDs over the existing ones; kro takes over the CRD
it labelled with the same ResourceGraphDefinition name. What is deleted WITH the
stacks, on purpose: the Promise's API CRD (Kratix deletes it with the Promise,
syntasso/kratix internal/controller/promise_controller.go deleteCRDs), the Flux
and cert-manager CRDs (chart templates; cert-manager with crds.keep=false), the
Upbound provider's CRDs (owned by its package revision and activated
ManagedResourceDefinitions: crossplane internal/controller/apiextensions/managed/crd.go).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Leftover:
    what: str
    names: tuple[str, ...]
    why: str


KRATIX_CRDS = tuple(
    f"{plural}.platform.kratix.io"
    for plural in (
        "bucketstatestores", "destinations", "dryruns", "gitstatestores", "healthrecords", "promisereleases",
        "promiserevisions", "promises", "resourcebindings", "workplacements", "works",
    )
)
"""syntasso/helm-charts kratix/crds/platform_kratix_io_crds.yaml."""

KRO_CRDS = ("resourcegraphdefinitions.kro.run", "graphrevisions.internal.kro.run")
"""kubernetes-sigs/kro@v0.9.3 helm/crds/."""

KRO_GENERATED_CRD = "dynamodbtables.kro.run"

CROSSPLANE_CRDS = tuple(
    f"{plural}.{group}.crossplane.io"
    for group, plurals in (
        ("apiextensions", ("compositeresourcedefinitions", "compositionrevisions", "compositions", "environmentconfigs",
                           "managedresourceactivationpolicies", "managedresourcedefinitions", "usages")),
        ("ops", ("cronoperations", "operations", "watchoperations")),
        ("pkg", ("configurationrevisions", "configurations", "deploymentruntimeconfigs", "functionrevisions",
                 "functions", "imageconfigs", "locks", "providerrevisions", "providers")),
        ("protection", ("clusterusages", "usages")),
    )
    for plural in plurals
)
"""crossplane/crossplane@v2.3.4 cluster/crds/."""

KUBEVELA_CRDS = tuple(
    f"{plural}.core.oam.dev"
    for plural in (
        "applicationrevisions", "applications", "componentdefinitions", "definitionrevisions", "policies",
        "policydefinitions", "resourcetrackers", "traitdefinitions", "workflows", "workflowstepdefinitions",
        "workloaddefinitions",
    )
) + ("packages.cue.oam.dev",)
"""kubevela/kubevela@v1.10.9 charts/vela-core/crds/."""

ACK_CRDS = (
    "backups.dynamodb.services.k8s.aws",
    "globaltables.dynamodb.services.k8s.aws",
    "tables.dynamodb.services.k8s.aws",
    "fieldexports.services.k8s.aws",
    "iamroleselectors.services.k8s.aws",
)
"""aws-controllers-k8s/dynamodb-controller@v1.9.2 helm/crds/."""

HELM_CRDS = "from the chart's crds/ directory, which Helm installs but never deletes"

LEFTOVERS: dict[str, tuple[Leftover, ...]] = {
    "kratix": (Leftover("Kratix's CRDs", KRATIX_CRDS, HELM_CRDS),),
    "kro": (
        Leftover("kro's CRDs", KRO_CRDS, HELM_CRDS),
        Leftover(
            "the CRD kro generated for the ResourceGraphDefinition",
            (KRO_GENERATED_CRD,),
            "kro deletes generated CRDs only with --allow-crd-deletion (chart default: off)",
        ),
    ),
    "crossplane": (
        Leftover("Crossplane's CRDs", CROSSPLANE_CRDS, "applied by Crossplane's init container, not by Helm"),
        Leftover(
            "Crossplane's webhook configuration",
            ("validatingwebhookconfiguration/crossplane-no-usages",),
            "applied by the init container too (crossplane@v2.3.4 cluster/webhookconfigurations/usage.yaml); it "
            "only guards the deletion of objects labelled crossplane.io/in-use=true, which none is once the stack is gone",
        ),
    ),
    # Only on an existing cluster: on k3d the platform's destroy deletes the cluster itself.
    "platform": (
        Leftover("KubeVela's CRDs", KUBEVELA_CRDS, HELM_CRDS),
        Leftover("the ACK DynamoDB controller's CRDs", ACK_CRDS, HELM_CRDS),
        Leftover(
            "KubeVela's namespace (config velaNamespace)",
            ("vela-system",),
            "made by Helm's create-namespace for KubeVela's release; Helm never deletes a namespace",
        ),
    ),
}


def describe(stack: str, cluster_mode: str | None = None) -> list[str]:
    """Lines for `down`: what the destroy of `stack` left in the cluster."""
    if stack == "platform" and cluster_mode == "k3d":
        return ["the k3d cluster was deleted: nothing of the platform stays"]
    lines = []
    for leftover in LEFTOVERS.get(stack, ()):
        lines.append(f"left in the cluster: {leftover.what} ({len(leftover.names)}), {leftover.why}:")
        lines.append("  " + ", ".join(leftover.names))
    if lines:
        lines.append("  (harmless to a later `up`; to clean the cluster, delete them by hand: docs/cli.md, What stays after `down`)")
    return lines
