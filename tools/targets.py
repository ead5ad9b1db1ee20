"""Reaching the demo from the host: API URLs and the DynamoDB target.

`*.localhost` names are loopback by definition (RFC 6761), and curl and browsers
treat them so, but the system resolver may not (glibc without
systemd-resolved/nss-myhostname fails on `session-api-xp.localhost`). So every
request to a `*.localhost` URL connects to 127.0.0.1 and sends the original name
as the Host header, which is all the ingress routes on.

DynamoDB target from the host:
- `aws` mode: real DynamoDB in the platform's region with the caller's own AWS
  credentials (environment or profile), never the engines' identities.
- `local` mode on k3d: the in-cluster moto emulator through the cluster's ingress, at
  the platform output `dynamodbHostEndpoint` (e.g. `http://dynamodb.localhost:8081`);
  moto accepts any credentials, so fixed dummy ones keep real keys out of it.
- `local` mode on an existing cluster: the same emulator through the Kubernetes API
  server's service proxy (platform output `dynamodbEmulatorService`), authenticated
  with the platform's kubeconfig and context; no ingress or DNS is needed.

Through the proxy, the request's `Authorization` header belongs to the API server
(a bearer token), and the API server removes that header from every request it
authenticated, client-certificate ones included, before proxying it (kubernetes/apiserver
pkg/endpoints/filters/authentication.go), so the request's SigV4 signature always
travels in `X-Emulator-Authorization`, which the proxy forwards, and the emulator's
wrapper (components/emulator/moto_server.py) puts it back: moto picks the service
and region from it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

import boto3
import botocore.config

LOOPBACK = "127.0.0.1"
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
HOST_ENDPOINT_OUTPUT = "dynamodbHostEndpoint"
EMULATOR_SERVICE_OUTPUT = "dynamodbEmulatorService"
SIGNATURE_HEADER = "X-Emulator-Authorization"
"""Where a proxied request carries its SigV4 `Authorization` (the wrapper's name for it too)."""


class TargetError(RuntimeError):
    """The DynamoDB target cannot be reached from here; the message says why."""


def loopback_url(url: str) -> tuple[str, dict[str, str]]:
    """(URL to connect to, extra headers): `*.localhost` goes to 127.0.0.1 with its Host header."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        netloc = LOOPBACK + (f":{parts.port}" if parts.port else "")
        host_header = host + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), {"Host": host_header}
    return url, {}


_session: boto3.session.Session | None = None
_session_lock = threading.Lock()


def _new_client(**kwargs: Any) -> Any:
    """A DynamoDB client of this process's one boto3 session.

    A session reads botocore's endpoint and service files for its first client (about
    0.1 s of CPU); later clients of it cost a few milliseconds, and each still has its
    own configuration and event hooks. Sessions are not thread-safe, so clients are
    made under a lock (the table watcher makes them from its own thread).
    """
    global _session
    with _session_lock:
        if _session is None:
            _session = boto3.session.Session()
        return _session.client("dynamodb", **kwargs)


@dataclass
class Target:
    mode: str
    region: str
    endpoint: str | None
    """URL reachable from this machine; None means AWS's own endpoint."""
    prefix: str
    via: Any = None
    """A tools.kube.KubeClient when `endpoint` is a service-proxy URL on its API server."""

    def client(self) -> Any:
        config = botocore.config.Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=15)
        if self.endpoint is None:
            return _new_client(region_name=self.region, config=config)
        if self.via is not None:
            return self._proxied_client(config)
        url, headers = loopback_url(self.endpoint)
        client = _new_client(region_name=self.region, endpoint_url=url, config=config, **DUMMY_CREDENTIALS)
        if headers:
            host = headers["Host"]

            def set_host(request, **_):
                # Before signing, so the signature covers the name the ingress sees.
                request.headers["Host"] = host

            client.meta.events.register("before-sign.dynamodb", set_host)
        return client

    def _proxied_client(self, config: botocore.config.Config) -> Any:
        kube = self.via
        verify = kube.session.verify
        client = _new_client(
            region_name=self.region,
            endpoint_url=self.endpoint,
            # The API server's CA (or False for insecure-skip-tls-verify), and its client certificate.
            verify=verify if isinstance(verify, str) or verify is False else None,
            config=config.merge(botocore.config.Config(client_cert=kube.session.cert)) if kube.session.cert else config,
            **DUMMY_CREDENTIALS,
        )

        def to_api_server(request, **_):
            # After signing: the signature moves aside, the API server's credential takes its place.
            signature = request.headers.get("Authorization")
            if signature is not None:
                del request.headers["Authorization"]
                request.headers[SIGNATURE_HEADER] = signature
            token = kube.token  # renewed here when an exec plugin's token is about to expire
            if token:
                request.headers["Authorization"] = f"Bearer {token}"

        client.meta.events.register("before-send.dynamodb", to_api_server)
        return client


def target_from_outputs(platform_outputs: dict[str, Any], kube: Callable[[], Any] | None = None) -> Target:
    """The DynamoDB target described by the platform stack's outputs.

    `kube` gives a client for the platform's cluster; it is asked for only when the
    emulator is reached through the API server.
    """
    missing = [k for k in ("dynamodbMode", "dynamodbRegion", "tablePrefix") if not platform_outputs.get(k)]
    if missing:
        raise TargetError(f"the platform stack has no output {', '.join(missing)}: bring it up first (`up platform`)")
    mode = platform_outputs["dynamodbMode"]
    if mode == "aws":
        return Target("aws", platform_outputs["dynamodbRegion"], None, platform_outputs["tablePrefix"])
    endpoint = platform_outputs.get(HOST_ENDPOINT_OUTPUT)
    if endpoint:
        return Target(mode, platform_outputs["dynamodbRegion"], endpoint, platform_outputs["tablePrefix"])
    service = platform_outputs.get(EMULATOR_SERVICE_OUTPUT)
    if not service:
        raise TargetError(
            f"the platform stack exports neither {HOST_ENDPOINT_OUTPUT!r} nor {EMULATOR_SERVICE_OUTPUT!r}, the ways to the "
            "emulator from this machine; update the platform (`up platform`) to a version that exports them"
        )
    if kube is None:
        raise TargetError("the emulator is reached through the Kubernetes API server, and no client for it was given")
    from tools.kube import KubeError

    try:
        client = kube()
    except KubeError as error:
        raise TargetError(f"the emulator is reached through the Kubernetes API server, which cannot be used: {error}") from None
    url = client.service_proxy_url(service["namespace"], service["name"], service["port"])
    return Target(mode, platform_outputs["dynamodbRegion"], url, platform_outputs["tablePrefix"], via=client)


def list_prefixed_tables(client: Any, prefix: str) -> list[str]:
    """Every table whose name starts with `prefix` (paginated ListTables)."""
    names: list[str] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = client.list_tables(**kwargs)
        if "TableNames" not in page:
            # DynamoDB always answers the list, empty or not. Without it the answer came from
            # something else (e.g. an emulator that routed the call to another service), and
            # "no tables" would be a false all-clear for the teardown audit.
            raise TargetError("the DynamoDB target's answer to ListTables has no table list: it is not DynamoDB's answer")
        names.extend(n for n in page.get("TableNames", []) if n.startswith(prefix))
        if not page.get("LastEvaluatedTableName"):
            return sorted(names)
        kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]


def table_status(client: Any, table: str) -> str | None:
    """TableStatus of `table`, or None when it does not exist."""
    try:
        return client.describe_table(TableName=table)["Table"]["TableStatus"]
    except client.exceptions.ResourceNotFoundException:
        return None
