"""Configuration: read once from the environment, bad values named."""

from __future__ import annotations

import pytest

from session_api.config import Config, ConfigError
from session_api.table import DEFAULT_TTL_SECONDS

BASE = {"TABLE_NAME": "sessions", "AWS_REGION": "eu-west-1"}


def test_defaults():
    config = Config.from_env(BASE)
    assert config.table_name == "sessions"
    assert config.region == "eu-west-1"
    assert config.endpoint_url is None
    assert config.ttl_seconds == DEFAULT_TTL_SECONDS == 86400
    assert config.port == 8080
    assert config.log_level == "INFO"
    assert config.retry_mode == "standard"


@pytest.mark.parametrize("missing", ["TABLE_NAME", "AWS_REGION"])
def test_missing_required_value_is_named(missing):
    env = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        Config.from_env(env)


def test_blank_required_value_counts_as_missing():
    with pytest.raises(ConfigError, match="TABLE_NAME"):
        Config.from_env(BASE | {"TABLE_NAME": "  "})


def test_default_region_is_a_fallback():
    env = {"TABLE_NAME": "t", "AWS_DEFAULT_REGION": "ap-south-1"}
    assert Config.from_env(env).region == "ap-south-1"
    assert Config.from_env(env | {"AWS_REGION": "us-west-2"}).region == "us-west-2"


def test_service_specific_endpoint_wins():
    env = BASE | {"AWS_ENDPOINT_URL": "http://general:1"}
    assert Config.from_env(env).endpoint_url == "http://general:1"
    env["AWS_ENDPOINT_URL_DYNAMODB"] = "http://dynamo:2"
    assert Config.from_env(env).endpoint_url == "http://dynamo:2"


def test_values_are_parsed():
    env = BASE | {
        "SESSION_TTL_SECONDS": "60",
        "PORT": "9000",
        "LOG_LEVEL": "debug",
        "AWS_RETRY_MODE": "Adaptive",
        "AWS_MAX_ATTEMPTS": "5",
    }
    config = Config.from_env(env)
    assert (config.ttl_seconds, config.port, config.log_level) == (60, 9000, "DEBUG")
    assert (config.retry_mode, config.max_attempts) == ("adaptive", 5)


@pytest.mark.parametrize(
    "name, value",
    [
        ("SESSION_TTL_SECONDS", "0"),
        ("SESSION_TTL_SECONDS", "1h"),
        ("PORT", "70000"),
        ("PORT", "http"),
        ("LOG_LEVEL", "LOUD"),
        ("AWS_RETRY_MODE", "legacy-ish"),
        ("AWS_MAX_ATTEMPTS", "0"),
        ("READY_CACHE_SECONDS", "-1"),
        ("WEB_CONCURRENCY", "0"),
    ],
)
def test_bad_value_is_named(name, value):
    with pytest.raises(ConfigError, match=name):
        Config.from_env(BASE | {name: value})


def test_store_client_uses_configured_retry_mode(aws_env):
    from session_api.store import make_client

    config = Config.from_env(BASE | {"AWS_RETRY_MODE": "adaptive", "AWS_MAX_ATTEMPTS": "4"})
    client = make_client(config)
    assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 4}
    probe = make_client(config, probe=True)
    assert probe.meta.config.retries["total_max_attempts"] == 1


def test_store_makes_both_clients_from_one_boto3_session(aws_env, boto3_sessions_made):
    """A boto3 session reads botocore's data files for its first client (about 0.1 s of a
    worker's start-up); the probe client must not pay that a second time."""
    from session_api.store import SessionStore

    store = SessionStore.from_config(Config.from_env(BASE | {"AWS_MAX_ATTEMPTS": "4"}))
    assert len(boto3_sessions_made) == 1
    assert store.client.meta.config.retries["total_max_attempts"] == 4
    assert store.probe_client.meta.config.retries["total_max_attempts"] == 1
    assert store.client is not store.probe_client
