"""The OpenAPI document agrees with the app: same routes, and real responses match it."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from openapi_spec_validator import validate

from session_api import validation
from session_api.openapi import openapi_document

_IMPLICIT_METHODS = {"HEAD", "OPTIONS"}


def _served_operations(app) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - _IMPLICIT_METHODS:
            operations.add((method.lower(), path))
    return operations


def _documented_operations(document) -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return {
        (method, path) for path, item in document["paths"].items() for method in item if method in methods
    }


def test_document_is_valid_openapi_3():
    validate(openapi_document(ttl_seconds=86400))


def test_documented_operations_are_exactly_the_served_routes(app, client):
    served = _served_operations(app)
    documented = _documented_operations(client.get("/openapi.json").get_json())
    assert served == documented, (
        f"served but undocumented: {sorted(served - documented)}; "
        f"documented but not served: {sorted(documented - served)}"
    )


def test_path_parameters_are_documented_with_the_route_names(app):
    document = openapi_document(ttl_seconds=60)
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        if path not in document["paths"]:
            continue
        item = document["paths"][path]
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert declared == set(rule.arguments), f"{path}: route has {rule.arguments}, document has {declared}"


def test_documented_limits_match_the_validation(client):
    document = client.get("/openapi.json").get_json()
    limit = next(
        p for p in document["paths"]["/sessions"]["get"]["parameters"] if p["name"] == "limit"
    )["schema"]
    assert client.get("/sessions", query_string={"limit": limit["maximum"]}).status_code == 200
    assert client.get("/sessions", query_string={"limit": limit["maximum"] + 1}).status_code == 400
    assert client.get("/sessions", query_string={"limit": limit["minimum"]}).status_code == 200
    assert client.get("/sessions", query_string={"limit": limit["minimum"] - 1}).status_code == 400


@pytest.mark.parametrize(
    "user_id, accepted",
    [
        ("é" * 1024, True),  # exactly the documented number of bytes
        ("é" * 1024 + "x", False),
        ("użytkownik/测试 %", True),
        ("a\x00b", False),
        ("\x85", False),
        (".", False),
        ("..", False),
    ],
    ids=["longest", "one-byte-too-many", "unicode-slash-percent", "nul", "c1-control", "dot", "dot-dot"],
)
def test_documented_user_id_rules_are_the_validation(client, user_id, accepted):
    document = client.get("/openapi.json").get_json()
    in_path = document["paths"]["/sessions/user/{userId}"]["parameters"][0]
    in_body = document["components"]["schemas"]["NewSession"]["properties"]["userId"]
    assert in_path["schema"]["pattern"] == in_body["pattern"]
    limit = validation.MAX_USER_ID_BYTES
    assert f"at most {limit} bytes of UTF-8" in in_body["description"]
    assert "`%2F`" in in_path["description"], "the path parameter says how to encode a slash"
    # The bytes it lets a client leave as they are: RFC 3986's unreserved ones, as
    # quote(safe="") and encodeURIComponent leave them (the tests' paths are made so).
    unreserved = re.search(r"every byte outside `([^`]*)`", in_path["description"]).group(1).split()
    assert unreserved == ["A-Z", "a-z", "0-9", "-", ".", "_", "~"]
    documented = bool(re.search(in_body["pattern"], user_id)) and len(user_id.encode()) <= limit
    assert documented == accepted
    created = client.post("/sessions", json={"userId": user_id})
    assert created.status_code == (201 if accepted else 400), created.get_json()
    listed = client.get("/sessions/user/" + quote(user_id, safe=""))
    assert listed.status_code == (200 if accepted else 400), listed.get_json()
    if accepted:
        assert [item["userId"] for item in listed.get_json()["items"]] == [user_id]


# The same document the app serves (test_documented_operations... checks the
# served copy describes the routes); built here so tests can be generated at
# collection time, before any fixture runs.
schema = schemathesis.openapi.from_dict(openapi_document(ttl_seconds=3600))


@schema.parametrize()
@settings(
    # Bounded so the whole suite stays fast; every operation gets this many
    # generated requests, valid and invalid ones.
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_get_documented_non_5xx_responses(case, app):
    # Checks: no 5xx, status code / content type / headers / body schema as
    # documented, schema-invalid input rejected with 4xx.
    #
    # Left out: "schema-valid input is accepted". OpenAPI 3.0 cannot express
    # part of what the API (rightly) refuses -- numbers beyond DynamoDB's
    # range, empty object keys, unpaired surrogates, and nextTokens the API
    # did not issue -- so a schema-valid request can still earn a 400.
    case.call_and_validate(app=app, excluded_checks=[positive_data_acceptance])


def test_documented_update_semantics_are_the_behaviour(client):
    # The issue leaves PUT's meaning open (replace or merge); the document
    # must say which, and the app must do what it says.
    operation = client.get("/openapi.json").get_json()["paths"]["/sessions/{sessionId}"]["put"]
    assert "Merge, not replace" in operation["description"], operation["description"]
    created = client.post("/sessions", json={"userId": "u", "data": {"kept": 1, "gone": 2}}).get_json()
    location = f"/sessions/{created['sessionId']}"
    merged = client.put(location, json={"data": {"gone": None, "new": 3}}).get_json()
    assert merged["data"] == {"kept": 1, "new": 3}, "unmentioned keys kept, null removes"
    # The documented optimistic-concurrency answer for a stale version.
    assert "409" in operation["responses"]
    assert client.put(location, json={"data": {}, "version": created["version"]}).status_code == 409
