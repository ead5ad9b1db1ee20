"""Stack configuration: the only module that reads `pulumi.Config()`.

Every key is documented in docs/configuration.md (tests/test_docs_config.py checks both ways). A bad value
stops the program with a message that names the key, not a stack trace.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Callable, TypeVar

import pulumi

# One os/arch[/variant]: the pattern the image build itself enforces (docker --platform;
# a loaded image holds one platform only).
from components.session_api_image import PLATFORM as IMAGE_PLATFORM

T = TypeVar("T")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_HOST = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


class ConfigError(pulumi.RunError):
    """Shown to the user as a plain message (RunError suppresses the traceback)."""


APP_TIMEOUT_MAX_MINUTES = 120
"""How long `appTimeoutMinutes` may let Pulumi wait for an Application (its table on real AWS included)."""


def _key(name: str) -> str:
    return f"{pulumi.get_project()}:{name}"


def _get(config: pulumi.Config, name: str, default: T, parse: Callable[[str], T]) -> T:
    raw = config.get(name)
    if raw is None or raw == "":
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


def _minutes(most: int) -> Callable[[str], int]:
    """A whole number of minutes from 1 to `most`: 0 or a negative wait would fail every run at once."""

    def parse(raw: str) -> int:
        value = _int(raw)
        if not 1 <= value <= most:
            raise ValueError(f"expected a whole number of minutes from 1 to {most}, got {raw!r}")
        return value

    return parse


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
    cluster_mode: str
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
    ingress_port: int
    ingress_scheme: str
    image_registry: str
    image_platform: str
    """The nodes' os/arch the images are built for on an existing cluster; '' on k3d (this machine's)."""
    image_pull_secrets: tuple[str, ...]
    ack_role_arn: str


def _secret_names(raw: str) -> tuple[str, ...]:
    names = json.loads(raw)
    if not isinstance(names, list) or not all(isinstance(n, str) and _DNS_LABEL.match(n) for n in names):
        raise ValueError(f"expected a JSON list of Secret names, got {raw!r}")
    return tuple(names)


_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_REGISTRY = re.compile(r"^[a-z0-9.-]+(:\d+)?(/[a-z0-9._/-]+)?$")


def platform_config() -> PlatformConfig:
    config = pulumi.Config()
    cluster_mode = _get(config, "clusterMode", "k3d", _choice("k3d", "existing"))
    image_registry = _get(config, "imageRegistry", "", _matching(_REGISTRY, "a registry path like ghcr.io/acme"))
    if cluster_mode == "existing" and not image_registry:
        raise ConfigError(
            f"config {_key('imageRegistry')}: required with clusterMode existing "
            "(images are pushed there instead of imported into k3d)"
        )
    if cluster_mode == "k3d" and image_registry:
        raise ConfigError(
            f"config {_key('imageRegistry')}: only used with clusterMode existing; k3d imports images directly"
        )
    image_platform = _get(
        config, "imagePlatform", "", _matching(IMAGE_PLATFORM, "one platform like linux/amd64 or linux/arm64")
    )
    if cluster_mode == "k3d" and image_platform:
        raise ConfigError(
            f"config {_key('imagePlatform')}: only used with clusterMode existing; "
            "k3d nodes run on this machine, and images are built for it"
        )
    if cluster_mode == "existing" and not image_platform:
        # The nodes are not this machine: without a platform, an arm64 laptop
        # would build images that amd64 nodes cannot run (and the other way round).
        image_platform = "linux/amd64"
    ingress_scheme = _get(config, "ingressScheme", "http", _choice("http", "https"))
    # On k3d the ingress answers on the host port mapped to k3s's load balancer.
    if cluster_mode == "k3d":
        default_port = _get(config, "httpPort", 8081, _int)
    else:
        default_port = 443 if ingress_scheme == "https" else 80
    return PlatformConfig(
        cluster_mode=cluster_mode,
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
        ingress_port=_get(config, "ingressPort", default_port, _int),
        ingress_scheme=ingress_scheme,
        image_registry=image_registry,
        image_platform=image_platform,
        image_pull_secrets=_get(config, "imagePullSecrets", (), _secret_names),
        ack_role_arn=_get(config, "ackRoleArn", "", _matching(_ROLE_ARN, "an IAM role ARN")),
    )


def existing_kubeconfig() -> pulumi.Output[str]:
    """The `kubeconfig` secret: kubeconfig content, or the path of a kubeconfig file."""
    raw = pulumi.Config().get_secret("kubeconfig")
    if raw is None:
        raise ConfigError(
            f"config {_key('kubeconfig')}: required with clusterMode existing; set it as a secret: "
            "`pulumi config set --secret kubeconfig \"$(cat ~/.kube/config)\"` (or a file path)"
        )

    def load(value: str) -> str:
        if "\n" in value or value.lstrip().startswith(("apiVersion", "{")):
            return value
        path = os.path.expanduser(value)
        if not os.path.isfile(path):
            raise ConfigError(f"config {_key('kubeconfig')}: not kubeconfig content, and no file at {value!r}")
        with open(path, encoding="utf-8") as handle:
            return handle.read()

    return pulumi.Output.secret(raw.apply(load))


def kube_context() -> str | None:
    return pulumi.Config().get("kubeContext")


def resolved_kube_context(kubeconfig: pulumi.Input[str], wanted: str | None) -> pulumi.Output[str]:
    """The context the stacks use: `wanted` (config `kubeContext`), or the kubeconfig's current one.

    Every stack and CLI command is pointed at this one context by name, so a
    kubeconfig with several contexts never sends one of them elsewhere. The name
    itself is not secret, though the kubeconfig is.
    """
    from components.existing_cluster import kubeconfig_context

    def resolve(text: str) -> str:
        try:
            return kubeconfig_context(text, wanted)
        except ValueError as error:
            raise ConfigError(f"config {_key('kubeContext' if wanted else 'kubeconfig')}: {error}") from None

    return pulumi.Output.unsecret(pulumi.Output.from_input(kubeconfig).apply(resolve))


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


@dataclass(frozen=True)
class CrossplaneConfig:
    provider_timeout_minutes: int
    app_timeout_minutes: int


def crossplane_config() -> CrossplaneConfig:
    """Keys of the `crossplane` stack (besides `platformStack`)."""
    config = pulumi.Config()
    return CrossplaneConfig(
        provider_timeout_minutes=_get(config, "providerTimeoutMinutes", 10, _int),
        app_timeout_minutes=_get(config, "appTimeoutMinutes", 20, _minutes(APP_TIMEOUT_MAX_MINUTES)),
    )


@dataclass(frozen=True)
class KroConfig:
    namespace: str
    rgd_timeout_minutes: int
    app_timeout_minutes: int


def kro_config() -> KroConfig:
    """Keys of the `kro` stack (besides `platformStack`)."""
    config = pulumi.Config()
    return KroConfig(
        namespace=_get(config, "kroNamespace", "kro-system", _matching(_DNS_LABEL, "a DNS label")),
        rgd_timeout_minutes=_get(config, "rgdTimeoutMinutes", 5, _int),
        app_timeout_minutes=_get(config, "appTimeoutMinutes", 20, _minutes(APP_TIMEOUT_MAX_MINUTES)),
    )


@dataclass(frozen=True)
class KratixConfig:
    state_store_namespace: str
    promise_timeout_minutes: int
    app_timeout_minutes: int


def kratix_config() -> KratixConfig:
    """Keys of the `kratix` stack (besides `platformStack`)."""
    config = pulumi.Config()
    return KratixConfig(
        state_store_namespace=_get(
            config, "stateStoreNamespace", "kratix-statestore", _matching(_DNS_LABEL, "a DNS label")
        ),
        promise_timeout_minutes=_get(config, "promiseTimeoutMinutes", 10, _int),
        app_timeout_minutes=_get(config, "appTimeoutMinutes", 20, _minutes(APP_TIMEOUT_MAX_MINUTES)),
    )
