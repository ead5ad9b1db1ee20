"""The DynamoDB Promise: the `DynamoDBRequest` API and the workflow that makes tables.

API: `dynamodb.kubevela-dynamodb.dev/v1alpha1` `DynamoDBRequest` (namespaced),
spec = the shared DynamoDB contract (docs/kratix.md; schema below), the
object aws-dynamodb-kratix renders.

Resource configure workflow (components/kratix/pipeline/dynamodb_pipeline.py,
one image built from this repository and imported into the cluster):
1. `create-table` writes an ACK `Table` for the request; Kratix stores it in the
   Destination's bucket, Flux applies it, the platform's ACK controller creates
   the table;
2. `table-status` reads that Table back and writes `tableStatus`/`tableArn`
   into the request's status, retrying until the Table carries the request's
   spec, is ACTIVE and ACK reports it synced, so the request's `Reconciled`
   condition means "the table exists as requested". ACK's terminal errors
   suspend the workflow until the request changes. API errors and a missing
   Table CRD are retried (never a failed Job), and a rerun of the workflow
   keeps the last observed status.

No delete pipeline: deleting a request deletes its Work, Kratix removes the file
from the bucket, Flux prunes the Table and ACK deletes the table
(syntasso/kratix-docs docs/main/03-reference/15-resources/03-delete.md). Flux
does not wait for that deletion, so the stack's destroy does
(components/kratix_table_wait.py, by TABLE_LABEL).

Ref: CRD platform.kratix.io_promises.yaml (v1alpha1, cluster scoped; spec.api is a
CustomResourceDefinition, spec.workflows.resource.configure a list of Pipelines);
syntasso/kratix internal/webhook/v1alpha1/promise_webhook.go (only Namespaced APIs,
`<promise>-resource-configure-<pipeline>` at most 60 characters), api/v1alpha1/
promise_types.go (condition `Available`), api/v1alpha1/pipeline_types.go
(spec.rbac.permissions: PolicyRules granted in the pipeline's namespace).
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_command import local

from components.k3d_cluster import with_project_tools
from components.options import child_options
from components.session_api_image import PROJECT_DIR, build_command, content_hash

GROUP = "dynamodb.kubevela-dynamodb.dev"
VERSION = "v1alpha1"
KIND = "DynamoDBRequest"
PLURAL = "dynamodbrequests"
PROMISE_NAME = "dynamodb"
PIPELINE_DIR = "components/kratix/pipeline"
CONFIGURE_PIPELINES = ("create-table", "table-status")
TABLE_LABEL = "kubevela-dynamodb.dev/dynamodb-request"
"""The label the configure pipeline puts on every ACK Table it writes (value: the request's
name); what selects "the Tables this Promise produced" (REQUEST_LABEL in the pipeline)."""


def _string(min_length: int = 1, max_length: int = 255, pattern: str | None = None) -> dict:
    schema = {"type": "string", "minLength": min_length, "maxLength": max_length}
    if pattern:
        schema["pattern"] = pattern
    return schema


_NAME = _string(3, 255, "^[a-zA-Z0-9_.-]+$")
_KEY = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": _string(), "type": {"type": "string", "enum": ["S", "N", "B"], "default": "S"}},
}
_THROUGHPUT = {
    "type": "object",
    "required": ["readCapacityUnits", "writeCapacityUnits"],
    "properties": {
        "readCapacityUnits": {"type": "integer", "minimum": 1},
        "writeCapacityUnits": {"type": "integer", "minimum": 1},
    },
}
_PROJECTION = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["ALL", "KEYS_ONLY", "INCLUDE"], "default": "ALL"},
        "nonKeyAttributes": {"type": "array", "items": _string()},
    },
}

REQUEST_SPEC_SCHEMA: dict = {
    "type": "object",
    "description": "The DynamoDB component contract, as aws-dynamodb-kratix renders it (defaults filled in).",
    "required": ["tableName", "hashKey"],
    "properties": {
        "tableName": _NAME,
        "hashKey": _KEY,
        "rangeKey": _KEY,
        "billingMode": {"type": "string", "enum": ["PAY_PER_REQUEST", "PROVISIONED"], "default": "PAY_PER_REQUEST"},
        "provisionedThroughput": _THROUGHPUT,
        "ttl": {
            "type": "object",
            "required": ["attributeName"],
            "properties": {"attributeName": _string(), "enabled": {"type": "boolean", "default": True}},
        },
        "stream": {
            "type": "object",
            "properties": {
                "enabled": {"type": "boolean", "default": True},
                "viewType": {
                    "type": "string",
                    "enum": ["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"],
                    "default": "NEW_AND_OLD_IMAGES",
                },
            },
        },
        "globalSecondaryIndexes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "hashKey"],
                "properties": {
                    "name": _NAME,
                    "hashKey": _KEY,
                    "rangeKey": _KEY,
                    "projection": _PROJECTION,
                    "provisionedThroughput": _THROUGHPUT,
                },
            },
        },
        "localSecondaryIndexes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "rangeKey"],
                "properties": {"name": _NAME, "rangeKey": _KEY, "projection": _PROJECTION},
            },
        },
        "deletionProtection": {"type": "boolean", "default": False},
        "encryption": {
            "type": "object",
            "properties": {"enabled": {"type": "boolean", "default": True}, "kmsKeyId": _string(1, 2048)},
        },
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
"""Structural OpenAPI v3 for the request spec. The cross-field rules (capacity iff
PROVISIONED, LSIs need a range key, one type per attribute) are checked by the
contract's CUE before a request exists, and again by the pipeline."""


def request_crd() -> dict:
    """`spec.api` of the Promise. No `status` schema: Kratix adds its own."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"kind": KIND, "plural": PLURAL, "singular": "dynamodbrequest", "listKind": f"{KIND}List"},
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {"spec": REQUEST_SPEC_SCHEMA},
                        }
                    },
                }
            ],
        },
    }


def _container(name: str, image: str, step: str) -> dict:
    return {
        "name": name,
        "image": image,
        "args": [step],
        # Imported into the nodes by `k3d image import`, never pulled; the tag is a
        # content hash, never `latest`.
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }


def configure_pipelines(image: str, image_pull_secrets: list[str] | tuple[str, ...] = ()) -> list[dict]:
    create, status = CONFIGURE_PIPELINES
    pull = {"imagePullSecrets": [{"name": n} for n in image_pull_secrets]} if image_pull_secrets else {}
    return [
        {
            "apiVersion": "platform.kratix.io/v1alpha1",
            "kind": "Pipeline",
            "metadata": {"name": create},
            "spec": {"containers": [_container("ack-table", image, "configure")], **pull},
        },
        {
            "apiVersion": "platform.kratix.io/v1alpha1",
            "kind": "Pipeline",
            "metadata": {"name": status},
            "spec": {
                "containers": [_container("table-status", image, "table-status")],
                # A Role in the pipeline's namespace (the request's): read the Table back.
                # Telling "no Table" from "no Table API" uses discovery, which the
                # system:discovery ClusterRole already grants every authenticated client.
                "rbac": {
                    "permissions": [{"apiGroups": ["dynamodb.services.k8s.aws"], "resources": ["tables"], "verbs": ["get"]}]
                },
                **pull,
            },
        },
    ]


def promise_spec(image: str, destination_selector: dict, image_pull_secrets: list[str] | tuple[str, ...] = ()) -> dict:
    return {
        "api": request_crd(),
        "destinationSelectors": [{"matchLabels": dict(destination_selector)}],
        "workflows": {"resource": {"configure": configure_pipelines(image, image_pull_secrets)}},
    }


def pipeline_image(repository: str, tag: str, registry: str) -> str:
    """`<repository>:<tag>` imported into k3d, or `<registry>/<last segment>:<tag>` when pushed."""
    if registry:
        return f"{registry.rstrip('/')}/{repository.rsplit('/', 1)[-1]}:{tag}"
    return f"{repository}:{tag}"


def deliver_command(image: str, context_dir: str, cluster_name: str, registry: str, platform: str = "") -> str:
    """The same build as the session API image (components/session_api_image.py `build_command`:
    `--load` whatever the default builder, `--platform` of an existing cluster's nodes), then a
    push, or an import into k3d with the project's own k3d when the shell has none."""
    build = build_command(image, context_dir, platform)
    if registry:
        return f"{build} && docker push {shlex.quote(image)}"
    return with_project_tools(f"{build} && k3d image import {shlex.quote(image)} --cluster {shlex.quote(cluster_name)}")


@dataclass
class DynamoDBPromiseArgs:
    destination_selector: dict
    cluster_name: pulumi.Input[str]
    """k3d cluster the pipeline image is imported into (unused when `registry` is set)."""
    cluster_identity: pulumi.Input[str]
    """Changes when the cluster is recreated, so the image is delivered again."""
    registry: pulumi.Input[str] = ""
    """'' on k3d; otherwise the registry the image is pushed to (an existing cluster)."""
    image_pull_secrets: pulumi.Input[list] = ()
    """Secrets in the request namespace the pipeline Pods pull with (registry only)."""
    platform: pulumi.Input[str] = ""
    """The nodes' platform (e.g. linux/amd64) on an existing cluster; '' builds for this machine (k3d)."""
    repository: str = "kubevela-dynamodb/dynamodb-pipeline"
    context_dir: str = PIPELINE_DIR
    timeout_minutes: int = 10

    def __post_init__(self) -> None:
        if not self.destination_selector:
            raise ValueError("destination_selector must name at least one label")
        if not (PROJECT_DIR / self.context_dir / "Dockerfile").is_file():
            raise ValueError(f"context_dir {self.context_dir!r} has no Dockerfile")
        if not isinstance(self.timeout_minutes, int) or not 1 <= self.timeout_minutes <= 60:
            raise ValueError(f"timeout_minutes must be a whole number from 1 to 60, got {self.timeout_minutes!r}")
        for pipeline in CONFIGURE_PIPELINES:
            job = f"{PROMISE_NAME}-resource-configure-{pipeline}"
            if len(job) > 60:  # Kratix's webhook refuses longer ones.
                raise ValueError(f"pipeline name {pipeline!r} makes {job!r} longer than 60 characters")


class DynamoDBPromise(pulumi.ComponentResource):
    """Pipeline image (build + import) and the Promise, ready once `Available`."""

    def __init__(self, name: str, args: DynamoDBPromiseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:kratix:DynamoDBPromise", name, None, opts)
        child = child_options(self, opts)
        tag = content_hash(PROJECT_DIR / args.context_dir)[:16]
        registry = pulumi.Output.from_input(args.registry)
        self.image = registry.apply(lambda r: pipeline_image(args.repository, tag, r))
        # Built from this repository; the tag is a hash of the directory, so an edit
        # rolls out a new image and an unchanged tree does nothing.
        self.image_delivery = local.Command(
            f"{name}-pipeline-image",
            local.CommandArgs(
                create=pulumi.Output.all(self.image, args.cluster_name, registry, args.platform).apply(
                    lambda v: deliver_command(v[0], args.context_dir, v[1], v[2], v[3])
                ),
                # A new platform is a new image under the same tag: build and deliver again.
                triggers=[self.image, args.cluster_name, args.cluster_identity, args.platform],
            ),
            child,
        )
        self.promise = k8s.apiextensions.CustomResource(
            name,
            api_version="platform.kratix.io/v1alpha1",
            kind="Promise",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=PROMISE_NAME,
                # Available = the request CRD is installed and the Promise's own
                # workflows (none here) finished; then requests can be created.
                # If this times out: `kubectl describe promise dynamodb`.
                annotations={"pulumi.com/waitFor": "condition=Available"},
            ),
            spec=pulumi.Output.all(self.image, args.image_pull_secrets).apply(
                lambda v: promise_spec(v[0], args.destination_selector, v[1] or ())
            ),
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    depends_on=[self.image_delivery],
                    custom_timeouts=pulumi.CustomTimeouts(
                        create=f"{args.timeout_minutes}m", update=f"{args.timeout_minutes}m"
                    ),
                ),
            ),
        )
        self.request_api_version = f"{GROUP}/{VERSION}"
        self.request_kind = KIND
        self.register_outputs({"image": self.image, "promise": PROMISE_NAME})


def cluster_identity(kubeconfig: pulumi.Input[str]) -> pulumi.Output[str]:
    """A short, non-secret fingerprint of the cluster's kubeconfig (new cluster, new certificates)."""
    return pulumi.Output.unsecret(
        pulumi.Output.from_input(kubeconfig).apply(lambda text: hashlib.sha256(text.encode()).hexdigest()[:16])
    )
