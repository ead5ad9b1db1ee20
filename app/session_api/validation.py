"""Request validation, in one place.

Every check on what a client sends (content type, JSON, fields, ids, query
parameters, page tokens) lives here and raises :class:`ApiError` with a status,
a machine-readable ``error`` code and a message that names the problem. The
routes only ever see values that DynamoDB will accept.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import hashlib
import json
import re
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import DYNAMODB_CONTEXT

from session_api.table import HASH_KEY, USER_INDEX_HASH_KEY, USER_INDEX_RANGE_KEY

# Generated ids are UUIDs; the pattern is a little wider so ids stay opaque.
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
# A user id is any non-empty Unicode text up to the longest partition key
# value DynamoDB stores: it is the hash key of the user index.
# Ref: awsdocs/amazon-dynamodb-developer-guide:doc_source/ServiceQuotas.md
#   ("Partition key length": minimum 1 byte, maximum 2048 bytes)
MAX_USER_ID_BYTES = 2048
# Control characters (C0, DEL, C1) are refused: they are invisible, and a
# user id travels in URLs (/sessions/user/<userId>) and in log lines.
# Everything else, "/" and "%" included, is carried percent-encoded in the path,
# except the ids "." and "..": as a path segment they are dot segments, which
# URL normalization removes (RFC 3986 5.2.4; "%2E" is "." by 6.2.2.2), and
# HTTP clients such as requests and curl do so before sending.
USER_ID_FORBIDDEN = r"\u0000-\u001f\u007f-\u009f"
USER_ID_PATTERN = f"^(?!\\.\\.?$)[^{USER_ID_FORBIDDEN}]+$"
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"
_SESSION_ID = re.compile(SESSION_ID_PATTERN)
_USER_ID_CONTROL = re.compile(f"[{USER_ID_FORBIDDEN}]")
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_TOKEN_LENGTH = 1024

# DynamoDB's item limit is 400 KB, counted over attribute names and values.
MAX_ITEM_BYTES = 400 * 1024
# Requests larger than this are refused before they are parsed. JSON text is
# usually larger than the item it becomes, so this sits above the item limit;
# the item-size estimate below is what enforces the real limit.
MAX_BODY_BYTES = 1024 * 1024
# DynamoDB nests documents at most 32 levels deep; this leaves head-room.
MAX_DATA_DEPTH = 16
MAX_TOP_LEVEL_KEY_LENGTH = 255
# DynamoDB attribute names, nested map keys included, must be under 64 KB of
# UTF-8. moto does not enforce it, so without this check the real service
# would be the first to refuse such a key (a ValidationException, not a 400).
MAX_KEY_BYTES = 64 * 1024 - 1
# Each merged key is one path in the UpdateExpression, whose text DynamoDB
# caps at 4 KB; 100 keys stay well inside it.
MAX_MERGE_KEYS = 100
# Space the service's own attributes take in an item (names and values).
_ITEM_OVERHEAD_BYTES = 200

CREATE_FIELDS = ("userId", "data")
UPDATE_FIELDS = ("data", "version")


class ApiError(Exception):
    """A client-facing error: rendered as ``{"error": ..., "message": ...}``."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.field = field
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid_field", f"{field}: {message}", field=field)


# -- request bodies ------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number DynamoDB can store")


def parse_json_object(mimetype: str, charset: str | None, raw: bytes) -> dict[str, Any]:
    """The request body as a dict; numbers become ``Decimal`` (exact, no float)."""
    if mimetype != "application/json":
        shown = mimetype or "none"
        raise ApiError(415, "unsupported_media_type", f"Content-Type must be application/json, got {shown}")
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        raise ApiError(415, "unsupported_media_type", f"JSON must be UTF-8 encoded, got charset={charset}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(400, "invalid_json", f"request body is not valid UTF-8 at byte {error.start}") from None
    if not text.strip():
        raise ApiError(400, "invalid_json", "request body is empty; expected a JSON object")
    try:
        # Decimal for every number: floats would lose digits, and DynamoDB
        # rejects Python floats outright. NaN and Infinity are refused.
        body = json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise ApiError(
            400, "invalid_json", f"request body is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except ValueError as error:
        raise ApiError(400, "invalid_json", f"request body is not valid JSON: {error}") from None
    except RecursionError:
        raise ApiError(400, "invalid_json", "request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", f"request body must be a JSON object, got {_json_type(body)}")
    return body


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _reject_unknown(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ApiError(
            400,
            "unknown_field",
            f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(allowed)}",
            field=unknown[0],
        )


def validate_create(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``POST /sessions``: returns (userId, data)."""
    _reject_unknown(body, CREATE_FIELDS)
    if "userId" not in body:
        raise ApiError(400, "missing_field", "userId is required", field="userId")
    user_id = validate_user_id(body["userId"])
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise _invalid("data", f"must be a JSON object, got {_json_type(data)}")
    clean = validate_data(data)
    size = _item_size_estimate(user_id, clean)
    if size > MAX_ITEM_BYTES:
        raise ApiError(
            413,
            "payload_too_large",
            f"session would be about {size} bytes; DynamoDB items are limited to {MAX_ITEM_BYTES} bytes",
            field="data",
        )
    return user_id, clean


def validate_update(body: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
    """``PUT /sessions/<id>``: returns (data patch, expected version or None)."""
    _reject_unknown(body, UPDATE_FIELDS)
    if "data" not in body:
        raise ApiError(400, "missing_field", "data is required", field="data")
    data = body["data"]
    if not isinstance(data, dict):
        raise _invalid("data", f"must be a JSON object, got {_json_type(data)}")
    if len(data) > MAX_MERGE_KEYS:
        raise _invalid("data", f"at most {MAX_MERGE_KEYS} keys can be merged in one update, got {len(data)}")
    clean = validate_data(data)
    size = _item_size_estimate("", clean)
    if size > MAX_ITEM_BYTES:
        raise ApiError(
            413,
            "payload_too_large",
            f"update is about {size} bytes; DynamoDB items are limited to {MAX_ITEM_BYTES} bytes",
            field="data",
        )
    version = None
    if "version" in body:
        raw = body["version"]
        if isinstance(raw, bool) or not isinstance(raw, Decimal) or raw != raw.to_integral_value():
            raise _invalid("version", f"must be an integer, got {_json_type(raw)}")
        if not 1 <= raw <= 2**53:
            raise _invalid("version", f"must be between 1 and {2**53}, got {raw}")
        version = int(raw)
    return clean, version


def check_path_is_utf8(path_info: str, field: str = "userId") -> None:
    """Refuse a path whose percent-decoded bytes are not UTF-8 (``%FF``, half a character).

    WSGI hands the decoded path over as latin-1 text (PEP 3333); werkzeug turns
    bytes that are not UTF-8 into U+FFFD, which would silently name another user.
    """
    try:
        path_info.encode("latin-1").decode("utf-8")
    except UnicodeError as error:
        raise _invalid(field, f"is not UTF-8 once percent-decoded ({error.reason} in the path)") from None


def validate_user_id(value: Any, field: str = "userId") -> str:
    if not isinstance(value, str):
        raise _invalid(field, f"must be a string, got {_json_type(value)}")
    if not value:
        raise _invalid(field, "must not be empty")
    if value in (".", ".."):
        raise _invalid(field, f"must not be {value!r}: URLs cannot carry it as a path segment")
    control = _USER_ID_CONTROL.search(value)
    if control:
        raise _invalid(
            field,
            f"contains the control character U+{ord(control.group()):04X} at position {control.start()}; "
            "control characters (U+0000-U+001F, U+007F-U+009F) are not allowed",
        )
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError as error:
        raise _invalid(
            field, f"contains an unpaired surrogate (U+{ord(value[error.start]):04X}) at position {error.start}"
        ) from None
    if size > MAX_USER_ID_BYTES:
        raise _invalid(field, f"is {size} bytes of UTF-8; at most {MAX_USER_ID_BYTES} bytes are allowed")
    return value


def validate_session_id(value: str) -> str:
    if not _SESSION_ID.match(value):
        raise _invalid("sessionId", "must be 1-64 characters of letters, digits, '-' and '_'")
    return value


def validate_data(data: dict[str, Any]) -> dict[str, Any]:
    """Check ``data`` can be stored as a DynamoDB map and return it ready to store.

    Refuses what DynamoDB would refuse (or what would crash the serializer):
    numbers outside DynamoDB's range or precision, strings that are not valid
    Unicode, empty keys, and nesting deeper than :data:`MAX_DATA_DEPTH`.
    """
    for key in data:
        if len(key) > MAX_TOP_LEVEL_KEY_LENGTH:
            raise _invalid("data", f"top-level keys are limited to {MAX_TOP_LEVEL_KEY_LENGTH} characters")
    return _clean(data, "data", 0)


def _clean(value: Any, path: str, depth: int) -> Any:
    if isinstance(value, dict):
        if depth >= MAX_DATA_DEPTH:
            raise _invalid(path, f"nested deeper than {MAX_DATA_DEPTH} levels")
        cleaned = {}
        for key, item in value.items():
            if not key:
                raise _invalid(path, "object keys must not be empty")
            _check_text(key, f"{path} key")
            if len(key.encode("utf-8")) > MAX_KEY_BYTES:
                raise _invalid(path, f"object keys are limited to {MAX_KEY_BYTES} bytes of UTF-8")
            cleaned[key] = _clean(item, f"{path}.{key}", depth + 1)
        return cleaned
    if isinstance(value, list):
        if depth >= MAX_DATA_DEPTH:
            raise _invalid(path, f"nested deeper than {MAX_DATA_DEPTH} levels")
        return [_clean(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value)]
    if isinstance(value, str):
        _check_text(value, path)
        return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return _storable_number(value, path)
    raise _invalid(path, f"unsupported value of type {type(value).__name__}")


def _check_text(value: str, path: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # JSON allows "\ud800" (a lone surrogate); it has no UTF-8 form.
        raise _invalid(path, "contains an invalid Unicode escape (unpaired surrogate)") from None


def _storable_number(value: Decimal, path: str) -> Decimal:
    if not value.is_finite():
        raise _invalid(path, "must be a finite number")
    if value.is_zero():
        # "0E-500" and "-0" are zero too, but the serializer traps their exponents.
        return Decimal(0)
    sign, digits, exponent = value.as_tuple()
    # Trailing zeros are not significant ("1.000" is 1): drop them so they
    # do not count against DynamoDB's 38-digit precision.
    trimmed = list(digits)
    while len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed.pop()
        exponent += 1
    if len(trimmed) > 38:
        raise _invalid(path, f"has {len(trimmed)} significant digits; DynamoDB keeps at most 38")
    normal = Decimal((sign, tuple(trimmed), exponent))
    if not -130 <= normal.adjusted() <= 125:
        raise _invalid(path, "is outside DynamoDB's number range (magnitude 1E-130 to 9.99E+125)")
    for candidate in (value, normal):
        try:
            DYNAMODB_CONTEXT.create_decimal(candidate)
        except decimal.DecimalException:
            continue
        return candidate
    raise _invalid(path, "cannot be stored exactly as a DynamoDB number")


def _item_size_estimate(user_id: str, data: dict[str, Any]) -> int:
    """An upper estimate of the item's size by DynamoDB's published rules."""
    return _ITEM_OVERHEAD_BYTES + len(user_id.encode()) + len("data") + _size(data)


def _size(value: Any) -> int:
    if isinstance(value, dict):
        return 3 + sum(1 + len(key.encode()) + _size(item) for key, item in value.items())
    if isinstance(value, list):
        return 3 + sum(1 + _size(item) for item in value)
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, Decimal):
        return (len(value.as_tuple().digits) + 1) // 2 + 2
    return 1


# -- query parameters ------------------------------------------------------------


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or not raw.isascii() or len(raw) > 6:
        raise ApiError(
            400,
            "invalid_parameter",
            f"limit must be an integer from 1 to {MAX_PAGE_SIZE}, got {raw!r}",
            field="limit",
        )
    value = int(raw)
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise ApiError(
            400,
            "invalid_parameter",
            f"limit must be an integer from 1 to {MAX_PAGE_SIZE}, got {value}",
            field="limit",
        )
    return value


# A user listing's token names its user by digest, not by value: a user id can
# be 2048 bytes, and the token travels in the same request line as the id
# (gunicorn_conf.py sizes the line for the longest id plus this token).
_TOKEN_USER = "user"


def _user_digest(user_id: str) -> str:
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:32]


def encode_page_token(key: dict[str, str]) -> str:
    """A ``nextToken`` for DynamoDB's LastEvaluatedKey ``key``."""
    shown = dict(key)
    if USER_INDEX_HASH_KEY in shown:
        shown[_TOKEN_USER] = _user_digest(shown.pop(USER_INDEX_HASH_KEY))
    text = json.dumps(shown, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _bad_token(reason: str) -> ApiError:
    return ApiError(400, "invalid_parameter", f"nextToken is invalid: {reason}", field="nextToken")


def decode_page_token(token: str | None, user_id: str | None = None) -> dict[str, str] | None:
    """The DynamoDB start key inside a ``nextToken``, checked for shape.

    A token from the full listing holds only ``sessionId``; one from a user
    listing also holds ``createdAt`` and a digest of that user's id, and is
    only valid for the same user (whose id the returned key holds again).
    """
    if token is None:
        return None
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise _bad_token(f"must be 1-{MAX_TOKEN_LENGTH} characters")
    try:
        padded = token + "=" * (-len(token) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError, binascii.Error):
        raise _bad_token("not a token this API issued") from None
    expected = {HASH_KEY} if user_id is None else {HASH_KEY, _TOKEN_USER, USER_INDEX_RANGE_KEY}
    if not isinstance(key, dict) or set(key) != expected or not all(isinstance(v, str) for v in key.values()):
        raise _bad_token("not a token for this listing")
    if not _SESSION_ID.match(key[HASH_KEY]):
        raise _bad_token("not a token this API issued")
    if user_id is not None:
        if key.pop(_TOKEN_USER) != _user_digest(user_id):
            raise _bad_token("it belongs to a different user's listing")
        if not _TIMESTAMP.match(key[USER_INDEX_RANGE_KEY]):
            raise _bad_token("not a token this API issued")
        key[USER_INDEX_HASH_KEY] = user_id
    return key
