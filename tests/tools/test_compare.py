"""`compare`: the day-2 scenario runner against a real moto server, with fake engines and a fake clock."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import boto3
import pytest
from botocore.config import Config

from tools import cli, tables
from tools.compare import Demo, Runner
from tools.compare_cluster import compare_command, restored_managed_fields

from compare_fakes import ENGINE_TAGS, FakeClock, FakeCluster

WAIT = 60.0


@pytest.fixture
def ddb(moto_url):
    return boto3.client(
        "dynamodb", endpoint_url=moto_url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}),
    )


def make_demo(ddb, behaviour="heals", resync=30.0, wait=WAIT):
    clock = FakeClock()
    table = f"kvdemo-sessions-{uuid.uuid4().hex[:8]}"
    cluster = FakeCluster(ddb, table, clock, behaviour, resync)

    def api_ready():  # what the session API's /ready answers: the table exists and is ACTIVE
        return tables.read_state(ddb, table).active and cluster.app_exists

    lines: list[str] = []
    runner = Runner(lambda who, text: lines.append(f"{who} {text}"), clock=clock, wait=wait, restore_wait=wait, poll=2.0)
    return Demo("kro", table, ddb, cluster, api_ready), runner, lines


def by_scenario(results):
    return {r.scenario: r for r in results}


def test_an_engine_that_heals_converges_everywhere_and_the_table_loses_its_items_when_recreated(ddb):
    demo, runner, lines = make_demo(ddb, "heals", resync=30.0)
    results = by_scenario(runner.run(demo, ["drift-table", "drift-settings", "change-index", "change-billing", "delete-app"]))

    drift = results["drift-table"]
    assert drift.converged and drift.mode == "recreated"
    assert 0 < drift.measures["tableRecreatedSeconds"] <= 30 + 2  # the next resync, seen at the next poll
    assert drift.seconds == drift.measures["apiReadySeconds"]
    assert (drift.items_before, drift.items_after) == (5, 0)
    assert any("data loss: 5 of 5" in o for o in drift.observations)
    assert drift.status == "Application running, table component not healthy: table not found: creating it"
    assert drift.restored and drift.restored_by == "the engine"

    settings = results["drift-settings"]
    assert settings.converged and settings.seconds is not None
    assert settings.observations == [f"tag managed-by: {ENGINE_TAGS['managed-by']!r} -> 'kvdemo-drift'"]

    index = results["change-index"]
    assert index.converged and index.mode == "in-place"
    assert (index.items_before, index.items_after) == (5, 5)
    assert index.restored and index.restored_by.startswith("the Application's declared spec")

    billing = results["change-billing"]
    assert billing.converged and billing.mode == "in-place"

    gone = results["delete-app"]
    assert gone.converged and gone.measures["tableGoneSeconds"] is not None
    assert gone.observations == ["audit: nothing left"]
    assert gone.restored and gone.restored_by == "pulumi up --refresh"
    assert demo.cluster.calls.count("restore") == 2 and "recreate" in demo.cluster.calls
    # Back where it started: the declared settings and the engine's tags.
    assert tables.read_state(ddb, demo.table).tags == ENGINE_TAGS
    assert any("drift-table: converged" in line for line in lines)


def test_an_engine_that_never_heals_is_reported_as_such_and_restored_by_a_controller_restart(ddb):
    demo, runner, lines = make_demo(ddb, "never")
    results = by_scenario(runner.run(demo, ["drift-table", "drift-settings"]))
    drift = results["drift-table"]
    assert not drift.converged and drift.seconds is None
    assert drift.measures == {"tableRecreatedSeconds": None, "apiReadySeconds": None, "declaredSettingsSeconds": None,
                              "restoreSeconds": 2.0}  # the restarted controller reconciles at once, seen at the next poll
    assert drift.status.startswith("kept reporting all is well")
    assert drift.restored and drift.restored_by == "a restart of the engine's controller"
    assert any(line.startswith(f"kro drift-table: did not converge within {WAIT:.0f} s") for line in lines)
    settings = results["drift-settings"]
    assert not settings.converged and settings.restored_by == "a restart of the engine's controller"
    # Waits are bounded and each one prints progress.
    assert any("… 30/60 s, waiting for" in line for line in lines)


def test_an_engine_that_replaces_the_table_on_a_change_shows_the_data_loss(ddb):
    demo, runner, _ = make_demo(ddb, "replaces")
    index = runner.run(demo, ["change-index"])[0]
    assert index.converged and index.mode == "replacement"
    assert (index.items_before, index.items_after) == (5, 0)
    assert "data loss: 5 of 5 items gone" in index.observations
    assert index.restored


def test_a_stuck_engine_is_restored_by_hand_and_the_result_says_so(ddb):
    demo, runner, _ = make_demo(ddb, "stuck", wait=20)
    results = by_scenario(runner.run(demo, ["drift-table", "drift-settings"]))
    for name in ("drift-table", "drift-settings"):
        assert not results[name].converged
        assert results[name].restored and results[name].restored_by == "direct DynamoDB calls (the engine did not)"
    state = tables.read_state(ddb, demo.table)
    assert state.active and state.tags == ENGINE_TAGS and state.settings()["ttl"] == (True, "expiresAt")


def test_what_cannot_be_restored_is_named_and_the_rest_is_skipped(ddb):
    demo, runner, lines = make_demo(ddb, "heals")
    demo.cluster.restore_problems = ["field manager kvdemo-compare still owns fields of the Application"]
    results = runner.run(demo, ["change-index", "change-billing", "delete-app"])
    assert not results[0].restored
    assert "field manager kvdemo-compare still owns fields of the Application" in results[0].not_restored
    assert [r.error for r in results[1:]] == ["not run: an earlier scenario could not be restored"] * 2
    assert any("NOT RESTORED" in line for line in lines)


def test_a_demo_not_in_its_declared_state_is_not_touched(ddb):
    demo, runner, lines = make_demo(ddb, "never")
    ddb.delete_table(TableName=demo.table)
    results = runner.run(demo, ["drift-settings", "delete-app"])
    assert [r.error for r in results] == [f"not run: table {demo.table} is missing"] * 2
    assert demo.cluster.calls == []


def test_repair_rebuilds_a_changed_table_from_its_declared_description(ddb):
    demo, _, _ = make_demo(ddb, "stuck")
    declared = tables.read_state(ddb, demo.table)
    arn = declared.description["TableArn"]
    ddb.update_table(TableName=demo.table, BillingMode="PROVISIONED",
                     ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 2})
    ddb.update_time_to_live(TableName=demo.table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expiresAt"})
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "extra", "Value": "x"}, {"Key": "owner", "Value": "someone"}])
    assert len(tables.read_state(ddb, demo.table).differences(declared)) == 3
    done = tables.repair(ddb, demo.table, declared, wait=5)
    assert tables.read_state(ddb, demo.table).differences(declared) == []
    assert "billing mode back to PAY_PER_REQUEST" in done and "removed tags extra" in done
    ddb.delete_table(TableName=demo.table)
    assert tables.repair(ddb, demo.table, declared, wait=5)[0] == "created the table from its declared description"
    assert tables.read_state(ddb, demo.table).differences(declared) == []


def test_managed_fields_are_put_back_as_pulumi_left_them():
    pulumi = {"manager": "pulumi-kubernetes-abc", "operation": "Apply", "fieldsV1": {"f:spec": {"f:components": {}}}}
    vela = {"manager": "kubevela", "operation": "Update", "subresource": "status", "fieldsV1": {"f:status": {}}}
    vela_now = {**vela, "time": "later"}
    ours = {"manager": "kvdemo-compare", "operation": "Update", "fieldsV1": {"f:spec": {"f:components": {}}}}
    pulumi_now = {**pulumi, "fieldsV1": {"f:metadata": {}}}  # lost spec.components to the update
    assert restored_managed_fields([pulumi_now, vela_now, ours], [pulumi, vela]) == [pulumi, vela]
    assert restored_managed_fields([vela_now, ours], [pulumi]) == [vela_now, pulumi]


class FakeDemos:
    def __init__(self, demos):
        self.demos = demos
        self.closed = False

    def open(self, approach):
        return self.demos.get(approach, "not deployed (`up x` deploys it)")

    def close(self):
        self.closed = True


def test_compare_command_records_results_per_approach_and_scenario(ddb, make_ctx):
    ctx = make_ctx()
    demo, runner, _ = make_demo(ddb, "never")
    clock = runner.clock
    demos = FakeDemos({"kro": demo})
    args = SimpleNamespace(approaches=[], scenario=["drift-table"], wait=40, restore_wait=40, poll=2.0)
    assert compare_command(ctx, args, demos=demos, clock=clock) == 0
    assert demos.closed
    recorded = ctx.measurements.load()
    assert set(recorded) == {"kro"}
    entry = recorded["kro"]["day2"]["drift-table"]
    assert entry["converged"] is False and entry["seconds"] is None and entry["waitSeconds"] == 40
    assert entry["restored"] is True
    assert "crossplane skipped: not deployed" in ctx.text() and "compare: done" in ctx.text()


def test_compare_command_fails_when_nothing_is_deployed(make_ctx):
    ctx = make_ctx()
    args = SimpleNamespace(approaches=["kratix"], scenario=[], wait=40, restore_wait=40, poll=2.0)
    assert compare_command(ctx, args, demos=FakeDemos({})) == 1
    assert "none of kratix is deployed" in ctx.text()


def test_cli_rejects_an_unknown_scenario_and_a_zero_wait(capsys):
    for argv in (["compare", "--scenario", "drift-everything"], ["compare", "--wait", "0"]):
        with pytest.raises(SystemExit) as exited:
            cli.parser().parse_args(argv)
        assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'drift-everything'" in err and "must be at least 1" in err
    args = cli.parser().parse_args(["compare", "kro", "--scenario", "delete-app"])
    assert (args.approaches, args.scenario, args.wait) == (["kro"], ["delete-app"], 660)


def test_ctrl_c_in_a_scenario_restores_the_demo_records_it_and_stops(ddb):
    demo, runner, lines = make_demo(ddb, "heals")
    change = demo.cluster.change_table

    def change_then_interrupt(properties):
        change(properties)
        demo.cluster.tick(runner.clock.now())  # the engine applies the change
        raise KeyboardInterrupt

    demo.cluster.change_table = change_then_interrupt
    seen = []
    with pytest.raises(KeyboardInterrupt):
        runner.run(demo, ["change-index", "delete-app"], on_result=seen.append)
    assert [(r.scenario, r.error, r.restored) for r in seen] == [("change-index", "interrupted", True)]
    state = tables.read_state(ddb, demo.table)
    assert "kvdemo-compare-by-user" not in state.indexes and demo.cluster.calls[-1] == "restore"


def test_on_real_dynamodb_the_settings_drift_leaves_ttl_alone(ddb):
    demo, runner, lines = make_demo(ddb, "stuck", wait=20)
    demo.ttl_drift = False
    settings = runner.run(demo, ["drift-settings"])[0]
    assert not settings.converged and set(settings.measures) == {"tagRestoredSeconds", "restoreSeconds"}
    assert any("a second TTL change within an hour is refused" in o for o in settings.observations)
    # Put back by hand: only the tag needed it.
    assert settings.restored_by == "direct DynamoDB calls (the engine did not)"
    assert "kro   set tags managed-by" in lines and not any("TTL enabled" in line for line in lines)


class Unreachable:
    """A DynamoDB client that answers the first `calls` requests, then loses the endpoint."""

    def __init__(self, client, calls):
        self.client, self.calls = client, calls
        self.exceptions = client.exceptions

    def __getattr__(self, name):
        method = getattr(self.client, name)

        def call(**kwargs):
            self.calls -= 1
            if self.calls < 0:
                from botocore.exceptions import EndpointConnectionError

                raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
            return method(**kwargs)

        return call


def test_a_target_that_stops_answering_stops_that_approach_and_is_reported(ddb, make_ctx):
    ctx = make_ctx()
    demo, runner, _ = make_demo(ddb, "never")
    demo.dynamodb = Unreachable(ddb, calls=3)  # the check before the first scenario, then nothing
    args = SimpleNamespace(approaches=["kro"], scenario=["drift-table"], wait=40, restore_wait=40, poll=2.0)
    assert compare_command(ctx, args, demos=FakeDemos({"kro": demo}), clock=runner.clock) == 1
    assert "kro        stopped: EndpointConnectionError" in ctx.text()
    assert "compare: kro: stopped (" in ctx.text() and "check it with `status kro`" in ctx.text()


def test_ctrl_c_while_the_application_is_being_deleted_waits_for_it_then_creates_it_again(ddb):
    demo, runner, _ = make_demo(ddb, "heals")
    delete = demo.cluster.delete_application

    def delete_then_interrupt():
        delete()
        raise KeyboardInterrupt

    demo.cluster.delete_application = delete_then_interrupt
    seen = []
    with pytest.raises(KeyboardInterrupt):
        runner.run(demo, ["delete-app"], on_result=seen.append)
    assert [(r.error, r.restored, r.restored_by) for r in seen] == [("interrupted", True, "pulumi up --refresh")]
    assert demo.cluster.calls == ["delete", "recreate"] and tables.read_state(ddb, demo.table).active


def test_an_application_whose_deletion_never_finishes_is_reported_with_what_is_left(ddb):
    demo, runner, lines = make_demo(ddb, "stuck", wait=20)
    gone = runner.run(demo, ["delete-app"])[0]
    assert not gone.converged and gone.seconds is None
    assert gone.observations == [f"audit: Table.fake default/sessions-table, DynamoDB table {demo.table} left"]
    assert not gone.restored and "recreate" not in demo.cluster.calls
    assert gone.not_restored == [
        "the Application is being deleted; when it is gone, `up kro` creates it again (`status kro` shows what holds it)"
    ]
    assert any("delete-app: NOT RESTORED" in line for line in lines)


@pytest.fixture
def session_api(moto_url, tmp_path):
    """The real session API (gunicorn) on a loopback port, on its own table in the moto server."""
    from session_api import local

    table = f"kvdemo-sessions-{uuid.uuid4().hex[:8]}"
    port = local.free_port()
    env = local.app_environment(moto_url, table, "us-east-1", port, READY_CACHE_SECONDS="0")
    process = local.start_gunicorn(env, tmp_path / "api.log")
    yield f"http://{local.LOOPBACK}:{port}", table
    local.stop(process)


def test_drift_table_measures_when_the_real_api_answers_ready_again(ddb, session_api):
    from tools.smoke import Api

    url, table = session_api
    clock = FakeClock()
    cluster = FakeCluster(ddb, table, clock, "heals", resync=30.0)
    api = Api(url, timeout=5.0)
    answers = []

    def api_ready():
        answers.append(api.call("GET", "/ready").status_code)
        return answers[-1] == 200

    demo = Demo("crossplane", table, ddb, cluster, api_ready)
    runner = Runner(lambda who, text: None, clock=clock, wait=WAIT, restore_wait=WAIT, poll=2.0)
    drift = runner.run(demo, ["drift-table"])[0]
    assert drift.converged and drift.restored_by == "the engine"
    # The API's /ready follows the table: not ready while it is gone, ready once the engine created it again.
    assert drift.measures["tableRecreatedSeconds"] <= drift.measures["apiReadySeconds"] <= 30 + 2
    assert answers[0] == 200 and 503 in answers and answers[-1] == 200


def test_compare_on_a_demo_that_is_not_up_says_what_to_do(make_ctx, fake_ops):
    ctx = make_ctx(ops=fake_ops())
    assert cli.main(["compare", "kro"], ctx) == 1
    assert "error: stack 'platform' does not exist: bring it up first (`up`)" in ctx.text()
    ctx = make_ctx(ops=fake_ops(existing={"platform"}, outputs={"platform": {"dynamodbMode": "local"}}))
    assert cli.main(["compare"], ctx) == 1
    assert "error: the platform stack has no kubeconfig output: bring it up first (`up platform`)" in ctx.text()
