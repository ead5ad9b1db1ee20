"""A minimal Kubernetes client: a kubeconfig and `requests`, nothing else.

Enough for `status` and the report's inventory (GET and LIST), for reaching
Services inside the cluster through the API server's service proxy
(`smoke` and the teardown audit on a cluster whose ingress the program does not
control), for the kratix stack's wait for its ACK Tables on destroy, and DELETE
for the one repair the CLI makes: dropping Helm's record of an install an
interrupted run left behind (tools/helm_records.py). It authenticates as kubectl
would with the platform's kubeconfig and context: client certificate, bearer
token, or an `exec` credential plugin (EKS's `aws eks get-token`), run per
client-go's ExecCredential protocol.

Certificate and key go to a private temporary directory for the life of the
client (requests needs files) and are removed on close.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from typing import Any, Callable, Iterator
from urllib.parse import quote

import requests
import yaml


class KubeError(RuntimeError):
    pass


class NotFound(KubeError):
    pass


# Ref: kubernetes/client-go@32ce75a7d:plugin/pkg/client/auth/exec/exec.go (the API versions
# accepted, KUBERNETES_EXEC_INFO, interactive mode, what status must hold) and
# tools/clientcmd/api/v1/defaults.go (interactiveMode defaults to IfAvailable for v1beta1).
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
EXEC_INFO_ENV = "KUBERNETES_EXEC_INFO"
EXEC_TIMEOUT_S = 60.0


def _exec_credential(plugin: dict[str, Any], cluster: dict[str, Any], context: str) -> dict[str, Any]:
    """Run a kubeconfig `exec` plugin as client-go does; its ExecCredential `status`."""
    command = plugin.get("command")
    api_version = plugin.get("apiVersion")
    if not command:
        raise KubeError(f"kubeconfig context {context!r}: its exec plugin names no command")
    if api_version not in EXEC_API_VERSIONS:
        raise KubeError(
            f"kubeconfig context {context!r}: exec plugin apiVersion {api_version!r} is not one of {list(EXEC_API_VERSIONS)}"
        )
    mode = plugin.get("interactiveMode") or ("IfAvailable" if api_version.endswith("v1beta1") else "")
    if mode not in ("Never", "IfAvailable", "Always"):
        raise KubeError(f"kubeconfig context {context!r}: exec plugin interactiveMode {mode!r} is not Never, IfAvailable or Always")
    try:
        terminal = sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # closed
        terminal = False
    if mode == "Always" and not terminal:
        raise KubeError(
            f"the kubeconfig's credential plugin `{command}` needs a terminal (interactiveMode Always): "
            "run the command from one, or give the context a plugin that works without"
        )
    interactive = terminal and mode != "Never"
    spec: dict[str, Any] = {"interactive": interactive}
    if plugin.get("provideClusterInfo"):
        spec["cluster"] = {
            k: v
            for k, v in {
                "server": cluster.get("server"),
                "tls-server-name": cluster.get("tls-server-name"),
                "insecure-skip-tls-verify": cluster.get("insecure-skip-tls-verify"),
                "certificate-authority-data": cluster.get("certificate-authority-data"),
                "proxy-url": cluster.get("proxy-url"),
            }.items()
            if v
        }
    env = dict(os.environ)
    for item in plugin.get("env") or []:
        if not isinstance(item, dict) or not item.get("name"):
            raise KubeError(f"kubeconfig context {context!r}: exec plugin env entries need a name and a value")
        env[item["name"]] = str(item.get("value", ""))
    env[EXEC_INFO_ENV] = json.dumps({"apiVersion": api_version, "kind": "ExecCredential", "spec": spec})
    argv = [command, *[str(a) for a in plugin.get("args") or []]]
    shown = " ".join(argv)
    try:
        done = subprocess.run(
            argv,
            env=env,
            stdin=None if interactive else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None if interactive else subprocess.PIPE,
            timeout=EXEC_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        hint = plugin.get("installHint") or ""
        raise KubeError(
            f"the kubeconfig's credential plugin `{command}` is not installed (context {context!r})"
            + (f": {hint.strip()}" if hint.strip() else "")
        ) from None
    except subprocess.TimeoutExpired:
        raise KubeError(f"the kubeconfig's credential plugin `{shown}` did not answer within {EXEC_TIMEOUT_S:.0f}s") from None
    if done.returncode != 0:
        # Its stderr says why (expired SSO session, wrong profile); it holds no credential.
        reason = (done.stderr or b"").decode(errors="replace").strip()[-500:]
        raise KubeError(f"the kubeconfig's credential plugin `{shown}` failed (exit {done.returncode})" + (f": {reason}" if reason else ""))
    try:
        credential = json.loads(done.stdout)
    except ValueError:
        raise KubeError(f"the kubeconfig's credential plugin `{shown}` did not print an ExecCredential (JSON)") from None
    if not isinstance(credential, dict) or credential.get("apiVersion") != api_version:
        got = credential.get("apiVersion") if isinstance(credential, dict) else None
        raise KubeError(f"the credential plugin `{shown}` answered apiVersion {got!r}; the kubeconfig asks for {api_version!r}")
    status = credential.get("status")
    if not isinstance(status, dict):
        raise KubeError(f"the credential plugin `{shown}` returned no status")
    if not status.get("token") and not status.get("clientCertificateData") and not status.get("clientKeyData"):
        raise KubeError(f"the credential plugin `{shown}` returned neither a token nor a certificate and key")
    if bool(status.get("clientCertificateData")) != bool(status.get("clientKeyData")):
        raise KubeError(f"the credential plugin `{shown}` returned only one of certificate and key")
    return status


class _KubeconfigSession(requests.Session):
    """A session that keeps the kubeconfig's CA.

    requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the environment replace a
    session's `verify` on every request (Session.merge_environment_settings), which
    would check the API server against the system CAs instead of the cluster's.
    """

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None:
            settings["verify"] = self.verify
        return settings


class Unreachable(KubeError):
    """No HTTP answer at all (connection refused, DNS, TLS, timeout), as opposed to an HTTP error."""


class KubeClient:
    def __init__(
        self,
        server: str,
        session: requests.Session,
        tmpdir: str | None = None,
        timeout: float = 15.0,
        context: str = "",
    ) -> None:
        self.server = server.rstrip("/")
        self.session = session
        self._tmpdir = tmpdir
        self.timeout = timeout
        self.context = context
        self._renew: Callable[[], float | None] | None = None
        self._renew_lock = threading.Lock()
        self.expires_at: float | None = None
        """When credentials from an exec plugin expire (EKS tokens: 15 minutes); None: they do not."""

    def renew_if_due(self, force: bool = False) -> None:
        """Run the exec plugin again when its credentials are about to expire (as client-go does)."""
        if self._renew is None:
            return
        with self._renew_lock:  # `up` watches tables from one thread per approach
            if force or (self.expires_at is not None and time.time() > self.expires_at - 60):
                self.expires_at = self._renew()

    @property
    def token(self) -> str | None:
        """The bearer token this client sends, if it authenticates with one."""
        self.renew_if_due()
        header = self.session.headers.get("Authorization", "")
        return header[len("Bearer "):] if header.startswith("Bearer ") else None

    def service_proxy_url(self, namespace: str, service: str, port: str | int) -> str:
        """URL of a Service's root through the API server's service proxy.

        The API server strips everything up to `/proxy` and forwards the rest to the
        Service; `name:port` takes the port by name or number (Ref: kubernetes/kubernetes
        pkg/registry/core/service/storage/storage.go `ResourceLocation`).
        """
        name = quote(f"{service}:{port}", safe=":")
        return f"{self.server}/api/v1/namespaces/{quote(namespace, safe='')}/services/{name}/proxy"

    @classmethod
    def from_kubeconfig(cls, text: str, context: str | None = None) -> "KubeClient":
        if not isinstance(text, str) or not text.strip():
            raise KubeError("no kubeconfig (the platform stack has no `kubeconfig` output: `up platform`)")
        try:
            config = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            # Only the problem and line: the YAML error's snippet would show key material.
            mark = getattr(error, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise KubeError(f"the kubeconfig is not valid YAML{where}: {getattr(error, 'problem', 'parse error')}") from None
        if not isinstance(config, dict):
            raise KubeError("the kubeconfig is not a YAML mapping")
        name = context or config.get("current-context")
        contexts = {c["name"]: c.get("context", {}) for c in config.get("contexts") or []}
        if name not in contexts:
            raise KubeError(f"kubeconfig context {name!r} not found; contexts: {sorted(contexts)}")
        ctx = contexts[name]
        cluster = {c["name"]: c.get("cluster", {}) for c in config.get("clusters") or []}.get(ctx.get("cluster"))
        user = {u["name"]: u.get("user", {}) for u in config.get("users") or []}.get(ctx.get("user"), {})
        if not cluster or not cluster.get("server"):
            raise KubeError(f"kubeconfig context {name!r} names no cluster with a server")
        if user.get("auth-provider"):
            provider = (user["auth-provider"] or {}).get("name")
            if provider in ("gcp", "azure"):
                # Removed from client-go and kubectl in Kubernetes 1.26; their replacements
                # are exec plugins (gke-gcloud-auth-plugin, kubelogin).
                # Ref: kubernetes/kubernetes:staging/src/k8s.io/client-go/plugin/pkg/client/auth/gcp/gcp_stub.go
                raise KubeError(
                    f"kubeconfig context {name!r} authenticates through the removed auth-provider "
                    f"{provider!r}; use its exec plugin instead "
                    "(e.g. `gcloud container clusters get-credentials`, `az aks get-credentials` + `kubelogin convert-kubeconfig`)"
                )
            # client-go still has the oidc provider (plugin/pkg/client/auth/oidc); this client
            # runs none: it refreshes tokens by writing back into the kubeconfig.
            raise KubeError(
                f"kubeconfig context {name!r} authenticates through the auth-provider {provider!r}, which this "
                "client does not run; give the context an exec credential plugin, a token or a client certificate"
            )
        tmpdir = tempfile.mkdtemp(prefix="kvdemo-kube-")
        os.chmod(tmpdir, 0o700)
        session = _KubeconfigSession()

        def write(raw: bytes, filename: str) -> str:
            path = os.path.join(tmpdir, filename)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
            return path

        def materialise(data_key: str, file_key: str, filename: str) -> str | None:
            if user.get(data_key) or cluster.get(data_key):
                return write(base64.b64decode(user.get(data_key) or cluster.get(data_key)), filename)
            return user.get(file_key) or cluster.get(file_key)

        try:
            if cluster.get("insecure-skip-tls-verify"):
                session.verify = False
            else:
                ca = materialise("certificate-authority-data", "certificate-authority", "ca.crt")
                session.verify = ca or True
            cert = materialise("client-certificate-data", "client-certificate", "client.crt")
            key = materialise("client-key-data", "client-key", "client.key")
            if cert and key:
                session.cert = (cert, key)
            if user.get("token"):
                session.headers["Authorization"] = f"Bearer {user['token']}"
        except Exception:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise
        client = cls(cluster["server"], session, tmpdir, context=name)
        if user.get("exec"):
            renewals = iter(range(1, 1_000_000))

            def renew() -> float | None:
                """Run the plugin; use what it returns; when that expires (epoch seconds, None: never)."""
                status = _exec_credential(user["exec"], cluster, name)
                if status.get("clientCertificateData"):
                    # ExecCredential carries PEM text, not base64 (unlike kubeconfig *-data keys).
                    n = next(renewals)
                    session.cert = (
                        write(status["clientCertificateData"].encode(), f"exec-client-{n}.crt"),
                        write(status["clientKeyData"].encode(), f"exec-client-{n}.key"),
                    )
                if status.get("token"):
                    session.headers["Authorization"] = f"Bearer {status['token']}"
                stamp = status.get("expirationTimestamp")
                if not stamp:
                    return None
                try:
                    return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
                except ValueError:
                    raise KubeError(f"the credential plugin of context {name!r} returned expirationTimestamp {stamp!r}, not a time") from None

            try:
                client.expires_at = renew()
            except Exception:
                client.close()
                raise
            client._renew = renew
        return client

    def close(self) -> None:
        self.session.close()
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> "KubeClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request to the API server with the context's credentials, renewed when due.

        After a 401, when an exec plugin gives the credentials (revoked, or expired before
        their expirationTimestamp), the plugin runs again and the request is made once more:
        client-go refreshes on a 401 too, though only for the next request. A 401 means the
        request was not carried out, so making it again is safe for any method.
        Ref: kubernetes/kubernetes staging/src/k8s.io/client-go/plugin/pkg/client/auth/exec/exec.go
        (roundTripper.RoundTrip: maybeRefreshCreds on 401, the 401 itself returned)
        """
        self.renew_if_due()
        response = self._send(method, path, kwargs)
        if response.status_code == 401 and self._renew is not None:
            self.renew_if_due(force=True)
            response = self._send(method, path, kwargs)
        return response

    def _send(self, method: str, path: str, kwargs: dict[str, Any]) -> requests.Response:
        try:
            return self.session.request(method, self.server + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise Unreachable(f"the Kubernetes API at {self.server} does not answer: {error.__class__.__name__}") from None

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.request("GET", path, params=params)
        if response.status_code == 404:
            raise NotFound(path)
        if response.status_code in (401, 403):
            raise KubeError(
                f"GET {path}: HTTP {response.status_code} from {self.server} (kubeconfig context {self.context!r}): "
                + ("the credentials are not accepted" if response.status_code == 401 else "not allowed for this user")
            )
        if response.status_code >= 400:
            raise KubeError(f"GET {path}: HTTP {response.status_code} {response.text[:200]}")
        return response.json()

    def delete(self, path: str) -> None:
        """DELETE one object; one that is already gone is fine."""
        response = self.request("DELETE", path)
        if response.status_code >= 400 and response.status_code != 404:
            raise KubeError(f"DELETE {path}: HTTP {response.status_code} {response.text[:200]}")

    def list(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a list path, following `continue` tokens; `params` e.g. a labelSelector."""
        params = {**(params or {}), "limit": 500}
        while True:
            page = self.get(path, params)
            yield from page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return
            params["continue"] = token


def resource_path(api_version: str, plural: str, namespace: str | None = None, name: str | None = None) -> str:
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    if namespace:
        base += f"/namespaces/{namespace}"
    base += f"/{plural}"
    return base + (f"/{name}" if name else "")
