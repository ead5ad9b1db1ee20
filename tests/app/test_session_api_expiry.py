"""Expired sessions are gone on every path, even before DynamoDB deletes them."""

from __future__ import annotations

import boto3

from session_api.table import HASH_KEY


def test_expired_session_is_404_everywhere_but_still_in_the_table(client, create, clock, table):
    alive = create("gina", {"n": 1}).get_json()
    clock.advance(1800)
    doomed_later = create("gina", {"n": 2}).get_json()
    clock.advance(1800)  # the first session is now exactly TTL old

    first = alive["sessionId"]
    assert client.get(f"/sessions/{first}").status_code == 404
    assert client.put(f"/sessions/{first}", json={"data": {"n": 9}}).status_code == 404
    assert client.delete(f"/sessions/{first}").status_code == 404
    listed = [item["sessionId"] for item in client.get("/sessions/user/gina").get_json()["items"]]
    assert listed == [doomed_later["sessionId"]]
    everyone = [item["sessionId"] for item in client.get("/sessions").get_json()["items"]]
    assert first not in everyone and doomed_later["sessionId"] in everyone

    # DynamoDB has not deleted it (TTL deletion is lazy), and the failed PUT
    # did not touch it: the filtering above is the API's doing.
    raw = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=table, Key={HASH_KEY: {"S": first}}
    )
    assert raw["Item"]["data"]["M"]["n"] == {"N": "1"}


def test_session_is_live_until_its_expiry_second(client, create, clock):
    created = create("hank").get_json()
    clock.advance(3599.5)
    assert client.get(f"/sessions/{created['sessionId']}").status_code == 200
    clock.advance(0.5)
    assert client.get(f"/sessions/{created['sessionId']}").status_code == 404


def test_update_renews_expiry(client, create, clock):
    created = create("ivan").get_json()
    clock.advance(3000)
    assert client.put(f"/sessions/{created['sessionId']}", json={"data": {}}).status_code == 200
    clock.advance(3000)  # past the original expiry, within the renewed one
    assert client.get(f"/sessions/{created['sessionId']}").status_code == 200


def test_pages_skip_runs_of_expired_sessions(client, create, clock):
    # Newest first the user's sessions are: newest, twelve expired ones, oldest
    # (the oldest and newest were renewed by an update). Expired items still
    # cost round trips, so the first page may come back short, but paging on
    # yields exactly the two live sessions, once each.
    oldest = create("judy").get_json()["sessionId"]
    clock.advance(100)
    for _ in range(12):
        create("judy")
    clock.advance(100)
    newest = create("judy").get_json()["sessionId"]
    clock.advance(3000)
    for session_id in (oldest, newest):
        assert client.put(f"/sessions/{session_id}", json={"data": {"renewed": True}}).status_code == 200
    clock.advance(600)  # the twelve are now past their expiry

    seen = []
    token = None
    for _ in range(10):
        query = {"limit": 2} | ({"nextToken": token} if token else {})
        body = client.get("/sessions/user/judy", query_string=query).get_json()
        seen.extend(item["sessionId"] for item in body["items"])
        token = body.get("nextToken")
        if token is None:
            break
    assert token is None
    assert seen == [newest, oldest]
