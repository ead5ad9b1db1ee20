"""Every container of ours the four stacks define, started as the kubelet starts it.

The pods come from the offline plans and the CUE the platform installs (see
workloads.py); the environment, volumes, command and probes follow the kubelet
(see kubelet.py). Images we cannot run here -- the vendor controllers, MinIO and
mc, Kratix's reader/work-writer -- are not started; docs/testing.md lists them.
"""

from __future__ import annotations

import copy
import json
import threading
import urllib.request

import boto3
import pytest
import yaml

from apiserver import ApiServer
from app.session_api import table as session_table
from kubelet import Remap, free_port, start_container
from pod_helpers import APPROACHES, moto_image, start_moto
from workloads import (SERVICE_ACCOUNT_MOUNT, kratix_pipeline_pods, kratix_request, pod_written_by,
                       with_service_account, written_pods)


def _dynamodb(port: int, region: str):
    return boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name=region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


# ─── Service links: the fix and the hazard ─────────────────────────────────


def test_every_pod_the_stacks_write_runs_without_service_links(plans):
    pods = [pod for stack in plans.values() for pod in written_pods(stack)]
    assert {pod.origin for pod in pods} >= {"Deployment moto", "Deployment minio", "Job minio-create-bucket"}
    linked = [pod.origin for pod in pods if pod.spec.get("enableServiceLinks", True)]
    assert linked == [], f"pods that would get service-link variables: {linked}"


def test_the_moto_pod_gets_the_kubelet_environment_and_answers_dynamodb(moto, plans):
    container, port = moto
    # enableServiceLinks false: only the API server's variables, as the kubelet always adds.
    assert "MOTO_PORT" not in container.env
    assert container.env["KUBERNETES_SERVICE_HOST"] == "10.43.0.1"
    assert container.env["KUBERNETES_PORT"] == "tcp://10.43.0.1:443"
    # The wrapper that runs is the ConfigMap's copy, mounted where the command names it.
    assert container.argv[1].endswith("/opt/moto-wrapper/moto_server.py")
    tables = _dynamodb(port, plans["platform"].outputs["dynamodbRegion"]).list_tables()
    assert tables["ResponseMetadata"]["HTTPStatusCode"] == 200


def _links_on(pod):
    pod = copy.deepcopy(pod)
    pod.spec["enableServiceLinks"] = True  # the Kubernetes default
    return pod


def test_with_service_links_moto_itself_crashes(plans, cluster, tmp_path):
    """The hazard: moto's own server (the image's entrypoint), given the variables the
    kubelet injects for the `moto` Service, dies before it listens."""
    pod = _links_on(pod_written_by(plans["platform"], "Deployment", "moto"))
    container = pod.container("moto")
    unwrapped = {**container, "command": ["python", "-m", "moto.server"], "volumeMounts": []}
    started = start_container(cluster=cluster, namespace=pod.namespace, pod_spec=pod.spec, container=unwrapped,
                              image=moto_image(tmp_path / ".image-moto"), root=tmp_path,
                              remap=Remap(ports={5000: free_port()}))
    assert started.env["MOTO_PORT"].startswith("tcp://10.43.")
    assert started.wait(timeout=60) != 0
    assert "ValueError: invalid literal for int()" in started.output()


def test_with_service_links_the_wrapper_still_boots(plans, cluster, tmp_path):
    """Defence in depth: should links ever be on, the wrapper drops the bogus MOTO_PORT."""
    pod = _links_on(pod_written_by(plans["platform"], "Deployment", "moto"))
    container, port = start_moto(cluster, pod, tmp_path)
    try:
        assert container.env["MOTO_PORT"] == f"tcp://{cluster.service('dynamodb-emulator', 'moto')['clusterIP']}:5000"
        container.wait_ready()
        assert "ignoring MOTO_PORT='tcp://10.43." in container.output()
    finally:
        container.stop()


# ─── The session API of each approach ──────────────────────────────────────


@pytest.fixture(scope="module")
def session_apis(plans, cluster, moto, session_api_pods, session_api_image, tmp_path_factory):
    """approach -> (container or the error that stopped it, port, table client).

    Started together and probed concurrently: each start costs its interpreter's
    imports, and three in a row would triple that.
    """
    platform = plans["platform"].outputs
    dynamodb = _dynamodb(moto[1], platform["dynamodbRegion"])
    endpoint = platform["dynamodbEndpoint"].removeprefix("http://")
    started = {}
    for approach in APPROACHES:
        pod, _service = session_api_pods[approach]
        (container,) = pod.spec["containers"]
        # The engine (a vendor controller, not run here) would have created the table the
        # component asks for; create the same one in the emulator pod.
        table_name = plans[approach].outputs["tableName"]
        if table_name not in dynamodb.list_tables()["TableNames"]:
            dynamodb.create_table(**session_table.create_table_kwargs(table_name))
        port = free_port()
        started[approach] = (start_container(
            cluster=cluster, namespace=pod.namespace, pod_spec=pod.spec, container=container,
            image=session_api_image, root=tmp_path_factory.mktemp(f"session-api-{approach}"),
            remap=Remap(
                ports={8080: port},
                # The image reads its bind address and port from HOST (default 0.0.0.0) and
                # PORT (image ENV 8080); here they are loopback and a free port.
                env={"HOST": "127.0.0.1", "PORT": str(port)},
                # The trait points the SDK at the emulator's Service DNS name; here that
                # name is the moto pod started above.
                addresses={endpoint: f"127.0.0.1:{moto[1]}"},
            ),
        ), port)
    errors: dict[str, BaseException] = {}

    def ready(approach):
        try:
            started[approach][0].wait_ready()
        except BaseException as error:  # reported by that approach's test
            errors[approach] = error

    threads = [threading.Thread(target=ready, args=(a,)) for a in APPROACHES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        yield {a: (errors.get(a, started[a][0]), started[a][1], dynamodb) for a in APPROACHES}
    finally:
        for container, _ in started.values():
            container.terminate()  # all at once: each takes a moment to shut down
        for container, _ in started.values():
            container.stop()


@pytest.mark.parametrize("approach", APPROACHES)
def test_session_api_pod_boots_against_the_emulator(approach, plans, session_apis, session_api_pods):
    started, port, dynamodb = session_apis[approach]
    if isinstance(started, BaseException):
        raise started
    table_name = plans[approach].outputs["tableName"]
    # The variables the pod really gets: the trait's, the Secret's, and the service links
    # of every Service in the apps namespace (the three session APIs').
    env = started.env
    assert env["TABLE_NAME"] == table_name
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env["AWS_ENDPOINT_URL_DYNAMODB"].startswith("http://127.0.0.1:")
    for _, other in session_api_pods.values():
        link = other["metadata"]["name"].upper().replace("-", "_")
        assert env[f"{link}_PORT"].startswith("tcp://10.43.")
        assert env[f"{link}_SERVICE_PORT_PORT_8080"] == "8080"

    base = f"http://127.0.0.1:{port}"
    request = urllib.request.Request(f"{base}/sessions", data=json.dumps({"userId": "pod-test"}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        created = json.load(answer)
    with urllib.request.urlopen(f"{base}/sessions/{created['sessionId']}", timeout=10) as answer:
        assert json.load(answer)["userId"] == "pod-test"
    item = dynamodb.get_item(TableName=table_name, Key={"sessionId": {"S": created["sessionId"]}})
    assert item["Item"]["userId"] == {"S": "pod-test"}


# ─── The Kratix pipeline ───────────────────────────────────────────────────


@pytest.fixture
def kratix(plans, cue, cluster, tmp_path):
    """The request the kratix Application makes, its two pipeline pods (with their
    ServiceAccount token), and an API server standing in for the cluster's."""
    request = kratix_request(plans["kratix"], cue)
    api = ApiServer(tmp_path / "apiserver", token="pipeline-token")
    pods = [with_service_account(pod, cluster, api.token, api.ca_pem)
            for pod in kratix_pipeline_pods(plans["kratix"], request)]
    try:
        yield request, pods, api
    finally:
        api.close()


def run_pipeline_pod(pod, cluster, image, root, api) -> list:
    """Kratix's reader, then each Pipeline container in order, as init containers run."""
    # What the reader (Kratix's own image) writes: the request, read from the API.
    request = yaml.safe_load((root.parent / "request.yaml").read_text())
    (root / ".volumes" / "shared-input").mkdir(parents=True)
    (root / ".volumes" / "shared-input" / "object.yaml").write_text(yaml.safe_dump(request))
    runs = []
    for container in pod.spec["initContainers"]:
        started = start_container(
            cluster=cluster, namespace=pod.namespace, pod_spec=pod.spec, container=container, image=image,
            root=root, extra_env=pod.extra_env,
            remap=Remap(env={
                # The program reads /kratix from KRATIX_DIR (default /kratix) and the token
                # from SERVICE_ACCOUNT_DIR (default the kubelet's mount path).
                "KRATIX_DIR": str(root / "kratix"),
                "SERVICE_ACCOUNT_DIR": str(root / SERVICE_ACCOUNT_MOUNT.lstrip("/")),
                # The API server's Service address is the stand-in on loopback.
                "KUBERNETES_SERVICE_HOST": "127.0.0.1",
                "KUBERNETES_SERVICE_PORT": str(api.port),
            }),
        )
        started.wait(timeout=60)
        runs.append(started)
        if started.process.returncode != 0:  # an init container that fails stops the pod
            break
    return runs


def test_kratix_pipelines_run_in_their_pods(plans, kratix, cluster, pipeline_image, tmp_path):
    request, (create, status), api = kratix
    (tmp_path / "request.yaml").write_text(yaml.safe_dump(request))
    assert request["metadata"] == {"name": "sessions-table-kratix", "namespace": "session-apps"}

    (run,) = run_pipeline_pod(create, cluster, pipeline_image, tmp_path / "create-table", api)
    assert run.process.returncode == 0, run.describe()
    assert run.env["KRATIX_PIPELINE_NAME"] == "create-table"
    assert run.env["SESSION_API_KRATIX_PORT"].startswith("tcp://10.43.")  # Kratix's pods get service links
    out = tmp_path / "create-table" / "kratix"
    table = yaml.safe_load((out / "output" / "table.yaml").read_text())
    assert table["kind"] == "Table" and table["spec"]["tableName"] == plans["kratix"].outputs["tableName"]
    assert yaml.safe_load((out / "metadata" / "status.yaml").read_text())["tableStatus"] == "REQUESTED"

    # table-status before Flux applied the Table: PENDING, and Kratix is asked to retry.
    # A 404 on the Table is told from a missing Table API by discovery, which a cluster
    # with ACK's CRDs serves.
    group_version = "/apis/dynamodb.services.k8s.aws/v1alpha1"
    api.objects[group_version] = {"kind": "APIResourceList", "groupVersion": "dynamodb.services.k8s.aws/v1alpha1",
                                  "resources": [{"name": "tables", "namespaced": True, "kind": "Table"}]}
    (run,) = run_pipeline_pod(status, cluster, pipeline_image, tmp_path / "status-1", api)
    assert run.process.returncode == 0, run.describe()
    path = "/apis/dynamodb.services.k8s.aws/v1alpha1/namespaces/session-apps/tables/sessions-table-kratix"
    assert api.requests == [(path, "Bearer pipeline-token"), (group_version, "Bearer pipeline-token")]
    metadata = tmp_path / "status-1" / "kratix" / "metadata"
    status_1 = yaml.safe_load((metadata / "status.yaml").read_text())
    assert status_1["tableStatus"] == "PENDING" and "waiting for Flux" in status_1["message"]
    assert yaml.safe_load((metadata / "workflow-control.yaml").read_text()) == {"retryAfter": "15s"}

    # Once ACK reports the table ACTIVE and synced with the request, the workflow completes.
    arn = f"arn:aws:dynamodb:us-east-1:000000000000:table/{table['spec']['tableName']}"
    api.objects[path] = {**table, "status": {"tableStatus": "ACTIVE", "ackResourceMetadata": {"arn": arn},
                                             "conditions": [{"type": "ACK.ResourceSynced", "status": "True"}]}}
    (run,) = run_pipeline_pod(status, cluster, pipeline_image, tmp_path / "status-2", api)
    assert run.process.returncode == 0, run.describe()
    metadata = tmp_path / "status-2" / "kratix" / "metadata"
    assert yaml.safe_load((metadata / "status.yaml").read_text())["tableArn"] == arn
    assert not (metadata / "workflow-control.yaml").exists()


def test_kratix_status_step_explains_an_api_refusal_and_retries(kratix, cluster, pipeline_image, tmp_path):
    """A refused read is "not known yet": said in the status, retried in 15 s, never a failed Job
    (which Kratix would retry only at its next reconcile, 10 h later)."""
    request, (_create, status), api = kratix
    (tmp_path / "request.yaml").write_text(yaml.safe_dump(request))
    api.token = "another-token"  # the pod's token is refused
    (run,) = run_pipeline_pod(status, cluster, pipeline_image, tmp_path / "status", api)
    assert run.process.returncode == 0, run.describe()
    metadata = tmp_path / "status" / "kratix" / "metadata"
    message = yaml.safe_load((metadata / "status.yaml").read_text())["message"]
    assert "cannot read Table session-apps/sessions-table-kratix yet (HTTP 401 Unauthorized)" in message
    assert yaml.safe_load((metadata / "workflow-control.yaml").read_text()) == {"retryAfter": "15s"}
    assert "HTTP 401 Unauthorized" in run.output()
    assert "Traceback" not in run.output()
