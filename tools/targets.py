"""Reaching the demo from the host: API URLs and the DynamoDB target.

`*.localhost` names are loopback by definition (RFC 6761), and curl and browsers
treat them so, but the system resolver may not (glibc without
systemd-resolved/nss-myhostname fails on `session-api-xp.localhost`). So every
request to a `*.localhost` URL connects to 127.0.0.1 and sends the original name
as the Host header, which is all the ingress routes on.

DynamoDB target from the host:
- `aws` mode: real DynamoDB in the platform's region with the caller's own AWS
  credentials (environment or profile), never the engines' identities.
- `local` mode: the in-cluster moto emulator through the cluster's ingress, at the
  platform output `dynamodbHostEndpoint` (e.g. `http://dynamodb.localhost:8081`);
  moto accepts any credentials, so fixed dummy ones keep real keys out of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import botocore.config

LOOPBACK = "127.0.0.1"
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
HOST_ENDPOINT_OUTPUT = "dynamodbHostEndpoint"


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


@dataclass
class Target:
    mode: str
    region: str
    endpoint: str | None
    """URL reachable from this machine; None means AWS's own endpoint."""
    prefix: str

    def client(self) -> Any:
        config = botocore.config.Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=15)
        if self.endpoint is None:
            return boto3.session.Session().client("dynamodb", region_name=self.region, config=config)
        url, headers = loopback_url(self.endpoint)
        client = boto3.session.Session().client(
            "dynamodb", region_name=self.region, endpoint_url=url, config=config, **DUMMY_CREDENTIALS
        )
        if headers:
            host = headers["Host"]

            def set_host(request, **_):
                # Before signing, so the signature covers the name the ingress sees.
                request.headers["Host"] = host

            client.meta.events.register("before-sign.dynamodb", set_host)
        return client


def target_from_outputs(platform_outputs: dict[str, Any]) -> Target:
    """The DynamoDB target described by the platform stack's outputs."""
    missing = [k for k in ("dynamodbMode", "dynamodbRegion", "tablePrefix") if not platform_outputs.get(k)]
    if missing:
        raise TargetError(f"the platform stack has no output {', '.join(missing)}: bring it up first (`up platform`)")
    mode = platform_outputs["dynamodbMode"]
    if mode == "aws":
        return Target("aws", platform_outputs["dynamodbRegion"], None, platform_outputs["tablePrefix"])
    endpoint = platform_outputs.get(HOST_ENDPOINT_OUTPUT)
    if not endpoint:
        raise TargetError(
            f"the platform stack does not export {HOST_ENDPOINT_OUTPUT!r}, the emulator's URL from this machine "
            "(an ingress to moto); update the platform (`up platform`) to a version that exports it"
        )
    return Target(mode, platform_outputs["dynamodbRegion"], endpoint, platform_outputs["tablePrefix"])


def list_prefixed_tables(client: Any, prefix: str) -> list[str]:
    """Every table whose name starts with `prefix` (paginated ListTables)."""
    names: list[str] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = client.list_tables(**kwargs)
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
