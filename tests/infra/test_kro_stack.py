"""The kro stack: KRO, its RGD over the platform's ACK Tables, aws-dynamodb-kro and session-api-app-kro."""

from __future__ import annotations

import json

import pytest

from components import versions
from components.kro import RGD_FILE, KroArgs, chart_values, load_rgd
from tools.mock_harness import PlanResult

RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
RGD = "kubernetes:kro.run/v1alpha1:ResourceGraphDefinition"
CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
DEFINITION = "kubernetes:core.oam.dev/v1beta1:ComponentDefinition"
APPLICATION = "kubernetes:core.oam.dev/v1beta1:Application"
KRO = "kubevela-dynamodb:kro:Kro"


@pytest.fixture(scope="module")
def kro() -> PlanResult:
    from tools.plan import plan

    return plan("kro")


@pytest.fixture(scope="module")
def kro_aws() -> PlanResult:
    from tools.plan import plan

    return plan("kro", None, {"dynamodbMode": "aws", "awsRegion": "eu-west-1", "tablePrefix": "team-"})


def test_kro_release_from_the_pinned_oci_chart(kro: PlanResult):
    release = kro.find(RELEASE, "kro")
    inputs = release.inputs
    assert inputs["chart"] == "oci://registry.k8s.io/kro/charts/kro"
    assert inputs["version"] == versions.KRO_CHART.version == "0.9.3"
    assert "repositoryOpts" not in inputs
    assert inputs["name"] == "kro"
    assert inputs["namespace"] == "kro-system"
    assert inputs["atomic"] is True and inputs["skipAwait"] is False
    assert release.parent == f"{KRO}::kro"
    assert release.depends_on(NAMESPACE, "kro-namespace")


def test_kro_values_aggregated_rbac_and_the_omit_gate(kro: PlanResult):
    values = kro.find(RELEASE, "kro").inputs["values"]
    assert values == chart_values()
    assert values["rbac"] == {"mode": "aggregation"}
    # The RGD uses omit(); without the gate kro refuses it at build time.
    assert values["config"]["featureGates"] == {"CELOmitFunction": True}
    assert "omit()" in RGD_FILE.read_text()


def test_only_kro_is_installed_ack_stays_with_the_platform(kro: PlanResult):
    assert kro.names(RELEASE) == {"kro"}
    assert not [r for r in kro.registrations if "ack" in r.name and r.custom]


def test_permissions_for_ack_tables_aggregate_into_kros_role(kro: PlanResult):
    role = kro.find(CLUSTER_ROLE, "kro-dynamodbtables")
    assert role.inputs["metadata"] == {
        "name": "kro:controller:dynamodbtables",
        "labels": {"rbac.kro.run/aggregate-to-controller": "true"},
    }
    by_group = {rule["apiGroups"][0]: rule for rule in role.inputs["rules"]}
    assert by_group["dynamodb.services.k8s.aws"]["resources"] == ["tables"]
    assert "delete" in by_group["dynamodb.services.k8s.aws"]["verbs"]
    assert by_group["kro.run"]["resources"] == ["dynamodbtables", "dynamodbtables/status"]
    assert role.parent == f"{KRO}::kro"


def test_rgd_is_the_checked_in_file_cluster_scoped_and_waited_for(kro: PlanResult):
    rgd = kro.find(RGD, "kro-rgd")
    expected = load_rgd()
    assert rgd.inputs["apiVersion"] == "kro.run/v1alpha1"
    assert rgd.inputs["kind"] == "ResourceGraphDefinition"
    assert rgd.inputs["spec"] == expected["spec"]
    metadata = rgd.inputs["metadata"]
    assert metadata["name"] == "dynamodbtable"
    assert "namespace" not in metadata, "ResourceGraphDefinitions are cluster-scoped"
    assert metadata["annotations"] == {"pulumi.com/waitFor": "jsonpath={.status.state}=Active"}
    assert rgd.options["customTimeouts"] == {"create": "5m", "update": "5m"}
    assert rgd.parent == f"{KRO}::kro"


def test_rgd_after_kro_its_permissions_and_the_ack_table_crd(kro: PlanResult):
    rgd = kro.find(RGD, "kro-rgd")
    assert rgd.depends_on(RELEASE, "kro")
    assert rgd.depends_on(CLUSTER_ROLE, "kro-dynamodbtables")
    # Read from the cluster (the platform's ACK release installed it), not created.
    assert rgd.depends_on(CRD, "kro-ack-table-crd")
    assert CRD not in {r.type for r in kro.registrations}


def test_definition_is_aws_dynamodb_kro_with_the_kro_template(kro: PlanResult):
    definition = kro.find(DEFINITION, "dynamodb-definition-kro").inputs
    assert definition["metadata"]["name"] == "aws-dynamodb-kro"
    assert definition["metadata"]["namespace"] == "vela-system"
    template = definition["spec"]["schematic"]["cue"]["template"]
    assert 'kind:       "DynamoDBTable"' in template
    assert 'region:             "us-east-1"' in template
    assert 'context.output.status.state' in definition["spec"]["status"]["healthPolicy"]
    assert definition["spec"]["status"]["customStatus"]


def test_application_waits_for_definition_and_active_rgd(kro: PlanResult):
    app = kro.find(APPLICATION, "session-api-app-kro")
    assert app.depends_on(DEFINITION, "dynamodb-definition-kro")
    assert app.depends_on(RGD, "kro-rgd")
    assert app.inputs["metadata"]["name"] == "session-api-app-kro"
    assert app.inputs["metadata"]["namespace"] == "session-apps"
    assert app.inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == "jsonpath={.status.status}=running"
    # Destroy waits as long as create: the Application goes only after its table.
    assert app.options["customTimeouts"] == {"create": "20m", "update": "20m", "delete": "20m"}


def test_application_table_and_api_in_local_mode(kro: PlanResult):
    table, api = kro.find(APPLICATION, "session-api-app-kro").inputs["spec"]["components"]
    assert table["type"] == "aws-dynamodb-kro"
    assert table["properties"]["tableName"] == "kvdemo-sessions-kro"
    traits = {t["type"]: t["properties"] for t in api["traits"]}
    assert traits["dynamodb-client"]["endpoint"] == "http://moto.dynamodb-emulator.svc.cluster.local:5000"
    assert traits["dynamodb-client"]["tableName"] == "kvdemo-sessions-kro"
    assert traits["http-ingress"]["host"] == "session-api-kro.localhost"


def test_aws_mode_uses_the_real_endpoint_prefix_and_region(kro_aws: PlanResult):
    app = kro_aws.find(APPLICATION, "session-api-app-kro").inputs
    table, api = app["spec"]["components"]
    assert table["properties"]["tableName"] == "team-sessions-kro"
    client = {t["type"]: t["properties"] for t in api["traits"]}["dynamodb-client"]
    assert "endpoint" not in client
    assert client["region"] == "eu-west-1"
    template = kro_aws.find(DEFINITION, "dynamodb-definition-kro").inputs["spec"]["schematic"]["cue"]["template"]
    assert 'region:             "eu-west-1"' in template
    # KRO and its RGD do not depend on the DynamoDB target: ACK holds region and credentials.
    assert kro_aws.find(RELEASE, "kro").inputs["values"] == chart_values()
    assert kro_aws.outputs["dynamodbMode"] == "aws"


def test_exports(kro: PlanResult):
    assert kro.outputs == {
        "applicationName": "session-api-app-kro",
        "applicationNamespace": "session-apps",
        "tableName": "kvdemo-sessions-kro",
        "apiUrl": "http://session-api-kro.localhost:8081",
        "componentDefinition": "aws-dynamodb-kro",
        "kroNamespace": "kro-system",
        "resourceGraphDefinition": "dynamodbtable",
        "instanceKind": "kro.run/v1alpha1 DynamoDBTable",
        "dynamodbMode": "local",
        "apiService": {"namespace": "session-apps", "name": "session-api-kro", "port": 8080},
    }
    assert kro.secret_outputs == []


def test_every_kubernetes_object_uses_the_platform_cluster(kro: PlanResult):
    objects = [r for r in kro.registrations if r.custom and r.type.startswith("kubernetes:")]
    assert len(objects) == 6
    for resource in objects:
        assert resource.options["provider"] == "platform-cluster", f"{resource.type} {resource.name}"


@pytest.mark.parametrize("platform_overrides", [None, {"dynamodbMode": "aws"}])
def test_plan_masks_secrets(plan_stack, platform_overrides):
    text = json.dumps(plan_stack("kro", platform_overrides).to_json())
    assert "offline-plan-token" not in text, "the platform kubeconfig leaked into the plan"
    assert "aws_secret_access_key" not in text
    assert "offline-secret-access-key" not in text


def test_plan_is_deterministic(fresh_plan_stack):
    first = json.dumps(fresh_plan_stack("kro").to_json(), sort_keys=True)
    second = json.dumps(fresh_plan_stack("kro").to_json(), sort_keys=True)
    assert first == second


def test_dev_stack_can_be_a_kro_stack(plan_stack):
    plan = plan_stack("dev-kro", approach="kro")
    assert plan.find(RGD, "kro-rgd")


@pytest.mark.parametrize(
    "override, message",
    [
        ({"kroNamespace": "Kro_System"}, r"config kubevela-dynamodb:kroNamespace: 'Kro_System' is not a DNS label"),
        ({"rgdTimeoutMinutes": "0"}, r"config kroNamespace/rgdTimeoutMinutes: rgd_timeout_minutes must be"),
        ({"rgdTimeoutMinutes": "soon"}, r"config kubevela-dynamodb:rgdTimeoutMinutes: expected a whole number"),
        ({"appTimeoutMinutes": "x"}, r"config kubevela-dynamodb:appTimeoutMinutes: expected a whole number"),
        ({"appTimeoutMinutes": "0"}, r"config kubevela-dynamodb:appTimeoutMinutes: expected a whole number of minutes from 1 to 120, got '0'"),
        ({"appTimeoutMinutes": "-5"}, r"config kubevela-dynamodb:appTimeoutMinutes: .* from 1 to 120, got '-5'"),
        ({"appTimeoutMinutes": "121"}, r"config kubevela-dynamodb:appTimeoutMinutes: .* from 1 to 120, got '121'"),
    ],
)
def test_bad_config_names_the_key(plan_stack, override, message):
    with pytest.raises(Exception, match=message):
        plan_stack("kro", **override)


def test_custom_namespace(plan_stack):
    plan = plan_stack("kro", kroNamespace="platform-kro")
    assert plan.find(RELEASE, "kro").inputs["namespace"] == "platform-kro"
    assert plan.find(NAMESPACE, "kro-namespace").inputs["metadata"]["name"] == "platform-kro"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"namespace": "kro_system"}, "namespace must be a DNS label"),
        ({"rgd_timeout_minutes": 61}, "rgd_timeout_minutes must be a whole number from 1 to 60"),
        ({"rgd_file": "/nonexistent/rgd.yaml"}, "rgd_file '/nonexistent/rgd.yaml' does not exist"),
    ],
)
def test_args_are_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        KroArgs(**kwargs)
