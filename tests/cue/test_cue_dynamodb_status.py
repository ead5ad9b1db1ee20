"""Health policies and status messages of the three DynamoDB definitions,
evaluated against live objects at each stage of their life."""

from __future__ import annotations

import pytest

ARN = "arn:aws:dynamodb:eu-west-1:000000000000:table/kvdemo-sessions"


def cond(type_, status, reason="", message=None):
    c = {"type": type_, "status": status, "reason": reason, "lastTransitionTime": "2026-01-01T00:00:00Z"}
    if message:
        c["message"] = message
    return c


def live(engine, status=None):
    obj = {
        "xp": {
            "apiVersion": "dynamodb.aws.m.upbound.io/v1beta1",
            "kind": "Table",
            "metadata": {
                "name": "sessions",
                "namespace": "demo",
                "annotations": {"crossplane.io/external-name": "kvdemo-sessions"},
            },
            "spec": {"forProvider": {"region": "eu-west-1"}},
        },
        "kro": {"apiVersion": "kro.run/v1alpha1", "kind": "DynamoDBTable", "metadata": {"name": "sessions", "namespace": "demo"}},
        "kratix": {
            "apiVersion": "dynamodb.kubevela-dynamodb.dev/v1alpha1",
            "kind": "DynamoDBRequest",
            "metadata": {"name": "sessions", "namespace": "demo"},
        },
    }[engine]
    if status is not None:
        obj["status"] = status
    return obj


CASES = {
    "xp": [
        ("no status", None, False, "table kvdemo-sessions pending: Synced not reported yet; Ready not reported yet"),
        ("empty status", {}, False, "table kvdemo-sessions pending: Synced not reported yet; Ready not reported yet"),
        (
            "creating",
            {"conditions": [cond("Synced", "True", "ReconcileSuccess"), cond("Ready", "False", "Creating")]},
            False,
            "table kvdemo-sessions pending: Ready=False (Creating)",
        ),
        (
            "ready but last apply failed",
            {"conditions": [cond("Synced", "False", "ReconcileError", "throttled"), cond("Ready", "True", "Available")]},
            False,
            "table kvdemo-sessions pending: Synced=False (ReconcileError: throttled)",
        ),
        (
            "ready",
            {"conditions": [cond("Synced", "True", "ReconcileSuccess"), cond("Ready", "True", "Available")],
             "atProvider": {"arn": ARN}},
            True,
            f"table kvdemo-sessions ready (arn {ARN})",
        ),
        (
            "failed",
            {"conditions": [cond("Synced", "False", "ReconcileError", "AccessDeniedException: not authorized")]},
            False,
            "table kvdemo-sessions pending: Synced=False (ReconcileError: AccessDeniedException: not authorized); "
            "Ready not reported yet",
        ),
    ],
    "kro": [
        ("no status", None, False, "waiting for kro to report the state of DynamoDBTable sessions"),
        (
            "in progress",
            {"state": "IN_PROGRESS", "conditions": [cond("Ready", "False", message="table is CREATING")]},
            False,
            "state IN_PROGRESS (Ready=False: table is CREATING)",
        ),
        (
            "ready",
            {"state": "ACTIVE", "tableStatus": "ACTIVE", "tableArn": ARN, "conditions": [cond("Ready", "True")]},
            True,
            f"state ACTIVE, table ACTIVE, arn {ARN}",
        ),
        ("failed", {"state": "FAILED", "tableStatus": "CREATING"}, False, "state FAILED, table CREATING"),
        ("error", {"state": "ERROR"}, False, "state ERROR"),
    ],
    "kratix": [
        (
            "no status",
            None,
            False,
            "request sessions; pending: ConfigureWorkflowCompleted not reported yet; WorksSucceeded not reported yet",
        ),
        (
            "pipeline running",
            {"message": "Pending", "conditions": [cond("ConfigureWorkflowCompleted", "False", "PipelinesInProgress")]},
            False,
            "Pending; pending: ConfigureWorkflowCompleted=False (PipelinesInProgress); WorksSucceeded not reported yet",
        ),
        (
            "ready",
            {"message": "table kvdemo-sessions created", "tableArn": ARN, "tableStatus": "ACTIVE", "conditions": [
                cond("ConfigureWorkflowCompleted", "True", "PipelinesExecutedSuccessfully"),
                cond("WorksSucceeded", "True", "WorksSucceeded"),
                cond("Reconciled", "True", "Reconciled"),
            ]},
            True,
            f"table kvdemo-sessions created (arn {ARN})",
        ),
        (
            # Manifests are in the state store but the table is not ACTIVE yet.
            "reconciled, table creating",
            {"message": "table kvdemo-sessions is CREATING", "tableStatus": "CREATING", "conditions": [
                cond("ConfigureWorkflowCompleted", "True", "PipelinesExecutedSuccessfully"),
                cond("WorksSucceeded", "True", "WorksSucceeded"),
                cond("Reconciled", "True", "Reconciled"),
            ]},
            False,
            "table kvdemo-sessions is CREATING",
        ),
        (
            "works failed",
            {"message": "table requested", "conditions": [
                cond("ConfigureWorkflowCompleted", "True"),
                cond("WorksSucceeded", "False", "WorksFailing", "1 work failed"),
                cond("Reconciled", "False", "WorksFailing"),
            ]},
            False,
            "table requested; pending: WorksSucceeded=False (WorksFailing: 1 work failed)",
        ),
        (
            "both done, not yet reconciled",
            {"conditions": [cond("ConfigureWorkflowCompleted", "True"), cond("WorksSucceeded", "True")]},
            False,
            "request sessions; pending: Reconciled not reported yet",
        ),
    ],
}

PARAMS = [(engine, *case) for engine, cases in CASES.items() for case in cases]


@pytest.mark.parametrize("engine,stage,status,healthy,message", PARAMS, ids=[f"{p[0]}-{p[1]}" for p in PARAMS])
def test_health_and_status(defs, engine, stage, status, healthy, message):
    obj = live(engine, status)
    assert defs.health(engine, obj) is healthy
    assert defs.status(engine, obj) == message


def test_kro_health_is_only_active(defs):
    for state in ("IN_PROGRESS", "FAILED", "DELETING", "ERROR", "Active"):
        assert defs.health("kro", live("kro", {"state": state})) is False, state
