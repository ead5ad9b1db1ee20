"""The Flask application factory and the HTTP routes.

``create_app(config)`` wires configuration, the DynamoDB store and the routes
together; nothing here reads the environment or calls boto3 directly.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from session_api import validation
from session_api.config import Config
from session_api.jsonio import ApiJSONProvider
from session_api.openapi import openapi_document
from session_api.store import (
    InvalidStartKey,
    ItemTooLarge,
    Page,
    SessionNotFound,
    SessionStore,
    StoreUnavailable,
    TableState,
    VersionConflict,
)
from session_api.validation import ApiError

log = logging.getLogger("session_api")
access_log = logging.getLogger("session_api.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_QUIET_PATHS = frozenset({"/health", "/ready"})


class ReadinessCache:
    """Remembers the table's state for a few seconds.

    Orchestrators probe every few seconds from every replica; caching keeps
    DescribeTable calls (which have their own, low, rate limit) independent
    of the probe rate.
    """

    def __init__(self, store: SessionStore, ttl_seconds: float, clock=time.monotonic) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._state: TableState | None = None
        self._checked_at = 0.0

    def state(self) -> TableState:
        with self._lock:
            now = self._clock()
            if self._state is None or now - self._checked_at >= self._ttl:
                self._state = self._store.table_state()
                self._checked_at = now
            return self._state


class Services:
    """What the routes need, kept on ``app.extensions``."""

    def __init__(self, config: Config, store: SessionStore) -> None:
        self.config = config
        self.store = store
        self.readiness = ReadinessCache(store, config.ready_cache_seconds)
        self.openapi = openapi_document(config.ttl_seconds)


def _services() -> Services:
    return current_app.extensions["session_api"]


def _iso_seconds(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _session_json(session: dict[str, Any]) -> dict[str, Any]:
    body = dict(session)
    # Stored as epoch seconds because DynamoDB's TTL needs a Number; shown as ISO 8601.
    body["expiresAt"] = _iso_seconds(session["expiresAt"])
    return body


def _page_json(page: Page) -> dict[str, Any]:
    body: dict[str, Any] = {"items": [_session_json(item) for item in page.items]}
    if page.next_key:
        body["nextToken"] = validation.encode_page_token(page.next_key)
    return body


def _json_body() -> dict[str, Any]:
    return validation.parse_json_object(
        request.mimetype,
        request.mimetype_params.get("charset"),
        # Raises 413 before reading when Content-Length exceeds MAX_CONTENT_LENGTH.
        request.get_data(cache=False),
    )


class UserIdConverter(BaseConverter):
    """The rest of the path, whatever it holds: a user id may contain "/".

    The server percent-decodes the path before routing, so ``a%2Fb`` and
    ``a/b`` both arrive as ``a/b``; matching everything after
    ``/sessions/user/`` (leading, trailing and doubled slashes included) makes
    that decoded text the user id. Flask's ``path`` converter would not do:
    it refuses a leading "/" and lets "//" be merged into one.
    """

    part_isolating = False
    # Any character, newlines too: a control character must reach the
    # validation (a 400 that names it), not fall through to a 404.
    regex = r"[\s\S]+"


api = Blueprint("api", __name__)


@api.get("/health")
def health():
    return jsonify(status="ok")


@api.get("/ready")
def ready():
    services = _services()
    state = services.readiness.state()
    if state.ready:
        return jsonify(status="ready", table=services.config.table_name)
    body = {"error": "not_ready", "message": state.message, "reason": state.reason, "table": services.config.table_name}
    return jsonify(body), 503


@api.get("/openapi.json")
def openapi():
    return jsonify(_services().openapi)


@api.post("/sessions")
def create_session():
    user_id, data = validation.validate_create(_json_body())
    session = _services().store.create(user_id, data)
    response = jsonify(_session_json(session))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_session", sessionId=session["sessionId"])
    log.info("session created", extra={"session_id": session["sessionId"]})
    return response


@api.get("/sessions")
def list_sessions():
    limit = validation.parse_limit(request.args.get("limit"))
    start = validation.decode_page_token(request.args.get("nextToken"))
    return jsonify(_page_json(_services().store.list_all(limit, start)))


@api.get("/sessions/<sessionId>")
def get_session(sessionId: str):  # noqa: N803 - named as in the OpenAPI document
    session_id = validation.validate_session_id(sessionId)
    return jsonify(_session_json(_services().store.get(session_id)))


@api.put("/sessions/<sessionId>")
def update_session(sessionId: str):  # noqa: N803
    session_id = validation.validate_session_id(sessionId)
    patch, version = validation.validate_update(_json_body())
    session = _services().store.update(session_id, patch, version)
    return jsonify(_session_json(session))


@api.delete("/sessions/<sessionId>")
def delete_session(sessionId: str):  # noqa: N803
    session_id = validation.validate_session_id(sessionId)
    _services().store.delete(session_id)
    log.info("session deleted", extra={"session_id": session_id})
    return Response(status=204)


@api.get("/sessions/user/<user_id:userId>")
def list_user_sessions(userId: str):  # noqa: N803
    validation.check_path_is_utf8(request.environ.get("PATH_INFO", ""))
    user_id = validation.validate_user_id(userId)
    limit = validation.parse_limit(request.args.get("limit"))
    start = validation.decode_page_token(request.args.get("nextToken"), user_id=user_id)
    page = _services().store.list_by_user(user_id, limit, start)
    log.debug(
        "user sessions listed",
        extra={"items": len(page.items), "scanned": page.scanned_count, "capacity": page.consumed_capacity},
    )
    return jsonify(_page_json(page))


def _error_response(status: int, error: str, message: str, headers: dict[str, str] | None = None, **extra):
    response = jsonify({"error": error, "message": message, **extra})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# Larger unread bodies are left to the server, which then closes the connection.
_MAX_DRAIN_BYTES = 8 * validation.MAX_BODY_BYTES


def _drain_body() -> None:
    """Read and discard an oversized body the app refused.

    Answering before the client's body is consumed leaves those bytes in the
    connection; a keep-alive client that sends its next request on it then
    sees the connection dropped. Draining a bounded amount keeps ordinary
    clients working without letting a huge upload tie up a worker.
    """
    length = request.content_length
    if length is None or length > _MAX_DRAIN_BYTES:
        return
    stream = request.environ.get("wsgi.input")
    remaining = length
    try:
        while remaining > 0 and stream is not None:
            chunk = stream.read(min(remaining, 64 * 1024))
            if not chunk:
                break
            remaining -= len(chunk)
    except OSError:
        pass  # the client went away; nothing to keep alive


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(error: ApiError):
        response = jsonify(error.body())
        response.status_code = error.status
        response.headers.update(error.headers)
        return response

    @app.errorhandler(SessionNotFound)
    def not_found(error: SessionNotFound):
        return _error_response(404, "not_found", f"session {error} not found (it may have expired)")

    @app.errorhandler(VersionConflict)
    def conflict(error: VersionConflict):
        return _error_response(
            409,
            "version_conflict",
            f"session is at version {error.current}, not {error.expected}; re-read it and retry",
            currentVersion=error.current,
        )

    @app.errorhandler(ItemTooLarge)
    def too_large(error: ItemTooLarge):
        return _error_response(
            413, "payload_too_large", "the session would exceed DynamoDB's 400 KB item limit", field="data"
        )

    @app.errorhandler(InvalidStartKey)
    def bad_start_key(error: InvalidStartKey):
        return _error_response(400, "invalid_parameter", "nextToken is invalid for this listing", field="nextToken")

    @app.errorhandler(StoreUnavailable)
    def unavailable(error: StoreUnavailable):
        return _error_response(
            503, "service_unavailable", error.message, {"Retry-After": str(error.retry_after)}, reason=error.reason
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Unknown routes (404), wrong methods (405, keeps the Allow header),
        # oversized bodies (413): same JSON shape as every other error.
        code = error.code or 500
        names = {413: "payload_too_large", 415: "unsupported_media_type"}
        name = names.get(code) or re.sub(r"[^a-z]+", "_", (error.name or "error").lower()).strip("_")
        response = error.get_response()
        message = error.description or error.name
        if code == 404:
            message = f"no route for {request.method} {request.path}"
        elif code == 405:
            allowed = response.headers.get("Allow", "")
            message = f"{request.method} is not allowed on {request.path}; allowed: {allowed}"
        elif code == 413:
            message = f"request body exceeds {validation.MAX_BODY_BYTES} bytes"
            _drain_body()
        body = current_app.json.dumps({"error": name, "message": message})
        response.set_data(body)
        response.content_type = "application/json"
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error")
        return _error_response(500, "internal_error", f"unexpected error; request id {g.get('request_id')}")


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def start_request():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def finish_request(response: Response):
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        started = g.get("started")
        duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
        level = logging.DEBUG if request.path in _QUIET_PATHS and response.status_code < 400 else logging.INFO
        access_log.log(
            level,
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        return response


def create_app(config: Config, store: SessionStore | None = None) -> Flask:
    """Build the application. ``store`` is for tests that need a custom one."""
    app = Flask("session_api")
    app.url_map.converters["user_id"] = UserIdConverter
    app.config["MAX_CONTENT_LENGTH"] = validation.MAX_BODY_BYTES
    app.json = ApiJSONProvider(app)
    app.extensions["session_api"] = Services(config, store or SessionStore.from_config(config))
    app.register_blueprint(api)
    _register_error_handlers(app)
    _register_request_hooks(app)
    return app
