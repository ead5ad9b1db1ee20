"""The DynamoDB Promise's resource workflow: a request in, an ACK Table out.

Two steps, one program (the step is the first argument):

``configure``
    Reads the request (``/kratix/input/object.yaml``), writes the ACK ``Table``
    it asks for to ``/kratix/output/table.yaml`` (Kratix puts it in the state
    store; Flux applies it; the ACK controller creates the table) and a status
    to ``/kratix/metadata/status.yaml``: ``REQUESTED`` for a table not seen yet,
    otherwise the last status ``table-status`` observed. Kratix reruns the whole
    workflow (every 10 h by default: syntasso/kratix internal/controller/shared.go
    DefaultReconciliationInterval; on a spec change, on a Promise update); the
    input object it hands over holds the request's current status, so a rerun
    does not flip an ACTIVE table (and its app) back to "requested".

``table-status``
    Reads that Table back from the cluster and reports the real table in the
    request's status (``tableStatus``, ``tableArn``). The step is done only when
    the live Table carries this request's spec (its spec-digest annotation),
    the table is ``ACTIVE``, ACK reports ``ACK.ResourceSynced=True`` and no
    ``ACK.Terminal``. Until then it asks Kratix to run it again later
    (``workflow-control.yaml`` ``retryAfter``), which keeps the configure
    workflow, and so the request's ``Reconciled`` condition, unfinished: a
    request is Reconciled only once its table really is what it asks for.
    ``ACK.Terminal=True`` (ACK will not try again until the spec changes)
    suspends the workflow (``suspend``) with ACK's message, until the request
    changes. An API answer that says nothing about the Table (403, 5xx, a
    timeout, no answer) is "not known yet": the last observed status stays, the
    message says what failed, and Kratix retries, instead of a crashing Job that
    Kratix would retry only at its next reconcile. A missing Table API (the ACK
    CRD is not installed) is named as such.

Ref: Kratix workflow contract, syntasso/kratix-docs docs/main/03-reference/12-workflows.md
(input/output/metadata paths, workflow-control.yaml); syntasso/kratix@ae170e22:
work-creator/lib/reader.go (object.yaml is the live object from a GET, status
included), work-creator/cmd/update_status.go (status.yaml merged into the
existing status, incoming keys win, others stay: lib/status_updater.go
MergeStatuses; `metadata/workflow-control.yaml` `retryAfter`, a Go duration,
or `suspend: true` with a `message`, suspends the pipeline and keeps the last
pipeline from marking the workflow completed, update_status.go:95: lib/workflow_control.go),
work-creator/lib/work_creator.go (a retrying or suspended pipeline writes no
Work), api/v1alpha1/pipeline_factory.go (pipeline containers are init
containers before the status writer: a step that exits non-zero writes no
status). The pinned pipeline-adapter image
(components/versions.py KRATIX_IMAGE, chart update syntasso/helm-charts b01ba1b of
2026-08-04) is built after workflow control arrived (syntasso/kratix d61cacf7,
2026-03-26), and work-creator/ is unchanged between 224e1483 (2026-08-04) and
ae170e22; the chart's CRDs carry the suspended-pipeline status (attempts,
suspendedGeneration). ACK Table fields: the dynamodb.services.k8s.aws
v1alpha1 Table CRD of aws-controllers-k8s/dynamodb-controller v1.9.2.

Standard library and PyYAML only.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Callable

import yaml

ACK_API_VERSION = "dynamodb.services.k8s.aws/v1alpha1"
ACK_GROUP_VERSION_PATH = "/apis/dynamodb.services.k8s.aws/v1alpha1"
ACK_TABLES_PATH = ACK_GROUP_VERSION_PATH + "/namespaces/{namespace}/tables/{name}"
ACK_TABLE_CRD = "tables.dynamodb.services.k8s.aws"
API_TIMEOUT_SECONDS = 10
REQUEST_LABEL = "kubevela-dynamodb.dev/dynamodb-request"
SPEC_DIGEST_ANNOTATION = "kubevela-dynamodb.dev/table-spec-sha256"
"""On every Table the configure step writes: the digest of the spec it wrote (spec_digest).
table-status compares it with the request's, to know the live Table is the one the request
asks for and not the one before a change: ACK sets no observedGeneration (the Condition of
aws-controllers-k8s/runtime@v0.61.0 apis/core/v1alpha1/conditions.go:78-92 has none), and
the live spec cannot be compared field by field, because ACK writes the CreateTable answer
into it (dynamodb-controller@v1.9.2 pkg/resource/table/sdk.go:729 in sdkCreate, e.g. a
provisionedThroughput of 0/0 for PAY_PER_REQUEST; runtime@v0.61.0 pkg/runtime/reconciler.go:865
patches it back). Flux applies metadata and spec in one server-side apply, so the annotation
and the spec it names arrive together."""
RETRY_AFTER = "15s"
"""How soon a request whose table is not done yet is checked again."""

DONE, RETRY, FAILED = "done", "retry", "failed"
"""What table-status concluded: the workflow may complete; Kratix runs the step again in
RETRY_AFTER; ACK gave up on this spec, the workflow is suspended until the request changes."""

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
"""Where the kubelet mounts the pod's ServiceAccount token and the cluster CA. The
variable SERVICE_ACCOUNT_DIR overrides it, for running the step outside a pod."""


class RequestError(ValueError):
    """The request cannot be turned into a table (the message says which field)."""


class TableApiMissing(RuntimeError):
    """The cluster does not serve the ACK Table API: the ACK DynamoDB CRD is not installed."""


class ApiUnavailable(RuntimeError):
    """The API server gave no answer about the Table (403, 5xx, timeout, connection); the text says which."""


# ─── configure: request -> ACK Table ───────────────────────────────────────


def _attribute_definitions(spec: dict) -> list[dict]:
    """Every key attribute once, in the order it first appears; one type per name."""
    keys = [spec["hashKey"], spec.get("rangeKey")]
    for index in spec.get("globalSecondaryIndexes", []):
        keys += [index["hashKey"], index.get("rangeKey")]
    for index in spec.get("localSecondaryIndexes", []):
        keys.append(index["rangeKey"])
    types: dict[str, str] = {}
    for key in keys:
        if key is None:
            continue
        name, kind = key["name"], key.get("type", "S")
        if types.setdefault(name, kind) != kind:
            raise RequestError(f"attribute {name!r} is used with two types: {types[name]} and {kind}")
    return [{"attributeName": name, "attributeType": kind} for name, kind in types.items()]


def _key_schema(hash_key: dict, range_key: dict | None) -> list[dict]:
    schema = [{"attributeName": hash_key["name"], "keyType": "HASH"}]
    if range_key is not None:
        schema.append({"attributeName": range_key["name"], "keyType": "RANGE"})
    return schema


def _projection(index: dict) -> dict:
    projection = index.get("projection", {})
    result = {"projectionType": projection.get("type", "ALL")}
    if projection.get("nonKeyAttributes"):
        result["nonKeyAttributes"] = list(projection["nonKeyAttributes"])
    return result


def _throughput(capacity: dict) -> dict:
    return {
        "readCapacityUnits": int(capacity["readCapacityUnits"]),
        "writeCapacityUnits": int(capacity["writeCapacityUnits"]),
    }


def table_spec(spec: dict) -> dict:
    """The ACK Table spec for the contract parameters (KubeVela filled in the defaults)."""
    for field in ("tableName", "hashKey"):
        if field not in spec:
            raise RequestError(f"spec.{field} is required")
    billing = spec.get("billingMode", "PAY_PER_REQUEST")
    provisioned = billing == "PROVISIONED"
    if provisioned != ("provisionedThroughput" in spec):
        raise RequestError("spec.provisionedThroughput is required with billingMode PROVISIONED, and only then")
    if spec.get("localSecondaryIndexes") and "rangeKey" not in spec:
        raise RequestError("spec.localSecondaryIndexes require spec.rangeKey")

    table: dict = {
        "tableName": spec["tableName"],
        "attributeDefinitions": _attribute_definitions(spec),
        "keySchema": _key_schema(spec["hashKey"], spec.get("rangeKey")),
        "billingMode": billing,
        "deletionProtectionEnabled": bool(spec.get("deletionProtection", False)),
    }
    if provisioned:
        table["provisionedThroughput"] = _throughput(spec["provisionedThroughput"])
    gsis = []
    for index in spec.get("globalSecondaryIndexes", []):
        gsi = {
            "indexName": index["name"],
            "keySchema": _key_schema(index["hashKey"], index.get("rangeKey")),
            "projection": _projection(index),
        }
        if provisioned != ("provisionedThroughput" in index):
            raise RequestError(
                f"globalSecondaryIndexes[{index['name']}].provisionedThroughput is required with "
                "billingMode PROVISIONED, and only then"
            )
        if provisioned:
            gsi["provisionedThroughput"] = _throughput(index["provisionedThroughput"])
        gsis.append(gsi)
    if gsis:
        table["globalSecondaryIndexes"] = gsis
    lsis = [
        {
            "indexName": index["name"],
            # An LSI shares the table's partition key.
            "keySchema": _key_schema(spec["hashKey"], index["rangeKey"]),
            "projection": _projection(index),
        }
        for index in spec.get("localSecondaryIndexes", [])
    ]
    if lsis:
        table["localSecondaryIndexes"] = lsis
    # A disabled TTL or stream is left out: DynamoDB describes a table without them
    # with no StreamSpecification and a TTL without an attribute name, and ACK compares
    # what it reads back with this spec, so any other "off" would never report
    # ACK.ResourceSynced (aws-controllers-k8s/dynamodb-controller@v1.9.2
    # pkg/resource/table/sdk.go L369-380, hooks_ttl.go L85-92, delta.go L106-107).
    # The price: an enabled stream or TTL cannot be turned off from here (docs/kratix.md).
    ttl = spec.get("ttl")
    if ttl and ttl.get("enabled", True):
        table["timeToLive"] = {"attributeName": ttl["attributeName"], "enabled": True}
    stream = spec.get("stream")
    if stream and stream.get("enabled", True):
        table["streamSpecification"] = {
            "streamEnabled": True,
            "streamViewType": stream.get("viewType", "NEW_AND_OLD_IMAGES"),
        }
    encryption = spec.get("encryption")
    if encryption and encryption.get("enabled", True):
        # enabled=true is SSE with KMS (no key id: the AWS managed key), as in the contract.
        sse = {"enabled": True, "sseType": "KMS"}
        if encryption.get("kmsKeyId"):
            sse["kmsMasterKeyID"] = encryption["kmsKeyId"]
        table["sseSpecification"] = sse
    elif encryption:
        # Off is sent as off (the AWS owned key), as the kro engine does: ACK sees no
        # difference between it and a table described without SSE, and turns KMS off on a
        # table that had it; left out, ACK would differ from a KMS table forever
        # (hooks.go customPreCompare, L577-594).
        table["sseSpecification"] = {"enabled": False}
    tags = spec.get("tags") or {}
    if tags:
        table["tags"] = [{"key": k, "value": str(v)} for k, v in sorted(tags.items())]
    return table


def spec_digest(spec: dict) -> str:
    """sha256 of a Table spec, independent of key order."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def table_manifest(request: dict) -> dict:
    """The ACK Table for a DynamoDBRequest: same name and namespace as the request."""
    metadata = request.get("metadata") or {}
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not name or not namespace:
        raise RequestError("the request has no metadata.name/metadata.namespace")
    spec = table_spec(request.get("spec") or {})
    return {
        "apiVersion": ACK_API_VERSION,
        "kind": "Table",
        "metadata": {
            "name": name,
            # Explicit: Flux's generated kustomization rejects namespaced objects
            # without one, which would block every other request's Table too.
            "namespace": namespace,
            "labels": {REQUEST_LABEL: name},
            "annotations": {
                # Deleting the request deletes the table (ACK's default, made explicit).
                # Ref: aws-controllers-k8s docs "Deletion policy".
                "services.k8s.aws/deletion-policy": "delete",
                SPEC_DIGEST_ANNOTATION: spec_digest(spec),
            },
        },
        "spec": spec,
    }


def _observed(request: dict, table_name: str) -> dict:
    """What table-status last wrote for this table (from the request's current status), or {}."""
    status = request.get("status") or {}
    if not isinstance(status, dict) or status.get("tableName") != table_name or not status.get("tableStatus"):
        return {}
    return {k: status[k] for k in ("tableStatus", "tableArn", "message") if status.get(k)}


def configure(input_dir: Path, output_dir: Path, metadata_dir: Path) -> dict:
    request = yaml.safe_load((input_dir / "object.yaml").read_text())
    table = table_manifest(request)
    table_name = table["spec"]["tableName"]
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "table.yaml").write_text(yaml.safe_dump(table, sort_keys=False))
    # A rerun keeps what was observed; only a table not seen yet (a new request, or a
    # new tableName) is REQUESTED. table-status, next in the workflow, updates it.
    status = {"tableName": table_name, **(_observed(request, table_name) or {
        "message": f"table {table_name} requested",
        "tableStatus": "REQUESTED",
    })}
    _write_status(metadata_dir, status)
    return table


# ─── table-status: report the real table ───────────────────────────────────

Fetch = Callable[[str, str], "dict | None"]
"""(namespace, name) -> the live Table object, or None when it does not exist; raises
TableApiMissing when the Table API is not served, ApiUnavailable when the API gave no answer."""


def _condition(table: dict, kind: str) -> dict | None:
    for condition in (table.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return None


def _is_true(condition: dict | None) -> bool:
    return bool(condition) and condition.get("status") == "True"


def _said(condition: dict) -> str:
    """A condition's message (or reason) on one line."""
    return " ".join(str(condition.get("message") or condition.get("reason") or "no message").split())


def _time(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _status_predates_apply(live: dict) -> bool:
    """True when ACK last wrote the Table's status before the current spec was applied.

    Then ACK has not reconciled this spec yet and its conditions are about the one before.
    The API server keeps, per writer, the time it last changed that writer's fields
    (metadata.managedFields[].time): the entry that owns SPEC_DIGEST_ANNOTATION is Flux's
    apply of this spec, ACK's is the one for the status subresource (runtime@v0.61.0
    pkg/runtime/util.go:252-253). ACK rewrites the conditions, with a new lastTransitionTime,
    in every reconcile (pkg/runtime/reconciler.go:566 resetConditions, 755 SetSynced;
    pkg/condition/condition.go:160-161), so each reconcile moves its time. Both times come
    from the API server's clock. Equal seconds count as reconciled: ACK reacts to the apply
    within the same second far more often than it wrote just before it. Without both times
    (an API server that strips managedFields) this cannot tell, and says True: a retry ends
    once the request changes or ACK writes again, a suspension on the old spec's error
    would hold until the request changes.
    """
    applied = status = None
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        when = _time(entry.get("time"))
        if when is None:
            continue
        if entry.get("subresource") == "status":
            status = max(status or when, when)
        elif f"f:{SPEC_DIGEST_ANNOTATION}" in (((entry.get("fieldsV1") or {}).get("f:metadata") or {})
                                              .get("f:annotations") or {}):
            applied = max(applied or when, when)
    return applied is None or status is None or status < applied


def _judge(live: dict, wanted: dict) -> tuple[dict, str]:
    """The request status for a live Table object, and DONE, RETRY or FAILED."""
    table_name = wanted["spec"]["tableName"]
    ref = f"{wanted['metadata']['namespace']}/{wanted['metadata']['name']}"
    live_status = live.get("status") or {}
    status = {"tableStatus": live_status.get("tableStatus") or "PENDING"}
    arn = (live_status.get("ackResourceMetadata") or {}).get("arn")
    if arn:
        status["tableArn"] = arn

    def answer(message: str, outcome: str) -> tuple[dict, str]:
        return {**status, "message": message}, outcome

    # 1. The Table this request asks for. Kratix completes the workflow as soon as the
    # last pipeline asks for no retry (syntasso/kratix@224e1483 work-creator/cmd/
    # update_status.go:95), and Flux applies the new table.yaml only later: read too
    # early, the Table (and its ACTIVE, Synced status) is the one before the change.
    applied = ((live.get("metadata") or {}).get("annotations") or {}).get(SPEC_DIGEST_ANNOTATION)
    if applied != wanted["metadata"]["annotations"][SPEC_DIGEST_ANNOTATION]:
        return answer(f"table {table_name}: waiting for Flux to apply the requested change to Table {ref}", RETRY)

    # 2. ACK.Terminal=True: ACK will not try again until the spec changes (runtime@v0.61.0
    # apis/core/v1alpha1/conditions.go:36-41), whatever tableStatus says: a ValidationException
    # (a terminal code, dynamodb-controller@v1.9.2 generator.yaml:86-88) from a later update
    # such as TTL (pkg/resource/table/hooks.go:210-218) leaves the table ACTIVE. ACK sets
    # Terminal (with Synced=True) for a table being deleted or archived too (hooks.go:203-207).
    # Retrying would never end: suspend the workflow with ACK's message; Kratix resumes it
    # when the request's spec changes (syntasso/kratix@224e1483 internal/controller/
    # dynamic_resource_request_controller.go:753-780). The one exception: a Terminal that
    # ACK wrote before this spec was applied is about the old spec (ACK reconciles on a
    # generation change, runtime@v0.61.0 pkg/runtime/reconciler.go:114); suspending on it
    # would keep a fixed request stuck, so that one is retried.
    terminal = _condition(live, "ACK.Terminal")
    if _is_true(terminal):
        if _status_predates_apply(live):
            return answer(f"table {table_name}: ACK has not reconciled the requested change yet "
                          f"(its last answer: {_said(terminal)})", RETRY)
        return answer(f"table {table_name}: ACK gave up (ACK.Terminal): {_said(terminal)}; "
                      "the workflow is suspended until the request changes", FAILED)

    recoverable = _condition(live, "ACK.Recoverable")
    retrying = f"; ACK is retrying: {_said(recoverable)}" if _is_true(recoverable) else ""
    if status["tableStatus"] != "ACTIVE":
        return answer(f"table {table_name} is {status['tableStatus']}{retrying}", RETRY)

    # 3. ACTIVE is not done: ACK copies tableStatus from DescribeTable whether or not the
    # rest of the spec is applied, and applies TTL, SSE, GSIs, throughput after the table
    # exists (dynamodb-controller@v1.9.2 pkg/resource/table/sdk.go:855-858 leaves Synced
    # False after create when TTL is set; hooks.go:149-307 customUpdateTable).
    # ACK.ResourceSynced=True is ACK's word that the live table matches the spec
    # (runtime@v0.61.0 pkg/runtime/reconciler.go:721-756; generator.yaml:102-107). It is not
    # tied to a generation: read between Flux's apply and ACK's first reconcile of it, it is
    # the previous spec's. Holding DONE until ACK's status write is newer than the apply
    # (_status_predates_apply) would hold every request for up to ACK's 10 h resync after a
    # metadata-only apply, which ACK does not reconcile (reconciler.go:114; resync period:
    # dynamodb-controller@v1.9.2 helm/values.yaml:139); that gap stays.
    synced = _condition(live, "ACK.ResourceSynced")
    if not _is_true(synced):
        if retrying:
            return answer(f"table {table_name} is ACTIVE{retrying}", RETRY)
        why = f"ACK.ResourceSynced={synced.get('status')}: {_said(synced)}" if synced else "no ACK.ResourceSynced yet"
        return answer(f"table {table_name} is ACTIVE but not yet synced with the request ({why})", RETRY)
    return answer(f"table {table_name} is ACTIVE", DONE)


def table_status(input_dir: Path, metadata_dir: Path, fetch: Fetch) -> str:
    """Write the table's state into the request status; DONE, RETRY or FAILED (see _judge)."""
    request = yaml.safe_load((input_dir / "object.yaml").read_text())
    wanted = table_manifest(request)
    name, namespace = wanted["metadata"]["name"], wanted["metadata"]["namespace"]
    table_name = wanted["spec"]["tableName"]
    outcome = RETRY
    try:
        live = fetch(namespace, name)
    except TableApiMissing:
        observed = {
            "tableStatus": "PENDING",
            "message": f"table {table_name}: the cluster does not serve the ACK Table API ({ACK_TABLE_CRD}, "
            f"{ACK_API_VERSION}): the ACK DynamoDB controller's CRD is missing (is the platform up?)",
        }
    except ApiUnavailable as error:
        # Not an answer about the table: keep what was last observed, retry soon.
        last = _observed(request, table_name)
        observed = {k: v for k, v in last.items() if k != "message"} or {"tableStatus": "PENDING"}
        observed["message"] = f"table {table_name}: cannot read Table {namespace}/{name} yet ({error}); retrying"
    else:
        if live is None:
            observed = {
                "tableStatus": "PENDING",
                "message": f"table {table_name}: waiting for Flux to apply Table {namespace}/{name}",
            }
        else:
            observed, outcome = _judge(live, wanted)
    _write_status(metadata_dir, {"tableName": table_name, **observed})
    if outcome == RETRY:
        _workflow_control(metadata_dir, {"retryAfter": RETRY_AFTER})
    elif outcome == FAILED:
        # Kratix keeps the message in the pipeline's status (work-creator/lib/status_updater.go
        # MarkPipelineAsSuspended) and sets Reconciled=Unknown, "Suspended"
        # (lib/resourceutil/util.go MarkReconciledSuspended): the component is not healthy.
        _workflow_control(metadata_dir, {"suspend": True, "message": observed["message"]})
    return outcome


def _workflow_control(metadata_dir: Path, control: dict) -> None:
    metadata_dir.mkdir(parents=True, exist_ok=True)
    (metadata_dir / "workflow-control.yaml").write_text(yaml.safe_dump(control))


def api_fetch(
    base_url: str, token: str, context: ssl.SSLContext | None, timeout: float = API_TIMEOUT_SECONDS
) -> Fetch:
    """A Fetch on the Kubernetes API at `base_url`. Every failure becomes one of the Fetch exceptions."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def get(path: str) -> dict:
        request = urllib.request.Request(base_url + path, headers=headers)
        with urllib.request.urlopen(request, context=context, timeout=timeout) as response:
            return json.load(response)

    def fetch(namespace: str, name: str) -> dict | None:
        try:
            return get(ACK_TABLES_PATH.format(namespace=namespace, name=name))
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise ApiUnavailable(f"HTTP {error.code} {error.reason}" + (
                    ": the pipeline's ServiceAccount may not get tables" if error.code == 403 else "")) from None
        except (urllib.error.URLError, OSError, ValueError) as error:  # timeout, refused, TLS, bad JSON
            raise ApiUnavailable(_reason(error)) from None
        # 404: no such Table, or no such API at all. Discovery (allowed to every
        # authenticated client by system:discovery) tells them apart.
        try:
            get(ACK_GROUP_VERSION_PATH)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise TableApiMissing(ACK_GROUP_VERSION_PATH) from None
            raise ApiUnavailable(f"HTTP {error.code} {error.reason} on {ACK_GROUP_VERSION_PATH}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise ApiUnavailable(_reason(error)) from None
        return None

    return fetch


def _reason(error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return "the API server did not answer in time"
    return f"{type(reason).__name__}: {reason}"


def in_cluster_fetch(namespace: str, name: str) -> dict | None:
    """GET the Table with the pipeline's ServiceAccount (the Promise grants get on tables)."""
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    if not host:
        raise ApiUnavailable("KUBERNETES_SERVICE_HOST is not set (the kubelet sets it in every pod)")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if ":" in host:
        host = f"[{host}]"
    account = Path(os.environ.get("SERVICE_ACCOUNT_DIR") or SERVICE_ACCOUNT_DIR)
    try:
        token = (account / "token").read_text().strip()
        context = ssl.create_default_context(cafile=str(account / "ca.crt"))
    except (OSError, ssl.SSLError) as error:
        raise ApiUnavailable(f"no ServiceAccount credentials in {account}: {error}") from None
    return api_fetch(f"https://{host}:{port}", token, context)(namespace, name)


def _write_status(metadata_dir: Path, status: dict) -> None:
    metadata_dir.mkdir(parents=True, exist_ok=True)
    (metadata_dir / "status.yaml").write_text(yaml.safe_dump(status, sort_keys=True))


def main(argv: list[str], fetch: Fetch = in_cluster_fetch) -> int:
    root = Path(os.environ.get("KRATIX_DIR", "/kratix"))
    steps = ("configure", "table-status")
    if len(argv) != 1 or argv[0] not in steps:
        print(f"usage: dynamodb_pipeline {{{'|'.join(steps)}}}", file=sys.stderr)
        return 2
    if os.environ.get("KRATIX_WORKFLOW_ACTION", "configure") != "configure":
        # Deletion needs no step: Kratix removes the Work, Flux prunes the Table,
        # and ACK deletes the table.
        return 0
    try:
        if argv[0] == "configure":
            table = configure(root / "input", root / "output", root / "metadata")
            print(f"wrote Table {table['metadata']['namespace']}/{table['metadata']['name']}")
        else:
            # Nothing here exits non-zero: API errors are "not known yet" (retried), ACK's
            # terminal errors suspend the workflow. A failing step would write no status
            # (Kratix's status writer runs after it) and wait for Kratix's next reconcile.
            outcome = table_status(root / "input", root / "metadata", fetch)
            message = (yaml.safe_load((root / "metadata" / "status.yaml").read_text()) or {}).get("message", "")
            print(f"{message}; retry in {RETRY_AFTER}" if outcome == RETRY else message)
    except RequestError as error:
        print(f"invalid request: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
