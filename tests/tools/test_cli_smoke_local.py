"""`smoke` against a real local session API + moto server, and `audit` against moto."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from types import SimpleNamespace

import boto3
import pytest
from session_api import local
from session_api.table import create_table_kwargs

from tools import cli
from tools.cli import audit_tables
from tools.smoke import check_api, check_table, SmokeResult
from tools import targets
from tools.targets import Target, list_prefixed_tables, loopback_url


def test_smoke_local_passes_every_check_including_expiry(make_ctx):
    ctx = make_ctx()
    # 2 s, not 1: expiresAt is a whole second, so a 1 s session created late in a second
    # can expire before the read check that follows its creation.
    code = cli.main(["smoke", "--local", "--local-ttl", "2"], ctx)
    text = ctx.text()
    assert code == 0, text
    assert text.startswith("local: PASS")
    for check in ("ready", "create", "read", "update", "list by user", "delete", "expiry", "table exists",
                  "table ACTIVE", "key schema", "user GSI", "TTL"):
        assert f"[  ok] {check}" in text


def test_localhost_names_go_to_loopback_with_their_host_header():
    assert loopback_url("http://session-api-kro.localhost:8081/x") == (
        "http://127.0.0.1:8081/x", {"Host": "session-api-kro.localhost:8081"})
    assert loopback_url("https://dynamodb.us-east-1.amazonaws.com") == ("https://dynamodb.us-east-1.amazonaws.com", {})


def _client(url):
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_table_check_names_what_differs_from_the_contract(moto_url):
    client = _client(moto_url)
    kwargs = create_table_kwargs("kvdemo-sessions-broken")
    del kwargs["GlobalSecondaryIndexes"]
    kwargs["AttributeDefinitions"] = kwargs["AttributeDefinitions"][:1]
    client.create_table(**kwargs)
    result = SmokeResult("xp", "http://unused", "kvdemo-sessions-broken")
    check_table(result, client)
    failed = {c.name: c.detail for c in result.checks if not c.ok}
    assert set(failed) == {"user GSI", "TTL"}
    assert "missing" in failed["user GSI"] and "DISABLED" in failed["TTL"]
    missing = SmokeResult("xp", "http://unused", "kvdemo-sessions-none")
    check_table(missing, client)
    assert not missing.ok and "no table 'kvdemo-sessions-none'" in missing.checks[0].detail


def test_smoke_against_a_dead_api_fails_clearly(moto_url):
    from tools.smoke import smoke

    port = local.free_port()
    result = smoke("kro", f"http://session-api-kro.localhost:{port}", "kvdemo-none", _client(moto_url))
    assert not result.ok
    assert result.checks[0].name == "ready" and "does not answer" in result.checks[0].detail


def test_host_header_reaches_moto_through_a_localhost_name(moto_url):
    """The path `local` mode takes: a `*.localhost` endpoint, signed with its Host header."""
    port = moto_url.rsplit(":", 1)[1]
    target = Target("local", "us-east-1", f"http://dynamodb.localhost:{port}", "kvdemo-")
    _client(moto_url).create_table(**create_table_kwargs("kvdemo-via-host"))
    assert "kvdemo-via-host" in list_prefixed_tables(target.client(), "kvdemo-via")


def test_target_clients_share_one_boto3_session_but_not_their_hooks(moto_url, monkeypatch, boto3_sessions_made):
    """One session per process (its first client reads botocore's data files); the Host
    header hook of a `*.localhost` target stays on that target's client."""
    monkeypatch.setattr(targets, "_session", None, raising=False)
    port = moto_url.rsplit(":", 1)[1]
    by_name = Target("local", "us-east-1", f"http://dynamodb.localhost:{port}", "kvdemo-").client()
    direct = Target("local", "us-east-1", moto_url, "kvdemo-").client()
    sent = {}
    for name, client in (("by_name", by_name), ("direct", direct)):

        def record(request, name=name, **_):  # returns None: a value would stand in for the answer
            sent[name] = request.headers.get("Host")

        client.meta.events.register("before-send.dynamodb", record)
        client.list_tables()
    assert len(boto3_sessions_made) == 1
    assert sent["by_name"] == f"dynamodb.localhost:{port}".encode()
    assert sent["direct"] != sent["by_name"]


@pytest.fixture
def audit_target(moto_url):
    prefix = f"aud{local.free_port()}-"
    return Target("local", "us-east-1", moto_url, prefix)


def test_audit_lists_leftover_tables_and_fails(make_ctx, audit_target, moto_url):
    client = _client(moto_url)
    client.create_table(**create_table_kwargs(f"{audit_target.prefix}sessions-kro"))
    client.create_table(**create_table_kwargs("unrelated-table"))
    ctx = make_ctx()
    assert audit_tables(ctx, ["crossplane", "kro", "kratix"], True, audit_target) is False
    assert f"  {audit_target.prefix}sessions-kro" in ctx.text()
    assert "unrelated-table" not in ctx.text()
    # Auditing only crossplane's table ignores kro's.
    ctx2 = make_ctx()
    assert audit_tables(ctx2, ["crossplane"], False, audit_target) is True
    client.delete_table(TableName=f"{audit_target.prefix}sessions-kro")
    ctx3 = make_ctx()
    assert audit_tables(ctx3, ["crossplane", "kro", "kratix"], True, audit_target) is True
    assert "audit: ok" in ctx3.text()


def test_audit_paginates(moto_url):
    client = _client(moto_url)
    prefix = f"page{local.free_port()}-"
    for i in range(3):
        client.create_table(**create_table_kwargs(f"{prefix}{i}"))

    class Paged:
        """ListTables one name per page, as a large account would answer."""

        def list_tables(self, **kwargs):
            names = sorted(client.list_tables()["TableNames"])
            start = kwargs.get("ExclusiveStartTableName")
            rest = [n for n in names if start is None or n > start]
            page = {"TableNames": rest[:1]}
            if len(rest) > 1:
                page["LastEvaluatedTableName"] = rest[0]
            return page

    assert list_prefixed_tables(Paged(), prefix) == [f"{prefix}0", f"{prefix}1", f"{prefix}2"]


def test_audit_that_cannot_reach_the_target_fails_and_names_the_override(make_ctx):
    ctx = make_ctx()
    dead = Target("local", "us-east-1", f"http://127.0.0.1:{local.free_port()}", "kvdemo-")
    assert audit_tables(ctx, ["kro"], True, dead) is False
    assert "--skip-audit" in ctx.text()


class _ApiWithClock:
    """The session API's expiry in memory, on a clock that only `sleep` moves.

    As app/session_api/store.py does: expiresAt is the whole second of creation plus the
    TTL, and a session is gone once the API's clock reaches that second. `reads_behind`:
    the reads are answered by a replica whose clock is that far behind the one that
    created the session. `expires=False`: an API that keeps sessions for ever.
    """

    def __init__(self, ttl: int, reads_behind: float = 0.0, expires: bool = True) -> None:
        self.now, self.ttl, self.reads_behind, self.expires = 1_000_000.25, ttl, reads_behind, expires
        self.sessions: dict[str, dict] = {}
        self.slept = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds

    @staticmethod
    def _iso(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, timezone.utc).isoformat()

    def _live(self, sid: str) -> dict | None:
        session = self.sessions.get(sid)
        if session is None or (self.expires and math.floor(self.now - self.reads_behind) >= session["expires"]):
            return None
        return session

    def call(self, method: str, path: str, json: dict | None = None):
        def answer(status: int, body: dict | None = None):
            return SimpleNamespace(status_code=status, json=lambda: body or {}, text=str(body))

        if path == "/ready":
            return answer(200, {"status": "ready"})
        if method == "POST":
            sid = f"s{len(self.sessions)}"
            expires = math.floor(self.now) + self.ttl
            self.sessions[sid] = {"userId": json["userId"], "data": json.get("data", {}), "expires": expires}
            return answer(201, {"sessionId": sid, "createdAt": self._iso(self.now), "expiresAt": self._iso(expires)})
        if path.startswith("/sessions/user/"):
            return answer(200, {"items": [{"sessionId": s} for s in self.sessions if self._live(s)]})
        sid = path.rsplit("/", 1)[1]
        session = self._live(sid)
        if session is None:
            return answer(404, {"error": "not_found"})
        if method == "PUT":
            session["data"] = json["data"]
        if method == "DELETE":
            del self.sessions[sid]
            return answer(204)
        return answer(200, {"sessionId": sid, "data": session["data"]})


def _expiry(result: SmokeResult):
    return next(check for check in result.checks if check.name == "expiry")


def test_expiry_is_seen_as_soon_as_the_api_drops_the_session():
    # Created 0.25 s into a second: expiresAt - createdAt is 2.75 s. The replica answering
    # reads is 0.6 s behind, so the session is still there after 2.75 s and gone 0.75 s later.
    api = _ApiWithClock(ttl=3, reads_behind=0.6)
    result = SmokeResult("kro", "http://api", "t")
    check_api(result, api, sleep=api.sleep)
    assert _expiry(result).ok, result.lines()
    assert api.slept == 2.75 + 0.75


def test_a_session_that_never_expires_fails_the_expiry_check_after_the_grace():
    api = _ApiWithClock(ttl=3, expires=False)
    result = SmokeResult("kro", "http://api", "t")
    check_api(result, api, sleep=api.sleep)
    assert not _expiry(result).ok
    assert _expiry(result).detail == "after 3s TTL: GET 200, listed True"
    assert api.slept == 2.75 + 1.5
