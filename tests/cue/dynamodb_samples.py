"""Parameter sets for the DynamoDB definitions, valid and invalid."""

from __future__ import annotations

from session_api.table import component_properties

KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0b7d3f5e-1c2a-4e5f-9a8b-7c6d5e4f3a2b"

VALID = {
    "minimal": {"tableName": "kvdemo-minimal", "hashKey": {"name": "id"}},
    "indexes": {
        "tableName": "kvdemo-orders",
        "hashKey": {"name": "customerId", "type": "S"},
        "rangeKey": {"name": "orderId", "type": "S"},
        "globalSecondaryIndexes": [
            {
                "name": "status-total-index",
                "hashKey": {"name": "status"},
                "rangeKey": {"name": "total", "type": "N"},
                "projection": {"type": "INCLUDE", "nonKeyAttributes": ["customerId", "createdAt"]},
            },
            {"name": "sku-index", "hashKey": {"name": "sku", "type": "B"}, "projection": {"type": "KEYS_ONLY"}},
        ],
        "localSecondaryIndexes": [
            {"name": "customer-created-index", "rangeKey": {"name": "createdAt", "type": "N"}},
        ],
    },
    "provisioned": {
        "tableName": "kvdemo-provisioned",
        "hashKey": {"name": "pk", "type": "N"},
        "billingMode": "PROVISIONED",
        "provisionedThroughput": {"readCapacityUnits": 5, "writeCapacityUnits": 2},
        "globalSecondaryIndexes": [
            {
                "name": "by-owner",
                "hashKey": {"name": "owner"},
                "provisionedThroughput": {"readCapacityUnits": 3, "writeCapacityUnits": 1},
            }
        ],
    },
    "features": {
        "tableName": "kvdemo.audit_log",
        "hashKey": {"name": "eventId"},
        "ttl": {"attributeName": "expiresAt", "enabled": True},
        "stream": {"viewType": "KEYS_ONLY"},
        "deletionProtection": True,
        "encryption": {"kmsKeyId": KMS_KEY},
        "tags": {"team": "platform", "cost-center": "42"},
    },
    "switched-off": {
        "tableName": "kvdemo-off",
        "hashKey": {"name": "id"},
        "ttl": {"attributeName": "expiresAt", "enabled": False},
        "stream": {"enabled": False},
        "encryption": {"enabled": False},
    },
    "session": component_properties("kvdemo-sessions-xp"),
}

# name -> (parameters, fragments the error output must contain)
INVALID = {
    "bad billingMode enum": (
        {"tableName": "kvdemo-x", "hashKey": {"name": "id"}, "billingMode": "ON_DEMAND"},
        ["billingMode", "ON_DEMAND"],
    ),
    "bad key type": (
        {"tableName": "kvdemo-x", "hashKey": {"name": "id", "type": "STRING"}},
        ["hashKey.type", "STRING"],
    ),
    "missing hashKey": (
        {"tableName": "kvdemo-x"},
        ["hashKey"],
    ),
    "table name too short": (
        {"tableName": "kv", "hashKey": {"name": "id"}},
        ["tableName", '"kv"'],
    ),
    "unknown parameter": (
        {"tableName": "kvdemo-x", "hashKey": {"name": "id"}, "billingmode": "PROVISIONED"},
        ["billingmode", "not allowed"],
    ),
    "capacity with on-demand billing": (
        {
            "tableName": "kvdemo-x",
            "hashKey": {"name": "id"},
            "provisionedThroughput": {"readCapacityUnits": 1, "writeCapacityUnits": 1},
        },
        ["provisionedThroughput is only allowed with billingMode PROVISIONED"],
    ),
    "provisioned without capacity": (
        {"tableName": "kvdemo-x", "hashKey": {"name": "id"}, "billingMode": "PROVISIONED"},
        ["billingMode PROVISIONED requires provisionedThroughput"],
    ),
    "provisioned GSI without capacity": (
        {
            "tableName": "kvdemo-x",
            "hashKey": {"name": "id"},
            "billingMode": "PROVISIONED",
            "provisionedThroughput": {"readCapacityUnits": 1, "writeCapacityUnits": 1},
            "globalSecondaryIndexes": [{"name": "by-owner", "hashKey": {"name": "owner"}}],
        },
        ["globalSecondaryIndexes by-owner: billingMode PROVISIONED requires provisionedThroughput"],
    ),
    "GSI capacity with on-demand billing": (
        {
            "tableName": "kvdemo-x",
            "hashKey": {"name": "id"},
            "globalSecondaryIndexes": [
                {
                    "name": "by-owner",
                    "hashKey": {"name": "owner"},
                    "provisionedThroughput": {"readCapacityUnits": 1, "writeCapacityUnits": 1},
                }
            ],
        },
        ["globalSecondaryIndexes by-owner: provisionedThroughput is only allowed with billingMode PROVISIONED"],
    ),
    "zero capacity": (
        {
            "tableName": "kvdemo-x",
            "hashKey": {"name": "id"},
            "billingMode": "PROVISIONED",
            "provisionedThroughput": {"readCapacityUnits": 0, "writeCapacityUnits": 1},
        },
        ["readCapacityUnits", ">=1"],
    ),
    "LSI without range key": (
        {
            "tableName": "kvdemo-x",
            "hashKey": {"name": "id"},
            "localSecondaryIndexes": [{"name": "by-date", "rangeKey": {"name": "date"}}],
        },
        ["localSecondaryIndexes require the table to have a rangeKey"],
    ),
    "conflicting attribute types": (
        {
            "tableName": "kvdemo-x",
            "hashKey": {"name": "id", "type": "S"},
            "globalSecondaryIndexes": [{"name": "by-id-number", "hashKey": {"name": "id", "type": "N"}}],
        },
        ["key attribute id is declared with more than one type: S, N"],
    ),
    "INCLUDE without nonKeyAttributes": (
        {
            "tableName": "kvdemo-x",
            "hashKey": {"name": "id"},
            "globalSecondaryIndexes": [
                {"name": "by-owner", "hashKey": {"name": "owner"}, "projection": {"type": "INCLUDE"}}
            ],
        },
        ["globalSecondaryIndexes by-owner: projection INCLUDE requires nonKeyAttributes"],
    ),
    "nonKeyAttributes without INCLUDE": (
        {
            "tableName": "kvdemo-x",
            "hashKey": {"name": "id"},
            "rangeKey": {"name": "date"},
            "localSecondaryIndexes": [
                {"name": "by-size", "rangeKey": {"name": "size", "type": "N"}, "projection": {"nonKeyAttributes": ["a"]}}
            ],
        },
        ["localSecondaryIndexes by-size: nonKeyAttributes are only allowed with projection INCLUDE"],
    ),
    "duplicate index name": (
        {
            "tableName": "kvdemo-x",
            "hashKey": {"name": "id"},
            "rangeKey": {"name": "date"},
            "globalSecondaryIndexes": [{"name": "by-owner", "hashKey": {"name": "owner"}}],
            "localSecondaryIndexes": [{"name": "by-owner", "rangeKey": {"name": "size", "type": "N"}}],
        },
        ["index name by-owner is used by more than one index"],
    ),
    "range key equals hash key": (
        {"tableName": "kvdemo-x", "hashKey": {"name": "id"}, "rangeKey": {"name": "id"}},
        ["rangeKey id must differ from hashKey"],
    ),
    "KMS key with encryption disabled": (
        {"tableName": "kvdemo-x", "hashKey": {"name": "id"}, "encryption": {"enabled": False, "kmsKeyId": KMS_KEY}},
        ["encryption.kmsKeyId is only allowed with encryption.enabled true"],
    ),
}
