"""Every endpoint's behaviour, in-process against moto's DynamoDB."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import quote

import boto3
import pytest

from session_api.table import HASH_KEY, TTL_ATTRIBUTE

ISO_MICROS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
ISO_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _epoch(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def test_health_answers_without_dynamodb(config, clock, aws_env):
    from session_api.app import create_app
    from session_api.store import SessionStore

    class NoDynamo:
        def __getattr__(self, name):
            raise AssertionError(f"/health called DynamoDB ({name})")

    app = create_app(config, SessionStore(NoDynamo(), config.table_name, 60, clock=clock))
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_ready_when_table_and_index_are_active(client):
    response = client.get("/ready")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ready", "table": "sessions-test"}


def test_create_returns_session_with_location(client, create, user_id, clock, table):
    response = create(user_id, {"cart": ["a", "b"], "n": 3})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"sessionId", "userId", "data", "createdAt", "updatedAt", "expiresAt", "version"}
    assert response.headers["Location"] == f"/sessions/{body['sessionId']}"
    assert body["userId"] == user_id
    assert body["data"] == {"cart": ["a", "b"], "n": 3}
    assert body["version"] == 1
    assert ISO_MICROS.match(body["createdAt"]) and body["updatedAt"] == body["createdAt"]
    assert ISO_SECONDS.match(body["expiresAt"])
    assert _epoch(body["expiresAt"]) == int(clock.now) + 3600

    # The item stores expiresAt as epoch seconds (a Number), as TTL requires.
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=table, Key={HASH_KEY: {"S": body["sessionId"]}}
    )["Item"]
    assert item[TTL_ATTRIBUTE] == {"N": str(int(clock.now) + 3600)}


def test_create_without_data_stores_empty_object(create, user_id):
    response = create(user_id)
    assert response.status_code == 201
    assert response.get_json()["data"] == {}


def test_get_returns_what_was_created(client, create, user_id):
    created = create(user_id, {"theme": "dark"}).get_json()
    response = client.get(f"/sessions/{created['sessionId']}")
    assert response.status_code == 200
    assert response.get_json() == created


def test_get_unknown_session_is_404(client):
    response = client.get("/sessions/does-not-exist")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_put_merges_top_level_keys_and_null_removes(client, create, user_id, clock):
    created = create(user_id, {"keep": 1, "change": "old", "drop": True, "nested": {"a": 1, "b": 2}}).get_json()
    clock.advance(10)
    response = client.put(
        f"/sessions/{created['sessionId']}",
        json={"data": {"change": "new", "drop": None, "added": [1], "nested": {"c": 3}}},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["data"] == {"keep": 1, "change": "new", "added": [1], "nested": {"c": 3}}
    assert body["version"] == 2
    assert body["createdAt"] == created["createdAt"]
    assert body["updatedAt"] > created["updatedAt"]
    # Updating renews the expiry: now + TTL.
    assert _epoch(body["expiresAt"]) == int(clock.now) + 3600
    assert client.get(f"/sessions/{created['sessionId']}").get_json() == body


def test_put_with_matching_version_applies(client, create, user_id):
    created = create(user_id, {"n": 1}).get_json()
    response = client.put(f"/sessions/{created['sessionId']}", json={"data": {"n": 2}, "version": 1})
    assert response.status_code == 200
    assert response.get_json()["version"] == 2


def test_put_with_stale_version_is_409_and_changes_nothing(client, create, user_id):
    created = create(user_id, {"n": 1}).get_json()
    client.put(f"/sessions/{created['sessionId']}", json={"data": {"n": 2}})
    response = client.put(f"/sessions/{created['sessionId']}", json={"data": {"n": 3}, "version": 1})
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "version_conflict"
    assert body["currentVersion"] == 2
    assert client.get(f"/sessions/{created['sessionId']}").get_json()["data"] == {"n": 2}


def test_put_missing_session_is_404_and_creates_nothing(client, table):
    response = client.put("/sessions/no-such-session", json={"data": {"x": 1}})
    assert response.status_code == 404
    scan = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)
    assert scan["Count"] == 0


@pytest.mark.parametrize("exists", [True, False], ids=["existing", "missing"])
def test_put_and_delete_are_single_conditional_writes(client, create, store, exists):
    # One conditional write each, no read first: a read-then-write could
    # recreate a session deleted between the read and the write.
    session_id = create("kim").get_json()["sessionId"] if exists else "no-such-session"
    calls = []
    store.client.meta.events.register(
        "before-parameter-build.dynamodb.*", lambda model, params, **_: calls.append((model.name, dict(params)))
    )
    assert client.put(f"/sessions/{session_id}", json={"data": {"x": 1}}).status_code == (200 if exists else 404)
    assert client.delete(f"/sessions/{session_id}").status_code == (204 if exists else 404)
    assert [name for name, _ in calls] == ["UpdateItem", "DeleteItem"]
    for name, params in calls:
        condition = params.get("ConditionExpression", "")
        assert "attribute_exists(#pk)" in condition and params["ExpressionAttributeNames"]["#pk"] == HASH_KEY, (
            f"{name} is not conditional on the session existing: {condition!r}"
        )


def test_delete_then_get_and_delete_again_are_404(client, create, user_id, table):
    created = create(user_id).get_json()
    response = client.delete(f"/sessions/{created['sessionId']}")
    assert response.status_code == 204
    assert response.data == b""
    assert client.get(f"/sessions/{created['sessionId']}").status_code == 404
    again = client.delete(f"/sessions/{created['sessionId']}")
    assert again.status_code == 404
    assert again.get_json()["error"] == "not_found"
    assert boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Count"] == 0


def test_list_paginates_without_duplicates_or_losses(client, create):
    created = {create(f"user-{i % 3}").get_json()["sessionId"] for i in range(23)}
    seen: list[str] = []
    token = None
    for _ in range(20):
        query = {"limit": 5} | ({"nextToken": token} if token else {})
        response = client.get("/sessions", query_string=query)
        assert response.status_code == 200
        body = response.get_json()
        assert len(body["items"]) <= 5
        seen.extend(item["sessionId"] for item in body["items"])
        token = body.get("nextToken")
        if token is None:
            break
    assert token is None, "listing did not finish"
    assert len(seen) == len(set(seen))
    assert set(seen) == created


def test_list_default_page_size(client, create):
    for _ in range(30):
        create("user-many")
    body = client.get("/sessions").get_json()
    assert len(body["items"]) == 25
    assert "nextToken" in body


def test_user_listing_is_newest_first_and_only_that_user(client, create, clock):
    mine = []
    for i in range(7):
        clock.advance(1)
        mine.append(create("alice", {"i": i}).get_json()["sessionId"])
        create("bob", {"i": i})
    pages = []
    token = None
    for _ in range(10):
        query = {"limit": 3} | ({"nextToken": token} if token else {})
        body = client.get("/sessions/user/alice", query_string=query).get_json()
        pages.append(body["items"])
        token = body.get("nextToken")
        if token is None:
            break
    items = [item for page in pages for item in page]
    assert {item["userId"] for item in items} == {"alice"}
    assert [item["sessionId"] for item in items] == list(reversed(mine))
    assert [len(page) for page in pages[:2]] == [3, 3]


def test_user_listing_ties_in_the_same_microsecond_stay_ordered(client, create):
    # The fake clock does not move: the store must still give distinct,
    # increasing createdAt values so "newest first" is well defined.
    ids = [create("same-time", {"i": i}).get_json()["sessionId"] for i in range(5)]
    items = client.get("/sessions/user/same-time").get_json()["items"]
    assert [item["sessionId"] for item in items] == list(reversed(ids))
    stamps = [item["createdAt"] for item in items]
    assert stamps == sorted(set(stamps), reverse=True)


# User ids the API takes as they are: any Unicode text without control
# characters, "/" and "%" included, up to 2048 bytes of UTF-8.
UNUSUAL_USER_IDS = [
    "użytkownik-测试",
    "zoë@exämple.org",
    "🙂 emoji and spaces ",
    "a/b",
    "/leading",
    "trailing/",
    "a//b",
    "a/../b",
    "...",
    "100%",
    "%2F",
    "?query#fragment&x=1",
    "+plus+",
    "é" * 1024,  # exactly 2048 bytes
    "x" * 2048,
]


def _user_path(user_id: str) -> str:
    return "/sessions/user/" + quote(user_id, safe="")


@pytest.mark.parametrize("user_id", UNUSUAL_USER_IDS, ids=lambda u: repr(u[:24]))
def test_any_user_id_round_trips_through_create_get_and_list(client, create, user_id):
    created = create(user_id, {"n": 1})
    assert created.status_code == 201, created.get_json()
    session = created.get_json()
    assert session["userId"] == user_id
    assert client.get(created.headers["Location"]).get_json()["userId"] == user_id
    create(user_id, {"n": 2})
    first = client.get(_user_path(user_id), query_string={"limit": 1}).get_json()
    assert [item["userId"] for item in first["items"]] == [user_id]
    second = client.get(_user_path(user_id), query_string={"limit": 1, "nextToken": first["nextToken"]}).get_json()
    assert [item["userId"] for item in second["items"]] == [user_id]
    assert session["sessionId"] in {first["items"][0]["sessionId"], second["items"][0]["sessionId"]}


def test_user_ids_are_compared_exactly(client, create):
    # Composed and decomposed "é" look alike but are different user ids.
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    create(composed)
    create(composed)
    assert client.get(_user_path(decomposed)).get_json() == {"items": []}
    token = client.get(_user_path(composed), query_string={"limit": 1}).get_json()["nextToken"]
    other = client.get(_user_path(decomposed), query_string={"nextToken": token})
    assert other.status_code == 400
    assert "different user" in other.get_json()["message"]


def test_user_listing_for_unknown_user_is_empty(client):
    response = client.get("/sessions/user/nobody")
    assert response.status_code == 200
    assert response.get_json() == {"items": []}


def test_user_listing_uses_query_not_scan(client, create, store):
    create("carol")
    calls = []
    store.client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    client.get("/sessions/user/carol")
    assert calls == ["Query"]


def test_openapi_document_is_served(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert "/sessions/{sessionId}" in document["paths"]


def test_request_id_is_echoed_or_generated(client):
    given = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    generated = client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["X-Request-ID"])


def test_characters_encodeuricomponent_leaves_as_they_are_work_unencoded(client, create):
    # What the OpenAPI document says: `! ' ( ) *` may come raw in the path, as JavaScript sends them.
    user_id = "o'brien!(test)*ü"
    assert create(user_id).status_code == 201
    raw = "/sessions/user/" + quote(user_id, safe="!'()*")
    assert raw != _user_path(user_id)  # the fully encoded form is tested above
    assert [item["userId"] for item in client.get(raw).get_json()["items"]] == [user_id]
