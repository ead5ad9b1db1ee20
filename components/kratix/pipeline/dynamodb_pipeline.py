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
    request's status (``tableStatus``, ``tableArn``). Until the table is
    ``ACTIVE`` it asks Kratix to run it again later (``workflow-control.yaml``
    ``retryAfter``), which keeps the configure workflow, and so the request's
    ``Reconciled`` condition, unfinished: a request is Reconciled only once
    its table really exists. An API answer that says nothing about the Table
    (403, 5xx, a timeout, no answer) is "not known yet": the last observed
    status stays, the message says what failed, and Kratix retries, instead of a
    crashing Job that Kratix would retry only at its next reconcile. A missing
    Table API (the ACK CRD is not installed) is named as such.

Ref: Kratix workflow contract, syntasso/kratix-docs docs/main/03-reference/12-workflows.md
(input/output/metadata paths, workflow-control.yaml); syntasso/kratix@ae170e22:
work-creator/lib/reader.go (object.yaml is the live object from a GET, status
included), work-creator/cmd/update_status.go (status.yaml merged into the
existing status, incoming keys win, others stay: lib/status_updater.go
MergeStatuses; `metadata/workflow-control.yaml` `retryAfter`, a Go duration,
suspends the pipeline and keeps a retrying last pipeline from marking the
workflow completed: lib/workflow_control.go), work-creator/lib/work_creator.go
(a retrying pipeline writes no Work). The pinned pipeline-adapter image
(components/versions.py KRATIX_IMAGE, chart update syntasso/helm-charts b01ba1b of
2026-08-04) is built after workflow control arrived (syntasso/kratix d61cacf7,
2026-03-26), and work-creator/ is unchanged between 224e1483 (2026-08-04) and
ae170e22; the chart's CRDs carry the suspended-pipeline status (attempts,
suspendedGeneration). ACK Table fields: the dynamodb.services.k8s.aws
v1alpha1 Table CRD of aws-controllers-k8s/dynamodb-controller v1.9.2.

Standard library and PyYAML only.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

import yaml

ACK_API_VERSION = "dynamodb.services.k8s.aws/v1alpha1"
ACK_GROUP_VERSION_PATH = "/apis/dynamodb.services.k8s.aws/v1alpha1"
ACK_TABLES_PATH = ACK_GROUP_VERSION_PATH + "/namespaces/{namespace}/tables/{name}"
ACK_TABLE_CRD = "tables.dynamodb.services.k8s.aws"
API_TIMEOUT_SECONDS = 10
REQUEST_LABEL = "kubevela-dynamodb.dev/dynamodb-request"
RETRY_AFTER = "15s"
"""How soon a request whose table is not ACTIVE yet is checked again."""

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
    # Disabled TTL/stream/encryption are left out: that is DynamoDB's default, and
    # asking ACK to "disable" what was never enabled is an API error on AWS.
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
    tags = spec.get("tags") or {}
    if tags:
        table["tags"] = [{"key": k, "value": str(v)} for k, v in sorted(tags.items())]
    return table


def table_manifest(request: dict) -> dict:
    """The ACK Table for a DynamoDBRequest: same name and namespace as the request."""
    metadata = request.get("metadata") or {}
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not name or not namespace:
        raise RequestError("the request has no metadata.name/metadata.namespace")
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
            },
        },
        "spec": table_spec(request.get("spec") or {}),
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


def _observe(live: dict, table_name: str) -> dict:
    """The request status for a live Table object."""
    live_status = live.get("status") or {}
    status = {"tableStatus": live_status.get("tableStatus") or "PENDING"}
    arn = (live_status.get("ackResourceMetadata") or {}).get("arn")
    if arn:
        status["tableArn"] = arn
    status["message"] = f"table {table_name} is {status['tableStatus']}"
    terminal = _condition(live, "ACK.Terminal")
    if terminal and terminal.get("status") == "True":
        status["message"] += f"; ACK reports a terminal error: {terminal.get('message', '')}"
    else:
        recoverable = _condition(live, "ACK.Recoverable")
        if recoverable and recoverable.get("status") == "True":
            status["message"] += f"; ACK is retrying: {recoverable.get('message', '')}"
    return status


def table_status(input_dir: Path, metadata_dir: Path, fetch: Fetch) -> bool:
    """Write the table's state into the request status; True when it is ACTIVE."""
    request = yaml.safe_load((input_dir / "object.yaml").read_text())
    wanted = table_manifest(request)
    name, namespace = wanted["metadata"]["name"], wanted["metadata"]["namespace"]
    table_name = wanted["spec"]["tableName"]
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
        _write_status(metadata_dir, {"tableName": table_name, **observed})
        _retry(metadata_dir)
        return False
    else:
        if live is None:
            observed = {
                "tableStatus": "PENDING",
                "message": f"table {table_name}: waiting for Flux to apply Table {namespace}/{name}",
            }
        else:
            observed = _observe(live, table_name)
    status = {"tableName": table_name, **observed}
    active = status["tableStatus"] == "ACTIVE"
    _write_status(metadata_dir, status)
    if not active:
        _retry(metadata_dir)
    return active


def _retry(metadata_dir: Path) -> None:
    metadata_dir.mkdir(parents=True, exist_ok=True)
    (metadata_dir / "workflow-control.yaml").write_text(yaml.safe_dump({"retryAfter": RETRY_AFTER}))


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
            # API errors are not raised here: they are "not known yet", written to the
            # status and retried (a failed Job would wait for Kratix's next reconcile).
            active = table_status(root / "input", root / "metadata", fetch)
            message = (yaml.safe_load((root / "metadata" / "status.yaml").read_text()) or {}).get("message", "")
            print(f"{message}" if active else f"{message}; table not ACTIVE yet; retry in {RETRY_AFTER}")
    except RequestError as error:
        print(f"invalid request: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
