"""The `crossplane` stack: DynamoDB tables through Crossplane, used from KubeVela.

Crossplane + Upbound DynamoDB provider + ClusterProviderConfig (for the platform's
DynamoDB target) -> ComponentDefinition `aws-dynamodb-xp` -> Application
`session-api-app-xp` (the session table and the session API on it).

`pulumi up` returns once the Application is `running`: the Table MR is Synced and
Ready and the API passed its /ready probe. `pulumi destroy` deletes the Application
first; KubeVela removes the Table and waits until it is gone, which the DynamoDB
provider (still running) does by deleting the table. Then the definition, the
ProviderConfig and providers, and Crossplane itself.
"""

from __future__ import annotations

import pulumi

from components.crossplane import Crossplane, CrossplaneArgs
from components.session_app import SessionApplication
from components.vela_definitions import DynamoDBComponentDefinition, DynamoDBComponentDefinitionArgs
from stacks.config import _validated, crossplane_config
from stacks.platform_ref import read_platform

ENGINE = "xp"


def build() -> None:
    cfg = crossplane_config()
    platform = read_platform()
    on_cluster = pulumi.ResourceOptions(providers=[platform.provider])

    crossplane = Crossplane(
        "crossplane",
        _validated(
            "providerTimeoutMinutes",
            lambda: CrossplaneArgs(
                dynamodb_mode=platform.dynamodb_mode,
                endpoint=platform.dynamodb_endpoint,
                credentials_ini=platform.engine_credentials,
                provider_timeout_minutes=cfg.provider_timeout_minutes,
            ),
        ),
        on_cluster,
    )

    # `aws-dynamodb-xp` renders the namespaced Table (dynamodb.aws.m.upbound.io/v1beta1),
    # not the legacy cluster-scoped dynamodb.aws.upbound.io one, because it then lives
    # in the Application's namespace (KubeVela tracks and shows it there, a developer
    # needs no cluster-wide rights, namespace deletion includes it), and namespaced MRs
    # have no deletionPolicy: deleting the component always deletes the table, so
    # nothing can be orphaned. The cluster-scoped kinds are Crossplane v1's, kept for
    # migration. Ref: crossplane/docs content/v2.3/whats-new/_index.md; provider-upjet-aws
    # v2.6.0 CRD dynamodb.aws.m.upbound.io_tables.yaml.
    # KubeVela is the platform's and ready once that stack is up; the definition's
    # webhook check is skipped by `autodetects`, so it needs nothing from Crossplane.
    definition = DynamoDBComponentDefinition(
        "dynamodb-definition-xp",
        DynamoDBComponentDefinitionArgs(
            engine=ENGINE,
            namespace=platform.vela_namespace,
            region=platform.dynamodb_region,
            provider_config_name=crossplane.provider_config_name,
        ),
        on_cluster,
    )

    table_name = platform.table_name(ENGINE)
    app = SessionApplication(
        "session-api-app-xp",
        _validated("appTimeoutMinutes", lambda: platform.session_app_args(ENGINE, cfg.app_timeout_minutes)),
        # The Table needs its definition, the DynamoDB provider, the activated and
        # served (Established) Table CRD and the ProviderConfig. On destroy the same edges delete the Application
        # (and with it the Table) while the provider still runs.
        pulumi.ResourceOptions.merge(
            on_cluster, pulumi.ResourceOptions(depends_on=[definition, *crossplane.table_gates])
        ),
    )

    pulumi.export("applicationName", app.app_name)
    pulumi.export("applicationNamespace", platform.apps_namespace)
    pulumi.export("tableName", table_name)
    pulumi.export("apiUrl", platform.app_url(ENGINE))
    # The same API reached through the Kubernetes API server (`smoke` on a cluster without DNS for the ingress).
    pulumi.export("apiService", platform.api_service(ENGINE))
    pulumi.export("componentDefinition", definition.definition_name)
    pulumi.export("crossplaneNamespace", crossplane.namespace_name)
    pulumi.export("providerConfigName", crossplane.provider_config_name)
    pulumi.export("dynamodbMode", platform.dynamodb_mode)
