"""K3dCluster: the commands that create and delete the cluster, and the secret kubeconfig."""

import re

import pytest

from components import versions
from components.k3d_cluster import TOOLS_BIN, K3dClusterArgs, kubeconfig_read_command
from components.project_paths import PROJECT_DIR
from tools.mock_harness import PlanResult

COMMAND = "command:local:Command"


def test_create_command_pins_image_and_ports(platform: PlanResult):
    create = platform.find(COMMAND, "cluster-k3d").inputs["create"]
    assert f"--image {versions.K3S_IMAGE}" in create
    assert "--api-port 127.0.0.1:6550" in create
    assert "--port 8081:80@loadbalancer" in create
    assert "--agents 0" in create
    # The user's kubeconfig must stay untouched.
    assert "--kubeconfig-update-default=false" in create
    assert "--kubeconfig-switch-context=false" in create


def test_create_is_guarded_so_a_rerun_adopts_the_cluster(platform: PlanResult):
    create = platform.find(COMMAND, "cluster-k3d").inputs["create"]
    prelude, _, command = create.partition("; export PATH; ")
    assert prelude == f'PATH={TOOLS_BIN}:"$PATH"'
    guard, _, rest = command.partition(" || ")
    assert guard == "k3d cluster list kubevela-dynamodb >/dev/null 2>&1"
    assert rest.startswith("k3d cluster create kubevela-dynamodb ")


def test_delete_and_replacement(platform: PlanResult):
    cluster = platform.find(COMMAND, "cluster-k3d")
    assert cluster.inputs["delete"] == f'PATH={TOOLS_BIN}:"$PATH"; export PATH; k3d cluster delete kubevela-dynamodb'
    assert cluster.options["deleteBeforeReplace"] is True
    # No triggers: a changed setting must not silently swap in an empty cluster.
    assert "triggers" not in cluster.inputs
    # No update: a changed text reruns the guarded create, which adopts the cluster.
    assert "update" not in cluster.inputs
    assert cluster.depends_on(COMMAND, "cluster-settings")


def test_cluster_shape_comes_from_config(plan_stack):
    plan = plan_stack("platform", clusterName="demo2", agents="2", apiPort="7443", httpPort="9090")
    create = plan.find(COMMAND, "cluster-k3d").inputs["create"]
    assert "k3d cluster create demo2 " in create
    assert "--agents 2" in create and "--api-port 127.0.0.1:7443" in create and "--port 9090:80@" in create
    assert plan.outputs["ingressBaseUrl"] == "http://localhost:9090"


def test_kubeconfig_is_read_after_the_cluster_and_never_logged(platform: PlanResult):
    kubeconfig = platform.find(COMMAND, "cluster-kubeconfig")
    assert kubeconfig.inputs["create"] == kubeconfig_read_command("kubevela-dynamodb")
    assert kubeconfig.inputs["logging"] == "none"
    assert kubeconfig.options["additionalSecretOutputs"] == ["stdout"]
    assert kubeconfig.depends_on(COMMAND, "cluster-k3d")
    # A recreated cluster has a new id: the kubeconfig is read again.
    assert kubeconfig.inputs["triggers"] == ["cluster-k3d-id"]


def test_provider_gets_the_kubeconfig_as_a_secret(platform: PlanResult):
    provider = platform.find("pulumi:providers:kubernetes", "cluster-provider")
    assert provider.is_secret("kubeconfig")
    assert provider.inputs["clusterIdentifier"] == "kubevela-dynamodb"
    assert provider.inputs["deleteUnreachable"] == "true"
    assert "kubeconfig" in platform.secret_outputs


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "Bad_Name"}, "cluster name 'Bad_Name'"),
        ({"name": "ok", "agents": 9}, "agents must be a whole number from 0 to 5"),
        ({"name": "ok", "api_port": 80}, "api_port must be a port from 1024 to 65535"),
        ({"name": "ok", "api_port": 8081, "http_port": 8081}, "api_port and http_port must differ"),
        ({"name": "ok", "k3s_image": "rancher/k3s:latest"}, "must carry a pinned tag"),
    ],
)
def test_args_reject_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        K3dClusterArgs(**kwargs)


def test_bad_port_config_names_the_key(plan_stack):
    with pytest.raises(Exception, match=r"config kubevela-dynamodb:apiPort: expected a whole number, got 'abc'"):
        plan_stack("platform", apiPort="abc")


def test_port_clash_in_config_is_reported_with_the_keys(plan_stack):
    with pytest.raises(Exception, match=r"config clusterName/agents/apiPort/httpPort: api_port and http_port must differ"):
        plan_stack("platform", apiPort="8081")


def test_the_ingress_described_for_user_ids_is_the_one_the_pinned_k3s_ships():
    # app/README.md says which Traefik stands in front of the API, and so which encoded
    # characters reach it. That holds for one k3s release: bumping the image must
    # bring the text (and its Traefik version) along.
    readme = (PROJECT_DIR / "app" / "README.md").read_text()
    section = " ".join(readme.split("### User ids in URLs", 1)[1].split("\n### ", 1)[0].split())
    tag = versions.K3S_IMAGE.rsplit(":", 1)[1]
    release = tag.replace("-k3s", "+k3s")  # a Docker tag cannot hold the release's "+"
    assert re.search(rf"k3s {re.escape(release)}, which ships Traefik v\d+\.\d+\.\d+", section), section
