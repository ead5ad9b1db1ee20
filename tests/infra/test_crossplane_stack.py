"""The crossplane stack: Crossplane, its providers and ProviderConfig, the xp definition and the session app."""

import json
import re

import pytest

from components import versions
from components.crossplane import (
    TABLE_MRD,
    CrossplaneArgs,
    chart_values,
    package_object_name,
    provider_config_spec,
)
from tools import plan as plan_cli
from tools.mock_harness import PlanResult

RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
SECRET = "kubernetes:core/v1:Secret"
PROVIDER = "kubernetes:pkg.crossplane.io/v1:Provider"
MRAP = "kubernetes:apiextensions.crossplane.io/v1alpha1:ManagedResourceActivationPolicy"
MRD_PATCH = "kubernetes:apiextensions.crossplane.io/v1alpha1:ManagedResourceDefinitionPatch"
CPC = "kubernetes:aws.m.upbound.io/v1beta1:ClusterProviderConfig"
DEFINITION = "kubernetes:core.oam.dev/v1beta1:ComponentDefinition"
APPLICATION = "kubernetes:core.oam.dev/v1beta1:Application"
COMPONENT = "kubevela-dynamodb:crossplane:Crossplane"
EMULATOR = "http://moto.dynamodb-emulator.svc.cluster.local:5000"
SKIP_FLAGS = {
    "skip_credentials_validation",
    "skip_requesting_account_id",
    "skip_metadata_api_check",
    "skip_region_validation",
}


@pytest.fixture(scope="module")
def xp() -> PlanResult:
    from tools.plan import plan

    return plan("crossplane")


@pytest.fixture(scope="module")
def xp_aws() -> PlanResult:
    from tools.plan import plan

    return plan("crossplane", None, {"dynamodbMode": "aws", "awsRegion": "eu-central-1"})



def _wait_for(resource) -> list[str]:
    raw = resource.inputs["metadata"]["annotations"]["pulumi.com/waitFor"]
    return json.loads(raw) if raw.startswith("[") else [raw]


# ─── Crossplane release ─────────────────────────────────────────────────────


def test_crossplane_release_from_the_pinned_chart(xp: PlanResult):
    release = xp.find(RELEASE, "crossplane")
    inputs = release.inputs
    assert inputs["chart"] == "crossplane"
    assert inputs["version"] == versions.CROSSPLANE_CHART.version == "2.3.4"
    assert inputs["repositoryOpts"] == {"repo": "https://charts.crossplane.io/stable"}
    assert inputs["name"] == "crossplane"
    assert inputs["namespace"] == "crossplane-system"
    assert release.parent == f"{COMPONENT}::crossplane"
    # The namespace is a Pulumi resource (deleted on destroy), not Helm's --create-namespace.
    assert inputs["createNamespace"] is False
    assert release.depends_on(NAMESPACE, "crossplane-namespace")
    assert xp.find(NAMESPACE, "crossplane-namespace").inputs["metadata"]["name"] == "crossplane-system"


def test_chart_installs_no_packages_and_no_catch_all_activation_policy(xp: PlanResult):
    values = xp.find(RELEASE, "crossplane").inputs["values"]
    # Chart default ["*"] would activate every MRD; packages from values would not be Pulumi's.
    assert values["provider"] == {"packages": [], "defaultActivations": []}
    assert "configuration" not in values and "function" not in values


def test_chart_requests_less_memory_than_the_defaults_but_keeps_the_limits():
    values = chart_values()
    assert values["resourcesCrossplane"]["requests"]["memory"] == "128Mi"
    assert values["resourcesCrossplane"]["limits"]["memory"] == "1024Mi"
    assert values["resourcesRBACManager"]["requests"]["memory"] == "64Mi"
    assert values["resourcesRBACManager"]["limits"]["memory"] == "512Mi"


# ─── Providers ──────────────────────────────────────────────────────────────


def test_family_provider_is_pinned_under_the_resolvers_name(xp: PlanResult):
    family = xp.find(PROVIDER, "crossplane-provider-family")
    assert family.inputs["spec"] == {"package": versions.CROSSPLANE_AWS_FAMILY_PROVIDER}
    assert versions.CROSSPLANE_AWS_FAMILY_PROVIDER == (
        "xpkg.crossplane.io/crossplane-contrib/provider-family-aws:v2.6.0"
    )
    # Same name the dependency resolver would create, so it never installs its own (newest) one.
    assert family.inputs["metadata"]["name"] == "crossplane-contrib-provider-family-aws"
    assert "namespace" not in family.inputs["metadata"]


def test_dynamodb_provider_is_pinned_on_the_anonymous_registry(xp: PlanResult):
    dynamodb = xp.find(PROVIDER, "crossplane-provider-dynamodb")
    assert dynamodb.inputs["spec"] == {
        "package": "xpkg.crossplane.io/crossplane-contrib/provider-aws-dynamodb:v2.6.0"
    }
    assert dynamodb.inputs["metadata"]["name"] == "crossplane-contrib-provider-aws-dynamodb"


def test_family_and_dynamodb_provider_share_one_version():
    family_tag = versions.CROSSPLANE_AWS_FAMILY_PROVIDER.rsplit(":", 1)[1]
    assert versions.CROSSPLANE_DYNAMODB_PROVIDER.rsplit(":", 1)[1] == family_tag


@pytest.mark.parametrize("name", ["crossplane-provider-family", "crossplane-provider-dynamodb"])
def test_providers_wait_for_installed_and_healthy_with_a_timeout(xp: PlanResult, name):
    provider = xp.find(PROVIDER, name)
    assert _wait_for(provider) == ["condition=Installed", "condition=Healthy"]
    assert provider.options["customTimeouts"] == {"create": "10m", "update": "10m"}
    assert provider.parent == f"{COMPONENT}::crossplane"


def test_provider_order_release_then_family_then_dynamodb(xp: PlanResult):
    family = xp.find(PROVIDER, "crossplane-provider-family")
    dynamodb = xp.find(PROVIDER, "crossplane-provider-dynamodb")
    # Provider CRDs come from Crossplane's init container: after the release.
    assert family.depends_on(RELEASE, "crossplane")
    # The family must be in the lock before the DynamoDB provider asks for it.
    assert dynamodb.depends_on(PROVIDER, "crossplane-provider-family")


def test_provider_timeout_comes_from_config(plan_stack):
    plan = plan_stack("crossplane", providerTimeoutMinutes="15")
    provider = plan.find(PROVIDER, "crossplane-provider-dynamodb")
    assert provider.options["customTimeouts"] == {"create": "15m", "update": "15m"}


@pytest.mark.parametrize(
    "package, name",
    [
        ("xpkg.crossplane.io/crossplane-contrib/provider-family-aws:v2.6.0", "crossplane-contrib-provider-family-aws"),
        ("xpkg.crossplane.io/crossplane-contrib/provider-aws-dynamodb:v2.6.0", "crossplane-contrib-provider-aws-dynamodb"),
        ("registry.example.com:5000/a.b/c_d:v1.0.0", "a-b-cd"),
        ("xpkg.crossplane.io/" + "x" * 70 + ":v1.0.0", "x" * 63),
    ],
)
def test_package_object_name_follows_crossplanes_dns_label(package, name):
    assert package_object_name(package) == name


# ─── Activation policy ──────────────────────────────────────────────────────


def test_only_the_namespaced_table_is_activated(xp: PlanResult):
    policy = xp.find(MRAP, "crossplane-activations")
    assert policy.inputs["spec"] == {"activate": ["tables.dynamodb.aws.m.upbound.io"]}
    assert TABLE_MRD == "tables.dynamodb.aws.m.upbound.io"
    assert "namespace" not in policy.inputs["metadata"]


def test_activation_waits_for_the_table_mrd_after_the_provider_installed_it(xp: PlanResult):
    policy = xp.find(MRAP, "crossplane-activations")
    assert _wait_for(policy) == ["jsonpath={.status.activated[0]}=tables.dynamodb.aws.m.upbound.io"]
    assert policy.depends_on(PROVIDER, "crossplane-provider-dynamodb")
    assert policy.options["customTimeouts"] == {"create": "5m", "update": "5m"}


def test_the_table_crd_must_be_served_not_only_activated(xp: PlanResult):
    # The policy reports activation before the CRD exists (crossplane/crossplane#7822); the
    # MRD's Established condition follows the CRD's. Waiting needs a patch: a `.get()` has
    # no await logic.
    wait = xp.find(MRD_PATCH, "crossplane-table-established")
    assert wait.inputs["metadata"]["name"] == TABLE_MRD
    assert _wait_for(wait) == ["condition=Established"]
    assert set(wait.inputs) == {"apiVersion", "kind", "metadata"}, "annotate only; spec is the package's"
    assert wait.depends_on(MRAP, "crossplane-activations"), "the MRD exists once the policy lists it"
    assert wait.options["customTimeouts"] == {"create": "5m", "update": "5m"}


def test_everything_that_makes_tables_waits_for_the_served_crd(xp: PlanResult):
    # KubeVela renders the Table from the Application; nothing else in the stack makes one.
    makers = [r for r in xp.registrations if r.type in (APPLICATION,) or r.type.endswith(":Table")]
    assert [r.name for r in makers] == ["session-api-app-xp"]
    for maker in makers:
        assert maker.depends_on(MRD_PATCH, "crossplane-table-established"), maker.name


# ─── Credentials and ClusterProviderConfig ──────────────────────────────────


def test_credentials_secret_is_a_pulumi_secret_in_the_crossplane_namespace(xp: PlanResult):
    secret = xp.find(SECRET, "crossplane-credentials")
    assert secret.inputs["metadata"] == {"name": "aws-dynamodb-credentials", "namespace": "crossplane-system"}
    assert secret.is_secret("stringData")
    assert secret.inputs["stringData"]["credentials"].startswith("[default]\naws_access_key_id = ")
    assert secret.masked_inputs["stringData"] == "[secret]"
    assert secret.depends_on(NAMESPACE, "crossplane-namespace")


def test_provider_config_local_mode_points_at_the_emulator(xp: PlanResult):
    cpc = xp.find(CPC, "crossplane-provider-config")
    assert cpc.inputs["metadata"] == {"name": "default"}  # cluster-scoped, the MR default
    spec = cpc.inputs["spec"]
    assert spec["credentials"] == {
        "source": "Secret",
        "secretRef": {"namespace": "crossplane-system", "name": "aws-dynamodb-credentials", "key": "credentials"},
    }
    assert spec["endpoint"] == {
        "url": {"type": "Static", "static": EMULATOR},
        "services": ["dynamodb", "sts", "kms"],
        "hostnameImmutable": True,
        "source": "Custom",
    }
    # The skip flags sit at the top of spec, not under endpoint (CRD schema).
    assert {k for k in spec if k.startswith("skip_")} == SKIP_FLAGS
    assert all(spec[k] is True for k in SKIP_FLAGS)
    assert not cpc.is_secret("spec")


def test_provider_config_aws_mode_has_no_endpoint_and_no_skips(xp_aws: PlanResult):
    spec = xp_aws.find(CPC, "crossplane-provider-config").inputs["spec"]
    assert set(spec) == {"credentials"}
    assert spec["credentials"]["secretRef"]["name"] == "aws-dynamodb-credentials"


def test_aws_mode_credentials_are_the_engine_identity_and_secret(xp_aws: PlanResult):
    secret = xp_aws.find(SECRET, "crossplane-credentials")
    assert secret.is_secret("stringData")
    assert "offline-secret-access-key" in secret.inputs["stringData"]["credentials"]
    assert "offline-secret-access-key" not in json.dumps(xp_aws.to_json())


def test_provider_config_waits_for_the_family_provider_and_its_secret(xp: PlanResult):
    cpc = xp.find(CPC, "crossplane-provider-config")
    # The family package owns the ProviderConfig CRDs (and releases the config on delete).
    assert cpc.depends_on(PROVIDER, "crossplane-provider-family")
    assert cpc.depends_on(SECRET, "crossplane-credentials")


def test_provider_config_spec_rejects_what_it_cannot_configure():
    with pytest.raises(ValueError, match="dynamodb mode must be one of local, aws, got 'gcp'"):
        provider_config_spec("gcp", "", "crossplane-system")
    with pytest.raises(ValueError, match="local mode needs the emulator URL"):
        provider_config_spec("local", "", "crossplane-system")


# ─── Definition and Application ─────────────────────────────────────────────


def test_definition_renders_the_table_for_the_platform(xp: PlanResult, xp_aws: PlanResult):
    definition = xp.find(DEFINITION, "dynamodb-definition-xp").inputs
    assert definition["metadata"]["name"] == "aws-dynamodb-xp"
    assert definition["metadata"]["namespace"] == "vela-system"
    template = definition["spec"]["schematic"]["cue"]["template"]
    assert 'apiVersion: "dynamodb.aws.m.upbound.io/v1beta1"' in template
    assert 'providerConfigName: "default"' in template
    assert re.search(r'region:\s+"us-east-1"', template)
    aws_template = xp_aws.find(DEFINITION, "dynamodb-definition-xp").inputs["spec"]["schematic"]["cue"]["template"]
    assert re.search(r'region:\s+"eu-central-1"', aws_template)


def test_application_is_the_xp_session_app(xp: PlanResult):
    app = xp.find(APPLICATION, "session-api-app-xp")
    assert app.inputs["metadata"]["name"] == "session-api-app-xp"
    assert app.inputs["metadata"]["namespace"] == "session-apps"
    assert _wait_for(app) == ["jsonpath={.status.status}=running"]
    # Destroy waits as long as create: the Application goes only after its table.
    assert app.options["customTimeouts"] == {"create": "20m", "update": "20m", "delete": "20m"}
    table, api = app.inputs["spec"]["components"]
    assert table["type"] == "aws-dynamodb-xp"
    assert table["properties"]["tableName"] == "kvdemo-sessions-xp"
    assert api["type"] == "webservice"
    traits = {t["type"]: t["properties"] for t in api["traits"]}
    assert {"scaler", "resource", "dynamodb-client", "http-ingress"} <= set(traits)
    assert traits["dynamodb-client"]["endpoint"] == EMULATOR
    assert traits["dynamodb-client"]["credentialsSecret"] == "dynamodb-app-credentials"
    assert traits["http-ingress"]["host"] == "session-api-xp.localhost"


def test_application_in_aws_mode_uses_the_default_endpoint(xp_aws: PlanResult):
    _, api = xp_aws.find(APPLICATION, "session-api-app-xp").inputs["spec"]["components"]
    client = next(t["properties"] for t in api["traits"] if t["type"] == "dynamodb-client")
    assert "endpoint" not in client
    assert client["region"] == "eu-central-1"


def test_application_waits_for_everything_its_table_needs(xp: PlanResult):
    app = xp.find(APPLICATION, "session-api-app-xp")
    assert app.depends_on(DEFINITION, "dynamodb-definition-xp")
    assert app.depends_on(CPC, "crossplane-provider-config")
    assert app.depends_on(PROVIDER, "crossplane-provider-dynamodb")
    assert app.depends_on(MRAP, "crossplane-activations")
    assert app.depends_on(MRD_PATCH, "crossplane-table-established")


def test_destroy_order_application_table_providers_crossplane(xp: PlanResult):
    # Destroy runs dependencies in reverse: each chain below is deleted left to right.
    app = (APPLICATION, "session-api-app-xp")
    cpc = (CPC, "crossplane-provider-config")
    dynamodb = (PROVIDER, "crossplane-provider-dynamodb")
    family = (PROVIDER, "crossplane-provider-family")
    release = (RELEASE, "crossplane")
    namespace = (NAMESPACE, "crossplane-namespace")
    established = (MRD_PATCH, "crossplane-table-established")
    policy = (MRAP, "crossplane-activations")
    for before, after in [
        (app, cpc), (app, dynamodb), (cpc, family), (dynamodb, family), (family, release), (release, namespace),
        (app, established), (established, policy), (policy, dynamodb),
    ]:
        assert xp.waits_for(before, after), f"{before[1]} must be deleted before {after[1]}"
        assert not xp.waits_for(after, before), f"{after[1]} must not wait for {before[1]}"


def test_nothing_is_retained_or_orphaned_on_delete(xp: PlanResult):
    for resource in xp.registrations:
        assert not resource.options["retainOnDelete"], f"{resource.type} {resource.name}"
        annotations = (resource.inputs.get("metadata") or {}).get("annotations") or {}
        assert "pulumi.com/deletionPropagationPolicy" not in annotations, resource.name


# ─── Stack as a whole ───────────────────────────────────────────────────────


def test_exports(xp: PlanResult):
    assert xp.outputs["applicationName"] == "session-api-app-xp"
    assert xp.outputs["tableName"] == "kvdemo-sessions-xp"
    assert xp.outputs["apiUrl"] == "http://session-api-xp.localhost:8081"
    assert xp.outputs["componentDefinition"] == "aws-dynamodb-xp"
    assert xp.outputs["providerConfigName"] == "default"
    assert xp.outputs["crossplaneNamespace"] == "crossplane-system"
    assert xp.secret_outputs == []


def test_names_follow_the_platform_settings(plan_stack):
    plan = plan_stack(
        "crossplane", platform_overrides={"tablePrefix": "team1-", "ingressDomain": "demo.test", "httpPort": "9090"}
    )
    assert plan.outputs["tableName"] == "team1-sessions-xp"
    assert plan.outputs["apiUrl"] == "http://session-api-xp.demo.test:9090"
    table, _ = plan.find(APPLICATION, "session-api-app-xp").inputs["spec"]["components"]
    assert table["properties"]["tableName"] == "team1-sessions-xp"


def test_every_kubernetes_object_uses_the_platform_cluster(xp: PlanResult):
    k8s_objects = [r for r in xp.registrations if r.custom and r.type.startswith("kubernetes:")]
    assert len(k8s_objects) == 10
    for resource in k8s_objects:
        assert resource.options["provider"] == "platform-cluster", f"{resource.type} {resource.name}"


def test_top_level_resources_are_components(xp: PlanResult):
    top_level = {(r.type, r.name) for r in xp.registrations if not r.parent}
    assert top_level == {
        ("pulumi:providers:kubernetes", "platform-cluster"),
        (COMPONENT, "crossplane"),
        ("kubevela-dynamodb:vela:DynamoDBComponentDefinition", "dynamodb-definition-xp"),
        ("kubevela-dynamodb:apps:SessionApplication", "session-api-app-xp"),
    }


def test_plan_is_deterministic_and_masks_secrets(fresh_plan_stack):
    first = json.dumps(fresh_plan_stack("crossplane").to_json(), sort_keys=True)
    second = json.dumps(fresh_plan_stack("crossplane").to_json(), sort_keys=True)
    assert first == second
    assert "aws_access_key_id" not in first
    assert "offline-plan-token" not in first


def test_offline_plan_cli_runs_the_crossplane_stack(capsys):
    assert plan_cli.main(["crossplane", "--set-platform", "dynamodbMode=aws"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["stack"] == "crossplane"
    types = {r["type"] for r in printed["resources"]}
    assert {PROVIDER, CPC, MRAP, APPLICATION, DEFINITION, RELEASE} <= types
    secret = next(r for r in printed["resources"] if r["type"] == SECRET)
    assert secret["inputs"]["stringData"] == "[secret]"


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("providerTimeoutMinutes", "soon", "config kubevela-dynamodb:providerTimeoutMinutes: expected a whole number"),
        ("providerTimeoutMinutes", "0", "config providerTimeoutMinutes: provider_timeout_minutes must be"),
        ("appTimeoutMinutes", "x", "config kubevela-dynamodb:appTimeoutMinutes: expected a whole number"),
    ],
)
def test_bad_config_names_the_key(plan_stack, key, value, message):
    with pytest.raises(Exception, match=message):
        plan_stack("crossplane", **{key: value})


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("dynamodb_provider_package", "xpkg.crossplane.io/crossplane-contrib/provider-aws-dynamodb:latest",
         "dynamodb_provider_package must be a fully qualified package with a version tag"),
        ("family_provider_package", "crossplane-contrib/provider-family-aws:v2.6.0",
         "family_provider_package must be a fully qualified package"),
        ("namespace", "Crossplane_System", "namespace must be a DNS label"),
        ("provider_config_name", "", "provider_config_name must be a DNS label"),
    ],
)
def test_args_reject_unpinned_or_invalid_values(field, value, message):
    with pytest.raises(ValueError, match=message):
        CrossplaneArgs(dynamodb_mode="local", endpoint=EMULATOR, credentials_ini="x", **{field: value})
