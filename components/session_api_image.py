"""The session API image: built from `app/`, then imported into k3d or pushed to a registry.

The tag is a hash of the build inputs, so a changed tree rolls out a new image
and an unchanged tree changes nothing (the command's trigger is the tag).
On k3d no registry is involved: `k3d image import` copies the image into the
nodes. On an existing cluster the image is pushed to the configured registry
(`docker push`; log in to it first).
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from pathlib import Path

import pulumi
from pulumi_command import local
from components.options import child_options

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Files that do not change what the image does.
_IGNORED_DIRS = {"__pycache__", ".pytest_cache"}
_IGNORED_SUFFIXES = {".pyc", ".pyo", ".md"}


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

    def __post_init__(self) -> None:
        if bool(self.cluster_name) == bool(self.registry):
            raise ValueError("give either cluster_name (k3d import) or registry (docker push), not both or neither")


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
            deliver, triggers = f"docker push {shlex.quote(self.image)}", [self.image]
        else:
            self.image = f"{args.repository}:{tag}"
            deliver = f"k3d image import {shlex.quote(self.image)} --cluster {shlex.quote(args.cluster_name)}"
            triggers = [self.image, args.cluster_id]
        self.build_and_deliver = local.Command(
            f"{name}-build-{'push' if args.registry else 'import'}",
            local.CommandArgs(
                create=f"docker build --tag {shlex.quote(self.image)} {shlex.quote(args.context_dir)} && {deliver}",
                triggers=triggers,
            ),
            child_options(self, opts),
        )
        self.register_outputs({"image": self.image})
