"""The kratix stack's components: chart values, image pins, state store, Flux wiring, the Promise."""

from __future__ import annotations

import re

import pytest

from components import versions
from components.flux import flux_values
from components.kratix import ADAPTER_ANNOTATION, KratixArgs, kratix_values
from components.kratix_destination import KratixDestinationArgs
from components.k3d_cluster import with_project_tools
from components.kratix_promise import (
    PIPELINE_DIR,
    PROMISE_NAME,
    DynamoDBPromiseArgs,
    deliver_command,
    pipeline_image,
    request_crd,
)
from components.minio import MinioArgs
from components.session_api_image import PROJECT_DIR
from tools.mock_harness import PlanResult

RELEASE = "kubernetes:helm.sh/v3:Release"
PROMISE = "kubernetes:platform.kratix.io/v1alpha1:Promise"
STORE = "kubernetes:platform.kratix.io/v1alpha1:BucketStateStore"
DESTINATION = "kubernetes:platform.kratix.io/v1alpha1:Destination"
BUCKET = "kubernetes:source.toolkit.fluxcd.io/v1:Bucket"
KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"
COMMAND = "command:local:Command"
EXISTING = {
    "clusterMode": "existing",
    "clusterName": "eks-demo",
    "kubeconfig": "apiVersion: v1\nkind: Config\ncurrent-context: eks\ncontexts: [{name: eks, context: {}}]\n",
    "imageRegistry": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/kvdemo",
    "imagePullSecrets": ["ecr-pull"],
}


@pytest.fixture(scope="module")
def kx() -> PlanResult:
    from tools.plan import plan

    return plan("kratix")


# ─── Kratix: what the rolling chart leaves unpinned, pinned here ────────────


def test_kratix_controller_image_is_pinned_by_digest(kx: PlanResult):
    values = kx.find(RELEASE, "kratix").inputs["values"]
    assert values["image"] == versions.KRATIX_IMAGE
    assert re.search(r"@sha256:[0-9a-f]{64}$", values["image"])
    # No chart-made state store (it would point at a MinIO the chart does not install).
    assert values["stateStores"] == [] and values["destinations"] == []
    assert "additionalResources" not in values


def test_adapter_image_configmap_is_patched_and_the_controller_rolled(kx: PlanResult):
    patch = kx.find("kubernetes:core/v1:ConfigMapPatch", "kratix-adapter-image")
    assert patch.inputs["metadata"]["name"] == "kratix-platform-pipeline-adapter-config"
    assert patch.inputs["metadata"]["namespace"] == "kratix-platform-system"
    assert patch.inputs["metadata"]["annotations"]["pulumi.com/patchForce"] == "true"
    assert patch.inputs["data"] == {"PIPELINE_ADAPTER_IMG": versions.KRATIX_IMAGE}
    assert patch.depends_on(RELEASE, "kratix")
    # The controller reads the ConfigMap into its env at start: it must restart.
    rollout = kx.find("kubernetes:apps/v1:DeploymentPatch", "kratix-adapter-rollout")
    assert rollout.inputs["metadata"]["name"] == "kratix-platform-controller-manager"
    template_annotations = rollout.inputs["spec"]["template"]["metadata"]["annotations"]
    assert template_annotations == {ADAPTER_ANNOTATION: versions.KRATIX_IMAGE}
    assert rollout.depends_on("kubernetes:core/v1:ConfigMapPatch", "kratix-adapter-image")


def test_kratix_args_refuse_floating_images():
    with pytest.raises(ValueError, match="adapter_image must be pinned by digest"):
        KratixArgs(adapter_image="syntasso/kratix-platform:latest")
    with pytest.raises(ValueError, match="release_namespace"):
        KratixArgs(release_namespace="kratix-platform-system")
    assert kratix_values("x@sha256:" + "0" * 64)["image"].endswith("0" * 64)


def test_cert_manager_installs_its_crds_and_keeps_its_api_check(kx: PlanResult):
    release = kx.find(RELEASE, "cert-manager").inputs
    assert release["values"]["crds"]["enabled"] is True
    assert "startupapicheck" not in release["values"]  # on by default: the readiness gate
    assert release["timeout"] >= 600


def test_flux_runs_only_the_source_and_kustomize_controllers():
    values = flux_values()
    for controller in ("helmController", "imageAutomationController", "imageReflectionController", "notificationController"):
        assert values[controller] == {"create": False}
    assert "sourceController" not in values and "kustomizeController" not in values


# ─── MinIO state store ──────────────────────────────────────────────────────


def test_minio_persists_the_bucket_and_creates_it_idempotently(kx: PlanResult):
    claim = kx.find("kubernetes:core/v1:PersistentVolumeClaim", "kratix-state-store-data").inputs
    # local-path binds on first consumer: awaiting Bound would deadlock.
    assert claim["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
    server = kx.find("kubernetes:apps/v1:Deployment", "kratix-state-store-server").inputs["spec"]
    assert server["strategy"]["type"] == "Recreate"
    assert server["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "minio-data"
    job = kx.find("kubernetes:batch/v1:Job", "kratix-state-store-create-bucket")
    (mc,) = job.inputs["spec"]["template"]["spec"]["containers"]
    assert mc["command"][-3:] == ["mb", "--ignore-existing", "minio/kratix"]
    env = {e["name"]: e for e in mc["env"]}
    assert env["MC_HOST_minio"]["value"] == "http://$(ACCESS_KEY):$(SECRET_KEY)@minio.kratix-statestore.svc.cluster.local:9000"
    assert "value" not in env["SECRET_KEY"]  # from the Secret, never inline
    assert job.options["deleteBeforeReplace"] is True
    assert job.depends_on("kubernetes:apps/v1:Deployment", "kratix-state-store-server")


def test_minio_containers_run_as_non_root(kx: PlanResult):
    for type_, name in (("kubernetes:apps/v1:Deployment", "kratix-state-store-server"),
                        ("kubernetes:batch/v1:Job", "kratix-state-store-create-bucket")):
        (container,) = kx.find(type_, name).inputs["spec"]["template"]["spec"]["containers"]
        assert container["securityContext"]["runAsNonRoot"] is True, name


@pytest.mark.parametrize("field, value", [("namespace", "Bad_NS"), ("bucket", "x")])
def test_minio_args_are_validated(field, value):
    with pytest.raises(ValueError, match=field):
        MinioArgs(root_password="password", **{field: value})


# ─── Store, Destination and Flux ────────────────────────────────────────────


def test_kratix_and_flux_read_the_same_bucket_at_the_same_endpoint(kx: PlanResult):
    store = kx.find(STORE, "kratix-destination-state-store").inputs["spec"]
    bucket = kx.find(BUCKET, "kratix-destination-flux-bucket").inputs["spec"]
    assert store["endpoint"] == bucket["endpoint"] == "minio.kratix-statestore.svc.cluster.local:9000"
    assert store["bucketName"] == bucket["bucketName"] == "kratix"
    assert store["insecure"] is bucket["insecure"] is True
    assert store["secretRef"] == {"name": "kratix-state-store", "namespace": "kratix-statestore"}
    assert bucket["secretRef"] == {"name": "kratix-bucket"}
    assert bucket["provider"] == "generic"


def test_destination_paths_match_the_kustomizations(kx: PlanResult):
    destination = kx.find(DESTINATION, "kratix-destination-destination").inputs
    assert destination["metadata"]["labels"] == {"environment": "platform"}
    assert destination["spec"]["path"] == "platform"
    assert destination["spec"]["stateStoreRef"] == {"kind": "BucketStateStore", "name": "platform-minio"}
    deps = kx.find(KUSTOMIZATION, "kratix-destination-dependencies").inputs
    resources = kx.find(KUSTOMIZATION, "kratix-destination-resources").inputs
    assert deps["spec"]["path"] == "./platform/dependencies"
    assert resources["spec"]["path"] == "./platform/resources"
    assert resources["spec"]["dependsOn"] == [{"name": deps["metadata"]["name"]}]
    for ks in (deps, resources):
        assert ks["metadata"]["namespace"] == "flux-system"
        assert ks["spec"]["sourceRef"] == {"kind": "Bucket", "name": "kratix-platform"}


def test_destination_args_refuse_an_endpoint_with_a_scheme():
    with pytest.raises(ValueError, match="without a scheme"):
        KratixDestinationArgs(
            endpoint="http://minio:9000", bucket="kratix", access_key="a", secret_key="b",
            credentials_namespace="s", flux_namespace="flux-system",
        )


def test_destination_args_refuse_a_timeout_flux_cannot_parse():
    with pytest.raises(ValueError, match="deletion_timeout"):
        KratixDestinationArgs(
            endpoint="minio:9000", bucket="kratix", access_key="a", secret_key="b",
            credentials_namespace="s", flux_namespace="flux-system", deletion_timeout="5 minutes",
        )


# ─── The Promise ────────────────────────────────────────────────────────────


def test_promise_api_is_the_namespaced_dynamodb_request(kx: PlanResult):
    spec = kx.find(PROMISE, "dynamodb-promise").inputs["spec"]
    api = spec["api"]
    assert api["metadata"]["name"] == "dynamodbrequests.dynamodb.kubevela-dynamodb.dev"
    assert api["spec"]["group"] == "dynamodb.kubevela-dynamodb.dev"
    assert api["spec"]["names"]["kind"] == "DynamoDBRequest"
    assert api["spec"]["scope"] == "Namespaced"
    (version,) = api["spec"]["versions"]
    assert version["name"] == "v1alpha1" and version["served"] and version["storage"]
    # Kratix writes its own status schema.
    assert set(version["schema"]["openAPIV3Schema"]["properties"]) == {"spec"}
    assert spec["destinationSelectors"] == [{"matchLabels": {"environment": "platform"}}]


def test_promise_workflow_writes_the_table_then_waits_for_it(kx: PlanResult):
    spec = kx.find(PROMISE, "dynamodb-promise").inputs["spec"]
    image = kx.outputs["pipelineImage"]
    create, status = spec["workflows"]["resource"]["configure"]
    assert create["metadata"]["name"] == "create-table" and status["metadata"]["name"] == "table-status"
    for pipeline, step in ((create, "configure"), (status, "table-status")):
        assert pipeline["kind"] == "Pipeline"
        (container,) = pipeline["spec"]["containers"]
        assert container["image"] == image
        assert container["args"] == [step]
        assert container["imagePullPolicy"] == "IfNotPresent"
        assert container["securityContext"]["runAsNonRoot"] is True
        assert len(f"{PROMISE_NAME}-resource-configure-{pipeline['metadata']['name']}") <= 60
    assert status["spec"]["rbac"]["permissions"] == [
        {"apiGroups": ["dynamodb.services.k8s.aws"], "resources": ["tables"], "verbs": ["get"]}
    ]
    assert "delete" not in spec["workflows"]["resource"]


def test_pipeline_image_is_built_and_imported_under_a_content_tag(kx: PlanResult):
    command = kx.find(COMMAND, "dynamodb-promise-pipeline-image").inputs
    image = kx.outputs["pipelineImage"]
    assert re.fullmatch(r"kubevela-dynamodb/dynamodb-pipeline:[0-9a-f]{16}", image)
    # Loaded into the engine whatever the default builder, built for this machine (the k3d
    # nodes'), imported with the project's k3d when the shell has none.
    assert command["create"] == with_project_tools(
        f"docker buildx build --load --tag {image} {PIPELINE_DIR} && k3d image import {image} --cluster kubevela-dynamodb"
    )
    assert image in command["triggers"] and "kubevela-dynamodb" in command["triggers"]


def test_existing_cluster_pushes_the_pipeline_image_and_pulls_with_the_secrets(plan_stack):
    plan = plan_stack("kratix", platform_overrides=EXISTING)
    image = plan.outputs["pipelineImage"]
    assert image.startswith("111122223333.dkr.ecr.eu-west-1.amazonaws.com/kvdemo/dynamodb-pipeline:")
    command = plan.find(COMMAND, "dynamodb-promise-pipeline-image").inputs
    # Built for the nodes' platform (imagePlatform, linux/amd64 by default), not this machine's.
    assert command["create"] == (
        f"docker buildx build --load --platform linux/amd64 --tag {image} {PIPELINE_DIR} && docker push {image}"
    )
    assert "linux/amd64" in command["triggers"]
    arm = plan_stack("kratix", platform_overrides={**EXISTING, "imagePlatform": "linux/arm64"})
    assert "--platform linux/arm64 " in arm.find(COMMAND, "dynamodb-promise-pipeline-image").inputs["create"]
    for pipeline in plan.find(PROMISE, "dynamodb-promise").inputs["spec"]["workflows"]["resource"]["configure"]:
        assert pipeline["spec"]["imagePullSecrets"] == [{"name": "ecr-pull"}]


def test_image_helpers():
    assert pipeline_image("a/b", "t", "") == "a/b:t"
    assert pipeline_image("a/b", "t", "reg.example/x/") == "reg.example/x/b:t"
    assert "k3d image import" in deliver_command("a/b:t", PIPELINE_DIR, "c", "")
    assert "--platform linux/arm64 " in deliver_command("r/b:t", PIPELINE_DIR, "", "r", "linux/arm64")


def test_pipeline_dockerfile_uses_the_pinned_base_and_a_non_root_user():
    dockerfile = (PROJECT_DIR / PIPELINE_DIR / "Dockerfile").read_text()
    assert f"FROM {versions.KRATIX_PIPELINE_BASE_IMAGE}\n" in dockerfile
    assert re.search(r"^USER 10001:10001$", dockerfile, re.M)
    assert (PROJECT_DIR / PIPELINE_DIR / "requirements.txt").read_text().count("==") == 1


def test_promise_args_are_validated():
    with pytest.raises(ValueError, match="destination_selector"):
        DynamoDBPromiseArgs(destination_selector={}, cluster_name="c", cluster_identity="i")
    with pytest.raises(ValueError, match="timeout_minutes"):
        DynamoDBPromiseArgs(destination_selector={"a": "b"}, cluster_name="c", cluster_identity="i", timeout_minutes=0)


def test_request_crd_needs_only_table_name_and_hash_key():
    schema = request_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert schema["required"] == ["tableName", "hashKey"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"selector": ""}, "selector must be a label selector without spaces"),
        ({"selector": "a in (b, c)"}, "selector must be a label selector without spaces"),
        ({"kustomization": "kratix-platform-resources"}, "kustomization must be namespace/name"),
        ({"timeout_minutes": 0}, "timeout_minutes must be a whole number from 1 to 60"),
        ({"timeout_minutes": 61}, "timeout_minutes must be a whole number from 1 to 60"),
        ({"timeout_minutes": 1.5}, "timeout_minutes must be a whole number from 1 to 60"),
    ],
)
def test_tables_wait_args_reject_bad_values(kwargs, message):
    from components.kratix_table_wait import TablesGoneArgs

    with pytest.raises(ValueError, match=message):
        TablesGoneArgs(**{"kubeconfig": "k", "selector": "kubevela-dynamodb.dev/dynamodb-request", **kwargs})
