"""KubeVela definitions registered from the `.cue` files in `components/cue/`.

The CRs are what `vela def apply` would produce: the CUE goes into
`spec.schematic.cue.template`, the description into the
`definition.oam.dev/description` annotation. Definitions in the vela-system
namespace are usable from every namespace.
Ref: kubevela.github.io docs/platform-engineers/cue/definition-edit.md;
CRDs kubevela/kubevela@v1.10.9:charts/vela-core/crds/core.oam.dev_{componentdefinitions,traitdefinitions}.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components import cue_templates
from components.options import child_options

API_VERSION = "core.oam.dev/v1beta1"
DESCRIPTION_ANNOTATION = "definition.oam.dev/description"


@dataclass(frozen=True)
class TraitSpec:
    name: str
    description: str
    pod_disruptive: bool
    """True when applying the trait restarts Pods (e.g. it changes the Pod template)."""
    applies_to: tuple[str, ...] = ("deployments.apps",)


SHARED_TRAITS = (
    TraitSpec(
        name="dynamodb-client",
        description="Points a webservice at a DynamoDB table: table name, region, endpoint and credentials as env.",
        pod_disruptive=True,
    ),
    TraitSpec(
        name="http-ingress",
        description="Routes an HTTP host (and path) to the component's Service through an Ingress.",
        pod_disruptive=False,
    ),
)

DYNAMODB_DESCRIPTIONS = {
    "xp": "DynamoDB table provisioned by Crossplane's Upbound AWS provider.",
    "kro": "DynamoDB table provisioned by a KRO ResourceGraphDefinition over the ACK DynamoDB controller.",
    "kratix": "DynamoDB table provisioned through a Kratix Promise.",
}


@dataclass
class SharedTraitsArgs:
    namespace: pulumi.Input[str]
    """KubeVela's system definition namespace (vela-system)."""
    traits: tuple[TraitSpec, ...] = field(default=SHARED_TRAITS)


class SharedTraits(pulumi.ComponentResource):
    """TraitDefinitions every approach's Application uses."""

    def __init__(self, name: str, args: SharedTraitsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:vela:SharedTraits", name, None, opts)
        self.definitions: dict[str, k8s.apiextensions.CustomResource] = {}
        for trait in args.traits:
            self.definitions[trait.name] = k8s.apiextensions.CustomResource(
                f"{name}-{trait.name}",
                api_version=API_VERSION,
                kind="TraitDefinition",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=trait.name,
                    namespace=args.namespace,
                    annotations={DESCRIPTION_ANNOTATION: trait.description},
                ),
                spec={
                    "appliesToWorkloads": list(trait.applies_to),
                    "podDisruptive": trait.pod_disruptive,
                    "schematic": {"cue": {"template": cue_templates.trait_template(trait.name)}},
                },
                opts=child_options(self, opts),
            )
        self.register_outputs({"traits": [t.name for t in args.traits]})


@dataclass
class DynamoDBComponentDefinitionArgs:
    engine: str
    namespace: pulumi.Input[str]
    region: pulumi.Input[str]
    """Platform region, baked into the template (Crossplane MRs must name theirs)."""
    provider_config_name: str = "default"

    def __post_init__(self) -> None:
        if self.engine not in cue_templates.ENGINES:
            raise ValueError(f"engine must be one of {', '.join(cue_templates.ENGINES)}, got {self.engine!r}")


def dynamodb_definition_name(engine: str) -> str:
    return f"aws-dynamodb-{engine}"


class DynamoDBComponentDefinition(pulumi.ComponentResource):
    """`aws-dynamodb-<engine>`: the shared DynamoDB contract rendered for one engine."""

    def __init__(
        self, name: str, args: DynamoDBComponentDefinitionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("kubevela-dynamodb:vela:DynamoDBComponentDefinition", name, None, opts)
        self.definition_name = dynamodb_definition_name(args.engine)
        self.definition = k8s.apiextensions.CustomResource(
            name,
            api_version=API_VERSION,
            kind="ComponentDefinition",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=self.definition_name,
                namespace=args.namespace,
                annotations={DESCRIPTION_ANNOTATION: DYNAMODB_DESCRIPTIONS[args.engine]},
            ),
            spec={
                # `autodetects` skips the webhook's lookup of the output's CRD, which
                # would reject the definition if the engine's CRD is not served yet
                # (pkg/webhook/core.oam.dev/v1beta1/componentdefinition/mutating_handler.go).
                "workload": {"type": "autodetects.core.oam.dev"},
                "schematic": {
                    "cue": {
                        "template": pulumi.Output.from_input(args.region).apply(
                            lambda region: cue_templates.dynamodb_template(
                                args.engine, region, args.provider_config_name
                            )
                        )
                    }
                },
                "status": {
                    "healthPolicy": cue_templates.dynamodb_health_policy(args.engine),
                    "customStatus": cue_templates.dynamodb_custom_status(args.engine),
                },
            },
            opts=child_options(self, opts),
        )
        self.register_outputs({"name": self.definition_name})
