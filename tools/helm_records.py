"""Helm's record of a release, for the one repair an interrupted first `up` needs.

Helm keeps each release revision in a Secret `sh.helm.release.v1.<release>.v<N>`
in the release's namespace, labelled owner=helm, name=<release>, status=<status>
(helm/helm@v3.20.2 pkg/storage/driver/secrets.go, pkg/storage/storage.go makeKey).
A run killed during `helm install` leaves that record with status pending-install
(pkg/release/status.go StatusPendingInstall) while Pulumi's state has no Release;
the next install then fails with "cannot re-use a name that is still in use"
(pkg/action/install.go availableName), and `replace` does not help for a pending
record. Dropping the record, and only the record, lets the install run again: the
objects the interrupted install created carry this release's ownership
annotations, so Helm adopts them instead of refusing them.

Only records of an install that never finished are dropped. A release with any
other record (deployed, superseded, failed, pending-upgrade, ...) has a history
this repair cannot vouch for: another owner's release of the same name on an
existing cluster, or an install that finished just before the run was killed.
Deleting it would erase that release's history and let this install take over
its objects, so it is left alone and the message says what to check and the
command that drops it.

Only called for Releases whose create Pulumi recorded as pending, i.e. releases
Pulumi's state does not own.
"""

from __future__ import annotations

from tools.kube import KubeClient, resource_path


INTERRUPTED_INSTALL = "pending-install"


def forget_interrupted_release(kube: KubeClient, namespace: str, release: str) -> str:
    """Delete Helm's record Secrets of `release` if they are all of an unfinished install; say what was done."""
    secrets = list(
        kube.list(resource_path("v1", "secrets", namespace), {"labelSelector": f"owner=helm,name={release}"})
    )
    if not secrets:
        return "Helm has no record of it: the install starts afresh"
    records = sorted(
        ((s.get("metadata") or {}).get("name", ""), ((s.get("metadata") or {}).get("labels") or {}).get("status", "?"))
        for s in secrets
    )
    others = [f"{name.rsplit('.', 1)[-1]} {status}" for name, status in records if status != INTERRUPTED_INSTALL]
    if others:
        return (
            f"left alone: Helm records a release of that name that is not an unfinished install "
            f"({', '.join(others)}). If it is this stack's (its install finished just before the run was killed) "
            f"and no one else's, `kubectl -n {namespace} delete secret -l owner=helm,name={release}` drops the "
            "record (the objects stay and the install adopts them), then rerun; if it is another owner's, this stack "
            "cannot install a release of that name there"
        )
    for name, _ in records:
        kube.delete(resource_path("v1", "secrets", namespace, name))
    return (
        f"dropped Helm's record of the interrupted install ({', '.join(status for _, status in records)}); "
        "the install adopts the objects it had created"
    )
