"""The `kro` stack: DynamoDB tables through KRO over the platform's ACK controller, used from KubeVela.

KRO + ResourceGraphDefinition `dynamodbtable` (kind DynamoDBTable -> ACK Table)
-> ComponentDefinition `aws-dynamodb-kro` -> Application `session-api-app-kro`
(the session table and the session API on it).

The ACK DynamoDB controller is the platform's (the `kratix` stack shares it), so
this stack installs none and needs `platform` up first. `pulumi up` returns once
the Application is `running`: kro reports the DynamoDBTable ACTIVE (the ACK Table
is ACTIVE and synced) and the API passed its /ready probe. `pulumi destroy`
deletes the Application first; KubeVela deletes the DynamoDBTable and waits until
it is gone, which kro allows only after the ACK Table is gone, which ACK (still
running, in the platform) allows only after DeleteTable. Then the definition, the
RGD, and KRO itself; ACK stays with the platform.
"""

from __future__ import annotations

import pulumi

from components.kro import Kro, KroArgs
from components.session_app import SessionApplication
from components.vela_definitions import DynamoDBComponentDefinition, DynamoDBComponentDefinitionArgs
from stacks.config import _validated, kro_config
from stacks.platform_ref import read_platform

ENGINE = "kro"


def build() -> None:
    cfg = kro_config()
    platform = read_platform()
    on_cluster = pulumi.ResourceOptions(providers=[platform.provider])

    kro = Kro(
        "kro",
        _validated(
            "kroNamespace/rgdTimeoutMinutes",
            lambda: KroArgs(namespace=cfg.namespace, rgd_timeout_minutes=cfg.rgd_timeout_minutes),
        ),
        on_cluster,
    )

    # KubeVela is the platform's and ready once that stack is up; the definition's
    # webhook check is skipped by `autodetects`, so it does not need the RGD's CRD yet.
    definition = DynamoDBComponentDefinition(
        "dynamodb-definition-kro",
        DynamoDBComponentDefinitionArgs(
            engine=ENGINE, namespace=platform.vela_namespace, region=platform.dynamodb_region
        ),
        on_cluster,
    )

    table_name = platform.table_name(ENGINE)
    app = SessionApplication(
        "session-api-app-kro",
        _validated("appTimeoutMinutes", lambda: platform.session_app_args(ENGINE, cfg.app_timeout_minutes)),
        # The DynamoDBTable needs its definition and an Active RGD (its CRD served,
        # its controller running). On destroy the same edges delete the Application
        # (and with it the instance and its ACK Table) while kro still runs.
        pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[definition, kro.rgd])),
    )

    pulumi.export("applicationName", app.app_name)
    pulumi.export("applicationNamespace", platform.apps_namespace)
    pulumi.export("tableName", table_name)
    pulumi.export("apiUrl", platform.app_url(ENGINE))
    # The same API reached through the Kubernetes API server (`smoke` on a cluster without DNS for the ingress).
    pulumi.export("apiService", platform.api_service(ENGINE))
    pulumi.export("componentDefinition", definition.definition_name)
    pulumi.export("kroNamespace", kro.namespace_name)
    pulumi.export("resourceGraphDefinition", kro.rgd_name)
    pulumi.export("instanceKind", f"{kro.instance_api_version} {kro.instance_kind}")
    pulumi.export("dynamodbMode", platform.dynamodb_mode)
