"""An engine-neutral description of a DynamoDB table, read back from each
engine's rendered object, plus the contract's defaults written out in Python
as an independent oracle for the CUE defaults."""

from __future__ import annotations

import copy


def with_defaults(parameter: dict) -> dict:
    """The contract parameters with every default of contract.md filled in."""
    p = copy.deepcopy(parameter)
    p.setdefault("billingMode", "PAY_PER_REQUEST")
    p.setdefault("deletionProtection", False)

    def key(k: dict) -> None:
        k.setdefault("type", "S")

    def projection(ix: dict) -> None:
        ix.setdefault("projection", {})
        ix["projection"].setdefault("type", "ALL")

    key(p["hashKey"])
    if "rangeKey" in p:
        key(p["rangeKey"])
    if "ttl" in p:
        p["ttl"].setdefault("enabled", True)
    if "stream" in p:
        p["stream"].setdefault("enabled", True)
        p["stream"].setdefault("viewType", "NEW_AND_OLD_IMAGES")
    if "encryption" in p:
        p["encryption"].setdefault("enabled", True)
    for ix in p.get("globalSecondaryIndexes", []):
        key(ix["hashKey"])
        if "rangeKey" in ix:
            key(ix["rangeKey"])
        projection(ix)
    for ix in p.get("localSecondaryIndexes", []):
        key(ix["rangeKey"])
        projection(ix)
    return p


def _capacity(t: dict | None):
    return None if t is None else (t["readCapacityUnits"], t["writeCapacityUnits"])


def _projection(kind: str, non_key) -> tuple:
    return (kind, tuple(sorted(non_key or ())))


def from_contract(spec: dict) -> dict:
    """Description of the table a kro instance / Kratix request asks for."""
    attributes = {}
    keys = [spec["hashKey"], spec.get("rangeKey")]
    for ix in spec.get("globalSecondaryIndexes", []):
        keys += [ix["hashKey"], ix.get("rangeKey")]
    for ix in spec.get("localSecondaryIndexes", []):
        keys.append(ix["rangeKey"])
    for k in keys:
        if k is not None:
            attributes.setdefault(k["name"], k["type"])
    ttl = spec.get("ttl")
    stream = spec.get("stream")
    enc = spec.get("encryption")
    return {
        "hashKey": spec["hashKey"]["name"],
        "rangeKey": spec.get("rangeKey", {}).get("name"),
        "attributes": attributes,
        "billingMode": spec["billingMode"],
        "capacity": _capacity(spec.get("provisionedThroughput")),
        "gsis": {
            ix["name"]: {
                "hashKey": ix["hashKey"]["name"],
                "rangeKey": ix.get("rangeKey", {}).get("name"),
                "projection": _projection(ix["projection"]["type"], ix["projection"].get("nonKeyAttributes")),
                "capacity": _capacity(ix.get("provisionedThroughput")),
            }
            for ix in spec.get("globalSecondaryIndexes", [])
        },
        "lsis": {
            ix["name"]: {
                "rangeKey": ix["rangeKey"]["name"],
                "projection": _projection(ix["projection"]["type"], ix["projection"].get("nonKeyAttributes")),
            }
            for ix in spec.get("localSecondaryIndexes", [])
        },
        "ttl": ttl["attributeName"] if ttl and ttl["enabled"] else None,
        "stream": stream["viewType"] if stream and stream["enabled"] else None,
        "deletionProtection": spec["deletionProtection"],
        # enabled=false and absent both mean the AWS owned key.
        "encryption": ("KMS", enc.get("kmsKeyId")) if enc and enc["enabled"] else ("AWS_OWNED", None),
        "tags": spec.get("tags", {}),
        "tableName": spec["tableName"],
    }


def _xp_capacity(obj: dict):
    if "readCapacity" not in obj and "writeCapacity" not in obj:
        return None
    return (obj["readCapacity"], obj["writeCapacity"])


def from_xp(table: dict) -> dict:
    """Description of the table an Upbound Table managed resource asks for."""
    fp = table["spec"]["forProvider"]
    ttl = fp.get("ttl")
    sse = fp.get("serverSideEncryption")
    return {
        "hashKey": fp["hashKey"],
        "rangeKey": fp.get("rangeKey"),
        "attributes": {a["name"]: a["type"] for a in fp["attribute"]},
        "billingMode": fp["billingMode"],
        "capacity": _xp_capacity(fp),
        "gsis": {
            ix["name"]: {
                "hashKey": ix["hashKey"],
                "rangeKey": ix.get("rangeKey"),
                "projection": _projection(ix["projectionType"], ix.get("nonKeyAttributes")),
                "capacity": _xp_capacity(ix),
            }
            for ix in fp.get("globalSecondaryIndex", [])
        },
        "lsis": {
            ix["name"]: {
                "rangeKey": ix["rangeKey"],
                "projection": _projection(ix["projectionType"], ix.get("nonKeyAttributes")),
            }
            for ix in fp.get("localSecondaryIndex", [])
        },
        "ttl": ttl["attributeName"] if ttl and ttl["enabled"] else None,
        "stream": fp["streamViewType"] if fp.get("streamEnabled") else None,
        "deletionProtection": fp.get("deletionProtectionEnabled", False),
        "encryption": ("KMS", sse.get("kmsKeyArn")) if sse and sse["enabled"] else ("AWS_OWNED", None),
        "tags": fp.get("tags", {}),
        "tableName": table["metadata"]["annotations"]["crossplane.io/external-name"],
    }


def describe(engine: str, rendered: dict) -> dict:
    return from_xp(rendered) if engine == "xp" else from_contract(rendered["spec"])
