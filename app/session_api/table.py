"""The session table, defined once.

Both sides read this module: the session API (keys it writes, the index it
queries, the TTL attribute it sets) and the Pulumi program (the DynamoDB
component properties it hands to each engine). Keeping them in one place means
the table an engine creates and the table the app reads cannot drift apart.

Standard library only: the Pulumi program imports it without Flask or boto3.
"""

from __future__ import annotations

HASH_KEY = "sessionId"
"""Partition key of the table (type S)."""

USER_INDEX = "userId-createdAt-index"
"""Global secondary index that makes "sessions of a user" a Query, not a Scan."""

USER_INDEX_HASH_KEY = "userId"
USER_INDEX_RANGE_KEY = "createdAt"
"""ISO 8601 UTC timestamps of fixed width sort lexicographically in time order."""

TTL_ATTRIBUTE = "expiresAt"
"""Epoch seconds; DynamoDB deletes expired items lazily, so readers filter too."""

DEFAULT_TTL_SECONDS = 24 * 60 * 60


def create_table_kwargs(table_name: str) -> dict:
    """Arguments for boto3 ``create_table`` (local runs and tests).

    TTL is not part of CreateTable; enable it afterwards with
    ``update_time_to_live`` and :data:`TTL_ATTRIBUTE`.
    """
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": HASH_KEY, "AttributeType": "S"},
            {"AttributeName": USER_INDEX_HASH_KEY, "AttributeType": "S"},
            {"AttributeName": USER_INDEX_RANGE_KEY, "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": HASH_KEY, "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": USER_INDEX,
                "KeySchema": [
                    {"AttributeName": USER_INDEX_HASH_KEY, "KeyType": "HASH"},
                    {"AttributeName": USER_INDEX_RANGE_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


def component_properties(table_name: str) -> dict:
    """Properties of the KubeVela DynamoDB component (the shared contract).

    The same dictionary works for ``aws-dynamodb-xp``, ``aws-dynamodb-kro``
    and ``aws-dynamodb-kratix``: only the component type differs.
    """
    return {
        "tableName": table_name,
        "hashKey": {"name": HASH_KEY, "type": "S"},
        "billingMode": "PAY_PER_REQUEST",
        "ttl": {"attributeName": TTL_ATTRIBUTE},
        "globalSecondaryIndexes": [
            {
                "name": USER_INDEX,
                "hashKey": {"name": USER_INDEX_HASH_KEY, "type": "S"},
                "rangeKey": {"name": USER_INDEX_RANGE_KEY, "type": "S"},
                "projection": {"type": "ALL"},
            }
        ],
    }
