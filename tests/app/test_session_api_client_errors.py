"""Client errors: 4xx with a JSON body naming the problem, never a 500."""

from __future__ import annotations

import json

import boto3
import pytest

from session_api import validation


def _error(response, status: int, error: str):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json, response.headers.get("Content-Type")
    body = response.get_json()
    assert body["error"] == error, body
    assert body["message"]
    return body


@pytest.fixture
def session_id(create, user_id) -> str:
    return create(user_id, {"a": 1}).get_json()["sessionId"]


@pytest.mark.parametrize(
    "raw, needle",
    [
        (b"{not json", "not valid JSON"),
        (b"", "empty"),
        (b"   ", "empty"),
        (b'{"userId": "u", "data": {}', "not valid JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        (b'{"userId": "u", "data": {"x": NaN}}', "NaN"),
        (b'{"userId": "u", "data": {"x": Infinity}}', "Infinity"),
        (b'{"userId": "u", "data": {"x": -Infinity}}', "Infinity"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_invalid_json_is_400(client, raw, needle):
    response = client.post("/sessions", data=raw, content_type="application/json")
    body = _error(response, 400, "invalid_json")
    assert needle in body["message"]


@pytest.mark.parametrize("payload", ['["userId"]', '"text"', "42", "null", "true"])
def test_non_object_body_is_400(client, payload):
    response = client.post("/sessions", data=payload, content_type="application/json")
    body = _error(response, 400, "invalid_body")
    assert "must be a JSON object" in body["message"]


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json-patch+json"],
)
def test_wrong_content_type_is_415(client, content_type, session_id):
    headers = {"Content-Type": content_type} if content_type else {}
    post = client.post("/sessions", data='{"userId": "u"}', headers=headers)
    _error(post, 415, "unsupported_media_type")
    put = client.put(f"/sessions/{session_id}", data='{"data": {}}', headers=headers)
    _error(put, 415, "unsupported_media_type")


def test_json_with_charset_parameter_is_accepted(client):
    response = client.post(
        "/sessions", data='{"userId": "u"}', headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 201


def test_non_utf8_charset_is_415(client):
    response = client.post(
        "/sessions", data='{"userId": "u"}', headers={"Content-Type": "application/json; charset=latin-1"}
    )
    _error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "body, error, field",
    [
        ({}, "missing_field", "userId"),
        ({"data": {}}, "missing_field", "userId"),
        ({"userId": ""}, "invalid_field", "userId"),
        ({"userId": None}, "invalid_field", "userId"),
        ({"userId": 42}, "invalid_field", "userId"),
        ({"userId": ["u"]}, "invalid_field", "userId"),
        ({"userId": "."}, "invalid_field", "userId"),
        ({"userId": ".."}, "invalid_field", "userId"),
        ({"userId": "tab\there"}, "invalid_field", "userId"),
        ({"userId": "\x7f"}, "invalid_field", "userId"),
        ({"userId": "x" * 2049}, "invalid_field", "userId"),
        ({"userId": "u", "data": []}, "invalid_field", "data"),
        ({"userId": "u", "data": "text"}, "invalid_field", "data"),
        ({"userId": "u", "data": None}, "invalid_field", "data"),
        ({"userId": "u", "extra": 1}, "unknown_field", "extra"),
        ({"userId": "u", "sessionId": "mine"}, "unknown_field", "sessionId"),
        ({"userId": "u", "data": {"": 1}}, "invalid_field", "data"),
        ({"userId": "u", "data": {"a": {"": 1}}}, "invalid_field", "data.a"),
        ({"userId": "u", "data": {"k" * 256: 1}}, "invalid_field", "data"),
        # Nested keys have no character limit, but DynamoDB refuses names of 64 KB or more.
        ({"userId": "u", "data": {"a": {"k" * 65_536: 1}}}, "invalid_field", "data.a"),
        ({"userId": "u", "data": {"a": [{"é" * 32_768: 1}]}}, "invalid_field", "data.a[0]"),
    ],
)
def test_invalid_create_fields_are_400_and_named(client, body, error, field, table):
    response = client.post("/sessions", json=body)
    reply = _error(response, 400, error)
    assert reply["field"] == field
    assert field.split(".")[0] in reply["message"]
    assert boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Count"] == 0


@pytest.mark.parametrize(
    "number, reason",
    [
        ("1" * 39, "38"),
        ("0." + "1" * 39, "38"),
        ("1e126", "range"),
        ("1e-131", "range"),
        ("-9.99e200", "range"),
    ],
)
def test_numbers_dynamodb_cannot_store_are_400(client, number, reason):
    raw = '{"userId": "u", "data": {"n": %s}}' % number
    body = _error(client.post("/sessions", data=raw, content_type="application/json"), 400, "invalid_field")
    assert body["field"] == "data.n"
    assert reason in body["message"]


@pytest.mark.parametrize(
    "number, expected",
    [
        ("1" + "0" * 45, 10**45),  # 1 significant digit, 46 characters
        ("1.000000000000000000000000000000000000000000", 1),
        ("0E-500", 0),
        ("-0", 0),
        ("1e125", 10**125),
        ("1e-130", 1e-130),
    ],
)
def test_numbers_with_insignificant_digits_are_accepted(client, number, expected):
    raw = '{"userId": "u", "data": {"n": %s}}' % number
    response = client.post("/sessions", data=raw, content_type="application/json")
    assert response.status_code == 201, response.get_json()
    stored = client.get(response.headers["Location"]).get_json()["data"]["n"]
    assert stored == expected


def test_lone_surrogate_is_400_not_500(client):
    raw = '{"userId": "u", "data": {"s": "\\ud800"}}'
    body = _error(client.post("/sessions", data=raw, content_type="application/json"), 400, "invalid_field")
    assert "surrogate" in body["message"]


def test_lone_surrogate_in_user_id_is_400_not_500(client):
    raw = '{"userId": "ab\\udc00"}'
    body = _error(client.post("/sessions", data=raw, content_type="application/json"), 400, "invalid_field")
    assert body["field"] == "userId"
    assert "unpaired surrogate (U+DC00) at position 2" in body["message"]


def test_nesting_deeper_than_limit_is_400(client):
    value: dict = {}
    for _ in range(validation.MAX_DATA_DEPTH + 1):
        value = {"k": value}
    body = _error(client.post("/sessions", json={"userId": "u", "data": value}), 400, "invalid_field")
    assert "nested deeper" in body["message"]


def test_body_over_item_limit_is_413(client, table):
    data = {"blob": "x" * (validation.MAX_ITEM_BYTES + 1)}
    body = _error(client.post("/sessions", json={"userId": "u", "data": data}), 413, "payload_too_large")
    assert "400" in body["message"] or str(validation.MAX_ITEM_BYTES) in body["message"]
    assert boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Count"] == 0


def test_item_limit_counts_structure_not_just_text(client):
    # 140k empty objects: ~420 KB of JSON, but over 400 KB once stored.
    data = {"many": [{} for _ in range(140_000)]}
    _error(client.post("/sessions", json={"userId": "u", "data": data}), 413, "payload_too_large")


def test_body_over_transport_limit_is_413_before_parsing(client):
    raw = b'{"userId": "u", "data": {"blob": "' + b"x" * validation.MAX_BODY_BYTES + b'"}}'
    _error(client.post("/sessions", data=raw, content_type="application/json"), 413, "payload_too_large")


def test_merge_that_would_overflow_the_item_is_413(client, create):
    created = create("u", {"a": "x" * 300_000}).get_json()
    response = client.put(f"/sessions/{created['sessionId']}", json={"data": {"b": "y" * 300_000}})
    _error(response, 413, "payload_too_large")
    assert client.get(f"/sessions/{created['sessionId']}").get_json()["version"] == 1


@pytest.mark.parametrize(
    "body, error, field",
    [
        ({}, "missing_field", "data"),
        ({"data": []}, "invalid_field", "data"),
        ({"data": {}, "userId": "other"}, "unknown_field", "userId"),
        ({"data": {}, "version": "1"}, "invalid_field", "version"),
        ({"data": {}, "version": 1.5}, "invalid_field", "version"),
        ({"data": {}, "version": True}, "invalid_field", "version"),
        ({"data": {}, "version": 0}, "invalid_field", "version"),
        ({"data": {f"k{i}": i for i in range(validation.MAX_MERGE_KEYS + 1)}}, "invalid_field", "data"),
    ],
)
def test_invalid_update_fields_are_400(client, session_id, body, error, field):
    reply = _error(client.put(f"/sessions/{session_id}", json=body), 400, error)
    assert reply["field"] == field
    assert client.get(f"/sessions/{session_id}").get_json()["version"] == 1


@pytest.mark.parametrize("bad_id", ["x" * 65, "semi;colon", "dot.dot", "sp ace", "%00", "é"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_malformed_session_id_is_400(client, bad_id, method):
    response = client.open(f"/sessions/{bad_id}", method=method, json={"data": {}})
    body = _error(response, 400, "invalid_field")
    assert body["field"] == "sessionId"


@pytest.mark.parametrize(
    "bad_user, needle",
    [
        ("x" * 2049, "2049 bytes"),
        ("%C3%A9" * 1025, "2050 bytes"),  # "é" is two bytes of UTF-8
        ("a%00b", "U+0000 at position 1"),
        ("%0A", "U+000A"),
        ("%C2%85", "U+0085"),  # NEL, a C1 control character
        ("%2E", "'.'"),
        ("%2E%2E", "'..'"),
    ],
)
def test_malformed_user_id_in_path_is_400(client, bad_user, needle):
    body = _error(client.get(f"/sessions/user/{bad_user}"), 400, "invalid_field")
    assert body["field"] == "userId"
    assert needle in body["message"]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "", "²", "9" * 30])
@pytest.mark.parametrize("path", ["/sessions", "/sessions/user/u"])
def test_bad_limit_is_400(client, path, limit):
    body = _error(client.get(path, query_string={"limit": limit}), 400, "invalid_parameter")
    assert body["field"] == "limit"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-base64!!",
        "x" * 2000,
        "bm90IGpzb24",  # "not json"
        validation.encode_page_token({"other": "key"}),
        validation.encode_page_token({"sessionId": "bad id!"}),
    ],
)
@pytest.mark.parametrize("path", ["/sessions", "/sessions/user/u"])
def test_bad_next_token_is_400(client, path, token):
    body = _error(client.get(path, query_string={"nextToken": token}), 400, "invalid_parameter")
    assert body["field"] == "nextToken"


def test_user_token_is_not_valid_for_another_user(client, create):
    for _ in range(3):
        create("dave")
    token = client.get("/sessions/user/dave", query_string={"limit": 1}).get_json()["nextToken"]
    assert client.get("/sessions/user/dave", query_string={"nextToken": token}).status_code == 200
    body = _error(client.get("/sessions/user/erin", query_string={"nextToken": token}), 400, "invalid_parameter")
    assert "different user" in body["message"]
    # A user-listing token is not a full-listing token either.
    _error(client.get("/sessions", query_string={"nextToken": token}), 400, "invalid_parameter")


def test_unknown_route_is_json_404(client):
    body = _error(client.get("/nope"), 404, "not_found")
    assert "/nope" in body["message"]
    _error(client.get("/sessions/a/b/c"), 404, "not_found")


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("DELETE", "/sessions", {"GET", "POST"}),
        ("PATCH", "/sessions/abc", {"GET", "PUT", "DELETE"}),
        ("POST", "/health", {"GET"}),
        ("PUT", "/sessions/user/u", {"GET"}),
    ],
)
def test_wrong_method_is_json_405_with_allow(client, method, path, allowed):
    response = client.open(path, method=method)
    body = _error(response, 405, "method_not_allowed")
    allow = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= allow
    assert method in body["message"]


def test_duplicate_keys_in_json_take_the_last_value(client):
    raw = '{"userId": "u", "data": {"k": 1, "k": 2}}'
    response = client.post("/sessions", data=raw, content_type="application/json")
    assert response.status_code == 201
    assert json.loads(response.data)["data"] == {"k": 2}


def test_nested_key_just_under_dynamodb_name_limit_is_accepted(client):
    key = "k" * validation.MAX_KEY_BYTES
    response = client.post("/sessions", json={"userId": "u", "data": {"a": {key: 1}}})
    assert response.status_code == 201, response.get_json()
    assert client.get(response.headers["Location"]).get_json()["data"] == {"a": {key: 1}}
