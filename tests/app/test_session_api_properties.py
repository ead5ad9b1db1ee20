"""Property-based: any storable JSON survives a round trip; merges follow the model."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Numbers DynamoDB can hold: 38 significant digits, magnitude 1E-130..9.99E+125.
# Any Python float with its shortest repr (at most 17 digits) fits if in range.
integers = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)
floats = st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f == 0 or 1e-130 <= abs(f) < 9.99e125)
keys = st.text(min_size=1, max_size=8)
scalars = st.none() | st.booleans() | integers | floats | st.text(max_size=12)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=16,
)
documents = st.dictionaries(keys, values, max_size=5)

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    # The app fixture is reused across examples on purpose: each example
    # creates its own session, so examples cannot see each other's data.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def same(expected, actual) -> bool:
    """Equality of JSON values as sent and received.

    Numbers compare by the decimal value of their JSON text (what json.dumps
    wrote for a float is the number the client sent), so 5.0 and 5 are
    equal but 0.1 and 0.1000000001 are not; True never passes for 1.
    """
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return Decimal(json.dumps(expected)) == Decimal(json.dumps(actual))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(same(expected[k], actual[k]) for k in expected)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(same(a, b) for a, b in zip(expected, actual))
    return type(expected) is type(actual) and expected == actual


@SETTINGS
@given(data=documents)
def test_any_storable_json_round_trips(client, data):
    created = client.post("/sessions", data=json.dumps({"userId": "prop", "data": data}), content_type="application/json")
    assert created.status_code == 201, created.get_json()
    assert same(data, json.loads(created.data)["data"])
    fetched = client.get(created.headers["Location"])
    assert same(data, json.loads(fetched.data)["data"])


@SETTINGS
@given(
    initial=documents,
    patches=st.lists(st.dictionaries(st.sampled_from("abcdef"), st.none() | values, max_size=4), max_size=5),
)
def test_updates_merge_like_the_model(client, initial, patches):
    created = client.post("/sessions", json={"userId": "merge", "data": initial}).get_json()
    model = dict(initial)
    for patch in patches:
        response = client.put(f"/sessions/{created['sessionId']}", data=json.dumps({"data": patch}), content_type="application/json")
        assert response.status_code == 200, response.get_json()
        for key, value in patch.items():
            if value is None:
                model.pop(key, None)
            else:
                model[key] = value
    final = json.loads(client.get(f"/sessions/{created['sessionId']}").data)
    assert same(model, final["data"])
    assert final["version"] == 1 + len(patches)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != 0 and not 1e-130 <= abs(f) < 1e126))
def test_out_of_range_floats_are_400_not_500(client, number):
    response = client.post("/sessions", data=json.dumps({"userId": "range", "data": {"n": number}}), content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["field"] == "data.n"
