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


# --- ACK's reconcile of streamSpecification and timeToLive --------------------------
#
# A port, limited to these two fields, of what aws-controllers-k8s/dynamodb-controller
# v1.9.2 does on every reconcile (runtime v0.61.0). A spec is the Table's `spec` as in
# the CR (camelCase); a missing key or None is Go's nil. Paths below are in that repo
# at tag v1.9.2 unless named otherwise.
#
# The loop (runtime pkg/runtime/reconciler.go `Sync`, `updateResource`): read the table
# back (ReadOne), compare with the desired spec (Delta); no difference means
# ACK.ResourceSynced=True once the table is ACTIVE. A difference calls Update, which
# for a Table always ends in a requeue or an error (pkg/resource/table/hooks.go
# L149-307), and either one sets ACK.ResourceSynced=Unknown (reconciler.go L737-753).


class AwsApiError(Exception):
    """An error answered by the DynamoDB API (runtime pkg/errors/error.go `AWSError`: a smithy.APIError).

    Anything else a backend raises is a client-side failure, not an API error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def create_table_stream(spec: dict) -> dict | None:
    """CreateTable's StreamSpecification: the spec's, field by field, when set
    (pkg/resource/table/sdk.go L1031-1040). TTL is not part of CreateTable; the first
    update applies it."""
    stream = spec.get("streamSpecification")
    if stream is None:
        return None
    payload = {}
    if stream.get("streamEnabled") is not None:
        payload["StreamEnabled"] = stream["streamEnabled"]
    if stream.get("streamViewType") is not None:
        payload["StreamViewType"] = stream["streamViewType"]
    return payload


def read_back(describe_table: dict, describe_ttl: dict) -> dict:
    """The two fields of ReadOne's result, from DescribeTable's `Table` and DescribeTimeToLive's
    `TimeToLiveDescription`.

    Stream: nil when DescribeTable has no StreamSpecification, otherwise its fields
    (sdk.go L369-380). TTL: never nil; the attribute name as described, enabled for
    ENABLED or ENABLING only (hooks.go L555-559 -> hooks_ttl.go L85-92)."""
    described = describe_table.get("StreamSpecification")
    stream = None
    if described is not None:
        stream = {}
        if described.get("StreamEnabled") is not None:
            stream["streamEnabled"] = described["StreamEnabled"]
        if described.get("StreamViewType"):
            stream["streamViewType"] = described["StreamViewType"]
    status = describe_ttl.get("TimeToLiveStatus")
    ttl = {"attributeName": describe_ttl.get("AttributeName"), "enabled": status in ("ENABLED", "ENABLING")}
    return {"streamSpecification": stream, "timeToLive": ttl}


def _nil_difference(a, b) -> bool:
    """runtime pkg/compare/nil.go `HasNilDifference`: exactly one side is nil."""
    return (a is None) != (b is None)


def _compare(path: str, desired: dict | None, latest: dict | None, fields: tuple[tuple[str, str], ...]) -> list[str]:
    """The generated comparison of one struct field: nil-ness first, then each member."""
    if _nil_difference(desired, latest):
        return [path]
    if desired is None:
        return []
    found = []
    for go_name, key in fields:
        a, b = desired.get(key), latest.get(key)
        if _nil_difference(a, b) or (a is not None and a != b):
            found.append(f"{path}.{go_name}")
    return found


def delta(desired_spec: dict, latest_spec: dict) -> tuple[list[str], dict]:
    """The differences ACK finds in these two fields, and the desired spec as the comparison left it.

    customPreCompare runs first and, when the desired TTL is nil and the read one is
    not (always, after a read), sets the desired TTL to {enabled: false} in place
    (hooks.go L686-690, DefaultTTLEnabledValue L68); the update then works on that
    object. Then newResourceDelta: StreamSpecification (delta.go L106-123) and
    TimeToLive (delta.go L138-155)."""
    desired = dict(desired_spec)
    if desired.get("timeToLive") is None and latest_spec.get("timeToLive") is not None:
        desired["timeToLive"] = {"enabled": False}
    found = _compare(
        "Spec.StreamSpecification",
        desired.get("streamSpecification"),
        latest_spec.get("streamSpecification"),
        (("StreamEnabled", "streamEnabled"), ("StreamViewType", "streamViewType")),
    )
    found += _compare(
        "Spec.TimeToLive",
        desired.get("timeToLive"),
        latest_spec.get("timeToLive"),
        (("AttributeName", "attributeName"), ("Enabled", "enabled")),
    )
    return found, desired


def _different_at(found: list[str], subject: str) -> bool:
    """runtime pkg/compare/delta.go `DifferentAt` with path.go `Contains`: a dotted-prefix match."""
    parts = subject.split(".")
    return any(path.split(".")[: len(parts)] == parts for path in found)


def update(backend, desired: dict, latest: dict, found: list[str]) -> None:
    """customUpdateTable's calls for these two fields, in its order (hooks.go L149-307).

    TTL first (L210-218 -> hooks_ttl.go `syncTTL` L37-54): the desired TTL as it is,
    or, when nil, disabled on the read attribute name. An API error other than
    "TimeToLive is already disabled" ends the update; any other failure is dropped.
    Then the stream (L273-278 -> `syncTable` / `newUpdateTablePayload` L401-420): an
    UpdateTable whose StreamSpecification is set only when the desired one is not nil.
    Raises what the update would return as an error."""
    if _different_at(found, "Spec.TimeToLive"):
        ttl = desired.get("timeToLive")
        if ttl is not None:
            spec = {"AttributeName": ttl.get("attributeName"), "Enabled": ttl.get("enabled")}
        else:
            spec = {"AttributeName": (latest.get("timeToLive") or {}).get("attributeName") or "", "Enabled": False}
        try:
            backend.update_time_to_live(spec)
        except AwsApiError as error:
            if not (error.code == "ValidationException" and error.message.startswith("TimeToLive is already disabled")):
                raise
        except Exception:  # noqa: BLE001 - hooks.go L213 returns only API errors
            pass
    # A stream difference is always "different except Tags and TimeToLive" (L273), and
    # the stream is the switch's first case (L275).
    if _different_at(found, "Spec.StreamSpecification"):
        stream = desired.get("streamSpecification")
        payload = None
        if stream is not None:
            if stream.get("streamEnabled") is not None:
                payload = {"StreamEnabled": stream["streamEnabled"]}
                if stream["streamEnabled"] and stream.get("streamViewType") is not None:
                    payload["StreamViewType"] = stream["streamViewType"]
            else:
                payload = {"StreamEnabled": False}
        backend.update_table(payload)


def reconcile(backend, desired_spec: dict, rounds: int = 4) -> list[str]:
    """ACK's loop for these two fields, from an existing table: read, compare, update,
    `rounds` times. Returns the differences the last read still showed, or [] as soon as
    there are none (ACK.ResourceSynced=True). ACK retries an update that failed on the
    next reconcile; so does this loop."""
    found: list[str] = []
    for _ in range(rounds):
        latest = read_back(backend.describe_table(), backend.describe_time_to_live())
        found, desired = delta(desired_spec, latest)
        if not found:
            return []
        try:
            update(backend, desired, latest, found)
        except AwsApiError:
            pass
    return found
