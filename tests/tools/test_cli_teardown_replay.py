"""`down kratix` then `down platform`, replayed against a model of the cluster.

The kratix stack's destroy is replayed in the order Pulumi may delete its real
program's resources (the offline plan: nothing is deleted before what depends on
it); each deletion has the effect it has in the cluster:

- the Application: KubeVela deletes the DynamoDBRequest, Kratix removes its file;
- Flux, every 10 s: applies the bucket, and prunes a Table whose file is gone
  WITHOUT waiting, dropping it from its inventory (kustomize-controller v1.6.1);
- ACK, while it runs: deletes a pruned table, then its finalizer (slower than the
  rest of the destroy: the real race);
- the Kustomization: WaitForTermination for what is still in its inventory;
- the tables' wait: the real tools.wait_tables_gone against the model;
- the platform's destroy: ACK is gone.

A Table left with ACK's finalizer and no ACK is what must never happen.
"""

from __future__ import annotations

import io

import pytest

from tools import cli
from tools import wait_tables_gone as wait
from tools.kube import NotFound
from tools.mock_harness import PlanResult
from tools.plan import plan

from test_cli_commands import ScriptedTarget

APPLICATION = ("kubernetes:core.oam.dev/v1beta1:Application", "session-api-app-kratix")
WAIT = ("command:local:Command", "kratix-tables-gone-wait")
RESOURCES = ("kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization", "kratix-destination-resources")
PROMISE = ("kubernetes:platform.kratix.io/v1alpha1:Promise", "dynamodb-promise")
FLUX = ("kubernetes:helm.sh/v3:Release", "flux")
KRATIX = ("kubernetes:helm.sh/v3:Release", "kratix")
REQUEST = ("session-apps", "sessions-table-kratix")
TABLE = "kvdemo-sessions-kratix"
PLATFORM_OUT = {"dynamodbMode": "local", "dynamodbRegion": "us-east-1", "tablePrefix": "kvdemo-"}


class Cluster:
    FLUX_INTERVAL = 10
    ACK_DELETE_SECONDS = 60

    def __init__(self, ack_can_delete: bool = True) -> None:
        self.now = 0
        self.ack_running = True
        self.ack_can_delete = ack_can_delete
        self.flux_running = True
        self.kratix_running = True
        self.requests = {REQUEST}
        self.files = {REQUEST}
        self.inventory = {REQUEST}
        self.tables: dict[tuple, int | None] = {REQUEST: None}  # -> time its deletion started
        self.dynamodb = {TABLE}
        self.next_flux = self.FLUX_INTERVAL

    # time
    def clock(self) -> float:
        return float(self.now)

    def advance(self, seconds: float) -> None:
        for _ in range(int(seconds)):
            self.now += 1
            self._controllers()

    def _controllers(self) -> None:
        if self.flux_running and self.now >= self.next_flux:
            self.next_flux += self.FLUX_INTERVAL
            for stale in self.inventory - self.files:
                if stale in self.tables and self.tables[stale] is None:
                    self.tables[stale] = self.now  # prune: delete, do not wait
            self.inventory = set(self.files)
        if self.ack_running and self.ack_can_delete:
            for key, since in list(self.tables.items()):
                if since is not None and self.now - since >= self.ACK_DELETE_SECONDS:
                    self.dynamodb.discard(TABLE)
                    del self.tables[key]  # the finalizer goes last

    # what the stacks' deletions do
    def delete_request(self) -> None:
        self.requests.discard(REQUEST)
        if self.kratix_running:
            self.files.discard(REQUEST)

    def delete_kustomization(self, timeout: int = 300) -> None:
        """WaitForTermination, for what is still in the inventory."""
        waiting = [k for k in self.inventory if k in self.tables]
        for key in waiting:
            if self.tables[key] is None:
                self.tables[key] = self.now
        deadline = self.now + timeout
        while any(k in self.tables for k in waiting) and self.now < deadline:
            self.advance(1)
        self.flux_running = False

    def stuck(self) -> list[tuple]:
        """Tables holding ACK's finalizer with no ACK left to remove it."""
        return [] if self.ack_running else sorted(self.tables)

    # the Kubernetes API, as tools.kube.KubeClient answers it
    def list(self, path, params=None):
        assert path == wait.TABLES_PATH and params == {"labelSelector": wait.REQUEST_LABEL}
        items = []
        for (namespace, name), since in sorted(self.tables.items()):
            meta = {"name": name, "namespace": namespace, "labels": {wait.REQUEST_LABEL: name},
                    "finalizers": ["finalizers.dynamodb.services.k8s.aws/Table"]}
            if since is not None:
                meta["deletionTimestamp"] = f"t+{since}s"
            items.append({"metadata": meta, "spec": {"tableName": TABLE}})
        return iter(items)

    def get(self, path, params=None):
        if path == wait.REQUESTS_PATH.format(namespace=REQUEST[0], name=REQUEST[1]) and REQUEST in self.requests:
            return {}
        raise NotFound(path)


def destroy_order(program: PlanResult) -> list[tuple[str, str]]:
    """A deletion order Pulumi may take: nothing goes before what depends on it."""
    keys = {(r.type, r.name) for r in program.registrations}
    dependents = {k: set() for k in keys}
    for r in program.registrations:
        for dep in r.dependencies:
            type_, _, name = dep.partition("::")
            if (type_, name) in keys:
                dependents[(type_, name)].add((r.type, r.name))
    order, gone = [], set()
    while len(order) < len(keys):
        ready = sorted(k for k in keys - gone if dependents[k] <= gone)
        assert ready, "dependency cycle"
        order.append(ready[0])
        gone.add(ready[0])
    return order


def replay_kratix_destroy(program: PlanResult, cluster: Cluster) -> None:
    order = destroy_order(program)
    # A renamed resource would otherwise be skipped silently and the replay prove nothing.
    # (The wait is absent only from `without_the_wait`'s program.)
    modelled = {APPLICATION, RESOURCES, FLUX, KRATIX} | ({WAIT} & {(r.type, r.name) for r in program.registrations})
    assert modelled <= set(order), f"not in the kratix program: {sorted(modelled - set(order))}"
    for key in order:
        if key == APPLICATION:
            cluster.delete_request()
        elif key == WAIT:
            environ = program.find(*WAIT).inputs["environment"]
            err = io.StringIO()
            code = wait.main(environ, client_factory=lambda _, context=None: cluster, out=io.StringIO(), err=err,
                             clock=cluster.clock, sleep=cluster.advance)
            if code != 0:
                raise RuntimeError(f"error: kratix-tables-gone-wait: {err.getvalue()}")
        elif key == RESOURCES:
            cluster.delete_kustomization()
        elif key == FLUX:
            cluster.flux_running = False
        elif key == KRATIX:
            cluster.kratix_running = False
        cluster.advance(1)


def without_the_wait(program: PlanResult) -> PlanResult:
    """The same program as it was before the wait existed (its edges go with it)."""
    wait_key = f"{WAIT[0]}::{WAIT[1]}"
    kept = []
    for r in program.registrations:
        if (r.type, r.name) == WAIT:
            continue
        urns = [u for u in r.dependency_urns if not u.endswith(f"::{WAIT[1]}")]
        kept.append(type(r)(r.type, r.name, r.urn, r.parent_urn, urns, r.raw_inputs, r.options, r.custom))
    assert all(wait_key not in r.dependencies for r in kept)
    return PlanResult(program.stack, kept)


@pytest.fixture(scope="module")
def kratix_program() -> PlanResult:
    return plan("kratix")


def _ops(fake_ops, program: PlanResult, cluster: Cluster):
    def on_destroy(stack):
        if stack == "kratix":
            replay_kratix_destroy(program, cluster)
        elif stack == "platform":
            cluster.ack_running = False

    return fake_ops(existing={"platform", "kratix"}, outputs={"platform": PLATFORM_OUT}, on_destroy=on_destroy)


@pytest.mark.parametrize("skip_audit", [False, True])
def test_down_kratix_then_down_platform_leaves_no_table_without_its_controller(
    make_ctx, fake_ops, kratix_program, skip_audit
):
    cluster = Cluster()
    ops = _ops(fake_ops, kratix_program, cluster)
    ctx = make_ctx(ops, target=ScriptedTarget(cluster.dynamodb))
    assert cli.main(["down", "kratix"], ctx) == 0
    # The kratix destroy returned only once ACK had deleted the table and its Table.
    assert cluster.tables == {} and cluster.dynamodb == set()
    assert cli.main(["down", "platform"] + (["--skip-audit"] if skip_audit else []), ctx) == 0
    assert ("down", "platform") in ops.calls
    assert cluster.stuck() == []


def test_without_the_wait_the_same_sequence_strands_the_table(kratix_program):
    """The race the wait closes: Flux prunes, Kratix and Flux go, ACK is still deleting."""
    cluster = Cluster()
    replay_kratix_destroy(without_the_wait(kratix_program), cluster)
    assert REQUEST in cluster.tables and not cluster.flux_running and not cluster.kratix_running
    cluster.ack_running = False  # `pulumi destroy --stack platform` right after
    assert cluster.stuck() == [REQUEST]


def test_a_table_ack_cannot_delete_stops_the_kratix_destroy_and_keeps_the_platform(
    make_ctx, fake_ops, kratix_program
):
    cluster = Cluster(ack_can_delete=False)
    ops = _ops(fake_ops, kratix_program, cluster)
    ctx = make_ctx(ops, target=ScriptedTarget(cluster.dynamodb))
    assert cli.main(["down", "kratix"], ctx) == 1
    text = ctx.text()
    assert "1 ACK Table(s) made by the DynamoDB Promise still exist after 10 minute(s)" in text
    # Stopped before the Promise, Flux and Kratix: they are still there to finish the job.
    assert cluster.flux_running and cluster.kratix_running
    assert cli.main(["down", "platform", "--skip-audit"], ctx) == 1
    assert ("down", "platform") not in ops.calls
    assert "controllers (in the platform)" in ctx.text()
    assert cluster.ack_running and cluster.stuck() == []
