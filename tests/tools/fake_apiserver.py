"""A fake Kubernetes API server on 127.0.0.1: TLS, authentication, GETs of canned objects, the service proxy.

Just enough of kube-apiserver's behaviour for the CLI's path into a cluster:
- TLS with its own CA; a client authenticates with a certificate from that CA
  or a bearer token, anything else is 401;
- an accepted bearer token is removed from the request, as kube-apiserver's
  bearer-token authenticator does (so it is never forwarded to a Service);
- `/api/v1/namespaces/NS/services/NAME:PORT/proxy/REST` forwards REST (method,
  query, headers, body) to the backend registered for NS/NAME:PORT and relays
  the answer; an unknown Service is 503, as with no endpoints;
- any other GET answers the object registered at that path, or a 404 Status.
Every request is recorded (method, path, how it authenticated).
"""

from __future__ import annotations

import datetime
import http.client
import json
import re
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PROXY = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/services/(?P<svc>[^/]+)/proxy(?P<rest>/.*)?$")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "host", "content-length"}


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _cert(subject: str, key, issuer_name, issuer_key, *, ca: bool = False, ip: str | None = None, client: bool = False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip:
        import ipaddress

        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
    if client:
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


@dataclass
class Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate (all PEM)."""

    ca: bytes
    server_cert: bytes
    server_key: bytes
    client_cert: bytes
    client_key: bytes

    @classmethod
    def create(cls) -> "Pki":
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _cert("fake-cluster-ca", ca_key, None, None, ca=True)
        server_key = ec.generate_private_key(ec.SECP256R1())
        server = _cert("kube-apiserver", server_key, ca.subject, ca_key, ip="127.0.0.1")
        client_key = ec.generate_private_key(ec.SECP256R1())
        client = _cert("kubernetes-admin", client_key, ca.subject, ca_key, client=True)
        pem = lambda c: c.public_bytes(serialization.Encoding.PEM)  # noqa: E731
        return cls(pem(ca), pem(server), _pem_key(server_key), pem(client), _pem_key(client_key))


@dataclass
class Hit:
    method: str
    path: str
    auth: str  # "token", "certificate"
    forwarded_headers: dict = field(default_factory=dict)


class FakeApiServer:
    def __init__(self, pki: Pki, workdir: Path, tokens: set[str] = frozenset()) -> None:
        self.pki = pki
        self.tokens = set(tokens)
        self.objects: dict[str, dict] = {}
        self.services: dict[tuple[str, str], str] = {}  # (namespace, "name:port") -> "http://127.0.0.1:PORT"
        self.hits: list[Hit] = []
        self.rejected: list[str] = []
        self._lock = threading.Lock()
        cert, key = workdir / "apiserver.crt", workdir / "apiserver.key"
        cert.write_bytes(pki.server_cert)
        key.write_bytes(pki.server_key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.load_verify_locations(cadata=pki.ca.decode())
        context.verify_mode = ssl.CERT_OPTIONAL
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def proxied(self, namespace: str, service: str) -> list[Hit]:
        prefix = f"/api/v1/namespaces/{namespace}/services/{service}/proxy"
        return [h for h in self.hits if h.path.startswith(prefix)]

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes on a kept-alive connection: with Nagle's
            # algorithm the body waits for the client's delayed ACK (40 ms on Linux), per request.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {"Content-Type": "application/json"}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _status(self, code: int, reason: str, message: str) -> None:
                body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
                        "message": message, "code": code}
                self._send(code, json.dumps(body).encode())

            def _authenticate(self) -> str | None:
                if self.connection.getpeercert():
                    return "certificate"
                header = self.headers.get("Authorization", "")
                if header.startswith("Bearer ") and header[len("Bearer "):] in server.tokens:
                    del self.headers["Authorization"]  # as kube-apiserver does once a token is accepted
                    return "token"
                return None

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                auth = self._authenticate()
                parts = urlsplit(self.path)
                if auth is None:
                    with server._lock:
                        server.rejected.append(parts.path)
                    self._status(401, "Unauthorized", "Unauthorized")
                    return
                forwarded = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                with server._lock:
                    server.hits.append(Hit(self.command, parts.path, auth, forwarded))
                match = PROXY.match(parts.path)
                if match:
                    backend = server.services.get((match["ns"], match["svc"]))
                    if backend is None:
                        self._status(503, "ServiceUnavailable", f'no endpoints available for service "{match["svc"]}"')
                        return
                    target = urlsplit(backend)
                    path = (match["rest"] or "/") + (f"?{parts.query}" if parts.query else "")
                    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                    try:
                        conn.request(self.command, path, body=body, headers=forwarded)
                        answer = conn.getresponse()
                        data = answer.read()
                        headers = {k: v for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP}
                    finally:
                        conn.close()
                    self._send(answer.status, data, headers)
                    return
                if self.command == "GET" and parts.path in server.objects:
                    self._send(200, json.dumps(server.objects[parts.path]).encode())
                    return
                self._status(404, "NotFound", f"{parts.path} not found")

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        return Handler
