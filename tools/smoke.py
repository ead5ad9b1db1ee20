"""Smoke test of one deployed approach: its session API over HTTP, and its table in DynamoDB.

API (through the ingress URL): ready, create, read, update, list by user, delete,
and, when the API's session TTL is short enough to wait for, expiry.
Table (boto3 against the DynamoDB target): exists, ACTIVE, the contract's key
schema, the user GSI and TTL on the contract's attribute.

Every check is recorded with its outcome; nothing stops at the first failure, so
one run shows everything that is wrong.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import quote
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

import requests

from app.session_api import table as contract
from tools.targets import loopback_url


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str = ""
    skipped: bool = False


@dataclass
class SmokeResult:
    approach: str
    api_url: str
    table: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok or c.skipped for c in self.checks)

    def add(self, name: str, ok: bool, detail: str = "", skipped: bool = False) -> bool:
        self.checks.append(CheckResult(name, ok, detail, skipped))
        return ok

    def lines(self) -> list[str]:
        head = f"{self.approach}: {'PASS' if self.ok else 'FAIL'}  ({self.api_url}, table {self.table})"
        body = []
        for c in self.checks:
            mark = "skip" if c.skipped else "ok" if c.ok else "FAIL"
            body.append(f"  [{mark:>4}] {c.name}" + (f": {c.detail}" if c.detail else ""))
        return [head, *body]

    def to_json(self) -> dict[str, Any]:
        return {
            "approach": self.approach,
            "ok": self.ok,
            "apiUrl": self.api_url,
            "table": self.table,
            "checks": [c.__dict__ for c in self.checks],
        }


class Api:
    """HTTP to the session API; `*.localhost` URLs go to loopback with their Host header.

    `http` is the session to send with: the Kubernetes client's (its CA, client
    certificate or token) when the URL is the API server's service proxy.
    """

    def __init__(self, base_url: str, timeout: float = 10.0, http: requests.Session | None = None) -> None:
        self.base_url, self.headers = loopback_url(base_url.rstrip("/"))
        self.http = http or requests.Session()
        self.timeout = timeout

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.http.request(method, self.base_url + path, headers=self.headers, timeout=self.timeout, **kwargs)


def _describe(response: requests.Response) -> str:
    body = response.text[:200].replace("\n", " ")
    return f"HTTP {response.status_code} {body}"


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


EXPIRY_GRACE_SECONDS = 1.5
EXPIRY_POLL_SECONDS = 0.25


def check_api(
    result: SmokeResult,
    api: Api,
    max_expiry_wait: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    # A user id outside ASCII, so every deployed API shows it takes any Unicode id
    # and the ingress carries it percent-encoded as UTF-8. No "/", "%", "?", "#" or
    # ";": the Traefik our k3s ships passes them encoded, but some Traefik releases
    # refuse them, and smoke also runs against clusters we did not make (which
    # releases: app/README.md, "User ids in URLs").
    user = f"smoke-użytkownik-测试-{uuid.uuid4().hex[:10]}"
    user_path = "/sessions/user/" + quote(user, safe="")
    try:
        ready = api.call("GET", "/ready")
    except requests.RequestException as error:
        result.add("ready", False, f"{api.base_url} does not answer: {error.__class__.__name__}: {error}")
        return
    if not result.add("ready", ready.status_code == 200, _describe(ready) if ready.status_code != 200 else ""):
        return

    created = api.call("POST", "/sessions", json={"userId": user, "data": {"step": 1}})
    if not result.add("create", created.status_code == 201, "" if created.status_code == 201 else _describe(created)):
        return
    session = created.json()
    sid = session["sessionId"]

    got = api.call("GET", f"/sessions/{sid}")
    result.add(
        "read",
        got.status_code == 200 and got.json().get("data") == {"step": 1},
        "" if got.status_code == 200 else _describe(got),
    )

    updated = api.call("PUT", f"/sessions/{sid}", json={"data": {"step": 2}})
    reread = api.call("GET", f"/sessions/{sid}")
    result.add(
        "update",
        updated.status_code == 200 and reread.status_code == 200 and reread.json().get("data") == {"step": 2},
        "" if updated.status_code == 200 else _describe(updated),
    )

    listed = api.call("GET", user_path)
    ids = [item.get("sessionId") for item in listed.json().get("items", [])] if listed.status_code == 200 else []
    result.add("list by user", ids == [sid], f"got {ids}" if listed.status_code == 200 else _describe(listed))

    deleted = api.call("DELETE", f"/sessions/{sid}")
    gone = api.call("GET", f"/sessions/{sid}")
    result.add(
        "delete",
        deleted.status_code == 204 and gone.status_code == 404,
        "" if deleted.status_code == 204 else _describe(deleted),
    )

    ttl = _epoch(session["expiresAt"]) - _epoch(session["createdAt"])
    if ttl > max_expiry_wait:
        result.add("expiry", True, f"API session TTL is {ttl:.0f}s (> {max_expiry_wait:.0f}s to wait)", skipped=True)
        return
    short = api.call("POST", "/sessions", json={"userId": user, "data": {"short": True}})
    if short.status_code != 201:
        result.add("expiry", False, _describe(short))
        return
    short_session = short.json()
    short_id = short_session["sessionId"]
    # Gone once the API's clock reaches its expiresAt (a whole second): wait until then by
    # the session's own times, then look again for a while, for the request's latency and
    # another replica's clock.
    sleep(max(0.0, _epoch(short_session["expiresAt"]) - _epoch(short_session["createdAt"])))
    expired = api.call("GET", f"/sessions/{short_id}")
    for _ in range(round(EXPIRY_GRACE_SECONDS / EXPIRY_POLL_SECONDS)):
        if expired.status_code != 200:
            break
        sleep(EXPIRY_POLL_SECONDS)
        expired = api.call("GET", f"/sessions/{short_id}")
    listed = api.call("GET", user_path)
    still_listed = [i.get("sessionId") for i in listed.json().get("items", [])] if listed.status_code == 200 else ["?"]
    result.add(
        "expiry",
        expired.status_code == 404 and short_id not in still_listed,
        f"after {ttl:.0f}s TTL: GET {expired.status_code}, listed {short_id in still_listed}",
    )
    api.call("DELETE", f"/sessions/{short_id}")


def _keys(schema: list[dict]) -> dict[str, str]:
    return {k["KeyType"]: k["AttributeName"] for k in schema}


def check_table(result: SmokeResult, client: Any) -> None:
    """The table matches the contract in `app/session_api/table.py`."""
    try:
        table = client.describe_table(TableName=result.table)["Table"]
    except client.exceptions.ResourceNotFoundException:
        result.add("table exists", False, f"no table {result.table!r} in the DynamoDB target")
        return
    except Exception as error:  # endpoint down, credentials: the message is the diagnosis
        result.add("table exists", False, f"{error.__class__.__name__}: {error}")
        return
    result.add("table exists", True)
    result.add("table ACTIVE", table.get("TableStatus") == "ACTIVE", f"status {table.get('TableStatus')}")
    keys = _keys(table.get("KeySchema", []))
    types = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", [])}
    result.add(
        "key schema",
        keys == {"HASH": contract.HASH_KEY} and types.get(contract.HASH_KEY) == "S",
        f"keys {keys}, types {types}",
    )
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", []) or []}
    gsi = indexes.get(contract.USER_INDEX)
    gsi_keys = _keys(gsi["KeySchema"]) if gsi else {}
    result.add(
        "user GSI",
        gsi_keys == {"HASH": contract.USER_INDEX_HASH_KEY, "RANGE": contract.USER_INDEX_RANGE_KEY},
        f"{contract.USER_INDEX}: {gsi_keys or 'missing'}",
    )
    try:
        ttl = client.describe_time_to_live(TableName=result.table)["TimeToLiveDescription"]
    except Exception as error:
        result.add("TTL", False, f"{error.__class__.__name__}: {error}")
        return
    result.add(
        "TTL",
        ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and ttl.get("AttributeName") == contract.TTL_ATTRIBUTE,
        f"{ttl.get('TimeToLiveStatus')} on {ttl.get('AttributeName')!r}",
    )


def smoke(
    approach: str,
    api_url: str,
    table: str,
    client: Any | None,
    max_expiry_wait: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
    http: requests.Session | None = None,
) -> SmokeResult:
    result = SmokeResult(approach, api_url, table)
    check_api(result, Api(api_url, http=http), max_expiry_wait, sleep)
    if client is None:
        result.add("table", False, "no DynamoDB client for the target")
    else:
        check_table(result, client)
    return result
