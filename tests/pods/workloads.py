"""The pods the four stacks make, taken from their offline plans and their real CUE.

Three kinds of pod run a program of ours:

* the moto emulator: a Deployment the platform stack writes itself;
* the session API: a KubeVela `webservice` component plus our traits. The trait
  patches are the TraitDefinition templates from the platform plan, evaluated with
  CUE; the Deployment and Service the built-in `webservice` renders are rebuilt here
  from its template (kubevela/kubevela@v1.10.9:vela-templates/definitions/internal/
  component/webservice.cue) for the properties our Application sets;
* the Kratix pipeline containers: a Job Kratix builds from the Promise's Pipelines
  (syntasso/kratix api/v1alpha1/pipeline_factory.go), for the request the
  ComponentDefinition in the kratix plan renders from the Application's properties.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from cue_fixtures import CONTEXT
from cue_runner import CueEvaluator, kubevela_text
from tools.mock_harness import PlanResult

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
APPLICATION = "kubernetes:core.oam.dev/v1beta1:Application"
TRAIT_DEFINITION = "kubernetes:core.oam.dev/v1beta1:TraitDefinition"
COMPONENT_DEFINITION = "kubernetes:core.oam.dev/v1beta1:ComponentDefinition"
PROMISE = "kubernetes:platform.kratix.io/v1alpha1:Promise"


@dataclass
class Pod:
    """A pod as the kubelet receives it: namespace and spec (plus what made it, for messages)."""

    origin: str
    namespace: str
    spec: dict
    extra_env: dict[str, str] = field(default_factory=dict)
    """Variables the controller puts first in each container's env (Kratix's KRATIX_*)."""

    def container(self, name: str) -> dict:
        for c in [*self.spec.get("initContainers", []), *self.spec.get("containers", [])]:
            if c["name"] == name:
                return c
        raise KeyError(f"{self.origin} has no container {name!r}")


def written_pods(plan: PlanResult) -> list[Pod]:
    """Every Deployment's and Job's pod template the stack writes directly."""
    pods = []
    for reg in plan.of_type(DEPLOYMENT) + plan.of_type(JOB):
        inputs = reg.inputs
        pods.append(Pod(origin=f"{reg.type.rsplit(':', 1)[-1]} {inputs['metadata']['name']}",
                        namespace=inputs["metadata"].get("namespace", "default"),
                        spec=inputs["spec"]["template"]["spec"]))
    return pods


def pod_written_by(plan: PlanResult, kind: str, name: str) -> Pod:
    for pod in written_pods(plan):
        if pod.origin == f"{kind} {name}":
            return pod
    raise KeyError(f"{plan.stack} writes no {kind} {name}; it writes {[p.origin for p in written_pods(plan)]}")


# ─── KubeVela ───────────────────────────────────────────────────────────────


def application(plan: PlanResult) -> dict:
    (app,) = plan.of_type(APPLICATION)
    return app.inputs


def vela_context(app: dict, component: dict) -> dict:
    """KubeVela's `context` for one component of the Application."""
    meta = app["metadata"]
    return {**CONTEXT, "name": component["name"], "appName": meta["name"], "namespace": meta["namespace"],
            "workflowName": meta["name"], "appRevision": f"{meta['name']}-v1", "revision": f"{component['name']}-v1"}


def webservice(component: dict) -> tuple[dict, dict | None]:
    """The pod template spec and the Service `webservice` renders, for the properties it supports here.

    Ref: kubevela/kubevela@v1.10.9 webservice.cue: one container named after the
    component; `cmd` -> command, `args` -> args, `env` -> env; each port becomes
    containerPort `port` (or `containerPort`) named `port-<n>`, protocol TCP by default;
    probes are passed through (its #HealthProbe defaults equal the API's); ports with
    `expose: true` become a ClusterIP Service named after the component. It sets no
    enableServiceLinks, so the kubelet's default (true) applies.
    """
    props = component["properties"]
    known = {"image", "imagePullPolicy", "ports", "livenessProbe", "readinessProbe", "cmd", "args", "env",
             "imagePullSecrets"}
    unknown = sorted(set(props) - known)
    if unknown:
        raise NotImplementedError(f"webservice properties {unknown} are not emulated")
    container: dict = {"name": component["name"], "image": props["image"]}
    ports, exposed = [], []
    for p in props.get("ports", []):
        target = p.get("containerPort", p["port"])
        protocol = p.get("protocol", "TCP")
        name = p.get("name") or f"port-{target}" + ("" if protocol == "TCP" else f"-{protocol.lower()}")
        ports.append({"containerPort": target, "protocol": protocol, "name": name})
        if p.get("expose"):
            exposed.append({"port": p["port"], "targetPort": target, "name": name, "protocol": protocol})
    if ports:
        container["ports"] = ports
    for prop, key in (("imagePullPolicy", "imagePullPolicy"), ("cmd", "command"), ("args", "args"), ("env", "env"),
                      ("livenessProbe", "livenessProbe"), ("readinessProbe", "readinessProbe")):
        if prop in props:
            container[key] = copy.deepcopy(props[prop])
    spec: dict = {"containers": [container]}
    if props.get("imagePullSecrets"):
        spec["imagePullSecrets"] = [{"name": n} for n in props["imagePullSecrets"]]
    service = None
    if exposed:
        service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": component["name"]},
                   "spec": {"selector": {"app.oam.dev/component": component["name"]}, "ports": exposed,
                            "type": "ClusterIP"}}
    return spec, service


def merge_patch(base, patch):
    """KubeVela's patch: maps merge key by key; lists of named items (the `+patchKey=name`
    lists our traits declare) merge item by item by name; other values replace."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = merge_patch(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if (isinstance(base, list) and isinstance(patch, list)
            and all(isinstance(i, dict) and "name" in i for i in [*base, *patch])):
        merged = [copy.deepcopy(i) for i in base]
        for item in patch:
            names = [m["name"] for m in merged]
            if item["name"] in names:
                at = names.index(item["name"])
                merged[at] = merge_patch(merged[at], item)
            else:
                merged.append(copy.deepcopy(item))
        return merged
    return copy.deepcopy(patch)


def trait_template(platform: PlanResult, name: str) -> str:
    for reg in platform.of_type(TRAIT_DEFINITION):
        if reg.inputs["metadata"]["name"] == name:
            return reg.inputs["spec"]["schematic"]["cue"]["template"]
    raise KeyError(f"the platform installs no TraitDefinition {name!r}")


def component_template(plan: PlanResult, name: str) -> str:
    for reg in plan.of_type(COMPONENT_DEFINITION):
        if reg.inputs["metadata"]["name"] == name:
            return reg.inputs["spec"]["schematic"]["cue"]["template"]
    raise KeyError(f"{plan.stack} installs no ComponentDefinition {name!r}")


# Built-in traits that change neither the environment nor the command: `scaler`
# (replicas), `resource` (requests/limits), and our `http-ingress` (outputs an Ingress).
_NO_POD_EFFECT = {"scaler", "resource", "http-ingress"}


def session_api_pod(app_plan: PlanResult, platform: PlanResult, cue: CueEvaluator) -> tuple[Pod, dict]:
    """The session API's pod and its Service, as KubeVela renders them for the stack's Application."""
    app = application(app_plan)
    (component,) = [c for c in app["spec"]["components"] if c["type"] == "webservice"]
    context = vela_context(app, component)
    spec, service = webservice(component)
    template = {"spec": {"template": {"spec": spec}}}
    for trait in component.get("traits", []):
        if trait["type"] in _NO_POD_EFFECT:
            continue
        text = kubevela_text(trait_template(platform, trait["type"]), context=context, parameter=trait["properties"])
        template = merge_patch(template, cue.export(text, "patch"))
    service["metadata"]["namespace"] = app["metadata"]["namespace"]
    pod = Pod(origin=f"webservice {component['name']}", namespace=app["metadata"]["namespace"],
              spec=template["spec"]["template"]["spec"])
    return pod, service


# ─── Kratix ─────────────────────────────────────────────────────────────────


def kratix_request(kratix_plan: PlanResult, cue: CueEvaluator) -> dict:
    """The DynamoDBRequest the kratix stack's Application makes, rendered by the installed definition."""
    app = application(kratix_plan)
    (component,) = [c for c in app["spec"]["components"] if c["type"] != "webservice"]
    text = kubevela_text(component_template(kratix_plan, component["type"]), context=vela_context(app, component),
                         parameter=component["properties"])
    return cue.export(text, "output")


def kratix_pipeline_pods(kratix_plan: PlanResult, request: dict) -> list[Pod]:
    """One pod per configure Pipeline of the Promise, for `request`, as Kratix builds it.

    Ref: syntasso/kratix api/v1alpha1/pipeline_factory.go (`pipelineJob`,
    `defaultPipelineVolumes`, `defaultEnvVars`, `pipelineContainers`): the Pipeline's
    containers run as init containers after the `reader` (which writes the request to
    /kratix/input/object.yaml) and before `work-writer`; shared-input (read-only for
    the pipeline's containers), shared-output and shared-metadata are emptyDirs at
    /kratix/input, /kratix/output and /kratix/metadata; the pod runs in the request's
    namespace (no workflows.config.pipelineNamespace) and sets no enableServiceLinks.
    The reader and work-writer run Kratix's own image and are not started here.
    """
    (promise,) = kratix_plan.of_type(PROMISE)
    spec = promise.inputs["spec"]
    if (spec["workflows"].get("config") or {}).get("pipelineNamespace"):
        raise NotImplementedError("a pipelineNamespace is not emulated")
    group, version = request["apiVersion"].split("/")
    crd = spec["api"]
    pods = []
    for pipeline in spec["workflows"]["resource"]["configure"]:
        env = {
            "KRATIX_WORKFLOW_ACTION": "configure",
            "KRATIX_WORKFLOW_TYPE": "resource",
            "KRATIX_PROMISE_NAME": promise.inputs["metadata"]["name"],
            "KRATIX_PIPELINE_NAME": pipeline["metadata"]["name"],
            "KRATIX_OBJECT_KIND": request["kind"],
            "KRATIX_OBJECT_GROUP": group,
            "KRATIX_OBJECT_VERSION": version,
            "KRATIX_OBJECT_NAME": request["metadata"]["name"],
            "KRATIX_OBJECT_NAMESPACE": request["metadata"]["namespace"],
            "KRATIX_CRD_PLURAL": crd["spec"]["names"]["plural"],
            "KRATIX_CLUSTER_SCOPED": str(crd["spec"]["scope"] == "Cluster").lower(),
        }
        mounts = [{"mountPath": "/kratix/input", "name": "shared-input", "readOnly": True},
                  {"mountPath": "/kratix/output", "name": "shared-output"},
                  {"mountPath": "/kratix/metadata", "name": "shared-metadata"}]
        containers = []
        for c in pipeline["spec"]["containers"]:
            containers.append({**copy.deepcopy(c), "volumeMounts": mounts + list(c.get("volumeMounts") or [])})
        pod_spec = {
            "initContainers": containers,
            "volumes": [{"name": n, "emptyDir": {}} for n in ("shared-input", "shared-output", "shared-metadata")]
            + list(pipeline["spec"].get("volumes") or []),
            "restartPolicy": pipeline["spec"].get("restartPolicy", "OnFailure"),
        }
        pods.append(Pod(origin=f"Kratix pipeline {pipeline['metadata']['name']}",
                        namespace=request["metadata"]["namespace"], spec=pod_spec, extra_env=env))
    return pods


# ─── ServiceAccount token ───────────────────────────────────────────────────

SERVICE_ACCOUNT_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
"""Ref: kubernetes/kubernetes plugin/pkg/admission/serviceaccount/admission.go
DefaultAPITokenMountPath; the plugin adds a `kube-api-access-<suffix>` projected volume
(token, ca.crt, namespace) there to every container unless automounting is off."""


def with_service_account(pod: Pod, cluster, token: str, ca_pem: str) -> Pod:
    """The pod as the ServiceAccount admission plugin leaves it: the token volume mounted
    read-only in every container (here a Secret volume with the same three files)."""
    if pod.spec.get("automountServiceAccountToken") is False:
        return pod
    secret = f"kube-api-access-{pod.namespace}"
    cluster.secrets[(pod.namespace, secret)] = {"token": token, "ca.crt": ca_pem, "namespace": pod.namespace}
    spec = copy.deepcopy(pod.spec)
    spec["volumes"] = [*spec.get("volumes", []), {"name": "kube-api-access", "secret": {"secretName": secret}}]
    for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        container["volumeMounts"] = [*container.get("volumeMounts", []),
                                     {"name": "kube-api-access", "mountPath": SERVICE_ACCOUNT_MOUNT, "readOnly": True}]
    return Pod(origin=pod.origin, namespace=pod.namespace, spec=spec, extra_env=dict(pod.extra_env))
