"""Fakes for the cluster side of `compare`: a clock that moves time, and an engine that works a moto table.

The engine reconciles the way the real ones are triggered: at once when its
object changes (the Application's spec, a deletion, a controller restart), and
every `resync` seconds if it has a periodic resync at all. Behaviours:

    heals     periodic resync; recreates a deleted table, restores settings
    never     no periodic resync (like a controller that only reacts to spec changes);
              a controller restart makes it reconcile
    stuck     reconciles nothing after start-up, not even when restarted
    replaces  like heals, but applies every spec change by deleting and recreating the table
"""

from __future__ import annotations

import copy
from typing import Any

from app.session_api import table as session_table
from tools.compare import AppHealth

ENGINE_TAGS = {"managed-by": "fake-engine", "owner": "platform"}


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.listeners: list = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds
        for listener in self.listeners:
            listener(self.t)


def create_kwargs(table: str, props: dict[str, Any]) -> dict[str, Any]:
    attributes = {props["hashKey"]["name"]: props["hashKey"].get("type", "S")}
    gsis = []
    for ix in props.get("globalSecondaryIndexes") or []:
        keys = [{"AttributeName": ix["hashKey"]["name"], "KeyType": "HASH"}]
        attributes[ix["hashKey"]["name"]] = ix["hashKey"].get("type", "S")
        if ix.get("rangeKey"):
            keys.append({"AttributeName": ix["rangeKey"]["name"], "KeyType": "RANGE"})
            attributes[ix["rangeKey"]["name"]] = ix["rangeKey"].get("type", "S")
        gsi = {"IndexName": ix["name"], "KeySchema": keys, "Projection": {"ProjectionType": ix["projection"]["type"]}}
        if ix.get("provisionedThroughput"):
            gsi["ProvisionedThroughput"] = _capacity(ix["provisionedThroughput"])
        gsis.append(gsi)
    kwargs = {
        "TableName": table,
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": v} for k, v in attributes.items()],
        "KeySchema": [{"AttributeName": props["hashKey"]["name"], "KeyType": "HASH"}],
        "BillingMode": props.get("billingMode", "PAY_PER_REQUEST"),
    }
    if props.get("provisionedThroughput"):
        kwargs["ProvisionedThroughput"] = _capacity(props["provisionedThroughput"])
    if gsis:
        kwargs["GlobalSecondaryIndexes"] = gsis
    return kwargs


def _capacity(value: dict[str, int]) -> dict[str, int]:
    return {"ReadCapacityUnits": value["readCapacityUnits"], "WriteCapacityUnits": value["writeCapacityUnits"]}


class FakeCluster:
    def __init__(self, client, table: str, clock: FakeClock, behaviour: str = "heals", resync: float = 30.0) -> None:
        self.client = client
        self.table = table
        self.behaviour = behaviour
        self.resync = resync
        self.declared = session_table.component_properties(table)
        self.original = copy.deepcopy(self.declared)
        self.app_exists = True
        self.deleting = False
        self.pending = False
        self.next_resync = clock.now() + resync
        self.healthy = True
        self.message = ""
        self.calls: list[str] = []
        self.restore_problems: list[str] = []
        clock.listeners.append(self.tick)
        self._ensure(first=True)

    # the engine

    def tick(self, now: float) -> None:
        periodic = self.behaviour in ("heals", "replaces") and now >= self.next_resync
        if periodic:
            self.next_resync = now + self.resync
        if self.behaviour == "stuck":
            self.pending = False
            return
        if self.pending or periodic:
            self.pending = False
            self._reconcile()

    def _exists(self) -> bool:
        try:
            return self.client.describe_table(TableName=self.table)["Table"] is not None
        except self.client.exceptions.ResourceNotFoundException:
            return False

    def _reconcile(self) -> None:
        if self.deleting:
            if self._exists():
                self.client.delete_table(TableName=self.table)
                return  # the Application goes once the table is gone (next reconcile)
            self.app_exists, self.deleting = False, False
            return
        if not self.app_exists:
            return
        if not self._exists():
            self.healthy, self.message = False, "table not found: creating it"
        else:
            self.healthy, self.message = True, ""
        self._ensure()

    def _ensure(self, first: bool = False) -> None:
        props = self.declared
        wanted = create_kwargs(self.table, props)
        if self._exists():
            table = self.client.describe_table(TableName=self.table)["Table"]
            have = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes") or []}
            want = {g["IndexName"]: g for g in wanted.get("GlobalSecondaryIndexes", [])}
            billing = (table.get("BillingModeSummary") or {}).get("BillingMode")
            if self.behaviour == "replaces" and (set(want) != have or billing != wanted["BillingMode"]):
                self.client.delete_table(TableName=self.table)
                self._ensure()
                return
            for name in have - set(want):
                self.client.update_table(TableName=self.table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": name}}])
            if billing != wanted["BillingMode"]:
                update = {"TableName": self.table, "BillingMode": wanted["BillingMode"]}
                if "ProvisionedThroughput" in wanted:
                    update["ProvisionedThroughput"] = wanted["ProvisionedThroughput"]
                self.client.update_table(**update)
            for name in set(want) - have:
                self.client.update_table(
                    TableName=self.table,
                    AttributeDefinitions=wanted["AttributeDefinitions"],
                    GlobalSecondaryIndexUpdates=[{"Create": want[name]}],
                )
        else:
            self.client.create_table(**wanted)
        self.client.update_time_to_live(
            TableName=self.table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": props["ttl"]["attributeName"]},
        )
        arn = self.client.describe_table(TableName=self.table)["Table"]["TableArn"]
        current = {t["Key"]: t["Value"] for t in self.client.list_tags_of_resource(ResourceArn=arn).get("Tags", [])}
        extra = [k for k in current if k not in ENGINE_TAGS]
        if extra:
            self.client.untag_resource(ResourceArn=arn, TagKeys=extra)
        if current != ENGINE_TAGS:
            self.client.tag_resource(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in ENGINE_TAGS.items()])

    # the Cluster protocol

    def app_health(self) -> AppHealth:
        if not self.app_exists:
            return AppHealth(exists=False)
        return AppHealth(True, "running", self.healthy, self.message, deleting=self.deleting)

    def table_properties(self) -> dict[str, Any]:
        return copy.deepcopy(self.declared)

    def change_table(self, properties: dict[str, Any]) -> None:
        self.calls.append("change")
        self.declared, self.pending = copy.deepcopy(properties), True

    def restore_application(self) -> list[str]:
        self.calls.append("restore")
        if self.restore_problems:
            return list(self.restore_problems)
        self.declared, self.pending = copy.deepcopy(self.original), True
        return []

    def delete_application(self) -> None:
        self.calls.append("delete")
        self.deleting, self.pending = True, True

    def leftovers(self) -> list[str]:
        return ["Table.fake default/sessions-table"] if self.app_exists or self.deleting else []

    def restart_engine(self) -> str:
        self.calls.append("restart")
        self.pending = True
        return "the fake controller"

    def recreate_application(self) -> None:
        self.calls.append("recreate")
        self.app_exists, self.deleting = True, False
        self.declared, self.pending = copy.deepcopy(self.original), True
        if self.behaviour != "stuck":
            self._reconcile()
