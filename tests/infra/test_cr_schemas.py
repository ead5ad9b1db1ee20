"""Every custom resource (and patch) the stacks would create, against schemas written from the upstream CRDs.

A CRD schema without `x-kubernetes-preserve-unknown-fields` is pruned: the API server silently
drops a field it does not know, so a misspelt field applies cleanly and does nothing (a
ClusterProviderConfig whose `skipRegionValidation` vanished, a Kustomization without `prune`).
Neither Pulumi's mocks nor a preview can see that, so each kind gets a closed JSON Schema in
tests/schemas/crd/ (its description names the upstream file and version it was written from).
The schemas cover the fields this project uses; a kind without a schema fails here, so a new
kind cannot slip past. Where a CRD holds KubeVela CUE or kro CEL, only the structure around it
is checked (the CUE and CEL themselves are tested in tests/cue and tests/kro).
"""

from __future__ import annotations

import copy
import functools
import json
import os
from pathlib import Path
from typing import Callable

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tools.mock_harness import PlanResult, Registration
from tools.plan import STACK_CONFIG_DIR, plan

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
CRD_SCHEMAS = SCHEMAS / "crd"

STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in STACK_CONFIG_DIR.glob("Pulumi.*.yaml"))

# The cluster mode changes what lands in CRs (image registry, pull secrets, ingress class and
# host), and the DynamoDB mode changes the provider config and the app's endpoint.
EXISTING_CLUSTER = {
    "clusterMode": "existing",
    "clusterName": "eks-demo",
    "kubeconfig": "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: [{name: demo, context: {}}]\nusers: []\n",
    "kubeContext": "demo",
    "imageRegistry": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/kvdemo",
    "imagePullSecrets": ["ecr-pull"],
    "ingressDomain": "demo.example.com",
    "ingressClass": "alb",
    "ingressScheme": "https",
}
CASES = [(stack, ddb, cluster) for stack in STACKS for ddb in ("local", "aws") for cluster in ("k3d", "existing")]

# Built-in API groups: the API server knows their schemas and server-side apply rejects an
# unknown field, so only their patches (partial objects we write by hand) are checked here.
BUILT_IN_GROUPS = {
    "core", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "node.k8s.io",
    "admissionregistration.k8s.io", "apiextensions.k8s.io", "certificates.k8s.io",
}
# A chart's objects are upstream's, not ours.
NOT_AN_OBJECT = {"kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v4:Chart"}
# These render manifests inside the provider at deploy time, out of this test's sight.
RENDERED_LATER = ("kubernetes:yaml:", "kubernetes:yaml/", "kubernetes:kustomize:", "kubernetes:kustomize/")

# kro resource templates are checked against the schema of the kind they render.
TEMPLATE_SCHEMAS = {
    ("dynamodb.services.k8s.aws/v1alpha1", "Table"): "ack_dynamodb_table_v1alpha1.schema.json",
}


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


@functools.lru_cache(maxsize=None)
def _schemas() -> tuple[dict[str, dict], Registry]:
    by_id = {}
    for path in sorted(CRD_SCHEMAS.glob("*.schema.json")) + [SCHEMAS / name for name in TEMPLATE_SCHEMAS.values()]:
        schema = _load(path)
        by_id[schema["$id"]] = schema
    registry = Registry().with_resources(
        (schema_id, Resource.from_contents(schema, default_specification=DRAFT202012))
        for schema_id, schema in by_id.items()
    )
    return by_id, registry


def _pulumi_type(schema: dict) -> str:
    api_version, kind = schema["properties"]["apiVersion"]["const"], schema["properties"]["kind"]["const"]
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{kind}{'Patch' if schema.get('x-pulumi-patch') else ''}"


@functools.lru_cache(maxsize=None)
def schema_by_type() -> dict[str, dict]:
    """Top-level kinds (those with a scope) by Pulumi type token."""
    by_id, _ = _schemas()
    return {_pulumi_type(s): s for s in by_id.values() if "x-kubernetes-scope" in s}


def validator(schema: dict) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema, registry=_schemas()[1])


def _errors(schema: dict, instance) -> list[str]:
    errors = sorted(validator(schema).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]


def needs_schema(type_token: str) -> bool | str:
    """True when the type must have a schema, False when it is out of scope, a message when it cannot be checked."""
    if not type_token.startswith("kubernetes:") or type_token in NOT_AN_OBJECT:
        return False
    if type_token.startswith(RENDERED_LATER):
        return f"{type_token} renders its objects at deploy time; declare them as resources so they can be checked"
    group = type_token.split(":")[1].split("/")[0]
    return group not in BUILT_IN_GROUPS or type_token.endswith("Patch")


def problems(type_token: str, obj: dict) -> list[str]:
    """Schema errors plus scope: a namespaced kind needs metadata.namespace, a cluster-scoped one must not have it."""
    schema = schema_by_type().get(type_token)
    if schema is None:
        return [f"no schema in tests/schemas/crd for {type_token}"]
    found = _errors(schema, obj)
    namespace = (obj.get("metadata") or {}).get("namespace")
    if schema["x-kubernetes-scope"] == "Namespaced" and not namespace:
        found.append("metadata.namespace: missing, and the kind is namespaced")
    if schema["x-kubernetes-scope"] == "Cluster" and namespace is not None:
        found.append(f"metadata.namespace: {namespace!r} set on a cluster-scoped kind")
    return found


def _is_cel(value) -> bool:
    return isinstance(value, str) and "${" in value


def template_problems(template: dict) -> list[str]:
    """A kro template's fields against its kind's schema; CEL values are left to tests/kro."""
    key = (template.get("apiVersion"), template.get("kind"))
    if key not in TEMPLATE_SCHEMAS:
        return [f"no schema for template kind {key}; add one to TEMPLATE_SCHEMAS"]
    schema = _schemas()[0][TEMPLATE_SCHEMAS[key]]
    found = []
    for part in ("metadata", "spec"):
        part_schema = schema["properties"][part]
        given = template.get(part) or {}
        for field in part_schema.get("required", []):
            if field not in given:
                found.append(f"{part}.{field}: required by {key[1]}")
        for field, value in given.items():
            if field not in part_schema["properties"]:
                found.append(f"{part}.{field}: not a field of {key[1]}")
            elif not _is_cel(value):
                ref = {"$ref": f"{schema['$id']}#/properties/{part}/properties/{field}"}
                found += [f"{part}.{field}.{e}" for e in _errors(ref, value)]
    return found


@functools.lru_cache(maxsize=None)
def planned(stack: str, ddb: str, cluster: str) -> PlanResult:
    platform = {"dynamodbMode": ddb, **(EXISTING_CLUSTER if cluster == "existing" else {})}
    if stack == "platform":
        return plan(stack, platform)
    return plan(stack, None, platform)


def _case_id(case: tuple[str, str, str]) -> str:
    return "-".join(case)


# Planned at collection time (about a second for all cases): each object becomes its own test
# case, so a failure names the stack, the modes and the resource.
# Sorted: the program registers some resources concurrently, and pytest-xdist
# workers must collect the same tests in the same order.
def _checked_objects() -> list[tuple[tuple[str, str, str], Registration]]:
    # Under pytest-xdist the workers share their plans (tests/conftest.py): every second
    # worker starts from the end, so the two split the planning between them.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    for case in CASES[::-1] if int(worker[2:]) % 2 else CASES:
        planned(*case)
    return [
        (case, reg)
        for case in CASES
        for reg in sorted(planned(*case).registrations, key=lambda r: (r.type, r.name, r.urn))
        if needs_schema(reg.type) is True
    ]


CHECKED = _checked_objects()


def test_stacks_are_all_here():
    assert {"platform", "crossplane", "kro", "kratix"} <= set(STACKS)


@pytest.mark.parametrize("path", sorted(CRD_SCHEMAS.glob("*.schema.json")), ids=lambda p: p.name)
def test_schema_file_is_well_formed(path: Path):
    schema = _load(path)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == path.name
    assert schema["title"] and "From " in schema["description"], "say which upstream file the schema is written from"
    if "x-kubernetes-scope" in schema:
        assert schema["x-kubernetes-scope"] in ("Namespaced", "Cluster")
        assert schema["additionalProperties"] is False
        group_version, kind = _pulumi_type(schema).split(":")[1:]
        patch = "-patch" if schema.get("x-pulumi-patch") else ""
        kind = kind[: -len("Patch")] if patch else kind
        assert path.name == f"{group_version.replace('/', '-')}-{kind.lower()}{patch}.schema.json"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_every_kind_a_stack_creates_has_a_schema(case):
    unchecked = sorted({
        f"{reg.type} ({reg.name}): " + (verdict if isinstance(verdict, str) else "no schema in tests/schemas/crd")
        for reg in planned(*case).registrations
        if (verdict := needs_schema(reg.type)) and (isinstance(verdict, str) or reg.type not in schema_by_type())
    })
    assert unchecked == []


@pytest.mark.parametrize(
    "case, reg", CHECKED, ids=[f"{_case_id(case)}:{reg.type.split(':')[2]}:{reg.name}" for case, reg in CHECKED]
)
def test_object_matches_its_schema(case, reg: Registration):
    assert problems(reg.type, reg.inputs) == []


RGD_TYPE = "kubernetes:kro.run/v1alpha1:ResourceGraphDefinition"
RGDS = [(case, reg) for case, reg in CHECKED if reg.type == RGD_TYPE]


@pytest.mark.parametrize("case, reg", RGDS, ids=[f"{_case_id(case)}:{reg.name}" for case, reg in RGDS])
def test_rgd_templates_use_their_kinds_fields(case, reg: Registration):
    found = {
        resource["id"]: template_problems(resource["template"])
        for resource in reg.inputs["spec"].get("resources", [])
        if "template" in resource
    }
    assert found and all(v == [] for v in found.values()), found


PROMISE_TYPE = "kubernetes:platform.kratix.io/v1alpha1:Promise"
PROMISES = [(case, reg) for case, reg in CHECKED if reg.type == PROMISE_TYPE]


@pytest.mark.parametrize("case, reg", PROMISES, ids=[f"{_case_id(case)}:{reg.name}" for case, reg in PROMISES])
def test_promise_api_is_a_crd_the_api_server_accepts(case, reg: Registration):
    # The API server requires metadata.name == <plural>.<group> and exactly one storage version;
    # Kratix applies spec.api as is, so a mismatch fails only once the Promise reconciles.
    api = reg.inputs["spec"]["api"]
    assert api["metadata"]["name"] == f"{api['spec']['names']['plural']}.{api['spec']['group']}"
    assert [v["storage"] for v in api["spec"]["versions"]].count(True) == 1


def test_every_schema_is_used():
    # A schema no stack exercises is stale: its kind was renamed or moved to another version.
    created = {reg.type for _, reg in CHECKED}
    assert sorted(set(schema_by_type()) - created) == []


def test_a_kind_without_schema_is_reported():
    assert needs_schema("kubernetes:cert-manager.io/v1:Issuer") is True
    assert "kubernetes:cert-manager.io/v1:Issuer" not in schema_by_type()
    assert problems("kubernetes:cert-manager.io/v1:Issuer", {}) == [
        "no schema in tests/schemas/crd for kubernetes:cert-manager.io/v1:Issuer"
    ]
    assert needs_schema("kubernetes:apps/v1:Deployment") is False
    assert needs_schema("kubernetes:core/v1:ConfigMapPatch") is True
    assert "deploy time" in needs_schema("kubernetes:yaml/v2:ConfigGroup")
    assert needs_schema("kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization") is True


def _first(type_token: str) -> dict:
    """A copy of the first planned object of this type with the checked-in defaults (local DynamoDB, k3d)."""
    for (_, ddb, cluster), reg in CHECKED:
        if reg.type == type_token and (ddb, cluster) == ("local", "k3d"):
            return copy.deepcopy(reg.inputs)
    raise AssertionError(f"no {type_token} planned")


def _at(obj, path: list):
    for step in path:
        obj = obj[step]
    return obj


def _rename(path: list, new: str) -> Callable[[dict], None]:
    return lambda obj: _at(obj, path[:-1]).__setitem__(new, _at(obj, path[:-1]).pop(path[-1]))


def _set(path: list, value) -> Callable[[dict], None]:
    return lambda obj: _at(obj, path[:-1]).__setitem__(path[-1], value)


API_SPEC_SCHEMA = ["spec", "api", "spec", "versions", 0, "schema", "openAPIV3Schema", "properties", "spec"]


# Each line: a real planned object, one realistic mistake, and a word the error must contain.
MISTAKES = {
    "application-trait-not-traits": (
        "core.oam.dev/v1beta1:Application", _rename(["spec", "components", 1, "traits"], "trait"), "'trait'"),
    "application-without-namespace": (
        "core.oam.dev/v1beta1:Application", lambda o: o["metadata"].pop("namespace"), "namespaced"),
    "componentdefinition-templates": (
        "core.oam.dev/v1beta1:ComponentDefinition", _rename(["spec", "schematic", "cue", "template"], "templates"),
        "'templates'"),
    "traitdefinition-appliesToWorkload": (
        "core.oam.dev/v1beta1:TraitDefinition", _rename(["spec", "appliesToWorkloads"], "appliesToWorkload"),
        "'appliesToWorkload'"),
    "provider-package-without-registry": (
        "pkg.crossplane.io/v1:Provider", _set(["spec", "package"], "crossplane-contrib/provider-aws-dynamodb:v2.6.0"),
        "does not match"),
    "provider-with-namespace": (
        "pkg.crossplane.io/v1:Provider", _set(["metadata", "namespace"], "crossplane-system"), "cluster-scoped"),
    "mrap-activates-nothing": (
        "apiextensions.crossplane.io/v1alpha1:ManagedResourceActivationPolicy", _set(["spec", "activate"], []),
        "should be non-empty"),
    "providerconfig-camelcase-skip": (
        "aws.m.upbound.io/v1beta1:ClusterProviderConfig",
        _rename(["spec", "skip_region_validation"], "skipRegionValidation"), "'skipRegionValidation'"),
    "providerconfig-source-lowercase": (
        "aws.m.upbound.io/v1beta1:ClusterProviderConfig", _set(["spec", "credentials", "source"], "secret"),
        "'secret' is not one of"),
    "rgd-kind-lowercase": (
        "kro.run/v1alpha1:ResourceGraphDefinition", _set(["spec", "schema", "kind"], "dynamoDBTable"),
        "does not match"),
    "rgd-readywhen-misspelt": (
        "kro.run/v1alpha1:ResourceGraphDefinition", _rename(["spec", "resources", 0, "readyWhen"], "readyWhenn"),
        "'readyWhenn'"),
    "promise-pipeline-pullpolicy": (
        "platform.kratix.io/v1alpha1:Promise",
        _rename(["spec", "workflows", "resource", "configure", 0, "spec", "containers", 0, "imagePullPolicy"],
                "pullPolicy"), "'pullPolicy'"),
    "promise-api-required-misspelt": (
        "platform.kratix.io/v1alpha1:Promise",
        _rename([*API_SPEC_SCHEMA, "required"], "requried"), "'requried'"),
    "promise-api-untyped-property": (
        "platform.kratix.io/v1alpha1:Promise", lambda o: _at(o, API_SPEC_SCHEMA).pop("type"),
        "'type' is a required property"),
    "statestore-endpoint-with-scheme": (
        "platform.kratix.io/v1alpha1:BucketStateStore",
        _set(["spec", "endpoint"], "http://minio.kratix-statestore.svc.cluster.local:9000"), "does not match"),
    "destination-cleanup-capitalised": (
        "platform.kratix.io/v1alpha1:Destination", _set(["spec", "cleanup"], "All"), "'All' is not one of"),
    "flux-bucket-interval-words": (
        "source.toolkit.fluxcd.io/v1:Bucket", _set(["spec", "interval"], "10 seconds"), "does not match"),
    "kustomization-prune-misspelt": (
        "kustomize.toolkit.fluxcd.io/v1:Kustomization", _rename(["spec", "prune"], "prun"), "'prun'"),
    "deployment-patch-annotation": (
        "apps/v1:DeploymentPatch", _rename(["spec", "template", "metadata", "annotations"], "annotation"),
        "'annotation'"),
    "configmap-patch-under-spec": (
        "core/v1:ConfigMapPatch", lambda o: o.update(spec={"data": o.pop("data")}), "'spec'"),
}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_schema_catches_a_mistake(name):
    short_type, mutate, expected = MISTAKES[name]
    obj = _first(f"kubernetes:{short_type}")
    assert problems(f"kubernetes:{short_type}", obj) == []
    mutate(obj)
    found = problems(f"kubernetes:{short_type}", obj)
    assert any(expected in message for message in found), found


def test_template_check_catches_a_misspelt_ack_field():
    rgd = _first(RGD_TYPE)
    template = rgd["spec"]["resources"][0]["template"]
    template["spec"]["billingmode"] = template["spec"].pop("billingMode")
    template["spec"]["tableName"] = 42
    assert sorted(template_problems(template)) == [
        "spec.billingmode: not a field of Table",
        "spec.tableName.<root>: 42 is not of type 'string'",
    ]
