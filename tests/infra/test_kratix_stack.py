"""The kratix stack as a whole: gates on create, order on destroy, both DynamoDB modes, exports."""

from __future__ import annotations

import json

import pytest

from components import kratix_table_wait, versions
from tools import plan as plan_cli
from tools.mock_harness import PlanResult

RELEASE = "kubernetes:helm.sh/v3:Release"
STORE = "kubernetes:platform.kratix.io/v1alpha1:BucketStateStore"
DESTINATION = "kubernetes:platform.kratix.io/v1alpha1:Destination"
PROMISE = "kubernetes:platform.kratix.io/v1alpha1:Promise"
BUCKET = "kubernetes:source.toolkit.fluxcd.io/v1:Bucket"
KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"
DEFINITION = "kubernetes:core.oam.dev/v1beta1:ComponentDefinition"
APPLICATION = "kubernetes:core.oam.dev/v1beta1:Application"
JOB = "kubernetes:batch/v1:Job"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SECRET = "kubernetes:core/v1:Secret"
CM_PATCH = "kubernetes:core/v1:ConfigMapPatch"
DEPLOY_PATCH = "kubernetes:apps/v1:DeploymentPatch"
COMMAND = "command:local:Command"
EMULATOR = "http://moto.dynamodb-emulator.svc.cluster.local:5000"


@pytest.fixture(scope="module")
def kx() -> PlanResult:
    from tools.plan import plan

    return plan("kratix")


@pytest.fixture(scope="module")
def kx_aws() -> PlanResult:
    from tools.plan import plan

    return plan("kratix", None, {"dynamodbMode": "aws", "awsRegion": "eu-central-1"})



def _annotations(resource) -> dict:
    return (resource.inputs.get("metadata") or {}).get("annotations") or {}


# ─── Releases ───────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "name, pin, release_name, namespace, create_namespace",
    [
        ("cert-manager", versions.CERT_MANAGER_CHART, "cert-manager", "cert-manager", False),
        ("kratix", versions.KRATIX_CHART, "kratix", "default", False),
        ("flux", versions.FLUX_CHART, "flux2", "flux-system", False),
    ],
)
def test_releases_from_pinned_charts(kx: PlanResult, name, pin, release_name, namespace, create_namespace):
    release = kx.find(RELEASE, name).inputs
    assert release["chart"] == pin.chart
    assert release["version"] == pin.version
    assert release["repositoryOpts"]["repo"] == pin.repo
    assert release["name"] == release_name
    assert release["namespace"] == namespace
    assert release.get("createNamespace", False) is create_namespace
    # Helm waits for Deployments and hook Jobs (startupapicheck, flux check --pre).
    assert release["skipAwait"] is False and release["waitForJobs"] is True
    assert release["atomic"] is True


def test_cert_manager_version_supports_the_clusters_kubernetes():
    # 1.19 is the newest cert-manager line whose support matrix includes 1.31.
    assert versions.K3S_IMAGE.startswith("rancher/k3s:v1.31.")
    assert versions.CERT_MANAGER_CHART.version.startswith("v1.19.")


def test_flux_version_installs_on_kubernetes_1_31():
    # Chart >= 2.17 (Flux >= 2.7) fails its pre-install `flux check --pre` on 1.31.
    major, minor, _ = (int(p) for p in versions.FLUX_CHART.version.split("."))
    assert (major, minor) <= (2, 16)


def test_kratix_waits_for_cert_manager(kx: PlanResult):
    assert kx.find(RELEASE, "kratix").depends_on(RELEASE, "cert-manager")


def test_minio_images_come_from_quay_and_are_pinned(kx: PlanResult):
    server = kx.find(DEPLOYMENT, "kratix-state-store-server").inputs
    (container,) = server["spec"]["template"]["spec"]["containers"]
    job = kx.find(JOB, "kratix-state-store-create-bucket").inputs
    (mc,) = job["spec"]["template"]["spec"]["containers"]
    for image in (container["image"], mc["image"]):
        assert image.startswith("quay.io/minio/") and ":RELEASE." in image


# ─── Create gates ───────────────────────────────────────────────────────────


def test_state_store_and_destination_wait_for_kratix_and_the_bucket(kx: PlanResult):
    store = kx.find(STORE, "kratix-destination-state-store")
    assert store.depends_on(RELEASE, "kratix")
    assert store.depends_on(CM_PATCH, "kratix-adapter-image")
    assert store.depends_on(JOB, "kratix-state-store-create-bucket")
    destination = kx.find(DESTINATION, "kratix-destination-destination")
    assert destination.depends_on(STORE, "kratix-destination-state-store")


def test_flux_objects_wait_for_flux_and_the_destination(kx: PlanResult):
    bucket = kx.find(BUCKET, "kratix-destination-flux-bucket")
    assert bucket.depends_on(RELEASE, "flux")
    # The Destination's canary files make both Kustomization paths exist.
    assert bucket.depends_on(DESTINATION, "kratix-destination-destination")
    resources = kx.find(KUSTOMIZATION, "kratix-destination-resources")
    assert resources.depends_on(KUSTOMIZATION, "kratix-destination-dependencies")


@pytest.mark.parametrize(
    "type_, name, condition",
    [
        (STORE, "kratix-destination-state-store", "Ready"),
        (DESTINATION, "kratix-destination-destination", "Ready"),
        (BUCKET, "kratix-destination-flux-bucket", "Ready"),
        (KUSTOMIZATION, "kratix-destination-dependencies", "Ready"),
        (KUSTOMIZATION, "kratix-destination-resources", "Ready"),
        (PROMISE, "dynamodb-promise", "Available"),
        (JOB, "kratix-state-store-create-bucket", "Complete"),
    ],
)
def test_readiness_gates(kx: PlanResult, type_, name, condition):
    assert _annotations(kx.find(type_, name))["pulumi.com/waitFor"] == f"condition={condition}"


def test_promise_waits_for_kratix_destination_flux_and_its_image(kx: PlanResult):
    promise = kx.find(PROMISE, "dynamodb-promise")
    assert promise.depends_on(COMMAND, "dynamodb-promise-pipeline-image")
    assert promise.depends_on(DEPLOY_PATCH, "kratix-adapter-rollout")
    assert promise.depends_on(DESTINATION, "kratix-destination-destination")
    assert promise.depends_on(KUSTOMIZATION, "kratix-destination-resources")
    assert promise.options["customTimeouts"] == {"create": "10m", "update": "10m"}


def test_application_waits_for_everything_its_table_needs(kx: PlanResult):
    app = kx.find(APPLICATION, "session-api-app-kratix")
    assert app.depends_on(DEFINITION, "dynamodb-definition-kratix")
    assert app.depends_on(PROMISE, "dynamodb-promise")
    assert app.depends_on(KUSTOMIZATION, "kratix-destination-resources")
    assert app.depends_on(DESTINATION, "kratix-destination-destination")
    assert _annotations(app)["pulumi.com/waitFor"] == "jsonpath={.status.status}=running"


# ─── Destroy order ──────────────────────────────────────────────────────────


def test_destroy_order(kx: PlanResult):
    # Destroy runs dependencies in reverse: each pair below is deleted left first.
    app = (APPLICATION, "session-api-app-kratix")
    promise = (PROMISE, "dynamodb-promise")
    resources = (KUSTOMIZATION, "kratix-destination-resources")
    dependencies = (KUSTOMIZATION, "kratix-destination-dependencies")
    bucket = (BUCKET, "kratix-destination-flux-bucket")
    destination = (DESTINATION, "kratix-destination-destination")
    store = (STORE, "kratix-destination-state-store")
    minio = (JOB, "kratix-state-store-create-bucket")
    flux = (RELEASE, "flux")
    kratix = (RELEASE, "kratix")
    cert_manager = (RELEASE, "cert-manager")
    for before, after in [
        (app, promise),
        (promise, resources),
        (resources, dependencies),
        (dependencies, bucket),
        (bucket, destination),
        (destination, store),
        (store, minio),
        (bucket, flux),
        (store, kratix),
        (promise, kratix),
        (kratix, cert_manager),
    ]:
        assert kx.waits_for(before, after), f"{before[1]} must be deleted before {after[1]}"
        assert not kx.waits_for(after, before), f"{after[1]} must not wait for {before[1]}"


WAIT = (COMMAND, "kratix-tables-gone-wait")


def test_destroy_waits_for_the_tables_between_the_application_and_the_promise(kx: PlanResult):
    """Application first, then the wait for the ACK Tables, then everything that deletes them."""
    app = (APPLICATION, "session-api-app-kratix")
    assert kx.waits_for(app, WAIT), "the Application must be deleted before the wait runs"
    assert not kx.waits_for(WAIT, app)
    outlive_the_wait = [
        (PROMISE, "dynamodb-promise"),
        (KUSTOMIZATION, "kratix-destination-resources"),
        (KUSTOMIZATION, "kratix-destination-dependencies"),
        (BUCKET, "kratix-destination-flux-bucket"),
        (DESTINATION, "kratix-destination-destination"),
        (STORE, "kratix-destination-state-store"),
        (JOB, "kratix-state-store-create-bucket"),
        (RELEASE, "flux"),
        (RELEASE, "kratix"),
        (DEPLOY_PATCH, "kratix-adapter-rollout"),
    ]
    for resource in outlive_the_wait:
        assert kx.waits_for(WAIT, resource), f"{resource[1]} must still be there while the Tables are deleted"
        assert not kx.waits_for(resource, WAIT), f"{resource[1]} must not wait for the wait"


def test_tables_wait_runs_only_on_destroy_with_the_kubeconfig_as_a_secret(kx: PlanResult, platform: PlanResult):
    from components.kratix_promise import TABLE_LABEL

    wait = kx.find(*WAIT)
    inputs = wait.inputs
    assert "create" not in inputs and "update" not in inputs
    assert "-m tools.wait_tables_gone" in inputs["delete"]
    assert inputs["delete"] == kratix_table_wait.WAIT_COMMAND
    env = inputs["environment"]
    assert env["KVDEMO_TABLE_SELECTOR"] == TABLE_LABEL
    assert env["KVDEMO_TABLE_WAIT_SECONDS"] == "600"
    assert env["KVDEMO_FLUX_KUSTOMIZATION"] == "flux-system/kratix-platform-resources"
    assert env["KVDEMO_ACK_NAMESPACE"] == "ack-system"
    # The same context as every provider of the stack, not the kubeconfig's current one.
    assert env["KVDEMO_KUBE_CONTEXT"] == platform.outputs["kubeContext"] != ""
    assert wait.is_secret("environment")
    assert "offline-plan-token" not in json.dumps(wait.masked_inputs)
    assert wait.parent == "kubevela-dynamodb:kratix:TablesGone::kratix-tables-gone"


def test_tables_wait_uses_the_projects_own_virtualenv():
    """The wait runs in the project folder with the interpreter of Pulumi.yaml's virtualenv
    (which holds its dependencies), not whichever python3 the shell finds first."""
    import yaml

    from components.session_api_image import PROJECT_DIR

    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    venv = project["runtime"]["options"]["virtualenv"]
    assert f"[ -x {venv}/bin/python ]; then exec {venv}/bin/python -m tools.wait_tables_gone;" in (
        kratix_table_wait.WAIT_COMMAND
    )


def test_kustomizations_wait_for_what_they_applied_to_be_gone(kx: PlanResult):
    for name in ("kratix-destination-dependencies", "kratix-destination-resources"):
        spec = kx.find(KUSTOMIZATION, name).inputs["spec"]
        assert spec["prune"] is True
        assert spec["deletionPolicy"] == "WaitForTermination"
        # The wait ends at spec.timeout (default: 30s), after which Flux lets go anyway.
        assert spec["timeout"] == "5m"


def test_nothing_is_retained_or_orphaned_on_delete(kx: PlanResult):
    for resource in kx.registrations:
        assert not resource.options["retainOnDelete"], f"{resource.type} {resource.name}"
        assert "pulumi.com/deletionPropagationPolicy" not in _annotations(resource), resource.name
    assert kx.find(RELEASE, "cert-manager").inputs["values"]["crds"]["keep"] is False


# ─── DynamoDB modes and the Application ─────────────────────────────────────


def test_application_is_the_kratix_session_app(kx: PlanResult):
    app = kx.find(APPLICATION, "session-api-app-kratix").inputs
    assert app["metadata"]["namespace"] == "session-apps"
    table, api = app["spec"]["components"]
    assert table["type"] == "aws-dynamodb-kratix"
    assert table["properties"]["tableName"] == "kvdemo-sessions-kratix"
    client = next(t for t in api["traits"] if t["type"] == "dynamodb-client")["properties"]
    assert client["endpoint"] == EMULATOR
    ingress = next(t for t in api["traits"] if t["type"] == "http-ingress")["properties"]
    assert ingress["host"] == "session-api-kratix.localhost"


def test_aws_mode_uses_the_default_endpoint_and_region(kx_aws: PlanResult):
    table, api = kx_aws.find(APPLICATION, "session-api-app-kratix").inputs["spec"]["components"]
    client = next(t for t in api["traits"] if t["type"] == "dynamodb-client")["properties"]
    assert "endpoint" not in client
    assert client["region"] == "eu-central-1"
    assert kx_aws.outputs["dynamodbMode"] == "aws"
    # The Promise does not depend on the mode: ACK (platform) carries region and credentials.
    promise_local = plan_cli.plan("kratix").find(PROMISE, "dynamodb-promise").inputs
    assert kx_aws.find(PROMISE, "dynamodb-promise").inputs == promise_local


def test_state_store_credentials_are_secrets(kx: PlanResult):
    for name in ("kratix-destination-kratix-credentials", "kratix-destination-flux-credentials", "kratix-state-store-root"):
        assert kx.find(SECRET, name).is_secret("stringData"), name
    assert set(kx.find(SECRET, "kratix-destination-kratix-credentials").inputs["stringData"]) == {
        "accessKeyID",
        "secretAccessKey",
    }
    assert set(kx.find(SECRET, "kratix-destination-flux-credentials").inputs["stringData"]) == {"accesskey", "secretkey"}


def test_kratix_and_flux_share_the_minio_credentials(kx: PlanResult):
    root = kx.find(SECRET, "kratix-state-store-root").inputs["stringData"]
    kratix = kx.find(SECRET, "kratix-destination-kratix-credentials").inputs["stringData"]
    flux = kx.find(SECRET, "kratix-destination-flux-credentials").inputs["stringData"]
    assert root["user"] == kratix["accessKeyID"] == flux["accesskey"]
    assert root["password"] == kratix["secretAccessKey"] == flux["secretkey"]
    assert len(root["password"]) >= 8


# ─── Stack as a whole ───────────────────────────────────────────────────────


def test_exports(kx: PlanResult):
    assert kx.outputs["applicationName"] == "session-api-app-kratix"
    assert kx.outputs["tableName"] == "kvdemo-sessions-kratix"
    assert kx.outputs["apiUrl"] == "http://session-api-kratix.localhost:8081"
    assert kx.outputs["componentDefinition"] == "aws-dynamodb-kratix"
    assert kx.outputs["requestKind"] == "dynamodb.kubevela-dynamodb.dev/v1alpha1 DynamoDBRequest"
    assert kx.outputs["pipelineImage"].startswith("kubevela-dynamodb/dynamodb-pipeline:")
    assert kx.secret_outputs == []


def test_names_follow_the_platform_settings(plan_stack):
    plan = plan_stack("kratix", platform_overrides={"tablePrefix": "team1-", "ingressDomain": "demo.test", "httpPort": "9090"})
    assert plan.outputs["tableName"] == "team1-sessions-kratix"
    assert plan.outputs["apiUrl"] == "http://session-api-kratix.demo.test:9090"


def test_state_store_namespace_from_config(plan_stack):
    plan = plan_stack("kratix", stateStoreNamespace="kx-store")
    assert plan.outputs["stateStoreEndpoint"] == "minio.kx-store.svc.cluster.local:9000"
    assert plan.find(STORE, "kratix-destination-state-store").inputs["spec"]["secretRef"]["namespace"] == "kx-store"


def test_bad_config_names_the_key(plan_stack):
    with pytest.raises(Exception, match="stateStoreNamespace"):
        plan_stack("kratix", stateStoreNamespace="Not_A_Label")


def test_every_kubernetes_object_uses_the_platform_cluster(kx: PlanResult):
    k8s_objects = [r for r in kx.registrations if r.custom and r.type.startswith("kubernetes:")]
    assert len(k8s_objects) == 23
    for resource in k8s_objects:
        assert resource.options["provider"] == "platform-cluster", f"{resource.type} {resource.name}"


def test_plan_is_deterministic_and_masks_secrets(fresh_plan_stack):
    first = json.dumps(fresh_plan_stack("kratix").to_json(), sort_keys=True)
    second = json.dumps(fresh_plan_stack("kratix").to_json(), sort_keys=True)
    assert first == second
    assert "offline-plan-token" not in first
    password = fresh_plan_stack("kratix").find(SECRET, "kratix-state-store-root").inputs["stringData"]["password"]
    assert password not in first


def test_offline_plan_cli_runs_the_kratix_stack(capsys):
    assert plan_cli.main(["kratix", "--set-platform", "dynamodbMode=aws"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["stack"] == "kratix"
    assert {PROMISE, STORE, DESTINATION, BUCKET, KUSTOMIZATION, APPLICATION} <= {r["type"] for r in printed["resources"]}


def test_release_namespaces_are_pulumi_objects_deleted_after_their_release(kx: PlanResult):
    # Helm never deletes a namespace it created with create_namespace.
    for release, namespace in (("cert-manager", "cert-manager-namespace"), ("flux", "flux-namespace")):
        assert kx.find(RELEASE, release).depends_on("kubernetes:core/v1:Namespace", namespace)
