"""AckDynamoDB: the controller release, configured for the platform's DynamoDB target."""

import pytest

from components import versions
from components.ack_dynamodb import ack_values
from tools.mock_harness import PlanResult

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"


def test_release_from_the_pinned_oci_chart(platform: PlanResult):
    release = platform.find(RELEASE, "ack-dynamodb").inputs
    assert release["chart"] == "oci://public.ecr.aws/aws-controllers-k8s/dynamodb-chart"
    assert release["version"] == versions.ACK_DYNAMODB_CHART.version == "1.9.2"
    assert "repositoryOpts" not in release
    assert release["name"] == "ack-dynamodb-controller"
    assert release["namespace"] == "ack-system"
    assert platform.outputs["ackNamespace"] == "ack-system"


def test_local_mode_points_the_controller_at_the_emulator(platform: PlanResult):
    aws = platform.find(RELEASE, "ack-dynamodb").inputs["values"]["aws"]
    endpoint = "http://moto.dynamodb-emulator.svc.cluster.local:5000"
    assert aws["region"] == "us-east-1"
    assert aws["endpoint_url"] == endpoint
    assert aws["identity_endpoint_url"] == endpoint
    assert aws["allow_unsafe_aws_endpoint_urls"] is True
    assert aws["credentials"] == {"secretName": "ack-dynamodb-credentials", "secretKey": "credentials", "profile": "default"}


def test_aws_mode_uses_default_endpoints(plan_stack):
    plan = plan_stack("platform", dynamodbMode="aws", awsRegion="eu-central-1")
    aws = plan.find(RELEASE, "ack-dynamodb").inputs["values"]["aws"]
    assert aws["region"] == "eu-central-1"
    assert not {"endpoint_url", "identity_endpoint_url", "allow_unsafe_aws_endpoint_urls"} & set(aws)


def test_credentials_secret_is_secret_and_mounted_before_the_pod_starts(platform: PlanResult):
    secret = platform.find(SECRET, "ack-dynamodb-credentials")
    assert secret.inputs["metadata"] == {"name": "ack-dynamodb-credentials", "namespace": "ack-system"}
    assert secret.is_secret("stringData")
    assert secret.inputs["stringData"]["credentials"].startswith("[default]\naws_access_key_id = ")
    release = platform.find(RELEASE, "ack-dynamodb")
    assert release.depends_on(SECRET, "ack-dynamodb-credentials")


def test_controller_starts_after_the_emulator_serves(platform: PlanResult):
    # ACK calls STS GetCallerIdentity at start-up and crash-loops if nothing answers.
    release = platform.find(RELEASE, "ack-dynamodb")
    assert release.depends_on("kubernetes:apps/v1:Deployment", "dynamodb-emulator")


@pytest.mark.parametrize("endpoint", ["", "http://moto:5000"])
def test_values_always_name_region_and_credentials(endpoint):
    values = ack_values("ap-south-1", endpoint)["aws"]
    assert values["region"] == "ap-south-1"
    assert values["credentials"]["secretName"] == "ack-dynamodb-credentials"
    assert ("endpoint_url" in values) == bool(endpoint)
