"""Which Kubernetes objects and CRDs each approach added to the cluster, counted live.

The approach stacks come up concurrently in one cluster, so a before/after diff
cannot tell them apart. Instead each live object is attributed to the approach
whose stack owns it, by evidence on the object itself:

1. Pulumi manages it in that stack (kind/namespace/name in the stack's state);
2. it lives in a namespace that stack created;
3. Helm installed it from one of that stack's releases (`meta.helm.sh/release-*`);
4. KubeVela applied it for that approach's Application (label `app.oam.dev/name`);
5. its owner (ownerReferences, followed to a fixed point) is attributed;
6. CRDs only: created while exactly one approach's `up` ran (controllers such as
   Crossplane's and KRO's create CRDs with none of the marks above).

Whatever matches none stays unattributed and is reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from tools.kube import KubeClient, KubeError

SKIPPED_RESOURCES = {("", "events"), ("events.k8s.io", "events"), ("coordination.k8s.io", "leases")}
"""High-churn records, not things an engine installs."""


@dataclass(frozen=True)
class Obj:
    group: str
    kind: str
    namespace: str
    name: str
    uid: str
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    owners: tuple[str, ...]
    created: float

    @property
    def is_crd(self) -> bool:
        return self.group == "apiextensions.k8s.io" and self.kind == "CustomResourceDefinition"

    def label(self, key: str) -> str | None:
        return dict(self.labels).get(key)

    def annotation(self, key: str) -> str | None:
        return dict(self.annotations).get(key)


def _epoch(stamp: str | None) -> float:
    if not stamp:
        return 0.0
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def to_obj(item: dict[str, Any], group: str, kind: str) -> Obj:
    meta = item.get("metadata") or {}
    return Obj(
        group=group,
        kind=kind,
        namespace=meta.get("namespace") or "",
        name=meta.get("name") or "",
        uid=meta.get("uid") or "",
        labels=tuple(sorted((meta.get("labels") or {}).items())),
        annotations=tuple(
            sorted((k, v) for k, v in (meta.get("annotations") or {}).items() if k.startswith("meta.helm.sh/"))
        ),
        owners=tuple(o.get("uid", "") for o in meta.get("ownerReferences") or []),
        created=_epoch(meta.get("creationTimestamp")),
    )


def _resource_lists(kube: KubeClient) -> Iterable[tuple[str, str, dict[str, Any]]]:
    yield "", "/api/v1", kube.get("/api/v1")
    for group in kube.get("/apis").get("groups") or []:
        version = (group.get("preferredVersion") or {}).get("groupVersion")
        if version:
            try:
                yield group["name"], f"/apis/{version}", kube.get(f"/apis/{version}")
            except KubeError:
                continue  # an aggregated API that is down must not stop the count


def snapshot(kube: KubeClient) -> list[Obj]:
    """Every listable object in the cluster (one LIST per resource type)."""
    objects: list[Obj] = []
    for group, base, listing in _resource_lists(kube):
        for resource in listing.get("resources") or []:
            name = resource.get("name", "")
            if "/" in name or "list" not in (resource.get("verbs") or []) or (group, name) in SKIPPED_RESOURCES:
                continue
            try:
                for item in kube.list(f"{base}/{name}"):
                    objects.append(to_obj(item, group, resource.get("kind", "")))
            except KubeError:
                continue
    return objects


def _kind_of_type(type_: str) -> tuple[str, str] | None:
    """`kubernetes:core.oam.dev/v1beta1:Application` -> (`core.oam.dev`, `Application`)."""
    if not type_.startswith("kubernetes:"):
        return None
    _, group_version, kind = type_.split(":", 2)
    group = group_version.rsplit("/", 1)[0] if "/" in group_version else ""
    return ("" if group == "core" else group), kind


@dataclass
class Evidence:
    """What a stack's state says it owns."""

    approach: str
    app_name: str
    managed: set[tuple[str, str, str, str]]
    namespaces: set[str]
    releases: set[tuple[str, str]]
    window: tuple[float, float] | None


def evidence_from_resources(approach: str, app: str, resources: list[dict[str, Any]], window) -> Evidence:
    managed, namespaces, releases = set(), set(), set()
    for r in resources:
        if r["type"] == "kubernetes:helm.sh/v3:Release":
            releases.add((r.get("namespace", ""), r.get("name", "")))
            if r.get("createNamespace"):
                namespaces.add(r.get("namespace", ""))
            continue
        kind = _kind_of_type(r["type"])
        if kind is None:
            continue
        managed.add((kind[0], kind[1], r.get("namespace", ""), r.get("name", "")))
        if kind == ("", "Namespace"):
            namespaces.add(r.get("name", ""))
    namespaces.discard("")
    return Evidence(approach, app, managed, namespaces, releases, window)


def attribute(objects: list[Obj], evidence: list[Evidence]) -> dict[str, list[Obj]]:
    """Objects per approach (key '' for unattributed)."""
    owner_of: dict[str, str] = {}

    def direct(obj: Obj) -> str | None:
        for ev in evidence:
            if (obj.group, obj.kind, obj.namespace, obj.name) in ev.managed:
                return ev.approach
            if obj.namespace and obj.namespace in ev.namespaces:
                return ev.approach
            if obj.kind == "Namespace" and obj.name in ev.namespaces:
                return ev.approach
            release = (obj.annotation("meta.helm.sh/release-namespace") or "", obj.annotation("meta.helm.sh/release-name") or "")
            if release[1] and release in ev.releases:
                return ev.approach
            if obj.label("app.oam.dev/name") == ev.app_name:
                return ev.approach
        return None

    for obj in objects:
        found = direct(obj)
        if found:
            owner_of[obj.uid] = found
    changed = True
    while changed:
        changed = False
        for obj in objects:
            if obj.uid in owner_of:
                continue
            for owner in obj.owners:
                if owner in owner_of:
                    owner_of[obj.uid] = owner_of[owner]
                    changed = True
                    break
    for obj in objects:
        if obj.uid in owner_of or not obj.is_crd:
            continue
        inside = [
            ev.approach for ev in evidence if ev.window and ev.window[0] - 1 <= obj.created <= ev.window[1] + 1
        ]
        if len(inside) == 1:
            owner_of[obj.uid] = inside[0]
    result: dict[str, list[Obj]] = {ev.approach: [] for ev in evidence}
    result[""] = []
    for obj in objects:
        result.setdefault(owner_of.get(obj.uid, ""), []).append(obj)
    return result


def counts(attributed: dict[str, list[Obj]]) -> dict[str, dict[str, int]]:
    return {
        approach: {"objects": len(objs), "crds": sum(1 for o in objs if o.is_crd)}
        for approach, objs in attributed.items()
    }
