"""clusterMode existing with a kubeconfig of two contexts: all four stacks deploy to the configured one.

The configured context is deliberately *not* the kubeconfig's current one, so a
provider that fell back to the current context would be caught.
"""

from __future__ import annotations

import pytest

from tools.mock_harness import PlanResult

TARGET = "arn:aws:eks:eu-west-1:111122223333:cluster/demo"
KUBECONFIG = f"""apiVersion: v1
kind: Config
current-context: laptop
clusters:
- {{name: laptop, cluster: {{server: 'https://127.0.0.1:6443'}}}}
- {{name: eks, cluster: {{server: 'https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com'}}}}
contexts:
- {{name: laptop, context: {{cluster: laptop, user: laptop}}}}
- {{name: '{TARGET}', context: {{cluster: eks, user: eks}}}}
users:
- {{name: laptop, user: {{token: laptop-token}}}}
- {{name: eks, user: {{token: eks-token}}}}
"""
EXISTING = {
    "clusterMode": "existing",
    "clusterName": "eks-demo",
    "kubeconfig": KUBECONFIG,
    "kubeContext": TARGET,
    "imageRegistry": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/kvdemo",
    "ingressDomain": "demo.example.com",
    "ingressClass": "alb",
}
STACKS = ("platform", "crossplane", "kro", "kratix")


@pytest.fixture(scope="module")
def plans() -> dict[str, PlanResult]:
    from tools.plan import plan

    return {
        stack: plan(stack, EXISTING) if stack == "platform" else plan(stack, {}, EXISTING) for stack in STACKS
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_provider_targets_the_configured_context(plans, stack):
    providers = plans[stack].of_type("pulumi:providers:kubernetes")
    assert providers, f"{stack} registers no Kubernetes provider"
    for provider in providers:
        assert provider.inputs.get("context") == TARGET, f"{stack}: provider {provider.name}"
        assert provider.inputs["kubeconfig"] == KUBECONFIG, f"{stack}: provider {provider.name}"
        assert provider.is_secret("kubeconfig")
        assert provider.inputs["clusterIdentifier"] == "eks-demo"


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_object_goes_through_such_a_provider(plans, stack):
    """No object falls back to the default provider (the ambient kubeconfig and its current context)."""
    named = {p.name for p in plans[stack].of_type("pulumi:providers:kubernetes")}
    objects = [r for r in plans[stack].registrations if r.custom and r.type.startswith("kubernetes:")]
    assert objects
    for obj in objects:
        assert obj.options["provider"] in named, f"{stack}: {obj.type} {obj.name} uses {obj.options['provider']!r}"


def test_the_platform_exports_the_context_for_the_cli(plans):
    outputs = plans["platform"].outputs
    assert outputs["kubeContext"] == TARGET
    # local mode on a cluster whose ingress is not the program's: no host URL, the service instead.
    assert outputs["dynamodbHostEndpoint"] == ""
    assert outputs["dynamodbEmulatorService"] == {"namespace": "dynamodb-emulator", "name": "moto", "port": "api"}


@pytest.mark.parametrize("stack, engine", [("crossplane", "xp"), ("kro", "kro"), ("kratix", "kratix")])
def test_approach_stacks_export_their_api_service(plans, stack, engine):
    assert plans[stack].outputs["apiService"] == {
        "namespace": "session-apps",
        "name": f"session-api-{engine}",
        "port": 8080,
    }


def test_a_platform_without_a_context_output_is_named():
    """A platform brought up by an older version: the approach stack says what to do."""
    from tools import plan as plan_module
    from tools.mock_harness import run_stack

    platform = plan_module.plan("platform", EXISTING)
    outputs = {k: v for k, v in platform.outputs.items() if k != "kubeContext"}
    with pytest.raises(Exception, match="has no output 'kubeContext': bring it up first"):
        run_stack("kro", {}, {"organization/kubevela-dynamodb/platform": (outputs, platform.secret_outputs)})
