"""Two DynamoDB tables for kro_ack_model.reconcile: DynamoDB as AWS answers, and moto.

Only what ACK's handling of streams and TTL touches: DescribeTable's
StreamSpecification, DescribeTimeToLive, and UpdateTable / UpdateTimeToLive for
those two settings. Both raise kro_ack_model.AwsApiError for an API error and
something else for a request refused before it is sent.
"""

from __future__ import annotations

from contextlib import contextmanager
from itertools import count

from botocore.exceptions import ClientError

from kro_ack_model import AwsApiError

_names = count()


class DocumentedAws:
    """One table in AWS DynamoDB. Each behaviour names where it is stated or observed."""

    def __init__(self, stream: dict | None) -> None:
        """`stream`: CreateTable's StreamSpecification (kro_ack_model.create_table_stream)."""
        self.stream_view = stream["StreamViewType"] if stream and stream.get("StreamEnabled") else None
        self.ttl_attribute: str | None = None

    def describe_table(self) -> dict:
        table = {"TableName": "kvdemo-t", "TableStatus": "ACTIVE"}
        # No StreamSpecification unless a stream is enabled, also once one was turned
        # off: ACK's own e2e check for a disabled stream
        # (aws-controllers-k8s/dynamodb-controller@v1.9.2:test/e2e/table.py L88-96).
        if self.stream_view:
            table["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": self.stream_view}
        return table

    def describe_time_to_live(self) -> dict:
        # A disabled TTL is described without an attribute name: a disabled `ttl` that
        # names one was a perpetual diff in Terraform (hashicorp/terraform-provider-aws#37991,
        # which now refuses attribute_name on a disabled ttl).
        if self.ttl_attribute:
            return {"TimeToLiveStatus": "ENABLED", "AttributeName": self.ttl_attribute}
        return {"TimeToLiveStatus": "DISABLED"}

    def update_table(self, stream: dict | None) -> None:
        if stream is None:
            # UpdateTable needs at least one change to make.
            raise AwsApiError("ValidationException", "UpdateTable without anything to update")
        if stream.get("StreamEnabled"):
            if self.stream_view:
                # aws-controllers-k8s/community#1000
                raise AwsApiError("ValidationException", "Table already has an enabled stream")
            self.stream_view = stream["StreamViewType"]
        else:
            if not self.stream_view:
                # aws-controllers-k8s/community#2782 (ACK, a stream already turned off),
                # crossplane-contrib/provider-aws#953 (a table created without one)
                raise AwsApiError("ValidationException", "Table has no stream to disable")
            self.stream_view = None

    def update_time_to_live(self, spec: dict) -> None:
        if spec.get("AttributeName") is None:
            # Both members of TimeToLiveSpecification are required by the API model.
            raise ValueError("missing required field TimeToLiveSpecification.AttributeName")
        if not spec["AttributeName"]:
            raise AwsApiError("ValidationException", "attributeName must have length greater than or equal to 1")
        if spec["Enabled"]:
            if self.ttl_attribute:
                raise AwsApiError("ValidationException", "TimeToLive is already enabled")
            self.ttl_attribute = spec["AttributeName"]
        else:
            if not self.ttl_attribute:
                # The message ACK ignores (dynamodb-controller@v1.9.2:pkg/resource/table/hooks.go L212-214).
                raise AwsApiError("ValidationException", "TimeToLive is already disabled")
            self.ttl_attribute = None


@contextmanager
def _api_errors():
    try:
        yield
    except ClientError as error:
        raise AwsApiError(error.response["Error"]["Code"], error.response["Error"]["Message"]) from None


class Moto:
    """One table in moto, the emulator of `local` mode, through boto3 (inside moto's mock_aws)."""

    def __init__(self, client, stream: dict | None) -> None:
        self.client = client
        self.name = f"kvdemo-ack-model-{next(_names)}"
        extra = {} if stream is None else {"StreamSpecification": stream}
        client.create_table(
            TableName=self.name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )

    def describe_table(self) -> dict:
        return self.client.describe_table(TableName=self.name)["Table"]

    def describe_time_to_live(self) -> dict:
        return self.client.describe_time_to_live(TableName=self.name)["TimeToLiveDescription"]

    def update_table(self, stream: dict | None) -> None:
        extra = {} if stream is None else {"StreamSpecification": stream}
        with _api_errors():
            self.client.update_table(TableName=self.name, **extra)

    def update_time_to_live(self, spec: dict) -> None:
        with _api_errors():
            self.client.update_time_to_live(TableName=self.name, TimeToLiveSpecification=spec)
