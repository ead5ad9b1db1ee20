"""DynamoDB failing or missing: 503 with Retry-After (or a reasoned /ready), never 500."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from moto.core.botocore_stubber import MockRawResponse

from session_api import local
from session_api.app import ReadinessCache, create_app
from session_api.config import Config
from session_api.store import SessionStore, VersionConflict
from session_api.table import HASH_KEY, USER_INDEX_RANGE_KEY, create_table_kwargs


def _unavailable(response, reason: str):
    assert response.status_code == 503, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "service_unavailable"
    assert body["reason"] == reason
    assert int(response.headers["Retry-After"]) >= 1
    return body


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
)
def test_throttling_is_503_with_retry_after(client, store, code):
    with Stubber(store.client) as stub:
        stub.add_client_error("put_item", service_error_code=code, http_status_code=400)
        _unavailable(client.post("/sessions", json={"userId": "u"}), "throttled")
        stub.add_client_error("query", service_error_code=code, http_status_code=400)
        _unavailable(client.get("/sessions/user/u"), "throttled")


def _lose_first_answers(client, operation: str, failures: int) -> list:
    """Replace DynamoDB's answer to the first ``failures`` attempts of ``operation`` with a 500.

    moto still applies each attempt (every before-send handler runs; the
    first answer wins), so this is the hard case: the write landed, its
    answer was lost, and botocore's retry meets the write's own effect.
    Returns the attempts made.
    """
    attempts = []

    def handler(request, event_name, **_):
        if event_name != f"before-send.dynamodb.{operation}":
            return None
        attempts.append(request.url)
        if len(attempts) > failures:
            return None  # moto's answer stands
        body = {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "injected"}
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 500, headers, MockRawResponse(json.dumps(body).encode()))

    # First on the generic event, so its answer wins over moto's.
    client.meta.events.register_first("before-send", handler)
    return attempts


@pytest.fixture
def retrying(table):
    """The app with its real client (botocore standard retries, 3 attempts) on the mocked table."""
    config = Config(table_name=table, region="us-east-1", max_attempts=3)
    store = SessionStore.from_config(config)
    return store, create_app(config, store).test_client()


@pytest.mark.parametrize("failures, status", [(2, 201), (3, 503)], ids=["recovers", "gives-up"])
def test_create_is_retried_and_a_landed_first_attempt_is_not_an_error(retrying, failures, status):
    store, client = retrying
    attempts = _lose_first_answers(store.client, "PutItem", failures)
    response = client.post("/sessions", json={"userId": "u", "data": {"n": 1}})
    assert response.status_code == status, response.get_json()
    assert len(attempts) == 3, f"expected 3 attempts (AWS_MAX_ATTEMPTS), saw {len(attempts)}"
    if status == 201:
        assert client.get(response.headers["Location"]).get_json() == response.get_json()
    else:
        assert response.get_json()["reason"] == "dynamodb_error" and response.headers["Retry-After"]


def test_versioned_update_whose_answer_was_lost_is_not_a_conflict(retrying):
    store, client = retrying
    created = client.post("/sessions", json={"userId": "u", "data": {"n": 1}}).get_json()
    attempts = _lose_first_answers(store.client, "UpdateItem", 1)
    response = client.put(f"/sessions/{created['sessionId']}", json={"data": {"n": 2}, "version": 1})
    assert len(attempts) == 2
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"] == {"n": 2} and response.get_json()["version"] == 2


def test_a_versioned_update_from_another_process_in_the_same_microsecond_is_a_conflict(client, table, clock):
    # Two API processes (each its own store, one clock) write the same timestamp:
    # the second must still get 409, not take the first's write for its own.
    created = client.post("/sessions", json={"userId": "u", "data": {"n": 0}}).get_json()

    def process() -> SessionStore:
        return SessionStore(boto3.client("dynamodb", region_name="us-east-1"), table, 3600, clock=clock)

    first, second = process(), process()
    assert first.update(created["sessionId"], {"n": 1}, expected_version=1)["version"] == 2
    with pytest.raises(VersionConflict):
        second.update(created["sessionId"], {"n": 1}, expected_version=1)
    assert client.get(f"/sessions/{created['sessionId']}").get_json()["data"] == {"n": 1}


def test_internal_server_error_is_503(client, store):
    with Stubber(store.client) as stub:
        stub.add_client_error("get_item", service_error_code="InternalServerError", http_status_code=500)
        _unavailable(client.get("/sessions/abc"), "dynamodb_error")


def test_rejected_credentials_are_503(client, store):
    with Stubber(store.client) as stub:
        stub.add_client_error("scan", service_error_code="UnrecognizedClientException", http_status_code=400)
        _unavailable(client.get("/sessions"), "access_denied")


def test_missing_table_is_503_and_not_ready(mocked_aws):
    config = Config(table_name="absent", region="us-east-1", ready_cache_seconds=0)
    client = create_app(config).test_client()
    _unavailable(client.post("/sessions", json={"userId": "u"}), "table_missing")
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.get_json()["reason"] == "table_missing"
    assert "absent" in ready.get_json()["message"]


def test_table_without_user_index_is_not_ready(mocked_aws):
    kwargs = create_table_kwargs("no-index")
    del kwargs["GlobalSecondaryIndexes"]
    kwargs["AttributeDefinitions"] = [a for a in kwargs["AttributeDefinitions"] if a["AttributeName"] == HASH_KEY]
    boto3.client("dynamodb", region_name="us-east-1").create_table(**kwargs)
    config = Config(table_name="no-index", region="us-east-1", ready_cache_seconds=0)
    ready = create_app(config).test_client().get("/ready")
    assert ready.status_code == 503
    assert ready.get_json()["reason"] == "index_missing"


@pytest.mark.parametrize(
    "table_status, index_status, reason",
    [("CREATING", "CREATING", "table_not_active"), ("ACTIVE", "CREATING", "index_not_active")],
)
def test_table_or_index_not_active_is_not_ready(config, clock, table_status, index_status, reason, aws_env):
    client = boto3.client("dynamodb", region_name="us-east-1")
    store = SessionStore(client, config.table_name, 60, clock=clock)
    app = create_app(config, store)
    description = {
        "Table": {
            "TableName": config.table_name,
            "TableStatus": table_status,
            "GlobalSecondaryIndexes": [{"IndexName": "userId-createdAt-index", "IndexStatus": index_status}],
        }
    }
    with Stubber(client) as stub:
        stub.add_response("describe_table", description, {"TableName": config.table_name})
        ready = app.test_client().get("/ready")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["reason"] == reason
    assert "CREATING" in body["message"]


def test_unreachable_endpoint_is_503_quickly(aws_env):
    closed = f"http://{local.LOOPBACK}:{local.free_port()}"
    config = Config(
        table_name="t",
        region="us-east-1",
        endpoint_url=closed,
        max_attempts=2,
        connect_timeout=0.5,
        ready_cache_seconds=0,
    )
    client = create_app(config).test_client()
    started = time.monotonic()
    _unavailable(client.get("/sessions/abc"), "endpoint_unreachable")
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.get_json()["reason"] == "endpoint_unreachable"
    assert time.monotonic() - started < 10


def test_ready_answer_is_cached(mocked_aws, clock):
    config = Config(table_name="late", region="us-east-1", ready_cache_seconds=5)
    app = create_app(config)
    services = app.extensions["session_api"]
    # The probe cache's own clock, moved by hand: no sleeping, no race with a loaded machine.
    services.readiness = ReadinessCache(services.store, config.ready_cache_seconds, clock=clock)
    client = app.test_client()
    assert client.get("/ready").status_code == 503
    boto3.client("dynamodb", region_name="us-east-1").create_table(**create_table_kwargs("late"))
    # Within the cache window the earlier answer stands...
    clock.advance(4.9)
    assert client.get("/ready").status_code == 503
    clock.advance(0.1)
    # ...and once it has passed the table is looked at again.
    assert client.get("/ready").status_code == 200


def test_forged_page_key_rejected_by_dynamodb_is_400(client, store, create):
    create("frank")
    with Stubber(store.client) as stub:
        stub.add_client_error(
            "query",
            service_error_code="ValidationException",
            service_message="The provided starting key is invalid",
            http_status_code=400,
        )
        from session_api.validation import encode_page_token

        token = encode_page_token(
            {HASH_KEY: "abc", "userId": "frank", USER_INDEX_RANGE_KEY: "2020-01-01T00:00:00.000000Z"}
        )
        response = client.get("/sessions/user/frank", query_string={"nextToken": token})
    assert response.status_code == 400
    assert response.get_json()["field"] == "nextToken"


def test_unexpected_error_is_json_500_without_details(client, store):
    with Stubber(store.client) as stub:
        stub.add_client_error("get_item", service_error_code="SomethingNew", http_status_code=400)
        response = client.get("/sessions/abc")
    assert response.status_code == 500
    body = response.get_json()
    assert body["error"] == "internal_error"
    assert "SomethingNew" not in body["message"]
