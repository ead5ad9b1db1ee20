"""The DynamoDB Promise's resource workflow: a request in, an ACK Table out.

Two steps, one program (the step is the first argument):

``configure``
    Reads the request (``/kratix/input/object.yaml``), writes the ACK ``Table``
    it asks for to ``/kratix/output/table.yaml`` (Kratix puts it in the state
    store; Flux applies it; the ACK controller creates the table) and a first
    status to ``/kratix/metadata/status.yaml``.

``table-status``
    Reads that Table back from the cluster and reports the real table in the
    request's status (``tableStatus``, ``tableArn``). Until the table is
    ``ACTIVE`` it asks Kratix to run it again later (``workflow-control.yaml``
    ``retryAfter``), which keeps the configure workflow, and so the request's
    ``Reconciled`` condition, unfinished: a request is Reconciled only once
    its table really exists.

Ref: Kratix workflow contract, syntasso/kratix-docs docs/main/03-reference/12-workflows.md
(input/output/metadata paths, workflow-control.yaml); retry handling in
syntasso/kratix work-creator/cmd/update_status.go (a retrying last pipeline does
not mark the workflow completed) and work-creator/lib/work_creator.go (a retrying
pipeline writes no Work). ACK Table fields: the dynamodb.services.k8s.aws
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
ACK_TABLES_PATH = "/apis/dynamodb.services.k8s.aws/v1alpha1/namespaces/{namespace}/tables/{name}"
REQUEST_LABEL = "kubevela-dynamodb.dev/dynamodb-request"
RETRY_AFTER = "15s"
"""How soon a request whose table is not ACTIVE yet is checked again."""

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
"""Where the kubelet mounts the pod's ServiceAccount token and the cluster CA. The
variable SERVICE_ACCOUNT_DIR overrides it, for running the step outside a pod."""


class RequestError(ValueError):
    """The request cannot be turned into a table (the message says which field)."""


class ApiError(RuntimeError):
    """The Kubernetes API could not be asked (the message says what was missing or failed)."""


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


def configure(input_dir: Path, output_dir: Path, metadata_dir: Path) -> dict:
    request = yaml.safe_load((input_dir / "object.yaml").read_text())
    table = table_manifest(request)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "table.yaml").write_text(yaml.safe_dump(table, sort_keys=False))
    _write_status(
        metadata_dir,
        {
            "message": f"table {table['spec']['tableName']} requested",
            "tableName": table["spec"]["tableName"],
            "tableStatus": "REQUESTED",
        },
    )
    return table


# ─── table-status: report the real table ───────────────────────────────────

Fetch = Callable[[str, str], "dict | None"]
"""(namespace, name) -> the live Table object, or None when it does not exist."""


def _condition(table: dict, kind: str) -> dict | None:
    for condition in (table.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return None


def table_status(input_dir: Path, metadata_dir: Path, fetch: Fetch) -> bool:
    """Write the table's state into the request status; True when it is ACTIVE."""
    request = yaml.safe_load((input_dir / "object.yaml").read_text())
    wanted = table_manifest(request)
    name, namespace = wanted["metadata"]["name"], wanted["metadata"]["namespace"]
    table_name = wanted["spec"]["tableName"]
    live = fetch(namespace, name)
    status: dict = {"tableName": table_name}
    if live is None:
        status["tableStatus"] = "PENDING"
        status["message"] = f"table {table_name}: waiting for Flux to apply Table {namespace}/{name}"
    else:
        live_status = live.get("status") or {}
        status["tableStatus"] = live_status.get("tableStatus") or "PENDING"
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
    active = status["tableStatus"] == "ACTIVE"
    _write_status(metadata_dir, status)
    if not active:
        (metadata_dir / "workflow-control.yaml").write_text(yaml.safe_dump({"retryAfter": RETRY_AFTER}))
    return active


def in_cluster_fetch(namespace: str, name: str) -> dict | None:
    """GET the Table with the pipeline's ServiceAccount (the Promise grants get on tables)."""
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    if not host:
        raise ApiError("KUBERNETES_SERVICE_HOST is not set (the kubelet sets it in every pod)")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if ":" in host:
        host = f"[{host}]"
    url = f"https://{host}:{port}" + ACK_TABLES_PATH.format(namespace=namespace, name=name)
    account = Path(os.environ.get("SERVICE_ACCOUNT_DIR") or SERVICE_ACCOUNT_DIR)
    try:
        token = (account / "token").read_text().strip()
        context = ssl.create_default_context(cafile=str(account / "ca.crt"))
    except OSError as error:
        raise ApiError(f"no ServiceAccount credentials in {account}: {error}") from None
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise ApiError(f"GET {url}: HTTP {error.code} {error.reason}") from None
    except OSError as error:  # refused, unreachable, TLS
        raise ApiError(f"GET {url}: {error}") from None


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
            try:
                active = table_status(root / "input", root / "metadata", fetch)
            except ApiError as error:
                print(f"cannot read the Table: {error}", file=sys.stderr)
                return 1
            print("table is ACTIVE" if active else f"table not ACTIVE yet; retry in {RETRY_AFTER}")
    except RequestError as error:
        print(f"invalid request: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
