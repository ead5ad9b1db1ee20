"""One way to install a pinned chart, shared by every component that installs one.

`helm.v3.Release` rather than `helm.v4.Chart`: Release runs Helm hooks (vela-core
creates its webhook certificates in hook Jobs, Kratix applies resources in one),
installs the chart's `crds/`, and since pulumi-kubernetes 4.32 its CRDs are known
at preview, so custom resources of those kinds plan on the first run.
Ref: pulumi/pulumi-kubernetes CHANGELOG 4.32.0 (PR #4417); upstream-facts §9.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.versions import ChartPin


def release(
    resource_name: str,
    pin: ChartPin,
    *,
    release_name: str,
    namespace: pulumi.Input[str],
    values: dict[str, Any] | pulumi.Input[dict],
    opts: pulumi.ResourceOptions,
    create_namespace: bool = False,
    timeout_seconds: int = 600,
) -> k8s.helm.v3.Release:
    return k8s.helm.v3.Release(
        resource_name,
        k8s.helm.v3.ReleaseArgs(
            chart=pin.chart,
            version=pin.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=pin.repo) if pin.repo else None,
            # An explicit name: without it the release gets a random suffix, and
            # charts derive object names (webhooks, services) from it.
            name=release_name,
            namespace=namespace,
            create_namespace=create_namespace,
            values=values,
            # Wait for Deployments to be ready and hook Jobs to finish, so what
            # comes next (CRs, webhooks) finds a serving controller.
            skip_await=False,
            wait_for_jobs=True,
            timeout=timeout_seconds,
            # A failed install is rolled back instead of leaving a release that
            # blocks the next `pulumi up` with "another operation is in progress".
            atomic=True,
        ),
        opts,
    )
