"""The platform stack as a whole: what it creates, on which provider, what it exports."""

import json

import pytest

from tools.mock_harness import PlanResult

EXPECTED_EXPORTS = {
    "clusterName", "kubeconfig", "velaNamespace", "sharedTraits", "appsNamespace", "dynamodbMode",
    "dynamodbRegion", "dynamodbEndpoint", "tablePrefix", "engineCredentials", "appCredentialsSecret",
    "ackNamespace", "sessionApiImage", "ingressClass", "ingressDomain", "ingressHttpPort", "ingressBaseUrl",
    "clusterMode", "imageRegistry", "imagePlatform", "imagePullSecrets", "ingressScheme", "dynamodbHostEndpoint",
    "kubeContext", "dynamodbEmulatorService",
}


def test_exports(platform: PlanResult):
    assert set(platform.outputs) == EXPECTED_EXPORTS
    assert platform.secret_outputs == ["engineCredentials", "kubeconfig"]
    assert platform.outputs["appsNamespace"] == "session-apps"
    assert platform.outputs["velaNamespace"] == "vela-system"
    assert platform.outputs["kubeContext"] == "offline", "k3d's kubeconfig: its one (current) context"
    assert platform.outputs["dynamodbEmulatorService"] == {"namespace": "dynamodb-emulator", "name": "moto", "port": "api"}


def test_every_kubernetes_object_uses_the_cluster_provider(platform: PlanResult):
    k8s_objects = [r for r in platform.registrations if r.custom and r.type.startswith("kubernetes:")]
    assert len(k8s_objects) >= 10
    for resource in k8s_objects:
        assert resource.options["provider"] == "cluster-provider", f"{resource.type} {resource.name}"


def test_every_resource_belongs_to_a_component_or_is_a_stack_level_namespace(platform: PlanResult):
    top_level = {(r.type, r.name) for r in platform.registrations if not r.parent}
    assert top_level == {
        ("kubevela-dynamodb:cluster:K3dCluster", "cluster"),
        ("kubevela-dynamodb:kubevela:KubeVela", "kubevela"),
        ("kubevela-dynamodb:vela:SharedTraits", "shared-traits"),
        ("kubernetes:core/v1:Namespace", "apps-namespace"),
        ("kubevela-dynamodb:dynamodb:DynamoDBTarget", "dynamodb"),
        ("kubevela-dynamodb:ack:AckDynamoDB", "ack-dynamodb"),
        ("kubevela-dynamodb:image:SessionApiImage", "session-api-image"),
    }


def test_plan_is_deterministic(fresh_plan_stack):
    first = json.dumps(fresh_plan_stack("platform").to_json(), sort_keys=True)
    second = json.dumps(fresh_plan_stack("platform").to_json(), sort_keys=True)
    assert first == second


def test_plan_masks_secrets(platform: PlanResult):
    text = json.dumps(platform.to_json())
    assert "offline-plan-token" not in text, "the kubeconfig leaked into the plan"
    assert "aws_secret_access_key" not in text
    assert platform.to_json()["outputs"]["kubeconfig"] == "[secret]"


def test_unknown_stack_lists_the_valid_ones(plan_stack):
    with pytest.raises(Exception, match=r"stack name 'staging' is not a known stack; valid stacks: .*platform"):
        plan_stack("staging")


def test_approach_key_selects_the_builder(plan_stack):
    plan = plan_stack("dev-platform", approach="platform")
    assert plan.find("kubevela-dynamodb:cluster:K3dCluster", "cluster")


def test_unknown_approach_names_the_config_key(plan_stack):
    with pytest.raises(Exception, match=r"config 'approach' = 'kafka' is not a known stack"):
        plan_stack("dev", approach="kafka")
