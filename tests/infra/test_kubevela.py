"""KubeVela: vela-core from its pinned chart, with a fixed release name, ready before definitions."""

from components import versions
from tools.mock_harness import PlanResult

RELEASE = "kubernetes:helm.sh/v3:Release"
TRAIT = "kubernetes:core.oam.dev/v1beta1:TraitDefinition"


def test_vela_core_release(platform: PlanResult):
    release = platform.find(RELEASE, "kubevela").inputs
    assert release["chart"] == "vela-core"
    assert release["version"] == versions.KUBEVELA_CHART.version == "1.10.9"
    assert release["repositoryOpts"] == {"repo": "https://kubevela.github.io/charts"}
    # Webhook and service names derive from it; a random suffix would break them.
    assert release["name"] == "kubevela"
    assert release["namespace"] == "vela-system"
    assert release["createNamespace"] is True
    assert release["values"]["multicluster"] == {"enabled": False}
    # The chart's default is `Always`: no restart of vela-core without Docker Hub.
    assert release["values"]["image"] == {"pullPolicy": "IfNotPresent"}
    # Helm must wait for the controller and the hook Jobs that create the webhook certificates.
    assert release.get("skipAwait") is False
    assert release["waitForJobs"] is True
    assert release["atomic"] is True


def test_release_runs_on_the_cluster(platform: PlanResult):
    assert platform.find(RELEASE, "kubevela").options["provider"] == "cluster-provider"


def test_shared_traits_wait_for_vela_core(platform: PlanResult):
    traits = platform.of_type(TRAIT)
    assert {t.inputs["metadata"]["name"] for t in traits} == {"dynamodb-client", "http-ingress"}
    for trait in traits:
        assert trait.depends_on(RELEASE, "kubevela"), trait.name
        assert trait.inputs["metadata"]["namespace"] == "vela-system"
        assert trait.options["provider"] == "cluster-provider"
