"""What `down` says stays in the cluster, and that it names the objects the stacks really make."""

from __future__ import annotations

from components import kro
from components.kratix_promise import request_crd
from tools import cli, leftovers
from tools import wait_tables_gone as wait

PLATFORM_OUT = {"dynamodbMode": "local", "dynamodbRegion": "us-east-1", "tablePrefix": "kvdemo-"}


def _down(make_ctx, fake_ops, stacks: set[str], cluster_mode: str, *argv: str) -> str:
    """`down ARGV --skip-audit` with `stacks` up on a platform of `cluster_mode`; what it printed (it must succeed)."""
    ops = fake_ops(existing=stacks, outputs={"platform": {**PLATFORM_OUT, "clusterMode": cluster_mode}})
    ctx = make_ctx(ops)
    assert cli.main(["down", *argv, "--skip-audit"], ctx) == 0
    return ctx.text()


def test_kro_generated_crd_is_the_one_the_rgd_makes():
    rgd = kro.load_rgd()
    group = rgd["spec"]["schema"].get("group", "kro.run")
    assert leftovers.KRO_GENERATED_CRD == f"{kro.instance_plural(rgd)}.{group}"
    # kro keeps it because its chart's default is kept.
    assert "allowCRDDeletion" not in kro.chart_values().get("config", {})


def test_the_ack_table_crd_is_the_one_the_engines_use():
    assert kro.ACK_TABLE_CRD in leftovers.ACK_CRDS
    assert wait.TABLE_CRD in leftovers.ACK_CRDS


def test_the_promise_api_crd_is_not_listed_kratix_deletes_it():
    name = request_crd()["metadata"]["name"]
    assert all(name not in l.names for ls in leftovers.LEFTOVERS.values() for l in ls)


def test_down_of_an_approach_lists_what_stays(make_ctx, fake_ops):
    text = _down(make_ctx, fake_ops, {"platform", "kro"}, "k3d", "kro")
    assert "kro: left in the cluster: kro's CRDs (2), from the chart's crds/ directory, which Helm installs but never deletes:" in text
    assert "resourcegraphdefinitions.kro.run, graphrevisions.internal.kro.run" in text
    assert "dynamodbtables.kro.run" in text and "--allow-crd-deletion" in text


def test_down_of_the_k3d_platform_says_nothing_stays(make_ctx, fake_ops):
    text = _down(make_ctx, fake_ops, {"platform"}, "k3d")
    assert "platform: the k3d cluster was deleted: nothing of the platform stays" in text
    assert "KubeVela's CRDs" not in text


def test_down_of_a_platform_on_an_existing_cluster_lists_its_crds(make_ctx, fake_ops):
    text = _down(make_ctx, fake_ops, {"platform"}, "existing")
    assert "platform: left in the cluster: KubeVela's CRDs (12)" in text
    assert "tables.dynamodb.services.k8s.aws" in text and "vela-system" in text


def test_a_failed_destroy_lists_nothing(make_ctx, fake_ops):
    ops = fake_ops(existing={"platform", "kratix"}, outputs={"platform": PLATFORM_OUT}, fail={"kratix"})
    ctx = make_ctx(ops)
    assert cli.main(["down", "kratix"], ctx) == 1
    assert "left in the cluster" not in ctx.text()


def test_down_of_crossplane_names_its_webhook_configuration(make_ctx, fake_ops):
    text = _down(make_ctx, fake_ops, {"platform", "crossplane"}, "k3d", "crossplane")
    assert "crossplane: left in the cluster: Crossplane's CRDs (21)" in text
    assert "validatingwebhookconfiguration/crossplane-no-usages" in text
