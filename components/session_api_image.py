"""The session API image: built from `app/` and imported into the k3d cluster.

The tag is a hash of the build inputs, so a changed tree rolls out a new image
and an unchanged tree changes nothing (the import command's trigger is the tag).
No registry is involved: `k3d image import` copies the image into the nodes.
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
    cluster_name: str
    cluster_id: pulumi.Input[str]
    """The cluster resource's id: a recreated cluster needs the image imported again."""
    context_dir: str = "app"
    """Docker build context, relative to the project directory."""
    repository: str = "kubevela-dynamodb/session-api"


class SessionApiImage(pulumi.ComponentResource):
    """`docker build` + `k3d image import`; `image` is the reference Pods use."""

    image: str

    def __init__(self, name: str, args: SessionApiImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubevela-dynamodb:image:SessionApiImage", name, None, opts)
        context = PROJECT_DIR / args.context_dir
        if not (context / "Dockerfile").is_file():
            raise ValueError(f"no Dockerfile in {args.context_dir!r}: the session API image is built from there")
        tag = content_hash(context)[:16]
        self.image = f"{args.repository}:{tag}"
        image = shlex.quote(self.image)
        self.build_and_import = local.Command(
            f"{name}-build-import",
            local.CommandArgs(
                create=(
                    f"docker build --tag {image} {shlex.quote(args.context_dir)}"
                    f" && k3d image import {image} --cluster {shlex.quote(args.cluster_name)}"
                ),
                triggers=[self.image, args.cluster_id],
            ),
            child_options(self, opts),
        )
        self.register_outputs({"image": self.image})
