"""The OpenAPI 3 document served at ``/openapi.json``.

Written by hand next to the code it describes; the tests check both that every
route the app serves is documented (and nothing else), and that generated
requests get the responses documented here.
"""

from __future__ import annotations

from typing import Any

from session_api import validation as v


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if headers:
        response["headers"] = headers
    return response


_UNAVAILABLE = _error(
    "DynamoDB is throttling, unreachable, or the table is missing. Retry after the given delay.",
    {"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
)
_BAD_REQUEST = _error("The request is malformed; `error` and `message` say what is wrong.")
_NOT_FOUND = _error("No live session with this id (never existed, deleted, or expired).")
_TOO_LARGE = _error("The body, or the session it would produce, exceeds DynamoDB's 400 KB item limit.")
_MEDIA_TYPE = _error("Content-Type is not application/json.")

_USER_ID_RULES = (
    "Any non-empty Unicode text of at most "
    f"{v.MAX_USER_ID_BYTES} bytes of UTF-8 (DynamoDB's limit for a partition key value; the user "
    "index is keyed on it); control characters (U+0000-U+001F, U+007F-U+009F) and unpaired "
    "surrogates are refused with 400. Compared exactly as given, with no case folding or "
    "Unicode normalization."
)


def _user_id_schema(description: str) -> dict[str, Any]:
    # maxLength counts characters; every character is at least one byte, so
    # it is a bound the byte limit in the description always satisfies.
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": v.MAX_USER_ID_BYTES,
        "pattern": v.USER_ID_PATTERN,
        "description": description,
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def openapi_document(ttl_seconds: int) -> dict[str, Any]:
    session_id = {
        "name": "sessionId",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": v.SESSION_ID_PATTERN},
    }
    user_id = {
        "name": "userId",
        "in": "path",
        "required": True,
        "description": (
            _USER_ID_RULES + " In the path it is percent-encoded as UTF-8: every byte outside "
            "`A-Z a-z 0-9 - . _ ~`, `/` included (`%2F`), as Python's `quote(id, safe='')` does "
            "(`encodeURIComponent` also leaves `! ' ( ) *` as they are, which the server accepts). The ids `.` "
            "and `..` are refused: as a path segment they are dot segments, which HTTP clients remove "
            "(`%2E` is the same character). The server decodes the path before routing, so `/` and `%2F` "
            "both mean a slash in the user id: everything after `/sessions/user/` is the user id."
        ),
        "schema": _user_id_schema("The user id, exactly as given to POST /sessions."),
    }
    paging = [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": "Page size.",
            "schema": {"type": "integer", "minimum": 1, "maximum": v.MAX_PAGE_SIZE, "default": v.DEFAULT_PAGE_SIZE},
        },
        {
            "name": "nextToken",
            "in": "query",
            "required": False,
            "description": "Opaque token from the previous page's `nextToken`; only valid for the same listing.",
            "schema": {"type": "string", "minLength": 1, "maxLength": v.MAX_TOKEN_LENGTH},
        },
    ]
    page_response = {
        "description": "A page of sessions. `nextToken` is present while more may follow; "
        "a page can hold fewer than `limit` sessions even then.",
        "content": _json({"$ref": "#/components/schemas/SessionPage"}),
    }
    session_response = {
        "description": "The session.",
        "content": _json({"$ref": "#/components/schemas/Session"}),
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Session API",
            "version": "1.0.0",
            "description": (
                "User sessions stored in one DynamoDB table. Sessions expire "
                f"{ttl_seconds} seconds after they were created or last updated; an expired "
                "session is gone (404) even before DynamoDB's TTL process deletes it."
            ),
        },
        "paths": {
            "/health": {
                "get": {
                    "operationId": "health",
                    "summary": "Liveness: the process answers. Never calls DynamoDB.",
                    "responses": {
                        "200": {
                            "description": "Alive.",
                            "content": _json({"$ref": "#/components/schemas/Health"}),
                        }
                    },
                }
            },
            "/ready": {
                "get": {
                    "operationId": "ready",
                    "summary": "Readiness: the table and its user index exist and are ACTIVE.",
                    "description": "The answer is cached for a few seconds.",
                    "responses": {
                        "200": {
                            "description": "Ready to serve.",
                            "content": _json({"$ref": "#/components/schemas/Ready"}),
                        },
                        "503": {
                            "description": "Not ready; `reason` says why.",
                            "content": _json({"$ref": "#/components/schemas/NotReady"}),
                        },
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "responses": {"200": {"description": "OpenAPI 3 document.", "content": _json({"type": "object"})}},
                }
            },
            "/sessions": {
                "post": {
                    "operationId": "createSession",
                    "summary": "Create a session.",
                    "requestBody": {
                        "required": True,
                        "content": _json({"$ref": "#/components/schemas/NewSession"}),
                    },
                    "responses": {
                        "201": {
                            "description": "Created.",
                            # Links tell clients (and stateful test generators)
                            # how the new id feeds the other operations.
                            "links": {
                                name: {
                                    "operationId": name,
                                    "parameters": {"sessionId": "$response.body#/sessionId"},
                                }
                                for name in ("getSession", "updateSession", "deleteSession")
                            }
                            | {
                                "listUserSessions": {
                                    "operationId": "listUserSessions",
                                    "parameters": {"userId": "$response.body#/userId"},
                                }
                            },
                            "headers": {
                                "Location": {
                                    "description": "Path of the new session.",
                                    "schema": {"type": "string"},
                                }
                            },
                            "content": _json({"$ref": "#/components/schemas/Session"}),
                        },
                        "400": _BAD_REQUEST,
                        "413": _TOO_LARGE,
                        "415": _MEDIA_TYPE,
                        "503": _UNAVAILABLE,
                    },
                },
                "get": {
                    "operationId": "listSessions",
                    "summary": "All live sessions, paginated (unordered).",
                    "parameters": paging,
                    "responses": {"200": page_response, "400": _BAD_REQUEST, "503": _UNAVAILABLE},
                },
            },
            "/sessions/{sessionId}": {
                "parameters": [session_id],
                "get": {
                    "operationId": "getSession",
                    "summary": "Read a session.",
                    "responses": {
                        "200": session_response,
                        "400": _BAD_REQUEST,
                        "404": _NOT_FOUND,
                        "503": _UNAVAILABLE,
                    },
                },
                "put": {
                    "operationId": "updateSession",
                    "summary": "Merge into a session's data.",
                    "description": (
                        "**Merge, not replace.** Each top-level key of `data` replaces that key "
                        "in the stored data; a key set to `null` is removed; keys not mentioned "
                        "are kept. Nested objects are replaced whole, not merged. The whole update "
                        "is one atomic DynamoDB write, so concurrent updates of different keys all "
                        "survive and none is lost. Every update increments `version` and renews "
                        "`expiresAt` (now + TTL).\n\n"
                        "For read-modify-write, send the `version` you read: the update then "
                        "applies only if the session is still at that version, else 409 and the "
                        "client re-reads and retries (optimistic concurrency).\n\n"
                        "A missing or expired session gives 404 and nothing is created."
                    ),
                    "requestBody": {
                        "required": True,
                        "content": _json({"$ref": "#/components/schemas/SessionUpdate"}),
                    },
                    "responses": {
                        "200": {
                            "description": "The session after the update.",
                            "content": _json({"$ref": "#/components/schemas/Session"}),
                        },
                        "400": _BAD_REQUEST,
                        "404": _NOT_FOUND,
                        "409": _error("`version` was given and the session is at another version."),
                        "413": _TOO_LARGE,
                        "415": _MEDIA_TYPE,
                        "503": _UNAVAILABLE,
                    },
                },
                "delete": {
                    "operationId": "deleteSession",
                    "summary": "Delete a session.",
                    "responses": {
                        "204": {"description": "Deleted."},
                        "400": _BAD_REQUEST,
                        "404": _NOT_FOUND,
                        "503": _UNAVAILABLE,
                    },
                },
            },
            "/sessions/user/{userId}": {
                "parameters": [user_id],
                "get": {
                    "operationId": "listUserSessions",
                    "summary": "One user's live sessions, newest first, paginated.",
                    "description": "Served by a Query on the user index, never a table Scan.",
                    "parameters": paging,
                    "responses": {"200": page_response, "400": _BAD_REQUEST, "503": _UNAVAILABLE},
                },
            },
        },
        "components": {
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            },
            "schemas": {
                "Data": {
                    "type": "object",
                    "description": (
                        "Any JSON object. Numbers must fit DynamoDB (at most 38 significant digits, "
                        "magnitude 1E-130 to 9.99E+125); keys must be non-empty and under 64 KB of UTF-8, "
                        f"top-level keys at most {v.MAX_TOP_LEVEL_KEY_LENGTH} characters; at most "
                        f"{v.MAX_DATA_DEPTH} levels of nesting."
                    ),
                    "additionalProperties": True,
                },
                "NewSession": {
                    "type": "object",
                    "required": ["userId"],
                    "additionalProperties": False,
                    "properties": {
                        "userId": _user_id_schema(_USER_ID_RULES),
                        "data": {"$ref": "#/components/schemas/Data"},
                    },
                },
                "SessionUpdate": {
                    "type": "object",
                    "required": ["data"],
                    "additionalProperties": False,
                    "properties": {
                        "data": {
                            "allOf": [{"$ref": "#/components/schemas/Data"}],
                            "maxProperties": v.MAX_MERGE_KEYS,
                        },
                        "version": {
                            "type": "integer",
                            "minimum": 1,
                            "description": "Apply only if the session is at this version (else 409).",
                        },
                    },
                },
                "Session": {
                    "type": "object",
                    "required": ["sessionId", "userId", "data", "createdAt", "updatedAt", "expiresAt", "version"],
                    "additionalProperties": False,
                    "properties": {
                        "sessionId": {"type": "string", "pattern": v.SESSION_ID_PATTERN},
                        "userId": {"type": "string"},
                        "data": {"type": "object"},
                        "createdAt": {
                            "type": "string",
                            "format": "date-time",
                            "description": "ISO 8601 UTC with microseconds.",
                        },
                        "updatedAt": {"type": "string", "format": "date-time"},
                        "expiresAt": {
                            "type": "string",
                            "format": "date-time",
                            "description": "ISO 8601 UTC; stored as epoch seconds in the TTL attribute.",
                        },
                        "version": {"type": "integer", "minimum": 1},
                    },
                },
                "SessionPage": {
                    "type": "object",
                    "required": ["items"],
                    "additionalProperties": False,
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Session"}},
                        "nextToken": {"type": "string"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string", "description": "Machine-readable code."},
                        "message": {"type": "string", "description": "What is wrong, for people."},
                        "field": {"type": "string", "description": "The field or parameter at fault."},
                    },
                },
                "Health": {
                    "type": "object",
                    "required": ["status"],
                    "properties": {"status": {"type": "string", "enum": ["ok"]}},
                },
                "Ready": {
                    "type": "object",
                    "required": ["status", "table"],
                    "properties": {"status": {"type": "string", "enum": ["ready"]}, "table": {"type": "string"}},
                },
                "NotReady": {
                    "type": "object",
                    "required": ["error", "message", "reason"],
                    "properties": {
                        "error": {"type": "string", "enum": ["not_ready"]},
                        "message": {"type": "string"},
                        "reason": {
                            "type": "string",
                            "enum": [
                                "table_missing",
                                "table_not_active",
                                "index_missing",
                                "index_not_active",
                                "endpoint_unreachable",
                                "throttled",
                                "access_denied",
                                "credentials_missing",
                                "dynamodb_error",
                            ],
                        },
                        "table": {"type": "string"},
                    },
                },
            },
        },
    }
