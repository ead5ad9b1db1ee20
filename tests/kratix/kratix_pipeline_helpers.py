"""Helpers for the pipeline tests: run a step in a fake /kratix tree, read ACK Tables back."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "ack_dynamodb_table_v1alpha1.schema.json"
ACK_TABLE_SCHEMA = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def request(spec: dict, name: str = "sessions", namespace: str = "session-apps") -> dict:
    return {
        "apiVersion": "dynamodb.kubevela-dynamodb.dev/v1alpha1",
        "kind": "DynamoDBRequest",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def kratix_tree(root: Path, obj: dict) -> Path:
    """/kratix as Kratix mounts it: input/object.yaml written, output and metadata empty."""
    for sub in ("input", "output", "metadata"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "input" / "object.yaml").write_text(yaml.safe_dump(obj))
    return root


def schema_errors(table: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in ACK_TABLE_SCHEMA.iter_errors(table)]


def from_ack(table: dict) -> dict:
    """Engine-neutral description of an ACK Table (the shape of tests/cue/dynamodb_model.py)."""
    spec = table["spec"]

    def keys(schema):
        by_type = {k["keyType"]: k["attributeName"] for k in schema}
        return by_type["HASH"], by_type.get("RANGE")

    def capacity(t):
        return None if t is None else (t["readCapacityUnits"], t["writeCapacityUnits"])

    def projection(p):
        return (p["projectionType"], tuple(sorted(p.get("nonKeyAttributes") or ())))

    hash_key, range_key = keys(spec["keySchema"])
    ttl, stream, sse = spec.get("timeToLive"), spec.get("streamSpecification"), spec.get("sseSpecification")
    return {
        "hashKey": hash_key,
        "rangeKey": range_key,
        "attributes": {a["attributeName"]: a["attributeType"] for a in spec["attributeDefinitions"]},
        "billingMode": spec.get("billingMode", "PROVISIONED"),
        "capacity": capacity(spec.get("provisionedThroughput")),
        "gsis": {
            ix["indexName"]: {
                "hashKey": keys(ix["keySchema"])[0],
                "rangeKey": keys(ix["keySchema"])[1],
                "projection": projection(ix["projection"]),
                "capacity": capacity(ix.get("provisionedThroughput")),
            }
            for ix in spec.get("globalSecondaryIndexes", [])
        },
        "lsis": {
            ix["indexName"]: {"rangeKey": keys(ix["keySchema"])[1], "projection": projection(ix["projection"])}
            for ix in spec.get("localSecondaryIndexes", [])
        },
        "ttl": ttl["attributeName"] if ttl and ttl["enabled"] else None,
        "stream": stream["streamViewType"] if stream and stream["streamEnabled"] else None,
        "deletionProtection": spec.get("deletionProtectionEnabled", False),
        "encryption": ("KMS", sse.get("kmsMasterKeyID")) if sse and sse["enabled"] else ("AWS_OWNED", None),
        "tags": {t["key"]: t["value"] for t in spec.get("tags", [])},
        "tableName": spec["tableName"],
    }
