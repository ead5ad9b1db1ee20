"""clusterMode existing: no k3d, a kubeconfig secret, images pushed to a registry, ingress from config."""

import json

import pytest

from tools.mock_harness import PlanResult

KUBECONFIG = """apiVersion: v1
kind: Config
current-context: laptop
clusters:
- {name: eks, cluster: {server: 'https://eks.example.com'}}
- {name: laptop, cluster: {server: 'https://127.0.0.1:6443'}}
contexts:
- {name: laptop, context: {cluster: laptop, user: eks}}
- {name: 'arn:aws:eks:eu-west-1:111122223333:cluster/demo', context: {cluster: eks, user: eks}}
users:
- name: eks
  user: {token: very-secret}
"""
EXISTING = {
    "clusterMode": "existing",
    "clusterName": "eks-demo",
    "kubeconfig": KUBECONFIG,
    "kubeContext": "arn:aws:eks:eu-west-1:111122223333:cluster/demo",
    "imageRegistry": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/kvdemo",
    "imagePullSecrets": ["ecr-pull"],
    "ingressDomain": "demo.example.com",
    "ingressClass": "alb",
    "ingressScheme": "https",
}


@pytest.fixture
def existing(plan_stack) -> PlanResult:
    return plan_stack("platform", **EXISTING)


def test_no_k3d_commands(existing: PlanResult):
    commands = existing.of_type("command:local:Command")
    assert [c.name for c in commands] == ["session-api-image-build-push"]
    assert all("k3d" not in c.inputs["create"] for c in commands)
    assert not existing.of_type("kubevela-dynamodb:cluster:K3dCluster")


def test_provider_uses_the_kubeconfig_secret_and_context(existing: PlanResult):
    provider = existing.find("pulumi:providers:kubernetes", "cluster-provider")
    assert provider.parent == "kubevela-dynamodb:cluster:ExistingCluster::cluster"
    assert provider.is_secret("kubeconfig")
    assert provider.inputs["kubeconfig"] == KUBECONFIG
    assert provider.inputs["context"] == EXISTING["kubeContext"]
    assert provider.inputs["clusterIdentifier"] == "eks-demo"
    assert "very-secret" not in json.dumps(existing.to_json())
    assert "kubeconfig" in existing.secret_outputs


def test_context_is_exported_in_the_clear(existing: PlanResult):
    assert existing.outputs["kubeContext"] == EXISTING["kubeContext"]
    assert "kubeContext" not in existing.secret_outputs, "a context name is not a secret"


def test_without_kube_context_the_current_context_is_named(plan_stack):
    config = {k: v for k, v in EXISTING.items() if k != "kubeContext"}
    plan = plan_stack("platform", **config)
    assert plan.find("pulumi:providers:kubernetes", "cluster-provider").inputs["context"] == "laptop"
    assert plan.outputs["kubeContext"] == "laptop"


def test_kubeconfig_may_be_a_file_path(plan_stack, tmp_path):
    path = tmp_path / "config"
    path.write_text(KUBECONFIG)
    plan = plan_stack("platform", **{**EXISTING, "kubeconfig": str(path)})
    assert plan.find("pulumi:providers:kubernetes", "cluster-provider").inputs["kubeconfig"] == KUBECONFIG


def test_image_is_pushed_to_the_registry(existing: PlanResult):
    image = existing.outputs["sessionApiImage"]
    assert image.startswith("111122223333.dkr.ecr.eu-west-1.amazonaws.com/kvdemo/session-api:")
    command = existing.find("command:local:Command", "session-api-image-build-push")
    # Built for the nodes (linux/amd64 unless imagePlatform says otherwise), not for this machine.
    assert command.inputs["create"] == (
        f"docker buildx build --load --platform linux/amd64 --tag {image} app && docker push {image}"
    )
    assert command.inputs["triggers"] == [image, "linux/amd64"]
    assert existing.outputs["imagePlatform"] == "linux/amd64"


def test_image_platform_comes_from_config(plan_stack):
    plan = plan_stack("platform", **{**EXISTING, "imagePlatform": "linux/arm64"})
    command = plan.find("command:local:Command", "session-api-image-build-push")
    assert " --platform linux/arm64 " in command.inputs["create"]
    assert plan.outputs["imagePlatform"] == "linux/arm64"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({**EXISTING, "imagePlatform": "linux/amd64,linux/arm64"}, "imagePlatform: 'linux/amd64,linux/arm64' is not one platform"),
        ({"imagePlatform": "linux/amd64"}, "imagePlatform: only used with clusterMode existing"),
    ],
)
def test_bad_image_platform_names_the_key(plan_stack, overrides, message):
    with pytest.raises(Exception, match=f"config kubevela-dynamodb:{message}"):
        plan_stack("platform", **overrides)


def test_ingress_and_pull_secret_outputs(existing: PlanResult):
    assert existing.outputs["ingressClass"] == "alb"
    assert existing.outputs["ingressDomain"] == "demo.example.com"
    assert existing.outputs["ingressScheme"] == "https"
    assert existing.outputs["ingressHttpPort"] == 443, "https defaults to port 443"
    assert existing.outputs["ingressBaseUrl"] == "", "an existing cluster's ingress address is not known to the program"
    assert existing.outputs["imagePullSecrets"] == ["ecr-pull"]
    assert existing.outputs["clusterMode"] == "existing"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"imageRegistry": ""}, "config kubevela-dynamodb:imageRegistry: required with clusterMode existing"),
        ({"kubeconfig": "/no/such/kubeconfig"}, "no file at '/no/such/kubeconfig'"),
        ({"clusterMode": "kind"}, "config kubevela-dynamodb:clusterMode: expected one of k3d, existing"),
        ({"imagePullSecrets": "ecr-pull"}, "config kubevela-dynamodb:imagePullSecrets"),
        ({"kubeContext": "eks-prod"}, "config kubevela-dynamodb:kubeContext: context 'eks-prod' is not in the kubeconfig; "
         "its contexts: \\['laptop', 'arn:aws:eks"),
    ],
)
def test_bad_existing_config_names_the_key(plan_stack, overrides, message):
    with pytest.raises(Exception, match=message):
        plan_stack("platform", **{**EXISTING, **overrides})


def test_kubeconfig_is_required(plan_stack):
    config = {k: v for k, v in EXISTING.items() if k != "kubeconfig"}
    with pytest.raises(Exception, match="config kubevela-dynamodb:kubeconfig: required with clusterMode existing"):
        plan_stack("platform", **config)


def test_kube_context_is_rejected_on_k3d(plan_stack):
    with pytest.raises(Exception, match="kubeContext: only used with clusterMode existing"):
        plan_stack("platform", kubeContext="k3d-other")


def test_registry_is_rejected_on_k3d(plan_stack):
    with pytest.raises(Exception, match="imageRegistry: only used with clusterMode existing"):
        plan_stack("platform", imageRegistry="ghcr.io/acme")


def test_ack_role_arn_replaces_the_key_secret(plan_stack):
    arn = "arn:aws:iam::111122223333:role/kvdemo-ack"
    plan = plan_stack("platform", **{**EXISTING, "dynamodbMode": "aws", "ackRoleArn": arn})
    values = plan.find("kubernetes:helm.sh/v3:Release", "ack-dynamodb").inputs["values"]
    assert values["serviceAccount"] == {"annotations": {"eks.amazonaws.com/role-arn": arn}}
    assert "credentials" not in values["aws"]
    assert "ack-dynamodb-credentials" not in plan.names("kubernetes:core/v1:Secret")


def test_ack_role_arn_needs_aws_mode(plan_stack):
    with pytest.raises(Exception, match="ackRoleArn: only used with dynamodbMode aws"):
        plan_stack("platform", ackRoleArn="arn:aws:iam::111122223333:role/x")


@pytest.mark.parametrize(
    "kubeconfig, message",
    [
        ("apiVersion: v1\ncontexts: [{name: a}]\n", "config kubevela-dynamodb:kubeconfig: the kubeconfig has no "
                                                   "current-context; set kubeContext to one of \\['a'\\]"),
        ("apiVersion: v1\ncurrent-context: gone\ncontexts: [{name: a}]\n", "config kubevela-dynamodb:kubeconfig: context "
                                                                          "'gone' is not in the kubeconfig"),
        ("key: [unclosed very-secret\n", "config kubevela-dynamodb:kubeconfig: the kubeconfig is not valid YAML$"),
    ],
)
def test_a_kubeconfig_without_a_usable_context_is_named(plan_stack, kubeconfig, message):
    config = {k: v for k, v in EXISTING.items() if k != "kubeContext"}
    with pytest.raises(Exception, match=message) as error:
        plan_stack("platform", **{**config, "kubeconfig": kubeconfig})
    assert "very-secret" not in str(error.value)
