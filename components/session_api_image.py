"""The session API image: built from `app/`, then imported into k3d or pushed to a registry.

The tag is a hash of the build inputs, so a changed tree rolls out a new image
and an unchanged tree changes nothing (the command's trigger is the tag).
On k3d no registry is involved: `k3d image import` copies the image into the
nodes. On an existing cluster the image is built for the nodes' platform and
pushed to the configured registry (`docker push`; log in to it first).
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pulumi
from pulumi_command import local

from components.k3d_cluster import with_project_tools
from components.options import child_options
from components.project_paths import PROJECT_DIR

# Files that do not change what the image does.
_IGNORED_DIRS = {"__pycache__", ".pytest_cache"}
_IGNORED_SUFFIXES = {".pyc", ".pyo", ".md"}


# One os/arch[/variant], e.g. linux/amd64, linux/arm64, linux/arm/v7.
PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")


def check_platform(platform: str) -> None:
    """ValueError unless `platform` is '' (this machine's) or one os/arch[/variant]."""
    if platform and not PLATFORM.match(platform):
        raise ValueError(f"platform must be one os/arch[/variant] like linux/amd64, got {platform!r}")


def build_command(image: str, context_dir: str, platform: str = "") -> str:
    """`docker buildx build` that always leaves `image` in the local Docker engine.

    `--load` (shorthand for `--output=type=docker`): only the default `docker`
    driver loads the result on its own; with a `docker-container` (or remote)
    builder selected as the default, a build without an output stays in the
    build cache, and `k3d image import` / `docker push` then find no image.
    Ref: docs.docker.com/build/drivers/ ("Loading to local image store");
    docker/buildx docs/reference/buildx_build.md (`--load`, `--platform`).
    `docker buildx build`, not `docker build`: without buildx installed,
    `docker build` is the legacy builder, which has no `--load` flag, and the
    buildx error ("'buildx' is not a docker command") names what is missing.
    `--platform`: the nodes of an existing cluster are usually not this machine
    (an arm64 laptop building for amd64 EKS nodes); '' builds for this machine,
    which is the k3d nodes' platform. One platform only: `--load` cannot load a
    multi-platform image into the classic image store.
    """
    check_platform(platform)
    target = f" --platform {shlex.quote(platform)}" if platform else ""
    return f"docker buildx build --load{target} --tag {shlex.quote(image)} {shlex.quote(context_dir)}"


def content_hash(directory: Path) -> str:
    """A hash of every build input below `directory` (paths and bytes), independent of mtimes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory)
        if _IGNORED_DIRS.intersection(relative.parts) or path.suffix in _IGNORED_SUFFIXES:
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass
class SessionApiImageArgs:
    cluster_name: str = ""
    """k3d cluster to import into; empty when pushing to `registry`."""
    cluster_id: pulumi.Input[str] = ""
    """The cluster resource's id: a recreated cluster needs the image imported again."""
    registry: str = ""
    """Push to this registry path (e.g. ghcr.io/acme) instead of importing into k3d."""
    context_dir: str = "app"
    """Docker build context, relative to the project directory."""
    repository: str = "kubevela-dynamodb/session-api"
    platform: str = ""
    """The nodes' platform (e.g. linux/amd64) when pushing; '' builds for this machine (k3d)."""

    def __post_init__(self) -> None:
        if bool(self.cluster_name) == bool(self.registry):
            raise ValueError("give either cluster_name (k3d import) or registry (docker push), not both or neither")
        check_platform(self.platform)


class SessionApiImage(pulumi.ComponentResource):
    """`docker build` + `k3d image import`; `image` is the reference Pods use."""

    image: str

    def __init__(self, name: str, args: SessionApiImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:image:SessionApiImage", name, None, opts)
        context = PROJECT_DIR / args.context_dir
        if not (context / "Dockerfile").is_file():
            raise ValueError(f"no Dockerfile in {args.context_dir!r}: the session API image is built from there")
        tag = content_hash(context)[:16]
        if args.registry:
            # Only the last path segment of the repository: the registry names the rest.
            self.image = f"{args.registry.rstrip('/')}/{args.repository.rsplit('/', 1)[-1]}:{tag}"
            build = build_command(self.image, args.context_dir, args.platform)
            command = f"{build} && docker push {shlex.quote(self.image)}"
            # A new platform is a new image under the same tag: build and push again.
            triggers = [self.image, args.platform] if args.platform else [self.image]
        else:
            self.image = f"{args.repository}:{tag}"
            build = build_command(self.image, args.context_dir, args.platform)
            # k3d from the project's .tools/bin when the shell has none (see with_project_tools).
            command = with_project_tools(
                f"{build} && k3d image import {shlex.quote(self.image)} --cluster {shlex.quote(args.cluster_name)}"
            )
            triggers = [self.image, args.cluster_id]
        self.build_and_deliver = local.Command(
            f"{name}-build-{'push' if args.registry else 'import'}",
            local.CommandArgs(create=command, triggers=triggers),
            child_options(self, opts),
        )
        self.register_outputs({"image": self.image})
