"""Parameter sets for the kro RGD tests: the shared samples plus a few that reach other branches."""

from __future__ import annotations

from dynamodb_samples import KMS_KEY, VALID

EXTRA = {
    # INCLUDE on an LSI, a GSI with the table's own range key, SSE with the AWS managed key.
    "lsi-include-shared-attribute": {
        "tableName": "kvdemo-events",
        "hashKey": {"name": "tenant"},
        "rangeKey": {"name": "at", "type": "N"},
        "globalSecondaryIndexes": [
            {"name": "kind-at-index", "hashKey": {"name": "kind"}, "rangeKey": {"name": "at", "type": "N"}},
        ],
        "localSecondaryIndexes": [
            {
                "name": "tenant-size-index",
                "rangeKey": {"name": "size", "type": "N"},
                "projection": {"type": "INCLUDE", "nonKeyAttributes": ["owner"]},
            },
        ],
        "encryption": {"enabled": True},
        "tags": {"zeta": "last", "alpha": "first", "mid": ""},
    },
    # Provisioned with a range key and two GSIs, each with its own capacity.
    "provisioned-indexes": {
        "tableName": "kvdemo-ledger",
        "hashKey": {"name": "account"},
        "rangeKey": {"name": "seq", "type": "N"},
        "billingMode": "PROVISIONED",
        "provisionedThroughput": {"readCapacityUnits": 10, "writeCapacityUnits": 4},
        "globalSecondaryIndexes": [
            {
                "name": "by-day",
                "hashKey": {"name": "day"},
                "projection": {"type": "KEYS_ONLY"},
                "provisionedThroughput": {"readCapacityUnits": 2, "writeCapacityUnits": 1},
            },
            {
                "name": "by-blob",
                "hashKey": {"name": "blob", "type": "B"},
                "rangeKey": {"name": "seq", "type": "N"},
                "provisionedThroughput": {"readCapacityUnits": 1, "writeCapacityUnits": 1},
            },
        ],
        "stream": {"enabled": True, "viewType": "NEW_IMAGE"},
        "encryption": {"enabled": True, "kmsKeyId": KMS_KEY},
    },
}

SAMPLES = {**VALID, **EXTRA}
