"""Fixtures for the session API tests.

Unit tests run the Flask app in-process against moto's in-memory DynamoDB
(``moto.mock_aws``). Integration tests start a moto server and the app under
gunicorn as child processes on free 127.0.0.1 ports and stop them by PID.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests
from moto import mock_aws
from moto.core.base_backend import BackendDict

from session_api import local
from session_api.app import create_app
from session_api.config import Config
from session_api.store import SessionStore
from session_api.table import TTL_ATTRIBUTE, create_table_kwargs

REGION = "us-east-1"
TABLE = "sessions-test"


@pytest.fixture
def aws_env(monkeypatch):
    """Fake credentials and no ambient AWS settings: tests never reach AWS."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


_shared_session: boto3.session.Session | None = None
_table_client = None


class _ModuleMock:
    """One ``mock_aws()`` per test module, its backends emptied for each test.

    Starting moto's mock registers a URL pattern per AWS service with
    ``responses``; emptying the backends (what ``mock_aws()`` does on entry)
    gives a test the same empty in-memory AWS for a fraction of the cost. A
    test that does not ask for ``mocked_aws`` runs with the mock stopped, and
    it is stopped when the module's tests are done, so no other test sees it.
    """

    _CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")

    def __init__(self) -> None:
        self.mock = None

    def on(self) -> None:
        if self.mock is None:
            self.mock = mock_aws()
            self.mock.start()
        else:
            # The backends only: MockAWS.reset() also empties moto's `responses`
            # registry, after which a `requests` call to an AWS URL is no longer
            # answered by moto but passed through to the network.
            BackendDict.reset()

    def off(self) -> None:
        if self.mock is None:
            return
        # moto puts back the credentials it saw when it started, which may be a
        # finished test's monkeypatched ones: keep the environment as it is now.
        saved = {name: os.environ.get(name) for name in self._CREDENTIALS}
        self.mock.stop()
        self.mock = None
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_module_mock = _ModuleMock()


@pytest.fixture(scope="module", autouse=True)
def _aws_mock_stopped_after_module():
    yield
    _module_mock.off()


@pytest.fixture
def module_mock() -> _ModuleMock:
    """The test process's per-module mock, for the tests of its isolation."""
    return _module_mock


@pytest.fixture(autouse=True)
def _aws_mock_stopped_unless_asked(request):
    if "mocked_aws" not in request.fixturenames:
        _module_mock.off()


@pytest.fixture
def mocked_aws(aws_env):
    """moto's in-memory AWS, with one boto3 session for the whole test process.

    moto clears boto3's default session on entry, and every new session
    re-reads botocore's endpoint and service files: about 0.1 s a client, most
    of an in-process test's setup. moto intercepts the clients of any session,
    and each test starts with empty in-memory backends.
    """
    global _shared_session
    _module_mock.on()
    if _shared_session is None:
        _shared_session = boto3.session.Session()
    boto3.DEFAULT_SESSION = _shared_session
    yield


def make_table(name: str = TABLE) -> None:
    # One client for the tests' own table set-up: moto intercepts it in every
    # mock_aws() block, and nothing registers handlers on it (the app's store
    # gets a client of its own per test).
    global _table_client
    if _table_client is None:
        _table_client = _shared_session.client("dynamodb", region_name=REGION)
    client = _table_client
    client.create_table(**create_table_kwargs(name))
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )


@pytest.fixture
def table(mocked_aws) -> str:
    make_table()
    return TABLE


class FakeClock:
    """Wall clock the tests move by hand (expiry without sleeping)."""

    def __init__(self) -> None:
        # Whole seconds: expiry is computed in whole seconds, so tests can hit it exactly.
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config() -> Config:
    return Config(table_name=TABLE, region=REGION, ttl_seconds=3600, ready_cache_seconds=0)


@pytest.fixture
def store(table, config, clock) -> SessionStore:
    client = boto3.client("dynamodb", region_name=REGION)
    return SessionStore(client, config.table_name, config.ttl_seconds, clock=clock)


@pytest.fixture
def app(config, store):
    return create_app(config, store)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def user_id() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def create(client):
    """POST /sessions through the test client; returns the response."""

    def post(user_id: str, data: dict | None = None):
        body = {"userId": user_id}
        if data is not None:
            body["data"] = data
        return client.post("/sessions", json=body)

    return post


# -- integration: real servers on loopback ---------------------------------------


@dataclass
class ApiServer:
    base_url: str
    table: str
    process: object
    log_path: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def moto_client(moto_url):
    """A DynamoDB client of the moto server, made once per test process.

    ``local.create_session_table`` builds a new boto3 session each call, which
    re-reads botocore's service files (a quarter of a second of CPU a server).
    """
    return boto3.session.Session().client(
        "dynamodb",
        endpoint_url=moto_url,
        region_name=REGION,
        aws_access_key_id=local.FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=local.FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture(scope="session")
def start_api(moto_url, moto_client, tmp_path_factory):
    """Start the API under gunicorn on its own table; stopped at session end."""
    started = []

    def start(ttl_seconds: int | None = None, **env: str) -> ApiServer:
        table = f"sessions-{uuid.uuid4().hex[:8]}"
        # The same table and TTL setting as `python -m session_api.local` makes
        # (test_documented_local_command_... runs that path itself).
        moto_client.create_table(**create_table_kwargs(table))
        moto_client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        moto_client.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
        )
        port = local.free_port()
        extra = dict(env)
        if ttl_seconds is not None:
            extra["SESSION_TTL_SECONDS"] = str(ttl_seconds)
        log_path = tmp_path_factory.mktemp("api") / "gunicorn.log"
        process = local.start_gunicorn(
            local.app_environment(moto_url, table, REGION, port, **extra), log_path
        )
        started.append(process)
        return ApiServer(f"http://{local.LOOPBACK}:{port}", table, process, log_path)

    yield start
    # Signal every server first, then wait: each takes up to a second to wind
    # down its workers, and they can do it at the same time.
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        local.stop(process)


@pytest.fixture(scope="session")
def api(start_api) -> ApiServer:
    return start_api()


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session
