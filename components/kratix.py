"""Kratix: the controller, its webhooks and CRDs, from the upstream chart.

Installed from syntasso's Helm repository, never copied into this repository.
That chart is re-published under the one version `v0.0.1` on every upstream
change (see components/versions.py), so the version pins nothing. What can be
pinned is pinned here:

- the controller image, by digest, through the chart value `image`;
- the pipeline-adapter image (the `reader`, `work-writer` and `status-writer`
  containers of every pipeline Job). No chart value sets it: it lives in the
  ConfigMap `kratix-platform-pipeline-adapter-config` (key
  PIPELINE_ADAPTER_IMG) that the controller reads into an environment
  variable **when its container starts**. So the ConfigMap is patched AND the
  Deployment's pod template gets an annotation naming the image: the patch
  rolls the controller, which then reads the pinned value.

Residual risk: the chart's CRDs, RBAC and webhook configuration still follow
whatever `v0.0.1` is on the day of install; a later Helm upgrade of this
release (a changed value) rewrites the ConfigMap to the chart's value while
the patch resources see no diff, until `pulumi up --refresh` re-applies them.

Ref: syntasso/helm-charts@ccb42919 kratix/values.yaml (`image`, `stateStores`,
`destinations`), kratix/templates/deployment.yaml, kratix/files/deployment.yaml
(env PIPELINE_ADAPTER_IMG from configMapKeyRef), kratix/templates/distribution.yaml
(ConfigMap, namespace kratix-platform-system); syntasso/kratix
api/v1alpha1/pipeline_factory.go (os.Getenv("PIPELINE_ADAPTER_IMG")).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import helm, versions
from components.options import child_options
from components.versions import ChartPin

SYSTEM_NAMESPACE = "kratix-platform-system"
"""Created by the chart itself (a template), so the release must not create it."""
CONTROLLER_DEPLOYMENT = "kratix-platform-controller-manager"
ADAPTER_CONFIGMAP = "kratix-platform-pipeline-adapter-config"
ADAPTER_KEY = "PIPELINE_ADAPTER_IMG"
ADAPTER_ANNOTATION = "kubevela-dynamodb.dev/pipeline-adapter-image"


@dataclass
class KratixArgs:
    image: str = versions.KRATIX_IMAGE
    """Controller image, full reference (the chart value is not repository/tag)."""
    adapter_image: str = versions.KRATIX_IMAGE
    """Pipeline-adapter image; upstream ships the same image for both."""
    release_namespace: str = "default"
    """Where Helm keeps the release record (upstream installs into `default`)."""
    chart: ChartPin = versions.KRATIX_CHART

    def __post_init__(self) -> None:
        for field_name in ("image", "adapter_image"):
            value = getattr(self, field_name)
            if "@sha256:" not in value:
                raise ValueError(f"{field_name} must be pinned by digest (…@sha256:…), got {value!r}")
        if self.release_namespace == SYSTEM_NAMESPACE:
            raise ValueError(f"release_namespace must not be {SYSTEM_NAMESPACE}: the chart creates that namespace")


def kratix_values(image: str) -> dict:
    return {
        "image": image,
        # The chart's default creates a BucketStateStore `default` pointing at a MinIO
        # it does not install (plus a post-install hook). Ours is created by Pulumi,
        # gated on the real bucket. With both lists empty and no additionalResources
        # the chart renders no hooks.
        "stateStores": [],
        "destinations": [],
    }


class Kratix(pulumi.ComponentResource):
    """The release plus the adapter-image pin; Kratix CRs depend on `ready` (all three)."""

    def __init__(self, name: str, args: KratixArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:kratix:Kratix", name, None, opts)
        child = child_options(self, opts)
        # Helm waits for the controller Deployment to be Ready, and its /readyz includes
        # the webhook server's StartedChecker (syntasso/kratix cmd/main.go), so a finished
        # release means the webhooks that validate our CRs answer.
        self.release = helm.release(
            name,
            args.chart,
            release_name="kratix",
            namespace=args.release_namespace,
            values=kratix_values(args.image),
            opts=child,
        )
        after_release = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.release]))
        # The chart (field manager "helm") owns this key: force the server-side apply.
        force = {"pulumi.com/patchForce": "true"}
        self.adapter_config = k8s.core.v1.ConfigMapPatch(
            f"{name}-adapter-image",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                name=ADAPTER_CONFIGMAP, namespace=SYSTEM_NAMESPACE, annotations=force
            ),
            data={ADAPTER_KEY: args.adapter_image},
            opts=after_release,
        )
        # A changed pod-template annotation rolls the controller, so it reads the patched
        # ConfigMap. The provider runs its Deployment await on the patched object
        # (pulumi-kubernetes provider/pkg/await/await.go Creation: the awaiter is chosen by
        # the live object's kind), so dependents start after the rollout; and the rollout
        # surges a new pod before the old one stops (maxUnavailable 0 at one replica), so
        # the webhooks keep answering either way.
        self.controller_restart = k8s.apps.v1.DeploymentPatch(
            f"{name}-adapter-rollout",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                name=CONTROLLER_DEPLOYMENT, namespace=SYSTEM_NAMESPACE, annotations=force
            ),
            spec=k8s.apps.v1.DeploymentSpecPatchArgs(
                template=k8s.core.v1.PodTemplateSpecPatchArgs(
                    metadata=k8s.meta.v1.ObjectMetaPatchArgs(annotations={ADAPTER_ANNOTATION: args.adapter_image})
                )
            ),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[self.release, self.adapter_config])
            ),
        )
        self.ready: list[pulumi.Resource] = [self.release, self.adapter_config, self.controller_restart]
        self.register_outputs({"image": args.image, "adapterImage": args.adapter_image})
