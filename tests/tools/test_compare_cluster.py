"""The real cluster side of `compare` against an in-memory API server that tracks field ownership."""

from __future__ import annotations

import copy
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tools.compare import CompareError
from tools.compare_cluster import FIELD_MANAGER, KubeCluster
from tools.kube import KubeClient

APP_PATH = "/apis/core.oam.dev/v1beta1/namespaces/session-apps/applications/session-api-app-kro"
PULUMI = {"manager": "pulumi-kubernetes-4", "operation": "Apply", "fieldsV1": {"f:spec": {"f:components": {}}}}
VELA = {"manager": "kubevela", "operation": "Update", "subresource": "status", "fieldsV1": {"f:status": {}}}
SPEC = {"components": [
    {"name": "sessions-table-kro", "type": "aws-dynamodb-kro", "properties": {"tableName": "t", "billingMode": "PAY_PER_REQUEST"}},
    {"name": "session-api-kro", "type": "webservice", "properties": {"image": "x"}},
]}


class Response:
    def __init__(self, status: int, body: dict | None = None) -> None:
        self.status_code = status
        self._body = body or {}
        self.text = json.dumps(self._body)
        self.content = self.text.encode()

    def json(self) -> dict:
        return self._body


class FakeApiServer:
    """One Application, pods; an update that changes the spec moves `spec` ownership to its field manager."""

    def __init__(self, honour_managed_fields: bool = True) -> None:
        self.app = {
            "apiVersion": "core.oam.dev/v1beta1", "kind": "Application",
            "metadata": {"name": "session-api-app-kro", "namespace": "session-apps", "resourceVersion": "1",
                         "managedFields": [copy.deepcopy(PULUMI), copy.deepcopy(VELA)]},
            "spec": copy.deepcopy(SPEC),
            "status": {"status": "running", "services": [{"name": "sessions-table-kro", "healthy": False, "message": "waiting"}]},
        }
        self.pods = [{"metadata": {"namespace": "ack-system", "name": "ack-1"}}]
        self.honour = honour_managed_fields
        self.calls: list[tuple[str, str, dict]] = []
        self.status_write_after_reads: list[bool] = []
        """For each of the next reads of the Application: whether a status write (a new resourceVersion) follows it."""

    def _bump(self) -> None:
        self.app["metadata"]["resourceVersion"] = str(int(self.app["metadata"]["resourceVersion"]) + 1)

    def request(self, method, url, timeout=None, params=None, json=None, data=None, headers=None):
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()} | (params or {})
        self.calls.append((method, parts.path, query))
        if parts.path == APP_PATH:
            if method == "GET":
                read = copy.deepcopy(self.app)
                if self.status_write_after_reads and self.status_write_after_reads.pop(0):
                    self._bump()
                return Response(200, read)
            if method in ("PUT", "PATCH"):
                sent = json if method == "PUT" else __import__("json").loads(data)
                if sent["metadata"]["resourceVersion"] != self.app["metadata"]["resourceVersion"]:
                    return Response(409, {"reason": "Conflict", "message": "the object has been modified"})
            if method == "PUT":
                if json["spec"] != self.app["spec"]:
                    managed = [e for e in self.app["metadata"]["managedFields"] if e["manager"] != query["fieldManager"]]
                    for entry in managed:
                        entry.get("fieldsV1", {}).pop("f:spec", None)
                    managed.append({"manager": query["fieldManager"], "operation": "Update", "fieldsV1": {"f:spec": {}}})
                    self.app["metadata"]["managedFields"] = managed
                    self.app["spec"] = json["spec"]
                    self._bump()
                return Response(200, copy.deepcopy(self.app))
            if method == "PATCH":
                assert headers["Content-Type"] == "application/merge-patch+json"
                patch = __import__("json").loads(data)
                if self.honour:
                    self.app["metadata"]["managedFields"] = patch["metadata"]["managedFields"]
                self._bump()
                return Response(200, copy.deepcopy(self.app))
            if method == "DELETE":
                return Response(200, {})
        if parts.path == "/api/v1/pods" and method == "GET":
            return Response(200, {"items": self.pods, "metadata": {}})
        if parts.path.startswith("/api/v1/namespaces/") and method == "DELETE":
            return Response(200, {})
        return Response(404, {})

    def get(self, url, params=None, timeout=None):
        return self.request("GET", url, timeout=timeout, params=params)


def cluster(server: FakeApiServer, sleep=lambda seconds: None) -> KubeCluster:
    return KubeCluster(
        KubeClient("https://k8s.test", server), "kro", "session-apps", "t", recreate=lambda: None, sleep=sleep
    )


def test_a_change_and_its_restore_leave_spec_and_field_ownership_as_pulumi_left_them():
    server = FakeApiServer()
    kube = cluster(server)
    props = kube.table_properties()
    kube.change_table({**props, "billingMode": "PROVISIONED"})
    assert server.app["spec"]["components"][0]["properties"]["billingMode"] == "PROVISIONED"
    assert server.calls[-1][2]["fieldManager"] == FIELD_MANAGER
    assert any(e["manager"] == FIELD_MANAGER for e in server.app["metadata"]["managedFields"])

    assert kube.restore_application() == []
    assert server.app["spec"] == SPEC
    assert server.app["metadata"]["managedFields"] == [PULUMI, VELA]
    writes = [(m, q.get("fieldManager")) for m, p, q in server.calls if m in ("PUT", "PATCH")]
    assert writes == [("PUT", FIELD_MANAGER), ("PUT", FIELD_MANAGER), ("PATCH", FIELD_MANAGER)]


def test_a_write_that_meets_a_status_write_in_between_is_made_again_on_a_fresh_read():
    server = FakeApiServer()
    kube = cluster(server)
    props = kube.table_properties()
    server.status_write_after_reads = [True]
    kube.change_table({**props, "billingMode": "PROVISIONED"})
    assert server.app["spec"]["components"][0]["properties"]["billingMode"] == "PROVISIONED"
    # Reads: the spec (then a status write), the spec again, the managedFields (then a status write), again.
    server.status_write_after_reads = [True, False, True, False]
    assert kube.restore_application() == []
    assert server.app["spec"] == SPEC
    assert server.app["metadata"]["managedFields"] == [PULUMI, VELA]
    writes = [(m, q.get("fieldManager")) for m, p, q in server.calls if m in ("PUT", "PATCH")]
    assert writes == [("PUT", FIELD_MANAGER)] * 4 + [("PATCH", FIELD_MANAGER)] * 2
    assert not server.status_write_after_reads


def test_a_write_that_keeps_meeting_conflicts_gives_up_with_the_servers_answer():
    from tools.compare_cluster import Conflict

    server = FakeApiServer()
    pauses: list[float] = []
    kube = cluster(server, sleep=pauses.append)
    server.status_write_after_reads = [True] * 10
    with pytest.raises(Conflict, match="HTTP 409"):
        kube.change_table({"tableName": "t", "billingMode": "PROVISIONED"})
    assert server.app["spec"] == SPEC
    # client-go's DefaultBackoff: four attempts, three pauses growing fivefold from 10 ms, each
    # lengthened by at most a tenth.
    assert [m for m, p, _ in server.calls if m == "PUT"] == ["PUT"] * 4
    assert len(pauses) == 3
    for pause, base in zip(pauses, (0.01, 0.05, 0.25)):
        assert base <= pause <= base * 1.1


def test_a_write_after_one_conflict_pauses_once_and_lands():
    server = FakeApiServer()
    pauses: list[float] = []
    kube = cluster(server, sleep=pauses.append)
    server.status_write_after_reads = [True]
    kube.change_table({"tableName": "t", "billingMode": "PROVISIONED"})
    assert server.app["spec"]["components"][0]["properties"]["billingMode"] == "PROVISIONED"
    assert len(pauses) == 1 and 0.01 <= pauses[0] <= 0.011


def test_every_write_goes_through_the_clients_request_that_renews_credentials():
    # KubeClient.request renews exec credentials after a 401 (tested against the TLS fake API
    # server in test_cli_existing_cluster.py); compare's writes must use it, not the bare session.
    server = FakeApiServer()
    kube = cluster(server)
    sent = []
    request = kube.kube.request
    kube.kube.request = lambda method, path, **kwargs: sent.append(method) or request(method, path, **kwargs)
    kube.change_table({"tableName": "t", "billingMode": "PROVISIONED"})
    kube.restore_application()
    assert "PUT" in sent and "PATCH" in sent
    assert [m for m, _, _ in server.calls if m in ("PUT", "PATCH")] == [m for m in sent if m in ("PUT", "PATCH")]


def test_restore_says_so_when_the_server_keeps_our_field_manager():
    server = FakeApiServer(honour_managed_fields=False)
    kube = cluster(server)
    kube.change_table({"tableName": "t", "billingMode": "PROVISIONED"})
    assert kube.restore_application() == [f"field manager {FIELD_MANAGER} still owns fields of the Application"]


def test_health_restart_and_a_missing_application():
    server = FakeApiServer()
    kube = cluster(server)
    health = kube.app_health()
    assert (health.phase, health.table_healthy, health.message, health.deleting) == ("running", False, "waiting", False)
    server.app["metadata"]["deletionTimestamp"] = "2026-12-01T10:00:00Z"
    assert kube.app_health().deleting
    del server.app["metadata"]["deletionTimestamp"]
    assert "ACK DynamoDB controller (1 pod(s) deleted" in kube.restart_engine()
    listed = next(q for m, p, q in server.calls if p == "/api/v1/pods")
    assert listed["labelSelector"] == "app.kubernetes.io/instance=ack-dynamodb-controller"
    assert ("DELETE", "/api/v1/namespaces/ack-system/pods/ack-1", {}) in server.calls
    server.pods = []
    with pytest.raises(CompareError, match="no pod with app.kubernetes.io/instance=ack-dynamodb-controller"):
        kube.restart_engine()
    server.app = None
    server.request = lambda method, url, **kw: Response(404, {})
    with pytest.raises(CompareError, match="Application session-apps/session-api-app-kro not found: `up kro`"):
        cluster(server)


def test_the_crossplane_provider_pods_are_found_by_the_provider_name_the_stack_gives_them():
    from components import versions
    from components.crossplane import package_object_name
    from tools.compare_cluster import engine_pod_selector

    selector, what = engine_pod_selector("crossplane")
    assert selector == f"pkg.crossplane.io/provider={package_object_name(versions.CROSSPLANE_DYNAMODB_PROVIDER)}"
    # The name itself, so a change in how the Provider is named shows here too: Crossplane labels the
    # provider's pods with the Provider object's name, which the stack gives the pinned package.
    assert selector == "pkg.crossplane.io/provider=crossplane-contrib-provider-aws-dynamodb"
    assert "crossplane-contrib-provider-aws-dynamodb" in what
    assert engine_pod_selector("kratix") == engine_pod_selector("kro")  # both end in the platform's ACK controller
