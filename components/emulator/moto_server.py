"""moto server, plus the DynamoDB read the ACK controller needs and moto lacks.

ACK's dynamodb-controller (v1.9.2) calls DescribeContributorInsights on every
read of a Table and fails the read if the call errors
(aws-controllers-k8s/dynamodb-controller@v1.9.2:pkg/resource/table/hooks.go
`setContributorInsights`, called from sdk.go `sdkFind`). moto 5.2 does not
implement it and answers HTTP 500, so an ACK Table would never sync. This
wrapper adds the call (reporting insights DISABLED, which is what a table
without contributor insights reports on AWS) and then starts moto server
unchanged. It runs inside the pinned `motoserver/moto` image, mounted from a
ConfigMap; the platform's tests run it against the moto Python package.
"""

from __future__ import annotations

import sys

from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoHandler
from moto.server import main


def describe_contributor_insights(self: DynamoHandler) -> ActionResult:
    table_name = self.body["TableName"]
    # Raises ResourceNotFoundException for an unknown table, as AWS does.
    self.dynamodb_backend.get_table(table_name)
    result = {"TableName": table_name, "ContributorInsightsStatus": "DISABLED"}
    if "IndexName" in self.body:
        result["IndexName"] = self.body["IndexName"]
    return ActionResult(result)


def install() -> None:
    """Add what moto lacks; keep moto's own implementation if a newer moto has one."""
    if not hasattr(DynamoHandler, "describe_contributor_insights"):
        DynamoHandler.describe_contributor_insights = describe_contributor_insights


if __name__ == "__main__":
    install()
    main(sys.argv[1:])
