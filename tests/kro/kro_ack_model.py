"""Reads an ACK Table back into the engine-neutral description of tests/cue/dynamodb_model.py.

The same keys as dynamodb_model.from_xp / from_contract, so an ACK Table rendered
by the RGD can be compared with the Crossplane Table rendered by aws-dynamodb-xp.
"""

from __future__ import annotations


def _capacity(throughput: dict | None):
    return None if throughput is None else (throughput["readCapacityUnits"], throughput["writeCapacityUnits"])


def _projection(projection: dict) -> tuple:
    return (projection["projectionType"], tuple(sorted(projection.get("nonKeyAttributes") or ())))


def _key(key_schema: list[dict], key_type: str):
    names = [k["attributeName"] for k in key_schema if k["keyType"] == key_type]
    assert len(names) <= 1, f"{len(names)} {key_type} keys in {key_schema}"
    return names[0] if names else None


def from_ack(table: dict) -> dict:
    spec = table["spec"]
    attributes: dict[str, str] = {}
    for attribute in spec["attributeDefinitions"]:
        # A repeated name would be rejected by DynamoDB; never expected here.
        assert attribute["attributeName"] not in attributes, f"attribute {attribute['attributeName']} twice"
        attributes[attribute["attributeName"]] = attribute["attributeType"]
    ttl = spec.get("timeToLive")
    stream = spec.get("streamSpecification")
    sse = spec.get("sseSpecification")
    billing = spec.get("billingMode", "PROVISIONED")  # DynamoDB's default when absent
    lsis = {}
    for ix in spec.get("localSecondaryIndexes", []):
        # An LSI shares the table's partition key.
        assert _key(ix["keySchema"], "HASH") == _key(spec["keySchema"], "HASH"), ix
        lsis[ix["indexName"]] = {"rangeKey": _key(ix["keySchema"], "RANGE"), "projection": _projection(ix["projection"])}
    return {
        "hashKey": _key(spec["keySchema"], "HASH"),
        "rangeKey": _key(spec["keySchema"], "RANGE"),
        "attributes": attributes,
        "billingMode": billing,
        "capacity": _capacity(spec.get("provisionedThroughput")),
        "gsis": {
            ix["indexName"]: {
                "hashKey": _key(ix["keySchema"], "HASH"),
                "rangeKey": _key(ix["keySchema"], "RANGE"),
                "projection": _projection(ix["projection"]),
                "capacity": _capacity(ix.get("provisionedThroughput")),
            }
            for ix in spec.get("globalSecondaryIndexes", [])
        },
        "lsis": lsis,
        "ttl": ttl["attributeName"] if ttl and ttl["enabled"] else None,
        "stream": stream.get("streamViewType") if stream and stream["streamEnabled"] else None,
        "deletionProtection": spec.get("deletionProtectionEnabled", False),
        # SSE enabled means KMS (kmsMasterKeyID, or the AWS managed key); disabled or
        # absent means the AWS owned key.
        "encryption": ("KMS", sse.get("kmsMasterKeyID")) if sse and sse["enabled"] else ("AWS_OWNED", None),
        "tags": {t["key"]: t["value"] for t in spec.get("tags", [])},
        "tableName": spec["tableName"],
    }
