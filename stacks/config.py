"""Stack configuration: the only module that reads `pulumi.Config()`.

Every key is documented in the README's configuration reference. A bad value
stops the program with a message that names the key, not a stack trace.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable, TypeVar

import pulumi

T = TypeVar("T")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_HOST = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


class ConfigError(pulumi.RunError):
    """Shown to the user as a plain message (RunError suppresses the traceback)."""


def _key(name: str) -> str:
    return f"{pulumi.get_project()}:{name}"


def _get(config: pulumi.Config, name: str, default: T, parse: Callable[[str], T]) -> T:
    raw = config.get(name)
    if raw is None:
        return default
    try:
        return parse(raw)
    except (ValueError, TypeError, json.JSONDecodeError) as error:
        raise ConfigError(f"config {_key(name)}: {error}") from None


def _int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"expected a whole number, got {raw!r}") from None


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {raw!r}")
        return raw

    return parse


def _matching(pattern: re.Pattern, what: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not pattern.match(raw):
            raise ValueError(f"{raw!r} is not {what}")
        return raw

    return parse


def _validated(name: str, build: Callable[[], T]) -> T:
    """Run a dataclass constructor whose __post_init__ checks values; name the config on failure."""
    try:
        return build()
    except ValueError as error:
        raise ConfigError(f"config {name}: {error}") from None


@dataclass(frozen=True)
class PlatformConfig:
    cluster_name: str
    agents: int
    api_port: int
    http_port: int
    dynamodb_mode: str
    aws_region: str
    table_prefix: str
    apps_namespace: str
    ingress_domain: str
    ingress_class: str


def platform_config() -> PlatformConfig:
    config = pulumi.Config()
    return PlatformConfig(
        cluster_name=_get(config, "clusterName", "kubevela-dynamodb", str),
        agents=_get(config, "agents", 0, _int),
        api_port=_get(config, "apiPort", 6550, _int),
        http_port=_get(config, "httpPort", 8081, _int),
        dynamodb_mode=_get(config, "dynamodbMode", "local", _choice("local", "aws")),
        aws_region=_get(config, "awsRegion", "us-east-1", str),
        table_prefix=_get(config, "tablePrefix", "kvdemo-", str),
        apps_namespace=_get(config, "appsNamespace", "session-apps", _matching(_DNS_LABEL, "a DNS label")),
        ingress_domain=_get(config, "ingressDomain", "localhost", _matching(_HOST, "a host name")),
        ingress_class=_get(config, "ingressClass", "traefik", _matching(_DNS_LABEL, "an ingress class name")),
    )


def approach_override() -> str | None:
    """`approach` lets a stack with another name (e.g. `dev-kro`) build one of the known stacks."""
    return pulumi.Config().get("approach")


def platform_stack_name() -> str:
    """Fully qualified name of the platform stack an approach stack reads."""
    raw = pulumi.Config().get("platformStack") or "platform"
    if raw.count("/") == 0:
        # The local (file) backend names stacks organization/<project>/<stack>.
        organization = pulumi.get_organization() or "organization"
        return f"{organization}/{pulumi.get_project()}/{raw}"
    if raw.count("/") == 2:
        return raw
    raise ConfigError(
        f"config {_key('platformStack')}: expected a stack name like 'platform' or "
        f"'<org>/<project>/<stack>', got {raw!r}"
    )


