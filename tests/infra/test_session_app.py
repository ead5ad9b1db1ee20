"""SessionApplication: the Application every approach deploys (table component + session API)."""

import pytest

from app.session_api import table as session_table
from components.session_app import SessionApplicationArgs, application_spec


def _spec(**overrides):
    args = dict(
        engine="kro",
        table_name="kvdemo-sessions-kro",
        image="kubevela-dynamodb/session-api:abc",
        region="us-east-1",
        endpoint="http://moto.dynamodb-emulator.svc.cluster.local:5000",
        credentials_secret="dynamodb-app-credentials",
        ingress_host="session-api-kro.localhost",
        ingress_class="traefik",
        replicas=1,
    )
    args.update(overrides)
    return application_spec(**args)


def _traits(component):
    return {t["type"]: t["properties"] for t in component["traits"]}


def test_table_component_uses_the_engine_definition_and_the_shared_table():
    table, _ = _spec()["components"]
    assert table["name"] == "sessions-table-kro"
    assert table["type"] == "aws-dynamodb-kro"
    assert table["properties"] == session_table.component_properties("kvdemo-sessions-kro")
    assert table["properties"]["hashKey"]["name"] == session_table.HASH_KEY


def test_api_waits_for_the_table_and_probes_health_and_readiness():
    _, api = _spec()["components"]
    assert api["type"] == "webservice"
    assert api["dependsOn"] == ["sessions-table-kro"]
    props = api["properties"]
    assert props["image"] == "kubevela-dynamodb/session-api:abc"
    assert props["imagePullPolicy"] == "IfNotPresent"
    assert props["ports"] == [{"port": 8080, "expose": True}]
    assert props["livenessProbe"]["httpGet"] == {"path": "/health", "port": 8080}
    assert props["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 8080}


def test_api_traits_point_it_at_the_table():
    _, api = _spec()["components"]
    traits = _traits(api)
    assert traits["scaler"] == {"replicas": 1}
    assert traits["resource"]["limits"] == {"cpu": "500m", "memory": "256Mi"}
    assert traits["dynamodb-client"] == {
        "tableName": "kvdemo-sessions-kro",
        "region": "us-east-1",
        "credentialsSecret": "dynamodb-app-credentials",
        "endpoint": "http://moto.dynamodb-emulator.svc.cluster.local:5000",
    }
    assert traits["http-ingress"] == {"host": "session-api-kro.localhost", "ingressClassName": "traefik"}


def test_no_endpoint_override_on_aws():
    _, api = _spec(endpoint="")["components"]
    assert "endpoint" not in _traits(api)["dynamodb-client"]


@pytest.mark.parametrize("engine", ["xp", "kro", "kratix"])
def test_only_the_component_type_differs_between_engines(engine):
    base = _spec(engine="xp", table_name="t-1")
    other = _spec(engine=engine, table_name="t-1")
    assert other["components"][0]["type"] == f"aws-dynamodb-{engine}"
    assert other["components"][0]["properties"] == base["components"][0]["properties"]


def test_replicas_are_bounded():
    with pytest.raises(ValueError, match="replicas must be a whole number from 1 to 10"):
        SessionApplicationArgs(
            engine="xp", app_name="a", namespace="n", table_name="t", image="i", region="r", endpoint="",
            credentials_secret="s", ingress_host="h", ingress_class="c", replicas=0,
        )
