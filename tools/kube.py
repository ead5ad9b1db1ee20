"""A minimal read-only Kubernetes client: a kubeconfig and `requests`, nothing else.

Enough for `status`, the report's inventory and the kratix stack's wait for its
ACK Tables on destroy (GET and LIST), plus DELETE for the one repair the CLI
makes: dropping Helm's record of an install an interrupted run left behind
(tools/helm_records.py). It supports what
the platform's kubeconfig holds (k3d: client certificate + CA data) and bearer
tokens; `exec` credential plugins (e.g. EKS's `aws eks get-token`) are not run:
pass a kubeconfig with a token for those.

Certificate and key go to a private temporary directory for the life of the
client (requests needs files) and are removed on close.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from typing import Any, Iterator

import requests
import yaml


class KubeError(RuntimeError):
    pass


class NotFound(KubeError):
    pass


class Unreachable(KubeError):
    """No HTTP answer at all (connection refused, DNS, TLS, timeout), as opposed to an HTTP error."""


class KubeClient:
    def __init__(self, server: str, session: requests.Session, tmpdir: str | None = None, timeout: float = 15.0) -> None:
        self.server = server.rstrip("/")
        self.session = session
        self._tmpdir = tmpdir
        self.timeout = timeout

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
        if user.get("exec") or user.get("auth-provider"):
            raise KubeError(
                "the kubeconfig authenticates through an exec/auth-provider plugin, which this client does not run; "
                "use a kubeconfig with a token or client certificate"
            )
        tmpdir = tempfile.mkdtemp(prefix="kvdemo-kube-")
        os.chmod(tmpdir, 0o700)
        session = requests.Session()

        def materialise(data_key: str, file_key: str, filename: str) -> str | None:
            if user.get(data_key) or cluster.get(data_key):
                raw = base64.b64decode(user.get(data_key) or cluster.get(data_key))
                path = os.path.join(tmpdir, filename)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(raw)
                return path
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
        return cls(cluster["server"], session, tmpdir)

    def close(self) -> None:
        self.session.close()
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> "KubeClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self.session.get(self.server + path, params=params, timeout=self.timeout)
        except requests.RequestException as error:
            raise Unreachable(f"the Kubernetes API at {self.server} does not answer: {error.__class__.__name__}") from None
        if response.status_code == 404:
            raise NotFound(path)
        if response.status_code >= 400:
            raise KubeError(f"GET {path}: HTTP {response.status_code} {response.text[:200]}")
        return response.json()

    def delete(self, path: str) -> None:
        """DELETE one object; one that is already gone is fine."""
        try:
            response = self.session.delete(self.server + path, timeout=self.timeout)
        except requests.RequestException as error:
            raise Unreachable(f"the Kubernetes API at {self.server} does not answer: {error.__class__.__name__}") from None
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
