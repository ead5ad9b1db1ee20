"""SessionApiImage: tag from a content hash, rebuilt and re-imported only when inputs change."""

import re

from components.session_api_image import content_hash
from tools.mock_harness import PlanResult

COMMAND = "command:local:Command"


def _tree(tmp_path):
    (tmp_path / "session_api").mkdir()
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "session_api" / "api.py").write_text("print('v1')\n")
    return tmp_path


def test_hash_follows_content_not_noise(tmp_path):
    tree = _tree(tmp_path)
    first = content_hash(tree)
    assert content_hash(tree) == first
    (tree / "session_api" / "__pycache__").mkdir()
    (tree / "session_api" / "__pycache__" / "api.cpython-311.pyc").write_bytes(b"\0\1")
    (tree / "README.md").write_text("docs only\n")
    assert content_hash(tree) == first, "bytecode and docs must not trigger a rebuild"
    (tree / "session_api" / "api.py").write_text("print('v2')\n")
    assert content_hash(tree) != first


def test_hash_sees_renames(tmp_path):
    tree = _tree(tmp_path)
    first = content_hash(tree)
    (tree / "session_api" / "api.py").rename(tree / "session_api" / "app.py")
    assert content_hash(tree) != first


def test_build_and_import_command(platform: PlanResult):
    image = platform.outputs["sessionApiImage"]
    assert re.fullmatch(r"kubevela-dynamodb/session-api:[0-9a-f]{16}", image)
    command = platform.find(COMMAND, "session-api-image-build-import")
    assert command.inputs["create"] == (
        f"docker build --tag {image} app && k3d image import {image} --cluster kubevela-dynamodb"
    )
    # A new tag or a recreated cluster reruns the import.
    assert command.inputs["triggers"] == [image, "cluster-k3d-id"]
    assert command.depends_on(COMMAND, "cluster-k3d")


def test_dockerfile_base_image_is_the_pinned_one():
    import re
    from pathlib import Path

    from components import versions

    dockerfile = (Path(__file__).resolve().parents[2] / "app" / "Dockerfile").read_text()
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.M)
    assert bases, "app/Dockerfile names no base image"
    assert set(bases) == {versions.SESSION_API_BASE_IMAGE}
