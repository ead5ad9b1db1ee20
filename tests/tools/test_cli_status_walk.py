"""`status`: the walk names the object and condition that blocks (fake Kubernetes API)."""

from __future__ import annotations

import base64

import pytest

from tools.kube import KubeClient, KubeError, NotFound
from tools.status import walk


class FakeKube:
    def __init__(self, objects):
        self.objects = objects

    def get(self, path, params=None):
        if path not in self.objects:
            raise NotFound(path)
        return self.objects[path]

    def list(self, path):
        return self.get(path).get("items", [])


APP_PATH = "/apis/core.oam.dev/v1beta1/namespaces/session-apps/applications/session-api-app-{}"


def app(engine, phase, services, applied=()):
    return {"status": {"status": phase, "services": services, "appliedResources": list(applied)}}


def test_missing_application_says_which_stack_to_bring_up():
    result = walk(FakeKube({}), "kro", "session-apps", "kvdemo-sessions-kro", None)
    assert not result.ready
    assert "is the `kro` stack up? (`up kro`)" in "\n".join(result.lines())


def test_crossplane_stuck_on_a_managed_resource_condition():
    table = {
        "metadata": {"name": "sessions-table-xp", "namespace": "session-apps"},
        "status": {"conditions": [
            {"type": "Synced", "status": "False", "reason": "ReconcileError", "message": "cannot get credentials"},
            {"type": "Ready", "status": "False", "reason": "Creating"},
        ]},
    }
    kube = FakeKube({
        APP_PATH.format("xp"): app("xp", "runningWorkflow", [
            {"name": "sessions-table-xp", "healthy": False, "message": "Synced=False: cannot get credentials"},
            {"name": "session-api", "healthy": False, "traits": [{"type": "http-ingress", "healthy": False}]},
        ], [{"apiVersion": "dynamodb.aws.m.upbound.io/v1beta1", "kind": "Table", "name": "sessions-table-xp",
             "namespace": "session-apps"}]),
        "/apis/dynamodb.aws.m.upbound.io/v1beta1/namespaces/session-apps/tables/sessions-table-xp": table,
    })
    result = walk(kube, "crossplane", "session-apps", "kvdemo-sessions-xp", lambda t: None)
    text = "\n".join(result.lines())
    assert "blocked by condition Synced=False (ReconcileError): cannot get credentials" in text
    assert "blocked by trait http-ingress of session-api: unhealthy" in text
    assert "=> stuck at Table.dynamodb.aws.m.upbound.io session-apps/sessions-table-xp" in text
    assert "DynamoDB table kvdemo-sessions-xp — status does not exist" in text


def test_kro_ready_all_the_way_down():
    kube = FakeKube({
        APP_PATH.format("kro"): app("kro", "running", [{"name": "sessions-table-kro", "healthy": True}]),
        "/apis/kro.run/v1alpha1/namespaces/session-apps/dynamodbtables/sessions-table-kro": {
            "metadata": {"name": "sessions-table-kro", "namespace": "session-apps"},
            "status": {"state": "ACTIVE", "conditions": [{"type": "Ready", "status": "True"}]},
        },
        "/apis/dynamodb.services.k8s.aws/v1alpha1/tables": {"items": [
            {"metadata": {"name": "other"}, "spec": {"tableName": "other"}},
            {"metadata": {"name": "sessions-table-kro", "namespace": "session-apps"},
             "spec": {"tableName": "kvdemo-sessions-kro"},
             "status": {"tableStatus": "ACTIVE", "conditions": [
                 {"type": "ACK.ResourceSynced", "status": "True"}, {"type": "ACK.Terminal", "status": "False"}]}},
        ]},
    })
    result = walk(kube, "kro", "session-apps", "kvdemo-sessions-kro", lambda t: "ACTIVE")
    assert result.ready, result.lines()
    assert len(result.links) == 5  # Application, component, DynamoDBTable, ACK Table, DynamoDB table


def test_kratix_without_an_ack_table_points_at_the_pipeline_and_flux():
    kube = FakeKube({
        APP_PATH.format("kratix"): app("kratix", "runningWorkflow", [{"name": "sessions-table-kratix", "healthy": False}]),
        "/apis/dynamodb.kubevela-dynamodb.dev/v1alpha1/namespaces/session-apps/dynamodbrequests/sessions-table-kratix": {
            "metadata": {"name": "sessions-table-kratix", "namespace": "session-apps", "deletionTimestamp": "2026-01-01T00:00:00Z",
                         "finalizers": ["kratix.io/work-cleanup"]},
            "status": {"conditions": [{"type": "ConfigureWorkflowCompleted", "status": "False", "reason": "PipelineNotCompleted"}]},
        },
        "/apis/dynamodb.services.k8s.aws/v1alpha1/tables": {"items": []},
    })
    text = "\n".join(walk(kube, "kratix", "session-apps", "kvdemo-sessions-kratix", None).lines())
    assert "condition ConfigureWorkflowCompleted=False (PipelineNotCompleted)" in text
    assert "being deleted since 2026-01-01T00:00:00Z; finalizers ['kratix.io/work-cleanup']" in text
    assert "kubectl get works,workplacements,kustomizations -A" in text
    assert "=> stuck at DynamoDBRequest.dynamodb.kubevela-dynamodb.dev session-apps/sessions-table-kratix" in text
    assert "the DynamoDB target cannot be reached from here" in text


def test_ack_terminal_true_is_a_blocker():
    kube = FakeKube({
        APP_PATH.format("kro"): app("kro", "running", [{"name": "sessions-table-kro", "healthy": True}]),
        "/apis/kro.run/v1alpha1/namespaces/session-apps/dynamodbtables/sessions-table-kro": {
            "metadata": {"name": "sessions-table-kro"}, "status": {"state": "IN_PROGRESS", "conditions": []}},
        "/apis/dynamodb.services.k8s.aws/v1alpha1/tables": {"items": [
            {"metadata": {"name": "t", "namespace": "session-apps"}, "spec": {"tableName": "kvdemo-sessions-kro"},
             "status": {"conditions": [{"type": "ACK.Terminal", "status": "True", "message": "ValidationException"}]}}]},
    })
    text = "\n".join(walk(kube, "kro", "session-apps", "kvdemo-sessions-kro", lambda t: None).lines())
    assert "condition ACK.Terminal=True: ValidationException" in text
    assert "state IN_PROGRESS" in text
    assert "=> stuck at Table.dynamodb.services.k8s.aws session-apps/t" in text


def _kubeconfig(user):
    return f"""
apiVersion: v1
kind: Config
current-context: k3d-demo
contexts: [{{name: k3d-demo, context: {{cluster: c, user: u}}}}]
clusters: [{{name: c, cluster: {{server: 'https://127.0.0.1:6550', certificate-authority-data: {base64.b64encode(b'CA').decode()}}}}}]
users: [{{name: u, user: {user}}}]
"""


def test_kubeconfig_with_client_certificate_writes_private_files_and_removes_them():
    data = base64.b64encode(b"PEM").decode()
    kube = KubeClient.from_kubeconfig(_kubeconfig(f"{{client-certificate-data: {data}, client-key-data: {data}}}"))
    cert, key = kube.session.cert
    import os

    assert oct(os.stat(key).st_mode & 0o777) == "0o600"
    assert open(kube.session.verify, "rb").read() == b"CA"
    kube.close()
    assert not os.path.exists(cert)


def test_kubeconfig_errors_are_clear_and_do_not_echo_content():
    with pytest.raises(KubeError, match="exec plugin apiVersion None is not one of"):
        KubeClient.from_kubeconfig(_kubeconfig("{exec: {command: aws}}"))
    with pytest.raises(KubeError, match="removed auth-provider 'gcp'; use its exec plugin instead"):
        KubeClient.from_kubeconfig(_kubeconfig("{auth-provider: {name: gcp}}"))
    with pytest.raises(KubeError, match="not valid YAML at line") as bad:
        KubeClient.from_kubeconfig("key: [unclosed SECRET-TOKEN")
    assert "SECRET-TOKEN" not in str(bad.value)
    with pytest.raises(KubeError, match="no kubeconfig"):
        KubeClient.from_kubeconfig(None)
