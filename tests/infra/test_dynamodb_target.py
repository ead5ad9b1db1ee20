"""DynamoDBTarget: the in-cluster emulator (local) or least-privilege IAM identities (aws)."""

import json

import pytest

from components import versions
from components.dynamodb_target import (
    APP_TABLE_ACTIONS,
    ENGINE_TABLE_ACTIONS,
    DynamoDBTargetArgs,
    table_policy,
)
from tools.mock_harness import MASK, PlanResult

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
SECRET = "kubernetes:core/v1:Secret"
USER = "aws:iam/user:User"
POLICY = "aws:iam/userPolicy:UserPolicy"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"


def test_local_mode_runs_the_pinned_emulator(platform: PlanResult):
    deployment = platform.find(DEPLOYMENT, "dynamodb-emulator").inputs
    assert deployment["metadata"] == {
        "name": "moto",
        "namespace": "dynamodb-emulator",
        "labels": {"app.kubernetes.io/name": "moto", "app.kubernetes.io/part-of": "kubevela-dynamodb"},
    }
    # One replica: moto keeps tables in memory, every client must see the same ones.
    assert deployment["spec"]["replicas"] == 1
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == versions.MOTO_IMAGE
    assert container["ports"] == [{"name": "api", "containerPort": 5000}]
    assert container["readinessProbe"]["tcpSocket"] == {"port": "api"}
    assert container["livenessProbe"]["tcpSocket"] == {"port": "api"}
    assert container["resources"]["limits"] == {"cpu": "1", "memory": "512Mi"}


def test_local_mode_endpoint_is_the_emulator_service(platform: PlanResult):
    service = platform.find(SERVICE, "dynamodb-emulator").inputs
    assert service["metadata"]["name"] == "moto"
    assert service["spec"]["ports"] == [{"name": "api", "port": 5000, "targetPort": "api"}]
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "moto", "app.kubernetes.io/part-of": "kubevela-dynamodb"}
    assert platform.outputs["dynamodbEndpoint"] == "http://moto.dynamodb-emulator.svc.cluster.local:5000"
    assert platform.outputs["dynamodbMode"] == "local"
    assert not platform.of_type(USER), "local mode must not touch AWS"


def test_the_emulator_service_output_names_the_real_service_and_port(platform: PlanResult):
    # Tools outside the cluster build the API server's service-proxy URL from this output.
    ref = platform.outputs["dynamodbEmulatorService"]
    service = platform.find(SERVICE, "dynamodb-emulator").inputs
    assert ref["namespace"] == service["metadata"]["namespace"]
    assert ref["name"] == service["metadata"]["name"]
    assert ref["port"] in [port["name"] for port in service["spec"]["ports"]]


def test_app_credentials_are_a_secret_in_the_apps_namespace(platform: PlanResult):
    secret = platform.find(SECRET, "dynamodb-app-credentials")
    assert secret.inputs["metadata"] == {"name": "dynamodb-app-credentials", "namespace": "session-apps"}
    assert set(secret.inputs["stringData"]) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert secret.is_secret("stringData")
    assert secret.masked_inputs["stringData"] == MASK
    assert secret.depends_on("kubernetes:core/v1:Namespace", "apps-namespace")


def test_engine_credentials_are_an_ini_file_and_secret(platform: PlanResult):
    assert "engineCredentials" in platform.secret_outputs
    assert platform.outputs["engineCredentials"].startswith("[default]\naws_access_key_id = ")


@pytest.fixture
def aws_platform(plan_stack) -> PlanResult:
    return plan_stack("platform", dynamodbMode="aws", awsRegion="eu-west-1", tablePrefix="kvdemo-")


def test_aws_mode_has_no_emulator(aws_platform: PlanResult):
    assert not aws_platform.of_type(DEPLOYMENT)
    assert aws_platform.outputs["dynamodbEndpoint"] == ""
    assert aws_platform.outputs["dynamodbRegion"] == "eu-west-1"
    assert aws_platform.outputs["dynamodbEmulatorService"] == {}, "no emulator to reach"


def test_aws_mode_creates_one_identity_for_engines_and_one_for_apps(aws_platform: PlanResult):
    assert {u.inputs["name"] for u in aws_platform.of_type(USER)} == {"kvdemo-engines", "kvdemo-apps"}
    assert len(aws_platform.of_type(ACCESS_KEY)) == 2
    provider = aws_platform.find("pulumi:providers:aws", "dynamodb-aws")
    assert provider.inputs["region"] == "eu-west-1"
    for user in aws_platform.of_type(USER):
        assert user.options["provider"] == "dynamodb-aws"


def _policy(plan: PlanResult, role: str) -> dict:
    return json.loads(plan.find(POLICY, f"dynamodb-{role}").inputs["policy"])


@pytest.mark.parametrize("role", ["engines", "apps"])
def test_aws_policies_are_scoped_to_the_table_prefix(aws_platform: PlanResult, role):
    (statement,) = _policy(aws_platform, role)["Statement"]
    table = "arn:aws:dynamodb:eu-west-1:123456789012:table/kvdemo-*"
    assert statement["Resource"] == [table, f"{table}/index/*"]
    assert all(action.startswith("dynamodb:") and "*" not in action for action in statement["Action"])


def test_apps_cannot_create_or_delete_tables(aws_platform: PlanResult):
    actions = set(_policy(aws_platform, "apps")["Statement"][0]["Action"])
    assert actions == set(APP_TABLE_ACTIONS)
    assert not actions & {"dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable"}
    assert set(_policy(aws_platform, "engines")["Statement"][0]["Action"]) == set(ENGINE_TABLE_ACTIONS)


def test_aws_keys_stay_secret(aws_platform: PlanResult):
    secret = aws_platform.find(SECRET, "dynamodb-app-credentials")
    assert secret.is_secret("stringData")
    assert "engineCredentials" in aws_platform.secret_outputs
    assert "offline-secret-access-key" not in json.dumps(aws_platform.to_json())


def test_table_policy_never_grants_all_tables():
    policy = json.loads(table_policy("aws", "us-east-1", "111122223333", "demo-", ["dynamodb:GetItem"]))
    for resource in policy["Statement"][0]["Resource"]:
        assert resource.startswith("arn:aws:dynamodb:us-east-1:111122223333:table/demo-*")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mode": "cloud"}, "dynamodb mode must be one of local, aws, got 'cloud'"),
        ({"region": "mars-1"}, "region 'mars-1' is not an AWS region"),
        ({"table_prefix": "bad prefix!"}, "table prefix 'bad prefix!'"),
    ],
)
def test_args_reject_bad_values(kwargs, message):
    base = {"mode": "local", "region": "us-east-1", "table_prefix": "kvdemo-", "apps_namespace": "apps"}
    with pytest.raises(ValueError, match=message):
        DynamoDBTargetArgs(**{**base, **kwargs})


def test_unknown_mode_in_config_names_the_key(plan_stack):
    with pytest.raises(Exception, match=r"config kubevela-dynamodb:dynamodbMode: expected one of local, aws, got 'cloud'"):
        plan_stack("platform", dynamodbMode="cloud")


def test_local_emulator_is_reachable_from_the_host_through_the_ingress(platform: PlanResult):
    ingress = platform.find("kubernetes:networking.k8s.io/v1:Ingress", "dynamodb-emulator").inputs
    assert ingress["metadata"]["namespace"] == "dynamodb-emulator"
    assert ingress["spec"]["ingressClassName"] == "traefik"
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "dynamodb.localhost"
    (path,) = rule["http"]["paths"]
    assert path["backend"]["service"] == {"name": "moto", "port": {"name": "api"}}
    assert platform.outputs["dynamodbHostEndpoint"] == "http://dynamodb.localhost:8081"


def test_no_host_endpoint_in_aws_mode(aws_platform: PlanResult):
    assert aws_platform.outputs["dynamodbHostEndpoint"] == ""
    assert not aws_platform.of_type("kubernetes:networking.k8s.io/v1:Ingress")


def test_emulator_stays_internal_on_an_existing_cluster(plan_stack):
    plan = plan_stack(
        "platform",
        clusterMode="existing",
        kubeconfig="apiVersion: v1\ncurrent-context: eks\ncontexts: [{name: eks, context: {}}]\n",
        imageRegistry="registry.example.com/x",
    )
    assert plan.of_type("kubernetes:apps/v1:Deployment"), "the emulator still runs there"
    assert not plan.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    assert plan.outputs["dynamodbHostEndpoint"] == ""
    # Tools reach it through the API server instead.
    assert plan.outputs["dynamodbEmulatorService"] == {"namespace": "dynamodb-emulator", "name": "moto", "port": "api"}
