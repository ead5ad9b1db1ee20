"""Wait until every ACK Table the DynamoDB Promise produced is deleted.

`pulumi destroy --stack kratix` runs this (components/kratix_table_wait.py) after
the Application is gone and before the Promise, the Flux objects and Kratix go.

Why a wait of its own: deleting the request makes Kratix remove `table.yaml`
from the bucket, and Flux's next reconcile prunes the Table *without waiting*
and drops it from the Kustomization's inventory (kustomize-controller v1.6.1
internal/controller/kustomization_controller.go: `obj.Status.Inventory =
newInventory` before `prune()`, which calls fluxcd/pkg ssa v0.48.0
`ResourceManager.DeleteAll` with background propagation and no wait). The
Kustomization's `deletionPolicy: WaitForTermination` then has nothing left to
wait for, and the destroy would race ahead while ACK is still deleting the
table; if the platform (ACK) went next, the Table would keep ACK's finalizer
forever. So the Tables are waited for here, by the label the pipeline stamps on
each of them, while their controller still runs. Nothing is force-deleted and
no finalizer is touched: on timeout the destroy stops with what to inspect.

Environment (set by the component, the kubeconfig as a Pulumi secret; never
printed): KVDEMO_KUBECONFIG, KVDEMO_KUBE_CONTEXT (the platform's context; empty: the
kubeconfig's current one), KVDEMO_TABLE_SELECTOR, KVDEMO_TABLE_WAIT_SECONDS,
KVDEMO_ACK_NAMESPACE, KVDEMO_FLUX_KUSTOMIZATION (namespace/name). Set
KVDEMO_SKIP_TABLE_WAIT=1 in the shell running `pulumi destroy` only after
checking yourself that no such Table is left (the message says how).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol

# The environment the component (the writer) sets: one definition for both sides, in a
# module that needs no Pulumi (this runs under plain python3 when there is no venv).
from components.table_wait_env import (
    ENV_ACK_NAMESPACE,
    ENV_KUBE_CONTEXT,
    ENV_KUBECONFIG,
    ENV_KUSTOMIZATION,
    ENV_SELECTOR,
    ENV_TIMEOUT,
)
from tools.kube import KubeClient, KubeError, NotFound, Unreachable

TABLES_PATH = "/apis/dynamodb.services.k8s.aws/v1alpha1/tables"
TABLE_CRD = "tables.dynamodb.services.k8s.aws"
REQUEST_LABEL = "kubevela-dynamodb.dev/dynamodb-request"
"""What the Promise's configure pipeline stamps on every Table it writes
(components/kratix/pipeline/dynamodb_pipeline.py REQUEST_LABEL; a test keeps them equal)."""
REQUESTS_PATH = "/apis/dynamodb.kubevela-dynamodb.dev/v1alpha1/namespaces/{namespace}/dynamodbrequests/{name}"
ENV_SKIP = "KVDEMO_SKIP_TABLE_WAIT"
DEFAULT_TIMEOUT_SECONDS = 600
POLL_SECONDS = 5.0
UNREACHABLE_TRIES = 3
"""A cluster that never answered in this many tries is gone (a deleted k3d cluster): like
the Kubernetes provider's `deleteUnreachable`, its objects are treated as gone with it."""


class WaitFailed(RuntimeError):
    """The Tables are still there at the deadline (or cannot be checked); the message says what to inspect."""


class Lister(Protocol):
    def list(self, path: str, params: dict[str, Any] | None = None) -> Iterable[dict[str, Any]]: ...
    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]: ...


@dataclass
class TableWait:
    client: Lister
    selector: str = REQUEST_LABEL
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    ack_namespace: str = "ack-system"
    kustomization: str = "flux-system/kratix-platform-resources"
    poll: float = POLL_SECONDS
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    say: Callable[[str], None] = print
    _last_seen: tuple = field(default=(), init=False)

    def run(self) -> str:
        """Returns once no Table matches; raises WaitFailed at the deadline."""
        start = self.clock()
        answered = False
        misses = 0
        last_error = ""
        tables: list[dict] | None = None
        while True:
            try:
                tables = list(self.client.list(TABLES_PATH, {"labelSelector": self.selector}))
                answered = True
                last_error = ""
            except NotFound:
                # The list path itself is 404: the Table CRD is not installed, so no Table exists.
                return self._done(f"the ACK Table API ({TABLE_CRD}) is not served: no Table can be left")
            except Unreachable as error:
                misses += 1
                last_error = str(error)
                if not answered and misses >= UNREACHABLE_TRIES:
                    return self._done(
                        f"{error}; the cluster is treated as gone, with its Tables "
                        "(as the Kubernetes provider does with deleteUnreachable)"
                    )
            except KubeError as error:  # 403, 5xx: not an answer about the Tables; ask again
                last_error = str(error)
            if tables is not None and not tables and not last_error:
                return self._done(f"no ACK Table labelled {self.selector} is left")
            if tables:
                self._progress(tables)
            if self.clock() - start >= self.timeout:
                raise WaitFailed(self.explain(tables or [], last_error))
            self.sleep(self.poll)

    def _done(self, text: str) -> str:
        self.say(text)
        return text

    def _progress(self, tables: list[dict]) -> None:
        seen = tuple(sorted((_key(t), bool(_meta(t).get("deletionTimestamp"))) for t in tables))
        if seen != self._last_seen:
            self._last_seen = seen
            names = ", ".join(f"{k}{' (deleting)' if deleting else ''}" for k, deleting in seen)
            self.say(f"waiting for {len(seen)} ACK Table(s) to be deleted by their controller: {names}")

    def explain(self, tables: list[dict], last_error: str = "") -> str:
        minutes = f"{self.timeout / 60:g} minute(s)"
        lines: list[str] = []
        if not tables:
            lines.append(
                f"could not check the ACK Tables labelled {self.selector} within {minutes}: {last_error}. "
                "The destroy stopped before the Promise, Flux and Kratix; nothing was force-deleted."
            )
        else:
            lines.append(
                f"{len(tables)} ACK Table(s) made by the DynamoDB Promise still exist after {minutes}. "
                "The destroy stopped before the Promise, Flux and Kratix (which their deletion needs); "
                "nothing was force-deleted and no finalizer removed:"
            )
            for table in sorted(tables, key=_key):
                lines.append(f"  {_key(table)} (DynamoDB table {(table.get('spec') or {}).get('tableName', '?')}): "
                             + self._state(table))
        ack_ns = self.ack_namespace
        flux_ns, _, flux_name = self.kustomization.partition("/")
        lines += [
            "Inspect:",
            "  kubectl describe tables.dynamodb.services.k8s.aws -n <namespace> <name>   (ACK's conditions say why the "
            "table is not deleted)",
            f"  kubectl -n {ack_ns} logs -l app.kubernetes.io/instance=ack-dynamodb-controller   (the ACK controller "
            "deletes the table and then its finalizer; it must be running)",
            f"  kubectl -n {flux_ns} describe kustomization {flux_name}   (Flux prunes a Table once Kratix removed "
            "its file from the state store)",
            "Then rerun the same destroy. Only if you made sure no such Table is left "
            f"(kubectl get tables.dynamodb.services.k8s.aws -A -l {self.selector}), "
            f"{ENV_SKIP}=1 in the environment skips this wait.",
        ]
        return "\n".join(lines)

    def _state(self, table: dict) -> str:
        meta = _meta(table)
        parts = []
        if meta.get("deletionTimestamp"):
            parts.append(f"being deleted since {meta['deletionTimestamp']}, finalizers {meta.get('finalizers') or []}")
        else:
            request = self._request(meta)
            if request is None:
                parts.append("not being deleted, and no DynamoDBRequest asks for it: Flux has not pruned it")
            elif _meta(request).get("deletionTimestamp"):
                parts.append(
                    f"not being deleted: its DynamoDBRequest {_key(table)} is itself being deleted since "
                    f"{_meta(request)['deletionTimestamp']}, finalizers {_meta(request).get('finalizers') or []} "
                    "(Kratix removes its Work, then the file Flux prunes)"
                )
            elif request:
                parts.append(
                    f"not being deleted: its DynamoDBRequest {_key(table)} still exists (a request this stack "
                    "did not make? delete it, or leave the Promise in place)"
                )
            else:
                parts.append("not being deleted (its DynamoDBRequest could not be read)")
        for condition in (table.get("status") or {}).get("conditions") or []:
            if condition.get("type") in ("ACK.Terminal", "ACK.Recoverable") and condition.get("status") == "True":
                parts.append(f"{condition['type']}: {condition.get('message', '')}")
        return "; ".join(parts)

    def _request(self, meta: dict) -> dict | None:
        """The DynamoDBRequest of a Table's name: the object, None when there is none, {} when unreadable."""
        path = REQUESTS_PATH.format(namespace=meta.get("namespace", ""), name=meta.get("name", ""))
        try:
            return self.client.get(path) or {"metadata": {}}
        except NotFound:
            return None
        except KubeError:
            return {}


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _key(obj: dict) -> str:
    meta = _meta(obj)
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _timeout(environ: dict[str, str]) -> float:
    raw = environ.get(ENV_TIMEOUT, str(DEFAULT_TIMEOUT_SECONDS))
    try:
        value = float(raw)
    except ValueError:
        raise WaitFailed(f"{ENV_TIMEOUT} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise WaitFailed(f"{ENV_TIMEOUT} must be positive, got {raw!r}")
    return value


def main(
    environ: dict[str, str] | None = None,
    client_factory: Callable[[str, str | None], Any] = KubeClient.from_kubeconfig,
    out=sys.stdout,
    err=sys.stderr,
    **wait_options: Any,
) -> int:
    environ = dict(os.environ if environ is None else environ)
    selector = environ.get(ENV_SELECTOR) or REQUEST_LABEL

    def say(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    if environ.get(ENV_SKIP, "").lower() in ("1", "true", "yes"):
        say(f"{ENV_SKIP} is set: not waiting for ACK Tables labelled {selector} (you checked that none is left)")
        return 0
    try:
        timeout = _timeout(environ)
        try:
            client = client_factory(environ.get(ENV_KUBECONFIG, ""), environ.get(ENV_KUBE_CONTEXT) or None)
        except KubeError as error:
            # The error names the problem, never the kubeconfig's content.
            raise WaitFailed(
                f"cannot check the ACK Tables labelled {selector}: {error}. Check with "
                f"`kubectl get tables.dynamodb.services.k8s.aws -A -l {selector}` that none is left, then rerun "
                f"the destroy with {ENV_SKIP}=1."
            ) from None
        try:
            TableWait(
                client,
                selector=selector,
                timeout=timeout,
                ack_namespace=environ.get(ENV_ACK_NAMESPACE) or "ack-system",
                kustomization=environ.get(ENV_KUSTOMIZATION) or "flux-system/kratix-platform-resources",
                say=say,
                **wait_options,
            ).run()
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                close()
    except WaitFailed as error:
        err.write(f"{error}\n")
        err.flush()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
