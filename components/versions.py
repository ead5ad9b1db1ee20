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
# It ships Traefik v2.11.24 as the ingress (k3s-io/docs docs/release-notes/v1.31.X.md),
# which app/README.md describes ("User ids in URLs"): re-check that text on a bump.

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
# OCI location: kubernetes-sigs/kro@v0.9.3 website/docs/docs/getting-started/01-Installation.md
# (`helm install kro oci://registry.k8s.io/kro/charts/kro --namespace kro-system --version=0.9.3`: no `v`).

CERT_MANAGER_CHART = ChartPin(chart="cert-manager", version="v1.19.6", repo="https://charts.jetstack.io")
# Ref: cert-manager/cert-manager tag v1.19.6 (2026-06-25); chart versions keep the leading `v`.
# Not v1.21.x: cert-manager 1.21 supports Kubernetes 1.33-1.36 and 1.20 supports 1.32-1.35,
# while 1.19 is the newest line whose support matrix includes our k3s 1.31 (1.31-1.35;
# cert-manager/website content/docs/releases/README.md). Move to 1.21 with K3S_IMAGE >= 1.33.
# charts.jetstack.io still serves every version (upstream now also publishes
# oci://quay.io/jetstack/charts/cert-manager).

# ─── Kratix stack ───────────────────────────────────────────────────────────

KRATIX_CHART = ChartPin(chart="kratix", version="v0.0.1", repo="https://syntasso.github.io/helm-charts")
# The chart version pins NOTHING: upstream re-publishes `v0.0.1` on every change to
# its kratix/ directory (syntasso/helm-charts .github/workflows/helm-release-kratix.yaml
# deletes and re-uploads the release and rewrites index.yaml; Helm does not check the
# index digest on download). What we can pin, we pin through values and patches:
KRATIX_IMAGE = (
    "syntasso-community.docker.reo.dev/syntasso/kratix-platform"
    "@sha256:0924f2c94380f89dfe7563715cb79fc5375233296701a0bb62e549a936b54793"
)
# The controller image (chart value `image`, a full reference) AND the pipeline-adapter
# image (ConfigMap kratix-platform-pipeline-adapter-config, key PIPELINE_ADAPTER_IMG, which
# no chart value sets; components/kratix.py patches it). Both are this same digest in
# the chart as of syntasso/helm-charts@ccb42919 (kratix/files/deployment.yaml `image:`,
# kratix/templates/distribution.yaml PIPELINE_ADAPTER_IMG). Still floating with the chart:
# its CRDs, RBAC and webhook configuration. The chart digest seen for that content:
# 95391af675005163fd22680c2389dff73127af468d9691d1e79f609561cb8350 (gh-pages index.yaml).

FLUX_CHART = ChartPin(chart="flux2", version="2.16.4", repo="https://fluxcd-community.github.io/helm-charts")
# Flux v2.6.4 (source-controller v1.6.2, kustomize-controller v1.6.1). Not newer: the
# chart runs `flux check --pre` as a pre-install hook, and Flux >= 2.7 requires
# Kubernetes >= 1.32 (>= 1.33 from 2.8), so chart >= 2.17 fails to install on k3s 1.31
# (fluxcd/flux2@v2.8.5:cmd/flux/check.go kubernetesConstraints; v2.6.4 has >=1.31.0-0).
# Ref: fluxcd-community/helm-charts index.yaml (2.16.4), charts/flux2/values.yaml at e07cfacf.

MINIO_IMAGE = "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"
MINIO_MC_IMAGE = "quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z"
# The Kratix state store. quay.io, not Docker Hub: minio/minio and minio/mc were removed
# from Docker Hub in 2026, and MinIO CE publishes no newer images (the repository was
# archived 2026-04). These are the last published tags, pinned by tag (per-platform
# digests differ; tags on quay.io/minio are immutable release names).

SESSION_API_BASE_IMAGE = "python:3.12.12-slim-bookworm"
# Base of the session API image: app/Dockerfile names it in both stages (the image
# must build with a plain `docker build app/`, so the Dockerfile holds the tag and a
# test keeps the two equal). Official Python image, exact patch release.

KRATIX_PIPELINE_BASE_IMAGE = "python:3.12.12-slim-bookworm"
# Base of the Promise pipeline image (components/kratix/pipeline/Dockerfile, which must
# name the same tag); the same official image the session API uses (app/Dockerfile).
