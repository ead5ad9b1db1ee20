"""`compare`: day-2 scenarios on the deployed demo, one approach at a time.

Each scenario does one thing a platform engineer worries about after day 1,
measures how the approach's engine reacts, and puts the demo back:

    drift-table      the table is deleted behind the engine's back (DeleteTable with boto3)
    drift-settings   TTL is disabled and a tag changed behind its back
    change-index     a global secondary index is added through the Application
    change-billing   the billing mode is switched through the Application
    delete-app       the Application is deleted

Every wait is bounded (`wait` seconds for the engine, `restore_wait` for the
way back) and every step prints one progress line. "did not converge within
N s" is a result like any other and is recorded as such (seconds: null).

Restoring, in this order, and the result says which one did it:
1. the engine itself (what is being measured);
2. for changes made through the Application: the Application's spec and its
   field ownership exactly as Pulumi left them (see tools/compare_cluster.py),
   then the engine puts the table back;
3. a restart of the controller that talks to DynamoDB: ACK and the Crossplane
   provider reconcile every object when they start;
4. direct DynamoDB calls rebuilding the table as it was declared (tools/tables.py);
5. for a deleted Application: `pulumi up --refresh` of the approach's stack,
   so Pulumi creates it again and its state matches the cluster.
What could not be restored is named in the result and in the output.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Protocol

from tools import tables
from tools.tables import TableState

SCENARIOS = ("drift-table", "drift-settings", "change-index", "change-billing", "delete-app")
SCENARIO_HELP = {
    "drift-table": "the table is deleted behind the engine's back: recreated? API /ready again after?",
    "drift-settings": "TTL disabled and a tag changed behind its back: restored? after?",
    "change-index": "an index added through the Application: in place or replaced, items kept, time",
    "change-billing": "the billing mode switched through the Application: the same",
    "delete-app": "the Application deleted: time until the table is gone, anything left",
}
HEADLINE = {
    "drift-table": "seconds until the API answers /ready again",
    "drift-settings": "seconds until TTL and tags are restored",
    "change-index": "seconds until the new index is ACTIVE",
    "change-billing": "seconds until the table reports the new billing mode",
    "delete-app": "seconds until the table is gone",
}
DRIFT_TAG_VALUE = "kvdemo-drift"
ADDED_INDEX = "kvdemo-compare-by-user"
MARKER_ITEMS = 5


class CompareError(RuntimeError):
    """A scenario step failed in a way that is not the engine's answer (a request was refused, ...)."""


@dataclass(frozen=True)
class AppHealth:
    """What the Application says: its phase and the table component's health."""

    exists: bool
    phase: str | None = None
    table_healthy: bool | None = None
    message: str = ""
    deleting: bool = False
    """It has a deletionTimestamp: its finalizers are still holding it."""

    def words(self) -> str:
        if not self.exists:
            return "the Application does not exist"
        if self.deleting:
            return "the Application is being deleted" + (f": {self.message}" if self.message else "")
        health = "healthy" if self.table_healthy else "not healthy"
        return f"Application {self.phase or 'unset'}, table component {health}" + (f": {self.message}" if self.message else "")

    @property
    def alarmed(self) -> bool:
        return self.exists and (self.phase != "running" or self.table_healthy is False)


class Cluster(Protocol):
    """The cluster side of one approach (real: tools/compare_cluster.py; tests pass fakes)."""

    def app_health(self) -> AppHealth: ...
    def table_properties(self) -> dict[str, Any]: ...
    def change_table(self, properties: dict[str, Any]) -> None: ...
    def restore_application(self) -> list[str]: ...
    def delete_application(self) -> None: ...
    def leftovers(self) -> list[str]: ...
    def restart_engine(self) -> str: ...
    def recreate_application(self) -> None: ...


class Clock:
    """Monotonic time and sleep; tests pass a fake that moves time (and fake engines) forward."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class Demo:
    """One deployed approach: its table in the DynamoDB target, its API, its cluster objects."""

    approach: str
    table: str
    dynamodb: Any
    cluster: Cluster
    api_ready: Callable[[], bool]
    ttl_drift: bool = True
    """False on real DynamoDB: after an UpdateTimeToLive, DynamoDB refuses another one on the
    table for up to an hour, so neither the engine nor `compare` could turn TTL back on."""


@dataclass
class Result:
    scenario: str
    approach: str
    wait_seconds: float
    converged: bool = False
    seconds: float | None = None
    """The headline measure (see HEADLINE); None when it did not happen within the wait."""
    measures: dict[str, float | None] = field(default_factory=dict)
    mode: str | None = None
    items_before: int | None = None
    items_after: int | None = None
    status: str = ""
    observations: list[str] = field(default_factory=list)
    restored: bool = False
    restored_by: str = ""
    not_restored: list[str] = field(default_factory=list)
    error: str = ""
    ran_at: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "ranAt": self.ran_at,
            "waitSeconds": self.wait_seconds,
            "converged": self.converged,
            "seconds": self.seconds,
            "measures": self.measures,
            "mode": self.mode,
            "itemsBefore": self.items_before,
            "itemsAfter": self.items_after,
            "status": self.status,
            "observations": self.observations,
            "restored": self.restored,
            "restoredBy": self.restored_by,
            "notRestored": self.not_restored,
            "error": self.error,
        }


def _safe(check: Callable[[], bool]) -> Callable[[], bool]:
    def run() -> bool:
        try:
            return bool(check())
        except Exception:  # an endpoint that flaps during a scenario is "not yet", not a crash
            return False

    return run


class Runner:
    def __init__(
        self,
        say: Callable[[str, str], None],
        clock: Clock | None = None,
        wait: float = 300.0,
        restore_wait: float = 300.0,
        poll: float = 2.0,
        heartbeat: float = 30.0,
    ) -> None:
        self.say = say
        self.clock = clock or Clock()
        self.wait = wait
        self.restore_wait = restore_wait
        self.poll = poll
        self.heartbeat = heartbeat

    # ─── waiting ────────────────────────────────────────────────────────────

    def watch(
        self,
        approach: str,
        checks: dict[str, Callable[[], bool]],
        timeout: float,
        sample: Callable[[], None] | None = None,
        since: float | None = None,
    ) -> dict[str, float | None]:
        """Seconds (from `since`, default now) until each check first held, or None if not within `timeout`."""
        checks = {name: _safe(check) for name, check in checks.items()}
        start = self.clock.now() if since is None else since
        found: dict[str, float | None] = {name: None for name in checks}
        next_beat = self.heartbeat
        while True:
            elapsed = self.clock.now() - start
            if sample is not None:
                try:
                    sample()
                except Exception:
                    pass
            for name, check in checks.items():
                if found[name] is None and check():
                    found[name] = round(elapsed, 1)
            if all(v is not None for v in found.values()) or elapsed >= timeout:
                return found
            if elapsed >= next_beat:
                waiting = ", ".join(n for n, v in found.items() if v is None)
                self.say(approach, f"  … {elapsed:.0f}/{timeout:.0f} s, waiting for {waiting}")
                next_beat += self.heartbeat
            self.clock.sleep(max(0.0, min(self.poll, timeout - elapsed)))

    # ─── one approach ───────────────────────────────────────────────────────

    def run(self, demo: Demo, scenarios: list[str], on_result: Callable[[Result], None] | None = None) -> list[Result]:
        """Every scenario in turn; `on_result` gets each result as soon as it is known (and restored)."""
        results: list[Result] = _Reporting(on_result)
        try:
            declared = tables.read_state(demo.dynamodb, demo.table)
            ready = _safe(demo.api_ready)()
        except Exception as error:
            declared, ready = TableState(exists=False), False
            self.say(demo.approach, f"cannot read table {demo.table}: {error.__class__.__name__}: {error}")
        if not declared.active or not ready:
            problem = (
                f"table {demo.table} is {'missing' if not declared.exists else declared.status}"
                if not declared.active
                else "the API does not answer /ready"
            )
            self.say(demo.approach, f"skipped: the demo is not in its declared state ({problem}); `status {demo.approach}` says why")
            for scenario in scenarios:
                result = Result(scenario, demo.approach, self.wait, error=f"not run: {problem}")
                result.restored = True  # nothing was changed
                results.append(result)
            return results
        for scenario in scenarios:
            result = Result(scenario, demo.approach, self.wait)
            self.say(demo.approach, f"{scenario}: start (waits up to {self.wait:.0f} s for the engine)")
            try:
                getattr(self, "_" + scenario.replace("-", "_"))(demo, declared, result)
            except KeyboardInterrupt:
                # Stopping half-way would leave the demo drifted: restore first, then stop.
                result.error = "interrupted"
                self.say(demo.approach, f"{scenario}: interrupted — restoring the demo first (Ctrl-C again stops at once)")
                self._restore_after(demo, declared, result)
                self._report(demo.approach, result)
                results.append(result)
                raise
            except Exception as error:  # the scenario's own failure: record it, still restore
                result.error = f"{error.__class__.__name__}: {error}"
                self.say(demo.approach, f"{scenario}: ERROR {result.error}")
                if scenario == "delete-app":
                    self._restore_after(demo, declared, result)
            if scenario != "delete-app":
                self._restore_table(demo, declared, result)
            self._report(demo.approach, result)
            results.append(result)
            if not result.restored:
                self.say(demo.approach, "the remaining scenarios are skipped: the demo is not back in its declared state")
                for rest in scenarios[scenarios.index(scenario) + 1:]:
                    skipped = Result(rest, demo.approach, self.wait, error="not run: an earlier scenario could not be restored")
                    skipped.restored = True
                    results.append(skipped)
                break
        return results

    def _restore_after(self, demo: Demo, declared: TableState, result: Result) -> None:
        """Restore after a scenario that stopped half-way (an error, Ctrl-C)."""
        if result.scenario != "delete-app":
            self._restore_table(demo, declared, result)
            return
        if "delete requested" in result.observations:
            # A deletion once asked for goes on: wait for it to finish, then create the Application again.
            self.watch(demo.approach, {"Application gone": lambda: not demo.cluster.app_health().exists}, self.restore_wait)
        if not demo.cluster.app_health().exists:
            self._recreate(demo, declared, result)
        else:
            result.restored, result.restored_by = True, "already in its declared state"

    def _report(self, approach: str, result: Result) -> None:
        if result.converged:
            head = f"converged: {HEADLINE[result.scenario].replace('seconds', f'{result.seconds:.0f} s')}"
        else:
            head = f"did not converge within {result.wait_seconds:.0f} s"
        extra = []
        if result.mode:
            extra.append(result.mode)
        if result.items_before is not None:
            extra.append(f"items {result.items_before} -> {'none (no table)' if result.items_after is None else result.items_after}")
        self.say(approach, f"{result.scenario}: {head}" + (f" ({'; '.join(extra)})" if extra else ""))
        for observation in result.observations:
            self.say(approach, f"{result.scenario}: {observation}")
        if result.status:
            self.say(approach, f"{result.scenario}: status said: {result.status}")
        if result.restored:
            took = result.measures.get("restoreSeconds")
            self.say(approach, f"{result.scenario}: restored ({result.restored_by}" + (f", {took:.0f} s)" if took is not None else ")"))
        else:
            self.say(approach, f"{result.scenario}: NOT RESTORED: {'; '.join(result.not_restored)}")

    # ─── helpers shared by the scenarios ────────────────────────────────────

    def _table(self, demo: Demo) -> TableState:
        return tables.read_state(demo.dynamodb, demo.table)

    def _status_sampler(self, demo: Demo, result: Result) -> Callable[[], None]:
        """Records the first thing the Application says that is not "all is well"."""

        def sample() -> None:
            if result.status and not result.status.startswith("kept"):
                return
            health = demo.cluster.app_health()
            if health.alarmed or not health.exists:
                result.status = health.words()
            elif not result.status:
                result.status = f"kept reporting all is well ({health.words()})"

        return sample

    def _seed(self, demo: Demo, result: Result) -> str:
        run = uuid.uuid4().hex[:8]
        tables.write_markers(demo.dynamodb, demo.table, run, MARKER_ITEMS)
        result.items_before = tables.count_markers(demo.dynamodb, demo.table, run)
        return run

    def _restore_table(self, demo: Demo, declared: TableState, result: Result) -> None:
        """Engine first, then a controller restart, then by hand; the result says which worked."""

        def back() -> bool:
            state = self._table(demo)
            return state.active and not state.differences(declared) and _safe(demo.api_ready)()

        if back():
            result.restored = True
            result.restored_by = result.restored_by or "already in its declared state"
            return
        steps: list[tuple[str, Callable[[], None]]] = []
        if result.scenario.startswith("change-"):
            steps.append(("the Application's declared spec, then the engine", lambda: self._restore_spec(demo, result)))
        steps.append(("a restart of the engine's controller", lambda: self._restart(demo)))
        steps.append(("direct DynamoDB calls (the engine did not)", lambda: self._by_hand(demo, declared)))
        spec_restored = True
        for label, step in steps:
            self.say(demo.approach, f"{result.scenario}: restoring through {label}")
            try:
                step()
            except Exception as error:
                if step is steps[0][1] and result.scenario.startswith("change-"):
                    spec_restored = False
                result.not_restored.append(f"{label}: {error.__class__.__name__}: {error}")
                continue
            found = self.watch(demo.approach, {"declared state": back}, self.restore_wait)
            if found["declared state"] is not None:
                result.measures["restoreSeconds"] = found["declared state"]
                # A table put back while the Application still declares the change is not restored:
                # the engine will apply the change again.
                result.restored, result.restored_by = spec_restored, label
                return
        state = self._table(demo)
        result.not_restored.append(
            f"table {demo.table}: " + "; ".join(state.differences(declared) or ["settings match but it is not ACTIVE or the API is not ready"])
        )

    def _restore_spec(self, demo: Demo, result: Result) -> None:
        problems = demo.cluster.restore_application()
        if problems:
            result.not_restored.extend(problems)
            raise CompareError("the Application spec could not be restored: " + "; ".join(problems))
        result.observations.append("Application spec and field ownership restored to what Pulumi applied")

    def _restart(self, demo: Demo) -> None:
        what = demo.cluster.restart_engine()
        self.say(demo.approach, f"  restarted {what}")

    def _by_hand(self, demo: Demo, declared: TableState) -> None:
        for step in tables.repair(demo.dynamodb, demo.table, declared, wait=self.restore_wait, sleep=self.clock.sleep):
            self.say(demo.approach, f"  {step}")

    # ─── the scenarios ──────────────────────────────────────────────────────

    def _drift_table(self, demo: Demo, declared: TableState, result: Result) -> None:
        run = self._seed(demo, result)
        self.say(demo.approach, f"drift-table: DeleteTable {demo.table} ({result.items_before} items of ours in it)")
        deleted_at = self.clock.now()
        demo.dynamodb.delete_table(TableName=demo.table)
        gone = self.watch(demo.approach, {"table gone": lambda: not self._table(demo).exists}, 120)
        if gone["table gone"] is None:
            raise CompareError("DeleteTable was accepted but the table is still there after 120 s")
        self.say(demo.approach, f"drift-table: table gone; waiting for the engine to create it again")
        found = self.watch(
            demo.approach,
            {
                "table ACTIVE": lambda: self._table(demo).active,
                "API ready": demo.api_ready,
                "declared settings": lambda: self._table(demo).active and not self._table(demo).differences(declared),
            },
            self.wait,
            sample=self._status_sampler(demo, result),
            since=deleted_at,  # from the DeleteTable call: on AWS the deletion itself takes a few seconds
        )
        result.measures = {
            "tableRecreatedSeconds": found["table ACTIVE"],
            "apiReadySeconds": found["API ready"],
            "declaredSettingsSeconds": found["declared settings"],
        }
        result.seconds = found["API ready"]
        result.converged = all(v is not None for v in found.values())
        result.mode = "recreated" if found["table ACTIVE"] is not None else None
        if found["table ACTIVE"] is not None:
            result.items_after = tables.count_markers(demo.dynamodb, demo.table, run)
            if result.items_after is not None and result.items_before and result.items_after < result.items_before:
                result.observations.append(
                    f"data loss: {result.items_before - result.items_after} of {result.items_before} items gone"
                )
        if result.converged:
            result.restored_by = "the engine"

    def _drift_settings(self, demo: Demo, declared: TableState, result: Result) -> None:
        ttl_status, ttl_attribute = declared.ttl
        if demo.ttl_drift and (ttl_status not in ("ENABLED", "ENABLING") or not ttl_attribute):
            raise CompareError(f"TTL is not enabled on {demo.table} ({ttl_status}): nothing to disable")
        arn = declared.description["TableArn"]
        if declared.tags:
            key = sorted(declared.tags)[0]
            result.observations.append(f"tag {key}: {declared.tags[key]!r} -> {DRIFT_TAG_VALUE!r}")
        else:
            key = "kvdemo-drift"
            result.observations.append(f"the table has no tags; added an undeclared tag {key}")
        checks: dict[str, Callable[[], bool]] = {}
        if demo.ttl_drift:
            self.say(demo.approach, f"drift-settings: TTL off on {ttl_attribute}, tag {key}={DRIFT_TAG_VALUE}")
            demo.dynamodb.update_time_to_live(
                TableName=demo.table, TimeToLiveSpecification={"Enabled": False, "AttributeName": ttl_attribute}
            )
            checks["TTL restored"] = lambda: self._table(demo).settings()["ttl"] == declared.settings()["ttl"]
        else:
            self.say(demo.approach, f"drift-settings: tag {key}={DRIFT_TAG_VALUE} (TTL left alone on real DynamoDB)")
            result.observations.append(
                "TTL not disabled: on real DynamoDB a second TTL change within an hour is refused, so it could not be put back"
            )
        demo.dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": key, "Value": DRIFT_TAG_VALUE}])
        checks["tags restored"] = lambda: self._table(demo).tags == declared.tags
        found = self.watch(demo.approach, checks, self.wait, sample=self._status_sampler(demo, result))
        result.measures = {"tagRestoredSeconds": found["tags restored"]}
        if demo.ttl_drift:
            result.measures["ttlRestoredSeconds"] = found["TTL restored"]
        result.converged = all(v is not None for v in found.values())
        result.seconds = max(found.values()) if result.converged else None  # type: ignore[type-var]
        if result.converged:
            result.restored_by = "the engine"

    def _change(self, demo: Demo, declared: TableState, result: Result, properties: dict[str, Any],
                converged: Callable[[TableState], bool], what: str) -> None:
        run = self._seed(demo, result)
        # This scenario's table, not the one `declared` was read from: an earlier scenario may have replaced it.
        identities: set[str] = {self._table(demo).identity or ""}
        self.say(demo.approach, f"{result.scenario}: {what} through the Application")
        demo.cluster.change_table(properties)
        missing = {"seen": False}
        downtime = {"since": None, "total": 0.0}
        start = self.clock.now()

        def sample() -> None:
            state = self._table(demo)
            if not state.exists:
                missing["seen"] = True
            elif state.identity:
                identities.add(state.identity)
            ready = _safe(demo.api_ready)()
            now = self.clock.now() - start
            if not ready and downtime["since"] is None:
                downtime["since"] = now
            if ready and downtime["since"] is not None:
                downtime["total"] += now - downtime["since"]
                downtime["since"] = None
            self._status_sampler(demo, result)()

        found = self.watch(
            demo.approach,
            {"converged": lambda: converged(self._table(demo)), "API ready": demo.api_ready},
            self.wait,
            sample=sample,
        )
        sample()
        if downtime["since"] is not None:
            downtime["total"] += (self.clock.now() - start) - downtime["since"]
        result.measures = {"convergedSeconds": found["converged"], "apiDownSeconds": round(downtime["total"], 1)}
        result.seconds = found["converged"]
        result.converged = found["converged"] is not None
        replaced = missing["seen"] or len(identities) > 1
        if replaced:
            result.mode = "replacement"
        elif result.converged:
            result.mode = "in-place"
        result.items_after = tables.count_markers(demo.dynamodb, demo.table, run)
        if result.items_after is not None and result.items_before is not None and result.items_after < result.items_before:
            result.observations.append(f"data loss: {result.items_before - result.items_after} of {result.items_before} items gone")
        tables.delete_markers(demo.dynamodb, demo.table, run, MARKER_ITEMS)

    def _change_index(self, demo: Demo, declared: TableState, result: Result) -> None:
        properties = demo.cluster.table_properties()
        added = {
            "name": ADDED_INDEX,
            "hashKey": {"name": "userId", "type": "S"},
            "projection": {"type": "KEYS_ONLY"},
        }
        if properties.get("billingMode") == "PROVISIONED":
            added["provisionedThroughput"] = {"readCapacityUnits": 1, "writeCapacityUnits": 1}
        changed = {**properties, "globalSecondaryIndexes": [*(properties.get("globalSecondaryIndexes") or []), added]}
        self._change(
            demo, declared, result, changed,
            lambda state: state.active and ADDED_INDEX in state.indexes,
            f"add global secondary index {ADDED_INDEX}",
        )

    def _change_billing(self, demo: Demo, declared: TableState, result: Result) -> None:
        properties = demo.cluster.table_properties()
        capacity = {"readCapacityUnits": 1, "writeCapacityUnits": 1}
        if properties.get("billingMode", "PAY_PER_REQUEST") == "PAY_PER_REQUEST":
            target = "PROVISIONED"
            changed = {
                **properties,
                "billingMode": target,
                "provisionedThroughput": capacity,
                "globalSecondaryIndexes": [
                    {**ix, "provisionedThroughput": capacity} for ix in properties.get("globalSecondaryIndexes") or []
                ],
            }
        else:
            target = "PAY_PER_REQUEST"
            changed = {k: v for k, v in properties.items() if k != "provisionedThroughput"}
            changed["billingMode"] = target
            changed["globalSecondaryIndexes"] = [
                {k: v for k, v in ix.items() if k != "provisionedThroughput"} for ix in properties.get("globalSecondaryIndexes") or []
            ]
        self._change(
            demo, declared, result, changed,
            lambda state: state.active and state.billing_mode == target,
            f"billing mode {properties.get('billingMode', 'PAY_PER_REQUEST')} -> {target}",
        )

    def _delete_app(self, demo: Demo, declared: TableState, result: Result) -> None:
        self.say(demo.approach, "delete-app: deleting the Application")
        result.observations.append("delete requested")  # before the call: Ctrl-C may land after the request went out
        try:
            demo.cluster.delete_application()
        except Exception:
            result.observations.remove("delete requested")  # refused: nothing is being deleted
            raise
        found = self.watch(
            demo.approach,
            {
                "table gone": lambda: not self._table(demo).exists,
                "Application gone": lambda: not demo.cluster.app_health().exists,
            },
            self.wait,
        )
        result.measures = {"tableGoneSeconds": found["table gone"], "applicationGoneSeconds": found["Application gone"]}
        result.seconds = found["table gone"]
        leftovers = _safe_list(demo.cluster.leftovers)
        if self._table(demo).exists:
            leftovers.append(f"DynamoDB table {demo.table}")
        result.observations.remove("delete requested")
        result.observations.append("audit: " + (", ".join(leftovers) + " left" if leftovers else "nothing left"))
        result.converged = found["table gone"] is not None and found["Application gone"] is not None and not leftovers
        self._recreate(demo, declared, result)

    def _recreate(self, demo: Demo, declared: TableState, result: Result) -> None:
        health = demo.cluster.app_health()
        if health.deleting:
            # Pulumi cannot create it again while the old one is held by its finalizers.
            result.not_restored.append(
                f"{health.words()}; when it is gone, `up {demo.approach}` creates it again (`status {demo.approach}` shows what holds it)"
            )
            return
        self.say(demo.approach, "delete-app: restoring: `pulumi up --refresh` creates the Application again")
        try:
            demo.cluster.recreate_application()
        except Exception as error:
            result.not_restored.append(f"pulumi up --refresh: {error.__class__.__name__}: {error}")
            return
        back = self.watch(
            demo.approach,
            {"table ACTIVE": lambda: self._table(demo).active, "API ready": demo.api_ready},
            self.restore_wait,
        )
        state = self._table(demo)
        result.measures["restoreSeconds"] = back["API ready"]
        if all(v is not None for v in back.values()) and not state.differences(declared):
            result.restored, result.restored_by = True, "pulumi up --refresh"
        else:
            result.not_restored.append(
                "after pulumi up --refresh: " + "; ".join(state.differences(declared) or ["the API is not ready"])
            )


class _Reporting(list):
    """A list of results that hands each one to `on_result` as it is appended."""

    def __init__(self, on_result: Callable[[Result], None] | None) -> None:
        super().__init__()
        self.on_result = on_result

    def append(self, result: Result) -> None:  # type: ignore[override]
        super().append(result)
        if self.on_result is not None:
            self.on_result(result)


def _safe_list(read: Callable[[], list[str]]) -> list[str]:
    try:
        return list(read())
    except Exception as error:
        return [f"(could not list engine objects: {error.__class__.__name__})"]


def validate_scenarios(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise ValueError(f"unknown scenario {', '.join(map(repr, unknown))}; valid: {', '.join(SCENARIOS)}")
    return [s for s in SCENARIOS if s in names] if names else list(SCENARIOS)
