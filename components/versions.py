"""Every version the platform installs, pinned in one place.

Each pin names where it was confirmed. Nothing here is `latest`: a rerun next
month must install the same bits. Charts are installed with `helm.v3.Release`
(see components/helm.py for why).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChartPin:
    """A Helm chart: `repo` is a classic chart repository URL, or None for an OCI `chart` reference."""

    chart: str
    version: str
    repo: str | None = None


# ─── Cluster ────────────────────────────────────────────────────────────────

K3D_VERSION = "v5.9.0"
# Ref: k3d-io/k3d tag v5.9.0 (2026-06-02), newest release.

K3S_IMAGE = "rancher/k3s:v1.31.9-k3s1"
# KubeVela 1.10 documents Kubernetes <= 1.31 and its e2e suite runs v1.31.9
# (kubevela/kubevela@v1.10.9:.github/workflows/e2e-test.yml). k3d v5.9.0 would
# otherwise pick the k3s stable channel at its build time (1.35, outside that
# range). Tag seen in public k3d usage (e.g. kyma-project docs).

PULUMI_CLI_VERSION = "3.272.0"
# Matches the pulumi SDK pinned in requirements.txt.

# ─── KubeVela ───────────────────────────────────────────────────────────────

KUBEVELA_CHART = ChartPin(chart="vela-core", version="1.10.9", repo="https://kubevela.github.io/charts")
# Ref: kubevela/kubevela@v1.10.9:charts/vela-core/README.md (chart version = tag without `v`;
# .github/workflows/chart.yml rewrites Chart.yaml on publish). 1.10.9 is the newest 1.10.x.

# ─── DynamoDB target and ACK ────────────────────────────────────────────────

MOTO_IMAGE = "motoserver/moto:5.2.3"
# Ref: getmoto/moto tag 5.2.3 (newest tag in the source snapshot; the image's
# entrypoint is `moto_server -H 0.0.0.0`, port 5000, per its Dockerfile). Serves
# DynamoDB incl. DescribeContinuousBackups/GetResourcePolicy (ACK reads them) and
# STS GetCallerIdentity (ACK calls it at start-up).

ACK_DYNAMODB_CHART = ChartPin(
    chart="oci://public.ecr.aws/aws-controllers-k8s/dynamodb-chart", version="1.9.2"
)
# Ref: aws-controllers-k8s/dynamodb-controller tag v1.9.2 (2026-07-08), helm/Chart.yaml;
# OCI location from https://aws-controllers-k8s.github.io/docs/getting-started-helm.

# ─── Approach stacks ────────────────────────────────────────────────────────

CROSSPLANE_CHART = ChartPin(chart="crossplane", version="2.3.4", repo="https://charts.crossplane.io/stable")
# Ref: crossplane/crossplane@v2.3.4:cluster/charts/crossplane/README.md.

CROSSPLANE_DYNAMODB_PROVIDER = "xpkg.crossplane.io/crossplane-contrib/provider-aws-dynamodb:v2.6.0"
# Ref: crossplane-contrib/provider-upjet-aws tag v2.6.0. xpkg.crossplane.io serves pinned
# versions anonymously; xpkg.upbound.io serves only the newest to anonymous users
# (https://docs.upbound.io/providers/policies).

CROSSPLANE_AWS_FAMILY_PROVIDER = "xpkg.crossplane.io/crossplane-contrib/provider-family-aws:v2.6.0"
# Ref: crossplane-contrib/provider-upjet-aws tag v2.6.0 (the family package is built and
# published with the sub-packages: crossplane-contrib/provider-workflows
# .github/workflows/publish-provider-family.yml). provider-aws-dynamodb depends on it with
# the constraint `>= 0.0.0` (cluster/images/provider-aws/Makefile DEP_CONSTRAINT), so the
# resolver would install the newest release; installing this pin first keeps it fixed.

KRO_CHART = ChartPin(chart="oci://registry.k8s.io/kro/charts/kro", version="0.9.3")
# Ref: kubernetes-sigs/kro tag v0.9.3; chart on registry.k8s.io since v0.5.0.

CERT_MANAGER_CHART = ChartPin(chart="cert-manager", version="v1.21.1", repo="https://charts.jetstack.io")
# Ref: cert-manager/cert-manager tag v1.21.1; chart versions keep the leading `v`.
