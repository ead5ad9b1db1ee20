"""The shared TraitDefinition templates: dynamodb-client and http-ingress."""

from __future__ import annotations

import pytest

from cue_fixtures import CONTEXT


def env_of(patch):
    containers = patch["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == [CONTEXT["name"]]
    return containers[0]["env"]


def test_client_minimal(defs):
    patch = defs.trait("dynamodb-client", "patch", {"tableName": "kvdemo-sessions-xp", "region": "eu-west-1"})
    assert set(patch) == {"spec"}
    assert env_of(patch) == [
        {"name": "TABLE_NAME", "value": "kvdemo-sessions-xp"},
        {"name": "AWS_REGION", "value": "eu-west-1"},
        {"name": "AWS_DEFAULT_REGION", "value": "eu-west-1"},
    ]


def test_client_endpoint_and_credentials(defs):
    patch = defs.trait(
        "dynamodb-client",
        "patch",
        {
            "tableName": "kvdemo-sessions-kro",
            "region": "us-east-1",
            "endpoint": "http://localstack.aws-emulator.svc:4566",
            "credentialsSecret": "aws-credentials",
        },
    )
    env = {e["name"]: e for e in env_of(patch)}
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == {
        "name": "AWS_ENDPOINT_URL_DYNAMODB",
        "value": "http://localstack.aws-emulator.svc:4566",
    }
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert env[key] == {"name": key, "valueFrom": {"secretKeyRef": {"name": "aws-credentials", "key": key}}}
    assert len(env) == 6


def test_client_patches_merge_by_name():
    # KubeVela merges the lists item by item only when the strategy comment sits
    # directly above `containers` and `env` (as in its service-binding trait).
    from components import cue_templates

    lines = [line.strip() for line in cue_templates.trait_template("dynamodb-client").splitlines()]
    for field in ("containers: [{", "env: ["):
        i = lines.index(field)
        assert lines[i - 1] == "// +patchKey=name", f"{field} lacks // +patchKey=name"


@pytest.mark.parametrize(
    "parameter,fragment",
    [
        # A missing required parameter leaves its env value incomplete.
        ({"region": "eu-west-1"}, 'env.0.value: incomplete value =~"^[a-zA-Z0-9_.-]{3,255}$"'),
        ({"tableName": "kvdemo-sessions"}, 'env.1.value: incomplete value =~"^[a-z0-9-]+$"'),
        ({"tableName": "kvdemo-sessions", "region": "eu-west-1", "endpoint": "localstack:4566"}, "endpoint"),
        ({"tableName": "kvdemo-sessions", "region": "eu-west-1", "credentialsSecret": "AWS_Creds"}, "credentialsSecret"),
    ],
)
def test_client_rejects_bad_parameters(defs, parameter, fragment):
    result = defs.trait_result("dynamodb-client", "patch", parameter)
    assert not result.ok
    assert fragment in result.stderr


def test_ingress_defaults(defs):
    outputs = defs.trait("http-ingress", "outputs", {"host": "sessions.localtest.me"})
    assert outputs == {
        "ingress": {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": CONTEXT["name"]},
            "spec": {
                "ingressClassName": "traefik",
                "rules": [{
                    "host": "sessions.localtest.me",
                    "http": {"paths": [{
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": CONTEXT["name"], "port": {"number": 8080}}},
                    }]},
                }],
            },
        }
    }


def test_ingress_overrides(defs):
    ingress = defs.trait(
        "http-ingress", "outputs", {"host": "api.example.test", "path": "/sessions", "port": 80, "ingressClassName": "nginx"}
    )["ingress"]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    [path] = ingress["spec"]["rules"][0]["http"]["paths"]
    assert path["path"] == "/sessions"
    assert path["backend"]["service"]["port"] == {"number": 80}


@pytest.mark.parametrize(
    "parameter,fragment",
    [
        ({}, "host"),
        ({"host": "Sessions_Local"}, "host"),
        ({"host": "sessions.localtest.me", "path": "sessions"}, "path"),
        ({"host": "sessions.localtest.me", "port": 70000}, "port"),
    ],
)
def test_ingress_rejects_bad_parameters(defs, parameter, fragment):
    result = defs.trait_result("http-ingress", "outputs", parameter)
    assert not result.ok
    assert fragment in result.stderr


def test_traits_emit_no_main_output(defs):
    # A trait must not define `output`; that belongs to the component.
    from components import cue_templates

    for name in ("dynamodb-client", "http-ingress"):
        assert "\noutput:" not in "\n" + cue_templates.trait_template(name)
