"""moto server, plus the DynamoDB read the ACK controller needs, one request at a time.

ACK's dynamodb-controller (v1.9.2) calls DescribeContributorInsights on every
read of a Table and fails the read if the call errors
(aws-controllers-k8s/dynamodb-controller@v1.9.2:pkg/resource/table/hooks.go
`setContributorInsights`, called from sdk.go `sdkFind`). moto 5.2 does not
implement it and answers HTTP 500, so an ACK Table would never sync. This
wrapper adds the call (reporting insights DISABLED, which is what a table
without contributor insights reports on AWS) and then starts moto server
unchanged. It runs inside the pinned `motoserver/moto` image, mounted from a
ConfigMap; the platform's tests run it against the moto Python package.

It also serves one request at a time. DynamoDB applies a conditional write --
check and update -- atomically per item; moto's threaded server does not lock,
so two conditional updates of one session could interleave and one would be
lost, which real DynamoDB cannot do. moto is CPU-bound under the GIL anyway.

And it ignores a MOTO_PORT that is not a port number. moto reads MOTO_PORT as its
port (`int(os.environ.get("MOTO_PORT", 5000))`, even when `-p` is given;
getmoto/moto@5.2.3:moto/server.py `main`), and a kubelet with service links on
sets MOTO_PORT=tcp://<cluster ip>:5000 for a Service named `moto`. The Deployment
turns service links off; this keeps a pod started any other way from crash-looping.

And it takes a request's SigV4 `Authorization` from `X-Emulator-Authorization`
when that is present, whatever `Authorization` says. Tools outside the cluster
reach the emulator through the Kubernetes API server's service proxy, where
`Authorization` is the API server's own (a bearer token), and the API server
removes it from every request it authenticated, by token or by client certificate
alike, before the proxy forwards the request with its other headers
(Ref: kubernetes/apiserver@v0.31.9 (Kubernetes 1.31.9): pkg/endpoints/filters/authentication.go
`WithAuthentication`: `req.Header.Del("Authorization")` on success;
pkg/authentication/request/bearertoken/bearertoken.go does the same for an accepted
token; kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/util/proxy/upgradeaware.go
`ServeHTTP` forwards a clone of the remaining headers).
moto picks the service and region of a request from that header's credential
scope (Ref: getmoto/moto@5.2.3:moto/moto_server/werkzeug_app.py
`infer_service_region_host`; an unsigned DynamoDB call goes to S3), so the
signature travels aside.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Callable, Iterable, MutableMapping

from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main


def describe_contributor_insights(self: DynamoHandler) -> ActionResult:
    table_name = self.body["TableName"]
    # Raises ResourceNotFoundException for an unknown table, as AWS does.
    self.dynamodb_backend.get_table(table_name)
    result = {"TableName": table_name, "ContributorInsightsStatus": "DISABLED"}
    if "IndexName" in self.body:
        result["IndexName"] = self.body["IndexName"]
    return ActionResult(result)


def serialized(wsgi_call: Callable) -> Callable:
    """Wrap a WSGI `__call__` so only one request is processed at a time."""
    lock = threading.Lock()

    def call(self, environ, start_response) -> Iterable[bytes]:
        with lock:
            # The work happens while the body is produced: produce it under the lock.
            return list(wsgi_call(self, environ, start_response))

    call.serialized = True
    return call


SIGNATURE_ENVIRON = "HTTP_X_EMULATOR_AUTHORIZATION"
"""WSGI name of the `X-Emulator-Authorization` header (tools/targets.py SIGNATURE_HEADER)."""


def signature_aside(wsgi_call: Callable) -> Callable:
    """Wrap a WSGI `__call__` so a signature sent in `X-Emulator-Authorization` is the request's `Authorization`."""

    def call(self, environ, start_response) -> Iterable[bytes]:
        signature = environ.pop(SIGNATURE_ENVIRON, None)
        if signature:
            environ["HTTP_AUTHORIZATION"] = signature
        return wsgi_call(self, environ, start_response)

    call.__dict__.update(getattr(wsgi_call, "__dict__", {}))  # keeps `serialized`: install() twice wraps once
    call.signature_aside = True
    return call


def install() -> None:
    """Add what moto lacks (keeping moto's own if a newer one has it), and serialize requests."""
    if not hasattr(DynamoHandler, "describe_contributor_insights"):
        DynamoHandler.describe_contributor_insights = describe_contributor_insights
    if not getattr(DomainDispatcherApplication.__call__, "serialized", False):
        DomainDispatcherApplication.__call__ = serialized(DomainDispatcherApplication.__call__)
    if not getattr(DomainDispatcherApplication.__call__, "signature_aside", False):
        DomainDispatcherApplication.__call__ = signature_aside(DomainDispatcherApplication.__call__)


def drop_non_numeric_port(environ: MutableMapping[str, str]) -> str | None:
    """Remove MOTO_PORT unless it is a port number; return the value removed.

    moto then sets MOTO_PORT from `-p` itself (moto/server.py `main`), so URLs it
    builds from it (settings.moto_server_port) name the real port.
    """
    value = environ.get("MOTO_PORT")
    if value is None or value.strip().isdigit():
        return None
    del environ["MOTO_PORT"]
    return value


if __name__ == "__main__":
    dropped = drop_non_numeric_port(os.environ)
    if dropped is not None:
        print(f"moto wrapper: ignoring MOTO_PORT={dropped!r}: not a port number (a Kubernetes service link?)",
              file=sys.stderr, flush=True)
    install()
    main(sys.argv[1:])
