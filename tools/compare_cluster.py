"""The cluster side of `compare`: the Application through the Kubernetes API, the engines' controllers, Pulumi.

How a scenario changes the Application, and why this way
--------------------------------------------------------
The Application is Pulumi's (the approach stack declares it; Pulumi applies it
with server-side apply under its own field manager). A change "through the
Application" is what a developer does with `kubectl edit`: an update of its
spec through the Kubernetes API, here under the field manager `kvdemo-compare`.
That gives an exact start time for the measurement and needs no change to the
stack's program or config.

Putting it back has two parts, because an update moves the ownership of the
fields it changes to the updating manager:
1. the spec exactly as it was before the scenario (the spec Pulumi applied);
2. `metadata.managedFields` with the entries of the managers that were there
   before (Pulumi's) as they were, and without `kvdemo-compare`'s. The API
   server takes managedFields from an update that sets them and records no new
   entry for an update that changes no field.
Without step 2 the spec would match but `kvdemo-compare` would own
`spec.components`, and Pulumi's next change to the table would conflict.
Pulumi's state is never touched: its inputs and outputs still describe the
live object, so `pulumi up` shows no diff.

A deleted Application is not re-created from a saved copy: Pulumi's state
would still hold the old object (uid, status) and Pulumi's field manager would
own nothing of the new one. `pulumi up --refresh` of the approach's stack
notices it is gone, drops it from the state and creates it again, so the state
and the cluster agree afterwards.

Ref: kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal
(before 1.27 in k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager): fieldmanager.go
`decodeLiveOrNew` (an update's own managedFields are used as given, unless it goes to a
subresource; an update without them keeps the live ones) and managedfieldsupdater.go
`managedFieldsUpdater.Update` (the updating manager gets an entry only when the update
took fields).
"""

from __future__ import annotations

import copy
import json
import random
import time
from typing import Any, Callable

import requests

# The ACK controller's Helm release; its pods carry it as `app.kubernetes.io/instance`.
# Ref: aws-controllers-k8s/dynamodb-controller@v1.9.2:helm/templates/deployment.yaml.
from components.ack_dynamodb import RELEASE_NAME as ACK_RELEASE
from tools.compare import AppHealth, CompareError
from tools.kube import KubeClient, KubeError, NotFound, resource_path
from tools.state import ENGINE_OF, app_name
from tools.status import ACK_TABLE, APPLICATION, ENGINE_OBJECT, TABLE_COMPONENT

FIELD_MANAGER = "kvdemo-compare"
# Writes of the Application carry the resourceVersion they read; KubeVela writes its status
# (which moves the resourceVersion too) while the engine works, so a write can meet a 409. It
# is made again on a fresh read after a pause, as client-go's retry.DefaultBackoff does for "a
# client [...] attempting to make an unrelated modification to a resource under active
# management by one or more controllers": 4 attempts, pauses of 10 ms, 50 ms and 250 ms, each
# lengthened by up to a tenth at random so that writers who met the same 409 do not meet again.
# Ref: kubernetes/kubernetes staging/src/k8s.io/client-go/util/retry/util.go (DefaultBackoff), and
# k8s.io/apimachinery/pkg/util/wait ExponentialBackoff: Steps attempts with a jittered Step() between
# them, none after the last; Jitter(d, f) = d + rand * f * d.
CONFLICT_ATTEMPTS = 4
CONFLICT_FIRST_PAUSE_SECONDS = 0.01
CONFLICT_PAUSE_FACTOR = 5.0
CONFLICT_PAUSE_JITTER = 0.1


def engine_pod_selector(approach: str) -> tuple[str, str]:
    """(label selector, description) of the pods that make the DynamoDB calls for `approach`."""
    if approach == "crossplane":
        from components import versions
        from components.crossplane import package_object_name

        # Crossplane labels a provider's pods with the Provider's name (the revision's parent-package label).
        # Ref: crossplane/crossplane@v2.3.4:internal/controller/pkg/runtime/runtime.go (podSelectors:
        # "pkg.crossplane.io/" + "provider" -> packageName()); apis/pkg/v1/interfaces.go (LabelProvider).
        name = package_object_name(versions.CROSSPLANE_DYNAMODB_PROVIDER)
        return f"pkg.crossplane.io/provider={name}", f"the Crossplane provider {name}"
    # kro and Kratix both end in an ACK Table: the ACK controller talks to DynamoDB.
    return f"app.kubernetes.io/instance={ACK_RELEASE}", "the ACK DynamoDB controller"


class Conflict(KubeError):
    """HTTP 409: the object changed since it was read (a stale resourceVersion)."""


def restored_managed_fields(current: list[dict], before: list[dict], ours: str = FIELD_MANAGER) -> list[dict]:
    """managedFields with every manager that was there `before` as it was then, and `ours` gone.

    Managers that appeared since (a controller's status writes) keep their entries.
    """

    def key(entry: dict) -> tuple:
        return entry.get("manager"), entry.get("operation"), entry.get("subresource", "")

    earlier = {key(e): e for e in before}
    out, seen = [], set()
    for entry in current:
        if entry.get("manager") == ours:
            continue
        k = key(entry)
        out.append(earlier.get(k, entry))
        seen.add(k)
    out.extend(e for k, e in earlier.items() if k not in seen and e.get("manager") != ours)
    return out


class KubeCluster:
    """One approach's Application and engine objects, reached through the Kubernetes API."""

    def __init__(
        self,
        kube: KubeClient,
        approach: str,
        namespace: str,
        table: str,
        recreate: Callable[[], None],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.kube = kube
        self._sleep = sleep
        self.approach = approach
        self.engine = ENGINE_OF[approach]
        self.namespace = namespace
        self.table = table
        self.component = TABLE_COMPONENT.format(engine=self.engine)
        self._recreate = recreate
        api_version, _, plural = APPLICATION
        self.path = resource_path(api_version, plural, namespace, app_name(approach))
        self.before = self._snapshot()

    # ─── HTTP ───────────────────────────────────────────────────────────────

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.kube.request(method, path, **kwargs)
        if response.status_code == 404:
            raise NotFound(path)
        if response.status_code == 409:
            raise Conflict(f"{method} {path}: HTTP 409 {response.text[:300]}")
        if response.status_code >= 400:
            raise KubeError(f"{method} {path}: HTTP {response.status_code} {response.text[:300]}")
        return response.json() if response.content else {}

    def _application(self) -> dict[str, Any]:
        return self.kube.get(self.path)

    def _snapshot(self) -> dict[str, Any]:
        try:
            app = self._application()
        except NotFound:
            raise CompareError(f"Application {self.namespace}/{app_name(self.approach)} not found: `up {self.approach}`") from None
        return {"spec": copy.deepcopy(app.get("spec") or {}), "managedFields": copy.deepcopy((app.get("metadata") or {}).get("managedFields") or [])}

    def _write(self, write: Callable[[dict[str, Any]], None]) -> None:
        """`write(application)` on a fresh read, again after a 409 (someone wrote in between)."""
        pause = CONFLICT_FIRST_PAUSE_SECONDS
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                write(self._application())
                return
            except Conflict:
                if attempt == CONFLICT_ATTEMPTS - 1:
                    raise
            self._sleep(pause * (1 + random.uniform(0, CONFLICT_PAUSE_JITTER)))
            pause *= CONFLICT_PAUSE_FACTOR

    def _put(self, app: dict[str, Any]) -> None:
        for key in ("managedFields", "creationTimestamp", "generation", "uid"):
            app["metadata"].pop(key, None)
        app.pop("status", None)
        self._call("PUT", self.path, json=app, params={"fieldManager": FIELD_MANAGER})

    # ─── Cluster protocol ───────────────────────────────────────────────────

    def app_health(self) -> AppHealth:
        try:
            app = self._application()
        except NotFound:
            return AppHealth(exists=False)
        status = app.get("status") or {}
        service = next((s for s in status.get("services") or [] if s.get("name") == self.component), None)
        return AppHealth(
            exists=True,
            phase=status.get("status"),
            table_healthy=None if service is None else bool(service.get("healthy")),
            message=((service or {}).get("message") or "")[:300],
            deleting=bool((app.get("metadata") or {}).get("deletionTimestamp")),
        )

    def _component_index(self, spec: dict[str, Any]) -> int:
        for i, component in enumerate(spec.get("components") or []):
            if component.get("name") == self.component:
                return i
        raise CompareError(f"the Application has no component {self.component}")

    def table_properties(self) -> dict[str, Any]:
        spec = self._application().get("spec") or {}
        return copy.deepcopy(spec["components"][self._component_index(spec)].get("properties") or {})

    def change_table(self, properties: dict[str, Any]) -> None:
        def change(app: dict[str, Any]) -> None:
            app["spec"]["components"][self._component_index(app["spec"])]["properties"] = properties
            self._put(app)

        self._write(change)

    def _restore_spec(self, app: dict[str, Any]) -> None:
        if app.get("spec") != self.before["spec"]:
            app["spec"] = copy.deepcopy(self.before["spec"])
            self._put(app)

    def _restore_managed_fields(self, app: dict[str, Any]) -> None:
        current = app["metadata"].get("managedFields") or []
        wanted = restored_managed_fields(current, self.before["managedFields"])
        if wanted != current:
            self._call(
                "PATCH",
                self.path,
                data=json.dumps(
                    {"metadata": {"managedFields": wanted, "resourceVersion": app["metadata"]["resourceVersion"]}}
                ),
                headers={"Content-Type": "application/merge-patch+json"},
                # The patch changes no field, so this manager gets no entry; if a server gave it one,
                # the check below would name it.
                params={"fieldManager": FIELD_MANAGER},
            )

    def restore_application(self) -> list[str]:
        self._write(self._restore_spec)
        self._write(self._restore_managed_fields)
        app = self._application()
        problems = []
        if app.get("spec") != self.before["spec"]:
            problems.append("the Application's spec differs from the one Pulumi applied")
        if any(e.get("manager") == FIELD_MANAGER for e in app["metadata"].get("managedFields") or []):
            problems.append(f"field manager {FIELD_MANAGER} still owns fields of the Application")
        return problems

    def delete_application(self) -> None:
        self._call("DELETE", self.path)

    def leftovers(self) -> list[str]:
        left = []
        e_version, e_kind, e_plural = ENGINE_OBJECT[self.engine]
        try:
            self.kube.get(resource_path(e_version, e_plural, self.namespace, self.component))
            left.append(f"{e_kind}.{e_version.split('/')[0]} {self.namespace}/{self.component}")
        except NotFound:
            pass
        if self.engine in ("kro", "kratix"):
            a_version, a_kind, a_plural = ACK_TABLE
            for ack in self.kube.list(resource_path(a_version, a_plural)):
                if (ack.get("spec") or {}).get("tableName") == self.table:
                    meta = ack.get("metadata") or {}
                    left.append(f"{a_kind}.{a_version.split('/')[0]} {meta.get('namespace')}/{meta.get('name')}")
        return left

    def restart_engine(self) -> str:
        selector, what = engine_pod_selector(self.approach)
        pods = list(self.kube.list("/api/v1/pods?labelSelector=" + requests.utils.quote(selector)))
        if not pods:
            raise CompareError(f"no pod with {selector} found ({what})")
        for pod in pods:
            meta = pod["metadata"]
            self._call("DELETE", resource_path("v1", "pods", meta["namespace"], meta["name"]))
        return f"{what} ({len(pods)} pod(s) deleted; its Deployment starts new ones, which reconcile every object)"

    def recreate_application(self) -> None:
        self._recreate()
        self.before = self._snapshot()


class PulumiRecreate:
    """`pulumi up --refresh` of one approach stack, logged to `.pulumi-state/logs/<stack>-compare.log`."""

    def __init__(self, ops: Any, stack: str, log_path: Any) -> None:
        self.ops = ops
        self.stack = stack
        self.log_path = log_path

    def __call__(self) -> None:
        select = getattr(self.ops, "_stack", None)
        if select is None:
            raise CompareError("this Pulumi backend cannot run `up --refresh` from here; run `up " + self.stack + "`")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a") as log:
            select(self.stack, create=False).up(
                refresh=True,
                on_output=lambda line: (log.write(line + ("" if line.endswith("\n") else "\n")), log.flush()),
                color="never",
                show_secrets=False,
            )


# ─── the `compare` command ──────────────────────────────────────────────────


class LiveDemos:
    """Opens each deployed approach as a `Demo` (one Kubernetes client for all of them)."""

    def __init__(self, ctx: Any) -> None:
        from tools.cli import CliError
        from tools.state import PLATFORM

        self.ctx = ctx
        platform = ctx.outputs(PLATFORM)
        if not platform.get("kubeconfig"):
            raise CliError("the platform stack has no kubeconfig output: bring it up first (`up platform`)")
        self.namespace = platform.get("appsNamespace") or "session-apps"
        # On an existing cluster the APIs are reached through the API server's service proxy,
        # as `smoke` does: the ingress hosts there need DNS the program does not manage.
        self.through_cluster = platform.get("clusterMode") == "existing"
        target = ctx.target()
        self.dynamodb = target.client()
        self.real_dynamodb = target.mode == "aws"
        # The CLI's one client: the platform's kubeconfig and context, closed by the CLI.
        self.kube = ctx.kube()

    def open(self, approach: str) -> Any:
        """A Demo, or a string saying why `approach` cannot be compared."""
        from tools.compare import Demo
        from tools.smoke import Api

        outputs = self.ctx.ops.outputs(approach) if self.ctx.ops.exists(approach) else {}
        if not outputs.get("apiUrl") or not outputs.get("tableName"):
            return f"not deployed (`up {approach}` deploys it)"
        if self.through_cluster:
            service = outputs.get("apiService")
            if not service:
                return f"its stack has no apiService output (its API's Service): run `up {approach}`"
            url = self.kube.service_proxy_url(service["namespace"], service["name"], service["port"])
            api = Api(url, timeout=5.0, http=self.kube.session)
        else:
            api = Api(outputs["apiUrl"], timeout=5.0)

        def api_ready() -> bool:
            if self.through_cluster:
                # A scenario can outlast an exec plugin's token (EKS: 15 minutes).
                self.kube.renew_if_due()
            return api.call("GET", "/ready").status_code == 200

        recreate = PulumiRecreate(self.ctx.ops, approach, self.ctx.log_dir / f"{approach}-compare.log")
        cluster = KubeCluster(self.kube, approach, self.namespace, outputs["tableName"], recreate)
        return Demo(approach, outputs["tableName"], self.dynamodb, cluster, api_ready, ttl_drift=not self.real_dynamodb)

    def close(self) -> None:
        """Nothing of its own to close: the Kubernetes client is the CLI's (Context.close)."""


def record(measurements: Any, approach: str, results: list[Any]) -> None:
    """Each scenario's latest result under measurements[approach]["day2"][scenario]."""
    day2 = dict((measurements.load().get(approach) or {}).get("day2") or {})
    for result in results:
        day2[result.scenario] = result.to_json()
    measurements.update(approach, day2=day2)


def compare_command(ctx: Any, args: Any, demos: Any = None, clock: Any = None) -> int:
    from tools.compare import Runner, validate_scenarios
    from tools.orchestrate import Progress, validate_approaches

    approaches = validate_approaches(args.approaches)
    scenarios = validate_scenarios(args.scenario or [])
    progress = Progress(ctx.out, clock.now) if clock is not None else Progress(ctx.out)
    runner = Runner(progress.say, clock=clock, wait=args.wait, restore_wait=args.restore_wait, poll=args.poll)
    progress.say(
        "compare",
        f"{', '.join(scenarios)} on {', '.join(approaches)}, one approach at a time; "
        f"engine wait {args.wait} s, restore wait {args.restore_wait} s",
    )
    demos = demos or LiveDemos(ctx)
    problems: list[str] = []
    compared = 0
    try:
        for approach in approaches:
            try:
                demo = demos.open(approach)
            except (CompareError, KubeError) as error:
                demo = str(error)
            if isinstance(demo, str):
                progress.say(approach, f"skipped: {demo}")
                continue
            compared += 1
            try:
                results = runner.run(demo, scenarios, on_result=lambda r, a=approach: record(ctx.measurements, a, [r]))
            except Exception as error:  # noqa: BLE001 - whatever stopped it, the other approaches still run
                # The cluster or the target stopped answering: the demo may be half-way through a scenario.
                progress.say(approach, f"stopped: {error.__class__.__name__}: {error}")
                problems.append(f"{approach}: stopped ({error}); check it with `status {approach}` and `smoke {approach}`")
                continue
            for result in results:
                if not result.restored:
                    problems.append(f"{approach} {result.scenario}: not restored ({'; '.join(result.not_restored)})")
                elif result.error:
                    problems.append(f"{approach} {result.scenario}: {result.error}")
    finally:
        demos.close()
    if not compared:
        ctx.say(f"compare: FAIL — none of {', '.join(approaches)} is deployed: run `up` first")
        return 1
    for problem in problems:
        ctx.say(f"compare: {problem}")
    ctx.say("compare: " + ("FAIL (see above)" if problems else "done; every approach is back in its declared state")
            + " — `report` shows the results side by side")
    return 1 if problems else 0
