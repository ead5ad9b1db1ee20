"""`status`: walk Application -> table component -> engine object(s) -> DynamoDB table.

For each link the walk reads the live object and says whether it is ready; the
first link that is not names the object and the condition that blocks it (type,
reason, message), which is the question every engine leaves open: why is it stuck?
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from tools.kube import KubeClient, KubeError, NotFound, resource_path
from tools.state import ENGINE_OF, app_name

# What each engine's table component renders (components/cue/dynamodb/<engine>.cue `output`).
ENGINE_OBJECT = {
    "xp": ("dynamodb.aws.m.upbound.io/v1beta1", "Table", "tables"),
    "kro": ("kro.run/v1alpha1", "DynamoDBTable", "dynamodbtables"),
    "kratix": ("dynamodb.kubevela-dynamodb.dev/v1alpha1", "DynamoDBRequest", "dynamodbrequests"),
}
# KRO and Kratix both end in an ACK Table, which does the DynamoDB calls.
ACK_TABLE = ("dynamodb.services.k8s.aws/v1alpha1", "Table", "tables")
# Conditions whose "True" is the problem (ACK's error conditions, kstatus' Stalled).
BAD_WHEN_TRUE = {"ACK.Terminal", "ACK.Recoverable", "Stalled"}
APPLICATION = ("core.oam.dev/v1beta1", "Application", "applications")
TABLE_COMPONENT = "sessions-table-{engine}"


@dataclass
class Link:
    what: str
    ready: bool
    detail: str = ""
    blocking: list[str] = field(default_factory=list)


@dataclass
class Walk:
    approach: str
    links: list[Link] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return bool(self.links) and all(link.ready for link in self.links)

    def lines(self) -> list[str]:
        out = [f"{self.approach}: {'READY' if self.ready else 'NOT READY'}"]
        for link in self.links:
            out.append(f"  {'ok  ' if link.ready else 'WAIT'} {link.what}" + (f" — {link.detail}" if link.detail else ""))
            out.extend(f"         blocked by {b}" for b in link.blocking)
        stuck = self.stuck_at()
        if stuck is not None:
            out.append(f"  => stuck at {stuck.what}")
        return out

    def stuck_at(self) -> Link | None:
        """The link to look at first.

        The Application and its component only summarise what is below them, so
        the answer is the deepest engine object that reports a blocking condition,
        or else the first one that is not ready.
        """
        waiting = [link for link in self.links if not link.ready]
        below = [link for link in waiting if not link.what.startswith(("Application.", "component "))]
        with_reason = [link for link in below if link.blocking]
        if with_reason:
            return with_reason[-1]
        return (below or waiting or [None])[0]


def condition_problems(obj: dict[str, Any]) -> list[str]:
    """`<Type>=<Status> (<reason>): <message>` for every condition that is not in its good state."""
    problems = []
    for cond in (obj.get("status") or {}).get("conditions") or []:
        ctype, status = cond.get("type", "?"), cond.get("status", "Unknown")
        bad = status == "True" if ctype in BAD_WHEN_TRUE else status != "True"
        if bad:
            text = f"condition {ctype}={status}"
            if cond.get("reason"):
                text += f" ({cond['reason']})"
            if cond.get("message"):
                text += f": {cond['message'][:300]}"
            problems.append(text)
    return problems


def _ref(api_version: str, kind: str, namespace: str | None, name: str) -> str:
    return f"{kind}.{api_version.split('/')[0]} {namespace + '/' if namespace else ''}{name}"


def _object_link(obj: dict[str, Any], api_version: str, kind: str, extra_ready: Callable[[dict], tuple[bool, str]] | None = None) -> Link:
    meta = obj.get("metadata") or {}
    what = _ref(api_version, kind, meta.get("namespace"), meta.get("name", "?"))
    problems = condition_problems(obj)
    ok, detail = True, ""
    if extra_ready is not None:
        ok, detail = extra_ready(obj)
    if meta.get("deletionTimestamp"):
        problems.append(f"being deleted since {meta['deletionTimestamp']}; finalizers {meta.get('finalizers') or []}")
    conditions = (obj.get("status") or {}).get("conditions")
    if conditions is None and extra_ready is None:
        problems.append("no status conditions yet (its controller has not reconciled it)")
    return Link(what, ok and not problems, detail, problems)


def _kro_state(obj: dict) -> tuple[bool, str]:
    state = (obj.get("status") or {}).get("state")
    return state == "ACTIVE", f"state {state or 'unset'}"


def _ack_state(obj: dict) -> tuple[bool, str]:
    status = (obj.get("status") or {}).get("tableStatus")
    return status == "ACTIVE", f"tableStatus {status or 'unset'}"


def walk(
    kube: KubeClient,
    approach: str,
    namespace: str,
    table: str,
    table_status: Callable[[str], str | None] | None,
) -> Walk:
    engine = ENGINE_OF[approach]
    result = Walk(approach)
    app = app_name(approach)
    api_version, kind, plural = APPLICATION
    try:
        application = kube.get(resource_path(api_version, plural, namespace, app))
    except NotFound:
        result.links.append(
            Link(_ref(api_version, kind, namespace, app), False, f"not found: is the `{approach}` stack up? (`up {approach}`)")
        )
        return result
    status = application.get("status") or {}
    phase = status.get("status")
    blocking = []
    for service in status.get("services") or []:
        if not service.get("healthy"):
            blocking.append(f"component {service.get('name')}: {service.get('message') or 'unhealthy'}")
        for trait in service.get("traits") or []:
            if not trait.get("healthy"):
                blocking.append(f"trait {trait.get('type')} of {service.get('name')}: {trait.get('message') or 'unhealthy'}")
    workflow = status.get("workflow") or {}
    if phase != "running" and workflow.get("message"):
        blocking.append(f"workflow: {workflow['message'][:300]}")
    result.links.append(Link(_ref(api_version, kind, namespace, app), phase == "running", f"status {phase or 'unset'}", blocking))

    component = TABLE_COMPONENT.format(engine=engine)
    service = next((s for s in status.get("services") or [] if s.get("name") == component), None)
    result.links.append(
        Link(
            f"component {component}",
            bool(service and service.get("healthy")),
            (service or {}).get("message", "") or ("no status yet" if service is None else ""),
        )
    )

    e_version, e_kind, e_plural = ENGINE_OBJECT[engine]
    applied = [
        r for r in status.get("appliedResources") or []
        if r.get("apiVersion") == e_version and r.get("kind") == e_kind
    ]
    ref = applied[0] if applied else {"namespace": namespace, "name": component}
    try:
        engine_obj = kube.get(resource_path(e_version, e_plural, ref.get("namespace"), ref["name"]))
    except NotFound:
        result.links.append(
            Link(_ref(e_version, e_kind, ref.get("namespace"), ref["name"]), False, "not created yet (KubeVela has not applied it)")
        )
        return result
    except KubeError as error:  # e.g. the CRD is missing: the engine is not installed
        result.links.append(Link(_ref(e_version, e_kind, ref.get("namespace"), ref["name"]), False, str(error)))
        return result
    result.links.append(_object_link(engine_obj, e_version, e_kind, _kro_state if engine == "kro" else None))

    if engine in ("kro", "kratix"):
        a_version, a_kind, a_plural = ACK_TABLE
        try:
            tables = [t for t in kube.list(resource_path(a_version, a_plural)) if (t.get("spec") or {}).get("tableName") == table]
        except KubeError as error:
            tables = []
            result.links.append(Link(f"ACK Table for {table}", False, str(error)))
        if not tables:
            hint = (
                "kro has not created it: see the DynamoDBTable's conditions above"
                if engine == "kro"
                else "the Promise pipeline or Flux has not applied it: `kubectl get works,workplacements,kustomizations -A`"
            )
            if not any(link.what.startswith("ACK Table") for link in result.links):
                result.links.append(Link(f"ACK Table for {table}", False, f"none with spec.tableName={table}; {hint}"))
        for ack in tables:
            result.links.append(_object_link(ack, a_version, a_kind, _ack_state))

    if table_status is None:
        result.links.append(Link(f"DynamoDB table {table}", False, "the DynamoDB target cannot be reached from here"))
    else:
        try:
            state = table_status(table)
        except Exception as error:  # endpoint or credentials: the text is the diagnosis
            result.links.append(Link(f"DynamoDB table {table}", False, f"{error.__class__.__name__}: {error}"))
        else:
            result.links.append(Link(f"DynamoDB table {table}", state == "ACTIVE", f"status {state or 'does not exist'}"))
    return result
