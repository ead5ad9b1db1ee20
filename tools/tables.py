"""What a DynamoDB table looks like from outside, and how to put it back by hand.

The day-2 scenarios (tools/compare.py) compare a table with the picture taken
before they changed anything: its settings (billing mode, indexes, TTL, tags),
its identity (ARN + creation time: a table deleted and created again under the
same name has a new creation time) and how many of the scenario's own items it
holds. Everything goes through boto3, so the same code reads real DynamoDB and
the moto emulator.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from app.session_api import table as contract

MARKER_PREFIX = "kvdemo-compare-"
"""Items the scenarios write start with this in their key, so they can be counted and removed."""


@dataclass(frozen=True)
class TableState:
    """One look at a table; `exists` False means DescribeTable said ResourceNotFound."""

    exists: bool
    status: str | None = None
    identity: str | None = None
    billing_mode: str | None = None
    throughput: tuple[int, int] | None = None
    indexes: dict[str, str] = field(default_factory=dict)
    """Global secondary index name -> IndexStatus."""
    ttl: tuple[str | None, str | None] = (None, None)
    """(TimeToLiveStatus, AttributeName)."""
    tags: dict[str, str] = field(default_factory=dict)
    description: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def active(self) -> bool:
        return self.exists and self.status == "ACTIVE" and all(s == "ACTIVE" for s in self.indexes.values())

    def settings(self) -> dict[str, Any]:
        """What a platform team declares: compared to tell "restored" from "not restored"."""
        ttl_on = self.ttl[0] in ("ENABLED", "ENABLING")
        return {
            "billingMode": self.billing_mode,
            "indexes": sorted(self.indexes),
            "ttl": (ttl_on, self.ttl[1] if ttl_on else None),
            "tags": dict(sorted(self.tags.items())),
        }

    def differences(self, other: "TableState") -> list[str]:
        """How this table's settings differ from `other`'s, in words."""
        if not self.exists:
            return ["the table does not exist"]
        mine, theirs = self.settings(), other.settings()
        return [f"{key}: {mine[key]!r}, declared {theirs[key]!r}" for key in mine if mine[key] != theirs[key]]


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or timezone.utc).timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return None


def read_state(client: Any, table: str) -> TableState:
    """The table as DynamoDB describes it now (settings, TTL and tags in three calls)."""
    try:
        description = client.describe_table(TableName=table)["Table"]
    except client.exceptions.ResourceNotFoundException:
        return TableState(exists=False)
    billing = (description.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
    throughput = description.get("ProvisionedThroughput") or {}
    capacity = (int(throughput.get("ReadCapacityUnits") or 0), int(throughput.get("WriteCapacityUnits") or 0))
    indexes = {i["IndexName"]: i.get("IndexStatus", "ACTIVE") for i in description.get("GlobalSecondaryIndexes") or []}
    created = _epoch(description.get("CreationDateTime"))
    identity = f"{description.get('TableArn')}@{created}"
    ttl: tuple[str | None, str | None] = (None, None)
    tags: dict[str, str] = {}
    if description.get("TableStatus") != "DELETING":
        try:
            found = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
            ttl = (found.get("TimeToLiveStatus"), found.get("AttributeName"))
        except client.exceptions.ResourceNotFoundException:
            return TableState(exists=False)
        tags = list_tags(client, description["TableArn"])
    return TableState(
        exists=True,
        status=description.get("TableStatus"),
        identity=identity,
        billing_mode=billing,
        throughput=capacity if billing == "PROVISIONED" else None,
        indexes=indexes,
        ttl=ttl,
        tags=tags,
        description=description,
    )


def list_tags(client: Any, arn: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    kwargs: dict[str, Any] = {"ResourceArn": arn}
    while True:
        try:
            page = client.list_tags_of_resource(**kwargs)
        except client.exceptions.ResourceNotFoundException:
            return tags
        tags.update({t["Key"]: t["Value"] for t in page.get("Tags") or []})
        if not page.get("NextToken"):
            return tags
        kwargs["NextToken"] = page["NextToken"]


# ─── the scenarios' own items ───────────────────────────────────────────────


def write_markers(client: Any, table: str, run: str, count: int) -> int:
    """`count` session items owned by this run (they expire in a day should cleanup fail)."""
    now = datetime.now(timezone.utc)
    for i in range(count):
        client.put_item(
            TableName=table,
            Item={
                contract.HASH_KEY: {"S": f"{MARKER_PREFIX}{run}-{i}"},
                contract.USER_INDEX_HASH_KEY: {"S": f"{MARKER_PREFIX}{run}"},
                contract.USER_INDEX_RANGE_KEY: {"S": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
                contract.TTL_ATTRIBUTE: {"N": str(int(now.timestamp()) + 24 * 3600)},
                "data": {"M": {"scenario": {"S": run}}},
            },
        )
    return count


def count_markers(client: Any, table: str, run: str) -> int | None:
    """Items of this run still in the table; None when the table is not there."""
    kwargs: dict[str, Any] = {
        "TableName": table,
        "Select": "COUNT",
        # A strongly consistent read: an item written a moment ago must count.
        "ConsistentRead": True,
        "FilterExpression": "begins_with(#k, :p)",
        "ExpressionAttributeNames": {"#k": contract.HASH_KEY},
        "ExpressionAttributeValues": {":p": {"S": f"{MARKER_PREFIX}{run}-"}},
    }
    total = 0
    while True:
        try:
            page = client.scan(**kwargs)
        except client.exceptions.ResourceNotFoundException:
            return None
        total += page.get("Count", 0)
        if not page.get("LastEvaluatedKey"):
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def delete_markers(client: Any, table: str, run: str, count: int) -> None:
    for i in range(count):
        try:
            client.delete_item(TableName=table, Key={contract.HASH_KEY: {"S": f"{MARKER_PREFIX}{run}-{i}"}})
        except client.exceptions.ResourceNotFoundException:
            return


# ─── putting a table back by hand ───────────────────────────────────────────


def _create_kwargs(description: dict[str, Any]) -> dict[str, Any]:
    """CreateTable arguments that rebuild the described table (keys, indexes, capacity, stream)."""
    billing = (description.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
    kwargs: dict[str, Any] = {
        "TableName": description["TableName"],
        "AttributeDefinitions": description["AttributeDefinitions"],
        "KeySchema": description["KeySchema"],
        "BillingMode": billing,
    }

    def capacity(source: dict[str, Any]) -> dict[str, int]:
        found = source.get("ProvisionedThroughput") or {}
        return {"ReadCapacityUnits": int(found.get("ReadCapacityUnits") or 1),
                "WriteCapacityUnits": int(found.get("WriteCapacityUnits") or 1)}

    if billing == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = capacity(description)
    gsis = []
    for index in description.get("GlobalSecondaryIndexes") or []:
        gsi = {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"], "Projection": index["Projection"]}
        if billing == "PROVISIONED":
            gsi["ProvisionedThroughput"] = capacity(index)
        gsis.append(gsi)
    if gsis:
        kwargs["GlobalSecondaryIndexes"] = gsis
    lsis = [
        {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
        for i in description.get("LocalSecondaryIndexes") or []
    ]
    if lsis:
        kwargs["LocalSecondaryIndexes"] = lsis
    stream = description.get("StreamSpecification")
    if stream and stream.get("StreamEnabled"):
        kwargs["StreamSpecification"] = stream
    return kwargs


def repair(client: Any, table: str, declared: TableState, wait: float = 60.0, sleep=time.sleep) -> list[str]:
    """Bring `table` back to `declared` with direct DynamoDB calls; what was done, in words.

    The last resort when no engine put it back: CreateTable from the declared
    description, then one UpdateTable per index or billing change (DynamoDB
    allows one index operation per call), TTL and tags.
    """
    done: list[str] = []

    def settle() -> TableState:
        deadline = time.monotonic() + wait
        state = read_state(client, table)
        while state.exists and not state.active and time.monotonic() < deadline:
            sleep(1.0)
            state = read_state(client, table)
        return state

    state = settle()
    if not state.exists:
        client.create_table(**_create_kwargs(declared.description))
        done.append("created the table from its declared description")
        state = settle()
    wanted = _create_kwargs(declared.description)
    wanted_indexes = {g["IndexName"]: g for g in wanted.get("GlobalSecondaryIndexes", [])}
    for name in sorted(set(state.indexes) - set(wanted_indexes)):
        client.update_table(TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": name}}])
        done.append(f"deleted index {name}")
        state = settle()
    if state.billing_mode != declared.billing_mode:
        update: dict[str, Any] = {"TableName": table, "BillingMode": declared.billing_mode}
        if declared.billing_mode == "PROVISIONED":
            update["ProvisionedThroughput"] = wanted["ProvisionedThroughput"]
        client.update_table(**update)
        done.append(f"billing mode back to {declared.billing_mode}")
        state = settle()
    for name in sorted(set(wanted_indexes) - set(state.indexes)):
        client.update_table(
            TableName=table,
            AttributeDefinitions=wanted["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": wanted_indexes[name]}],
        )
        done.append(f"created index {name}")
        state = settle()
    declared_ttl_on = declared.ttl[0] in ("ENABLED", "ENABLING")
    if state.settings()["ttl"] != declared.settings()["ttl"]:
        attribute = declared.ttl[1] if declared_ttl_on else state.ttl[1]
        if attribute:
            client.update_time_to_live(
                TableName=table, TimeToLiveSpecification={"Enabled": declared_ttl_on, "AttributeName": attribute}
            )
            done.append(f"TTL {'enabled' if declared_ttl_on else 'disabled'} on {attribute}")
    arn = read_state(client, table).description.get("TableArn")
    current = list_tags(client, arn) if arn else {}
    extra = sorted(set(current) - set(declared.tags))
    if extra:
        client.untag_resource(ResourceArn=arn, TagKeys=extra)
        done.append(f"removed tags {', '.join(extra)}")
    changed = {k: v for k, v in declared.tags.items() if current.get(k) != v}
    if changed:
        client.tag_resource(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in sorted(changed.items())])
        done.append(f"set tags {', '.join(sorted(changed))}")
    return done
