"""The emulator wrapper serves every DynamoDB/STS call ACK makes when it reads a Table.

Runs the real wrapper file (the one mounted into the moto image) as moto server
on a loopback port, then replays ACK's read path with boto3.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from app.session_api import table as session_table
from components.dynamodb_target import EMULATOR_WRAPPER


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(EMULATOR_WRAPPER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"wrapper exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("moto wrapper did not listen within 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def _create_table(ddb, name: str) -> None:
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )


def test_describe_contributor_insights_is_served(endpoint):
    ddb = _client("dynamodb", endpoint)
    _create_table(ddb, "kvdemo-probe")
    answer = ddb.describe_contributor_insights(TableName="kvdemo-probe")
    assert answer["TableName"] == "kvdemo-probe"
    assert answer["ContributorInsightsStatus"] == "DISABLED"


def test_unknown_table_is_not_found_like_aws(endpoint):
    ddb = _client("dynamodb", endpoint)
    with pytest.raises(ClientError) as error:
        ddb.describe_contributor_insights(TableName="kvdemo-missing")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_ack_read_path_is_served_end_to_end(endpoint):
    """What ACK's sdkFind calls for one Table: each must answer, or the Table never syncs."""
    sts = _client("sts", endpoint)
    assert sts.get_caller_identity()["Account"]  # ACK's start-up check
    ddb = _client("dynamodb", endpoint)
    # The table the engines create for the session API: key, user index, TTL.
    ddb.create_table(**session_table.create_table_kwargs("kvdemo-ack"))
    ddb.update_time_to_live(
        TableName="kvdemo-ack",
        TimeToLiveSpecification={"Enabled": True, "AttributeName": session_table.TTL_ATTRIBUTE},
    )
    table = ddb.describe_table(TableName="kvdemo-ack")["Table"]
    assert table["TableStatus"] == "ACTIVE"
    ddb.describe_contributor_insights(TableName="kvdemo-ack")
    ddb.list_tags_of_resource(ResourceArn=table["TableArn"])
    ttl = ddb.describe_time_to_live(TableName="kvdemo-ack")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == session_table.TTL_ATTRIBUTE
    ddb.describe_continuous_backups(TableName="kvdemo-ack")
    with pytest.raises(ClientError) as error:
        ddb.get_resource_policy(ResourceArn=table["TableArn"])
    # ACK tolerates exactly this error on the resource policy read.
    assert error.value.response["Error"]["Code"] == "PolicyNotFoundException"


def test_wrapper_is_mounted_and_run_by_the_emulator(platform):
    configmap = platform.find("kubernetes:core/v1:ConfigMap", "dynamodb-emulator-wrapper").inputs
    assert configmap["data"]["moto_server.py"] == EMULATOR_WRAPPER.read_text()
    deployment = platform.find("kubernetes:apps/v1:Deployment", "dynamodb-emulator")
    (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "/opt/moto-wrapper/moto_server.py"]
    assert container["args"] == ["-H", "0.0.0.0", "-p", "5000"]
    assert container["volumeMounts"][0]["mountPath"] == "/opt/moto-wrapper"
    volume = deployment.inputs["spec"]["template"]["spec"]["volumes"][0]
    assert volume["configMap"] == {"name": "moto-wrapper"}
    assert deployment.depends_on("kubernetes:core/v1:ConfigMap", "dynamodb-emulator-wrapper")
    assert "kubevela-dynamodb/wrapper-sha256" in deployment.inputs["spec"]["template"]["metadata"]["annotations"]


def test_serialized_lets_one_request_in_at_a_time():
    import threading

    from components.emulator import moto_server  # the wrapper module itself

    inside, peak, lock = [0], [0], threading.Lock()

    def slow_app(self, environ, start_response):
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        time.sleep(0.02)
        with lock:
            inside[0] -= 1
        return [b"ok"]

    call = moto_server.serialized(slow_app)
    threads = [threading.Thread(target=call, args=(None, {}, None)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 1


def test_conditional_updates_lose_nothing_under_concurrency(endpoint):
    """Optimistic concurrency as the session API does it: every acknowledged write must count."""
    import threading

    ddb = _client("dynamodb", endpoint)
    _create_table(ddb, "kvdemo-race")
    ddb.put_item(TableName="kvdemo-race", Item={"id": {"S": "s"}, "version": {"N": "0"}})
    acknowledged = []

    def writer():
        client = _client("dynamodb", endpoint)
        for _ in range(15):
            version = int(client.get_item(TableName="kvdemo-race", Key={"id": {"S": "s"}})["Item"]["version"]["N"])
            try:
                client.update_item(
                    TableName="kvdemo-race",
                    Key={"id": {"S": "s"}},
                    UpdateExpression="SET version = :new",
                    ConditionExpression="version = :seen",
                    ExpressionAttributeValues={":new": {"N": str(version + 1)}, ":seen": {"N": str(version)}},
                )
                acknowledged.append(version)
            except ClientError as error:
                assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = int(ddb.get_item(TableName="kvdemo-race", Key={"id": {"S": "s"}})["Item"]["version"]["N"])
    assert final == len(acknowledged), "an acknowledged conditional update was lost"
    assert sorted(acknowledged) == list(range(final)), "two writers were acknowledged for the same version"


@pytest.mark.parametrize("forwarded", [None, "Bearer api-server-token"])
def test_a_signature_sent_aside_routes_like_the_authorization_header(endpoint, forwarded):
    """Through the API server's proxy the signature arrives in X-Emulator-Authorization (tools/targets.py).

    The signature aside wins over any Authorization header that arrives with it: the API
    server drops its own after authenticating, but a request that carries both must still
    route by the signature.
    """
    from components.emulator import moto_server
    from tools.targets import SIGNATURE_HEADER

    assert moto_server.SIGNATURE_ENVIRON == "HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_")
    direct = boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-2",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    table = "aside-eu-west-2" + ("-bearer" if forwarded else "")
    _create_table(direct, table)
    aside = boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-2",
                         aws_access_key_id="testing", aws_secret_access_key="testing")

    def move(request, **_):
        request.headers[SIGNATURE_HEADER] = request.headers.pop("Authorization")
        if forwarded:
            request.headers["Authorization"] = forwarded

    aside.meta.events.register("before-send.dynamodb", move)
    # Same service and region as the signature says: the table made in eu-west-2, none of us-east-1's.
    assert table in aside.list_tables()["TableNames"]
    assert table not in _client("dynamodb", endpoint).list_tables()["TableNames"]
