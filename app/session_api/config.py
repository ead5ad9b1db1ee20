"""Configuration from the environment, read once at start-up.

Everything the service can be told lives in :class:`Config`. ``Config.from_env``
is the only place that reads ``os.environ``; the rest of the code receives a
``Config`` object, so tests build one from plain values.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from session_api.table import DEFAULT_TTL_SECONDS


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_RETRY_MODES = ("standard", "adaptive")


@dataclass(frozen=True)
class Config:
    table_name: str
    region: str
    endpoint_url: str | None = None
    ttl_seconds: int = DEFAULT_TTL_SECONDS
    port: int = 8080
    log_level: str = "INFO"
    ready_cache_seconds: float = 5.0
    retry_mode: str = "standard"
    max_attempts: int = 3
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    # Server settings, used by gunicorn_conf only.
    host: str = "0.0.0.0"
    workers: int = 2
    threads: int = 4
    graceful_timeout: int = 25

    def __post_init__(self) -> None:
        if not self.table_name:
            raise ConfigError("TABLE_NAME is required (the DynamoDB table holding sessions)")
        if not self.region:
            raise ConfigError("AWS_REGION is required (for example us-east-1)")
        if self.ttl_seconds < 1:
            raise ConfigError(f"SESSION_TTL_SECONDS must be a positive integer, got {self.ttl_seconds}")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"PORT must be between 1 and 65535, got {self.port}")
        if self.log_level not in _LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {self.log_level!r}")
        if self.ready_cache_seconds < 0:
            raise ConfigError(f"READY_CACHE_SECONDS must not be negative, got {self.ready_cache_seconds}")
        if self.retry_mode not in _RETRY_MODES:
            raise ConfigError(f"AWS_RETRY_MODE must be one of {', '.join(_RETRY_MODES)}, got {self.retry_mode!r}")
        if self.max_attempts < 1:
            raise ConfigError(f"AWS_MAX_ATTEMPTS must be at least 1, got {self.max_attempts}")
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ConfigError("DYNAMODB_CONNECT_TIMEOUT and DYNAMODB_READ_TIMEOUT must be positive")
        if self.workers < 1:
            raise ConfigError(f"WEB_CONCURRENCY must be at least 1, got {self.workers}")
        if self.threads < 1:
            raise ConfigError(f"GUNICORN_THREADS must be at least 1, got {self.threads}")
        if self.graceful_timeout < 1:
            raise ConfigError(f"GRACEFUL_TIMEOUT must be at least 1 second, got {self.graceful_timeout}")

    @property
    def log_level_number(self) -> int:
        return logging.getLevelName(self.log_level)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        """Build the configuration from environment variables.

        Raises :class:`ConfigError` naming the first missing or malformed variable.
        """
        env = os.environ if environ is None else environ

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def number(name: str, default, kind=int):
            raw = text(name)
            if raw is None:
                return default
            try:
                return kind(raw)
            except ValueError:
                noun = "an integer" if kind is int else "a number"
                raise ConfigError(f"{name} must be {noun}, got {raw!r}") from None

        table_name = text("TABLE_NAME")
        if table_name is None:
            raise ConfigError("TABLE_NAME is required (the DynamoDB table holding sessions)")
        # AWS_DEFAULT_REGION is what older SDK setups export; accept it as a fallback.
        region = text("AWS_REGION") or text("AWS_DEFAULT_REGION")
        if region is None:
            raise ConfigError("AWS_REGION is required (for example us-east-1)")
        # The service-specific variable wins, as it does in the AWS SDKs.
        endpoint_url = text("AWS_ENDPOINT_URL_DYNAMODB") or text("AWS_ENDPOINT_URL")
        return cls(
            table_name=table_name,
            region=region,
            endpoint_url=endpoint_url,
            ttl_seconds=number("SESSION_TTL_SECONDS", DEFAULT_TTL_SECONDS),
            port=number("PORT", 8080),
            log_level=(text("LOG_LEVEL") or "INFO").upper(),
            ready_cache_seconds=number("READY_CACHE_SECONDS", 5.0, float),
            retry_mode=(text("AWS_RETRY_MODE") or "standard").lower(),
            max_attempts=number("AWS_MAX_ATTEMPTS", 3),
            connect_timeout=number("DYNAMODB_CONNECT_TIMEOUT", 2.0, float),
            read_timeout=number("DYNAMODB_READ_TIMEOUT", 5.0, float),
            host=text("HOST") or "0.0.0.0",
            workers=number("WEB_CONCURRENCY", 2),
            threads=number("GUNICORN_THREADS", 4),
            graceful_timeout=number("GRACEFUL_TIMEOUT", 25),
        )
