"""Helm's record of a release, for the one repair an interrupted first `up` needs.

Helm keeps each release revision in a Secret `sh.helm.release.v1.<release>.v<N>`
in the release's namespace, labelled owner=helm, name=<release>, status=<status>
(helm/helm@v3.20.2 pkg/storage/driver/secrets.go, pkg/storage/storage.go makeKey).
A run killed during `helm install` leaves that record (status pending-install, or
deployed when only Pulumi's bookkeeping was lost) while Pulumi's state has no
Release; the next install then fails with "cannot re-use a name that is still in
use" (pkg/action/install.go availableName), and `replace` does not help for a
pending record. Dropping the record, and only the record, lets the install run
again: the objects the interrupted install created carry this release's ownership
annotations, so Helm adopts them instead of refusing them.

Only called for Releases whose create Pulumi recorded as pending, i.e. releases
Pulumi's state does not own.
"""

from __future__ import annotations

from tools.kube import KubeClient, resource_path


def forget_interrupted_release(kube: KubeClient, namespace: str, release: str) -> str:
    """Delete Helm's record Secrets of `release`; say what was there."""
    secrets = list(
        kube.list(resource_path("v1", "secrets", namespace), {"labelSelector": f"owner=helm,name={release}"})
    )
    if not secrets:
        return "Helm has no record of it: the install starts afresh"
    statuses = []
    for secret in sorted(secrets, key=lambda s: (s.get("metadata") or {}).get("name", "")):
        metadata = secret.get("metadata") or {}
        statuses.append((metadata.get("labels") or {}).get("status", "?"))
        kube.delete(resource_path("v1", "secrets", namespace, metadata["name"]))
    return (
        f"dropped Helm's record of the interrupted install ({', '.join(statuses)}); "
        "the install adopts the objects it had created"
    )
