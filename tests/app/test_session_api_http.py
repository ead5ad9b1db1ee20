"""Integration: moto server + the app under gunicorn, driven over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from urllib.parse import quote

import pytest
import requests

from session_api import local
from session_api.table import HASH_KEY


def _user() -> str:
    return f"u-{uuid.uuid4().hex[:10]}"


def test_crud_round_trip(api, http):
    user = _user()
    created = http.post(api.url("/sessions"), json={"userId": user, "data": {"price": 19.99, "qty": 3}})
    assert created.status_code == 201
    location = created.headers["Location"]
    session = created.json()
    assert location == f"/sessions/{session['sessionId']}"
    assert http.get(api.url(location)).json() == session

    updated = http.put(api.url(location), json={"data": {"qty": 4}})
    assert updated.status_code == 200
    assert updated.json()["data"] == {"price": 19.99, "qty": 4}

    assert http.delete(api.url(location)).status_code == 204
    assert http.get(api.url(location)).status_code == 404
    assert http.put(api.url(location), json={"data": {}}).status_code == 404


def test_health_ready_and_errors_are_json(api, http):
    assert http.get(api.url("/health")).json() == {"status": "ok"}
    assert http.get(api.url("/ready")).json()["status"] == "ready"
    missing = http.get(api.url("/missing"))
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    wrong = http.patch(api.url("/sessions"))
    assert (wrong.status_code, wrong.json()["error"]) == (405, "method_not_allowed")
    bad = http.post(api.url("/sessions"), data="{", headers={"Content-Type": "application/json"})
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_json")


def test_pagination_over_hundreds_of_sessions(start_api, http):
    # A table of its own, so the expected set is exactly what this test wrote.
    server = start_api()
    users = [_user() for _ in range(3)]
    created: dict[str, list[str]] = {user: [] for user in users}

    def create_for(index: int) -> None:
        # One thread per user, each creating its sessions one after another:
        # a user's sessions are still created in a known order (each request
        # starts after the previous one was answered), and the three users'
        # requests overlap, as they would from three clients.
        user = users[index]
        with requests.Session() as own:
            for n in range(100):
                response = own.post(server.url("/sessions"), json={"userId": user, "data": {"i": 3 * n + index}})
                assert response.status_code == 201, response.text
                created[user].append(response.json()["sessionId"])

    assert _run_threads(len(users), create_for) == []
    assert sum(len(ids) for ids in created.values()) == 300

    def collect(path: str, limit: int) -> list[dict]:
        items, token = [], None
        for _ in range(1000):
            params = {"limit": limit} | ({"nextToken": token} if token else {})
            body = http.get(server.url(path), params=params).json()
            assert len(body["items"]) <= limit
            items.extend(body["items"])
            token = body.get("nextToken")
            if token is None:
                return items
        pytest.fail(f"{path} did not finish paging")

    everything = [item["sessionId"] for item in collect("/sessions", 37)]
    assert len(everything) == len(set(everything)) == 300
    assert set(everything) == {sid for ids in created.values() for sid in ids}

    for user in users:
        mine = collect(f"/sessions/user/{user}", 9)
        assert [item["sessionId"] for item in mine] == list(reversed(created[user]))
        assert {item["userId"] for item in mine} == {user}
        stamps = [item["createdAt"] for item in mine]
        assert stamps == sorted(stamps, reverse=True)


def test_users_see_only_their_own_sessions(api, http):
    alice, bob = _user(), _user()
    a = http.post(api.url("/sessions"), json={"userId": alice, "data": {"who": "a"}}).json()
    b = http.post(api.url("/sessions"), json={"userId": bob, "data": {"who": "b"}}).json()
    assert [s["sessionId"] for s in http.get(api.url(f"/sessions/user/{alice}")).json()["items"]] == [a["sessionId"]]
    assert [s["sessionId"] for s in http.get(api.url(f"/sessions/user/{bob}")).json()["items"]] == [b["sessionId"]]
    token_params = {"limit": 1}
    http.post(api.url("/sessions"), json={"userId": alice})
    token = http.get(api.url(f"/sessions/user/{alice}"), params=token_params).json()["nextToken"]
    stolen = http.get(api.url(f"/sessions/user/{bob}"), params={"nextToken": token})
    assert stolen.status_code == 400


@pytest.mark.parametrize(
    "label, user_id",
    [
        ("unicode", "użytkownik-测试-🙂"),
        ("slashes", "/team//alice/"),
        ("reserved", "100% sure? #1 & a+b=c;d"),
        ("longest", "é" * 1024),  # 2048 bytes, 6 KB of request line once percent-encoded
    ],
)
def test_any_user_id_round_trips_over_http(api, http, label, user_id):
    # A fresh user per run; the longest keeps its 2048 bytes ("é" is 2 bytes, a hex digit 1).
    user_id = user_id[:-1] + uuid.uuid4().hex[:2] if label == "longest" else f"{user_id}{uuid.uuid4().hex[:4]}"
    assert len(user_id.encode()) <= 2048
    path = api.url("/sessions/user/" + quote(user_id, safe=""))
    ids = []
    for n in range(3):
        created = http.post(api.url("/sessions"), json={"userId": user_id, "data": {"n": n}})
        assert created.status_code == 201, created.text
        assert http.get(api.url(created.headers["Location"])).json()["userId"] == user_id
        ids.append(created.json()["sessionId"])
    listed, token = [], None
    for _ in range(5):
        page = http.get(path, params={"limit": 2} | ({"nextToken": token} if token else {}))
        assert page.status_code == 200, page.text
        listed += page.json()["items"]
        token = page.json().get("nextToken")
        if token is None:
            break
    assert [item["sessionId"] for item in listed] == ids[::-1]
    assert {item["userId"] for item in listed} == {user_id}


def test_a_slash_in_the_path_is_the_same_as_an_encoded_one(api, http):
    user_id = f"team/{uuid.uuid4().hex[:8]}"
    session = http.post(api.url("/sessions"), json={"userId": user_id}).json()
    for path in (f"/sessions/user/{user_id}", "/sessions/user/" + quote(user_id, safe="")):
        assert [s["sessionId"] for s in http.get(api.url(path)).json()["items"]] == [session["sessionId"]], path


@pytest.mark.parametrize(
    "user_path, needle",
    [("a%00b", "U+0000 at position 1"), ("%C3%A9" * 1025, "2050 bytes of UTF-8"), ("%2E%2E", "'..'"),
     # Bytes that are not UTF-8 (a server's WSGI path carries them; Flask's test
     # client replaces them before the app sees them): a 400, not the user "\ufffd".
     ("%FF", "not UTF-8 once percent-decoded"), ("a%C3", "not UTF-8"), ("a%ED%A0%80b", "not UTF-8")],
)
def test_user_ids_the_api_refuses_are_json_400_over_http(api, http, user_path, needle):
    response = http.get(api.url("/sessions/user/" + user_path))
    assert response.status_code == 400
    assert response.json()["field"] == "userId" and needle in response.json()["message"]


def test_ttl_expiry_with_a_short_ttl(start_api, http, moto_client):
    server = start_api(ttl_seconds=2)
    user = _user()
    session = http.post(server.url("/sessions"), json={"userId": user}).json()
    location = server.url(f"/sessions/{session['sessionId']}")
    assert http.get(location).status_code == 200
    # Poll rather than sleep past the TTL: the session must be gone once its
    # expiresAt (whole epoch seconds) has passed, and not before.
    expires_at = datetime.fromisoformat(session["expiresAt"]).timestamp()
    deadline = expires_at + 1.5
    while (status := http.get(location).status_code) == 200 and time.time() < deadline:
        time.sleep(0.05)
    gone_at = time.time()
    assert status == 404, f"still served {gone_at - expires_at:.2f} s after expiresAt"
    assert gone_at >= expires_at - 0.05, f"gone {expires_at - gone_at:.2f} s before expiresAt"
    assert http.get(location).status_code == 404
    assert http.put(location, json={"data": {"x": 1}}).status_code == 404
    assert http.delete(location).status_code == 404
    assert http.get(server.url(f"/sessions/user/{user}")).json()["items"] == []
    assert session["sessionId"] not in [s["sessionId"] for s in http.get(server.url("/sessions")).json()["items"]]
    # Still in the table: DynamoDB (and moto) delete expired items lazily.
    raw = moto_client.get_item(TableName=server.table, Key={HASH_KEY: {"S": session["sessionId"]}})
    assert "Item" in raw


def _run_threads(count: int, work) -> list[BaseException]:
    errors: list[BaseException] = []

    def runner(index: int) -> None:
        try:
            work(index)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_concurrent_merges_lose_no_update(api):
    session = requests.post(api.url("/sessions"), json={"userId": _user()}).json()
    location = api.url(f"/sessions/{session['sessionId']}")
    threads, per_thread = 8, 10

    def work(index: int) -> None:
        with requests.Session() as http:
            for step in range(per_thread):
                response = http.put(location, json={"data": {f"t{index}-{step}": step}})
                assert response.status_code == 200, response.text

    assert _run_threads(threads, work) == []
    final = requests.get(location).json()
    assert final["data"] == {f"t{i}-{s}": s for i in range(threads) for s in range(per_thread)}
    assert final["version"] == 1 + threads * per_thread


def test_concurrent_read_modify_write_with_versions_counts_exactly(api):
    # A counter incremented by read-modify-write from many threads: with the
    # version precondition, a racing writer gets 409 and retries, so every
    # acknowledged increment is in the final count.
    session = requests.post(api.url("/sessions"), json={"userId": _user(), "data": {"count": 0}}).json()
    location = api.url(f"/sessions/{session['sessionId']}")
    threads, increments = 6, 5
    conflicts = []

    def work(index: int) -> None:
        with requests.Session() as http:
            for _ in range(increments):
                for _attempt in range(200):
                    current = http.get(location).json()
                    response = http.put(
                        location,
                        json={"data": {"count": current["data"]["count"] + 1}, "version": current["version"]},
                    )
                    if response.status_code == 200:
                        break
                    assert response.status_code == 409, response.text
                    conflicts.append(1)
                else:
                    raise AssertionError("no increment succeeded in 200 attempts")

    assert _run_threads(threads, work) == []
    final = requests.get(location).json()
    assert final["data"]["count"] == threads * increments
    assert final["version"] == 1 + threads * increments


def test_logs_are_json_lines_with_request_ids(api, http):
    request_id = f"trace-{uuid.uuid4().hex}"
    response = http.get(api.url("/sessions/unknown-id"), headers={"X-Request-ID": request_id})
    assert response.headers["X-Request-ID"] == request_id
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in api.log().splitlines() if line.startswith("{")]
        mine = [entry for entry in lines if entry.get("request_id") == request_id]
        if mine:
            break
        time.sleep(0.1)
    assert mine, "no log line carried the request id"
    assert mine[-1]["status"] == 404 and mine[-1]["path"] == "/sessions/unknown-id"


def test_sigterm_lets_an_in_flight_request_finish(start_api, http):
    server = start_api()
    assert http.get(server.url("/health")).status_code == 200
    # A request in flight across the SIGTERM: headers and half the body now,
    # the rest after the signal. A worker that stopped at once would drop it.
    body = json.dumps({"userId": _user(), "data": {"during": "shutdown"}}).encode()
    host, port = server.base_url.removeprefix("http://").split(":")
    head = (
        f"POST /sessions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(head + body[:10])
        time.sleep(0.3)  # a worker thread is now reading the body
        os.kill(server.process.pid, signal.SIGTERM)
        time.sleep(0.5)
        assert server.process.poll() is None, "gunicorn exited with a request in flight"
        sock.sendall(body[10:])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"201", answer[:500]
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["data"] == {"during": "shutdown"}
    assert server.process.wait(timeout=30) == 0
    assert "Shutting down" in server.log()


def test_missing_configuration_stops_start_up_with_its_name(moto_url):
    env = local.app_environment(moto_url, "t", "us-east-1", local.free_port())
    del env["TABLE_NAME"]
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "python:session_api.gunicorn_conf", "session_api.wsgi:app"],
        env=env,
        cwd=local.APP_DIR,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "TABLE_NAME is required" in result.stderr


def test_oversized_body_is_json_413_over_http(api, http):
    body = {"userId": _user(), "data": {"blob": "x" * (1024 * 1024 + 10)}}
    response = http.post(api.url("/sessions"), json=body)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    # The connection stays usable for the next request.
    assert http.get(api.url("/health")).status_code == 200


def test_documented_local_command_serves_the_api_and_stops_both_servers(tmp_path):
    # README: `cd app && python -m session_api.local` -- moto, the table, gunicorn.
    port = local.free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    log = open(tmp_path / "local.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "session_api.local", "--port", str(port), "--table", "local-run"],
        cwd=local.APP_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://{local.LOOPBACK}:{port}"
    try:
        local.wait_for_http(f"{base}/health", process, timeout=60)
        assert requests.get(f"{base}/ready", timeout=5).json() == {"status": "ready", "table": "local-run"}
        created = requests.post(f"{base}/sessions", json={"userId": _user(), "data": {"n": 1}}, timeout=5)
        assert created.status_code == 201
        assert requests.get(base + created.headers["Location"], timeout=5).json() == created.json()
    finally:
        code = local.stop(process, timeout=30)
        log.close()
    output = (tmp_path / "local.log").read_text(errors="replace")
    assert code == 0, output
    moto_port = int(re.search(r"moto server \(DynamoDB\) on http://127\.0\.0\.1:(\d+)", output).group(1))
    for stopped in (port, moto_port):
        with pytest.raises(OSError):
            socket.create_connection((local.LOOPBACK, stopped), timeout=2).close()
