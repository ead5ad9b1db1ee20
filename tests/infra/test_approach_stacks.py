"""What the three approach stacks share: the same Application shape, names and URLs from the platform."""

import json

import pytest

from app.session_api import table as session_table
from tools.mock_harness import PlanResult

APPLICATION = "kubernetes:core.oam.dev/v1beta1:Application"
DEFINITION = "kubernetes:core.oam.dev/v1beta1:ComponentDefinition"
ENGINES = {"crossplane": "xp", "kro": "kro", "kratix": "kratix"}


def _application(plan: PlanResult, engine: str):
    return plan.find(APPLICATION, f"session-api-app-{engine}")


@pytest.mark.parametrize("stack, engine", ENGINES.items())
def test_outputs_follow_the_naming_conventions(plan_stack, stack, engine):
    plan = plan_stack(stack)
    assert plan.outputs["applicationName"] == f"session-api-app-{engine}"
    assert plan.outputs["tableName"] == f"kvdemo-sessions-{engine}"
    assert plan.outputs["apiUrl"] == f"http://session-api-{engine}.localhost:8081"


@pytest.mark.parametrize("stack, engine", ENGINES.items())
def test_application_waits_for_its_definition_and_is_gated(plan_stack, stack, engine):
    plan = plan_stack(stack)
    app = _application(plan, engine)
    assert app.inputs["metadata"]["namespace"] == "session-apps"
    assert app.inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == "jsonpath={.status.status}=running"
    definition = next(r for r in plan.of_type(DEFINITION) if r.inputs["metadata"]["name"] == f"aws-dynamodb-{engine}")
    assert app.depends_on(DEFINITION, definition.name)
    assert app.options["provider"] == "platform-cluster"
    table, api = app.inputs["spec"]["components"]
    assert table["type"] == f"aws-dynamodb-{engine}"
    assert table["properties"] == session_table.component_properties(f"kvdemo-sessions-{engine}")
    assert api["properties"]["image"].startswith("kubevela-dynamodb/session-api:")


def test_the_three_applications_differ_only_in_engine_names(plan_stack):
    specs = {}
    for stack, engine in ENGINES.items():
        spec = _application(plan_stack(stack), engine).inputs["spec"]
        # Keys sorted: the order of a mapping's keys follows the process's string hashing
        # (PYTHONHASHSEED), and under pytest-xdist the three plans may come from different workers.
        text = json.dumps(spec, sort_keys=True).replace(f"sessions-{engine}", "sessions-E").replace(f"-{engine}", "-E")
        specs[engine] = text
    assert specs["xp"] == specs["kro"] == specs["kratix"]


EXISTING = {
    "clusterMode": "existing",
    "kubeconfig": "apiVersion: v1\nkind: Config\ncurrent-context: demo\ncontexts: [{name: demo, context: {}}]\n",
    "imageRegistry": "registry.example.com/kvdemo",
    "imagePullSecrets": ["pull"],
    "ingressDomain": "demo.example.com",
    "ingressScheme": "https",
    "ingressClass": "nginx",
}


@pytest.mark.parametrize("stack, engine", ENGINES.items())
def test_existing_cluster_settings_reach_every_application(plan_stack, stack, engine):
    plan = plan_stack(stack, platform_overrides=EXISTING)
    assert plan.outputs["apiUrl"] == f"https://session-api-{engine}.demo.example.com"
    _, api = _application(plan, engine).inputs["spec"]["components"]
    assert api["properties"]["image"].startswith("registry.example.com/kvdemo/session-api:")
    assert api["properties"]["imagePullSecrets"] == ["pull"]
    ingress = next(t for t in api["traits"] if t["type"] == "http-ingress")["properties"]
    assert ingress == {"host": f"session-api-{engine}.demo.example.com", "ingressClassName": "nginx"}


def test_missing_platform_output_says_what_to_run(plan_stack, monkeypatch):
    import tools.plan as plan_module

    real_run_stack = plan_module.run_stack

    def without_kubeconfig(stack, config, stack_outputs):
        for outputs, _secret in stack_outputs.values():
            outputs.pop("kubeconfig", None)
        return real_run_stack(stack, config, stack_outputs)

    monkeypatch.setattr(plan_module, "run_stack", without_kubeconfig)
    with pytest.raises(Exception, match=r"has no output 'kubeconfig': bring it up first \(`make up-platform`"):
        plan_stack("kro")
