"""SessionApiImage: tag from a content hash, rebuilt and re-imported only when inputs change."""

import re

import subprocess

import pytest

import fake_cli_tools
from components.k3d_cluster import with_project_tools
from components.session_api_image import SessionApiImageArgs, build_command, content_hash
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
    # Built for this machine (the k3d nodes'), loaded into the engine, then imported.
    assert command.inputs["create"] == with_project_tools(
        f"docker buildx build --load --tag {image} app && k3d image import {image} --cluster kubevela-dynamodb"
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


# ─── The image lands in the engine whatever the default builder ─────────────


def _run(command: str, tmp_path, **env) -> subprocess.CompletedProcess:
    bin_dir = fake_cli_tools.install(tmp_path / "bin", "docker", "k3d")
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE_TOOLS_DIR": str(tmp_path / "state"), **env}
    return subprocess.run(["/bin/sh", "-c", command], env=environment, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("driver", ["docker", "docker-container"])
def test_build_leaves_the_image_in_the_engine_with_any_builder(tmp_path, driver):
    done = _run(build_command("kvd/api:abc", "app") + " && docker push kvd/api:abc", tmp_path, FAKE_DOCKER_DRIVER=driver)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "state" / "pushed" / "kvd_api:abc").exists()


def test_the_fake_builder_reproduces_the_hazard_without_load(tmp_path):
    # Guards the test above: the previous `docker build` left nothing to push with that builder.
    done = _run("docker build --tag kvd/api:abc app && docker push kvd/api:abc", tmp_path,
                FAKE_DOCKER_DRIVER="docker-container")
    assert done.returncode != 0
    assert "Build result will only remain in the build cache" in done.stderr


def test_build_targets_the_given_platform_not_the_machines(tmp_path):
    done = _run(build_command("kvd/api:abc", "app", "linux/amd64") + " && docker push kvd/api:abc", tmp_path,
                FAKE_DOCKER_DRIVER="docker-container", FAKE_NATIVE_PLATFORM="linux/arm64")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "state" / "pushed" / "kvd_api:abc").read_text() == "linux/amd64"


@pytest.mark.parametrize("platform", ["linux/amd64,linux/arm64", "amd64", "linux/amd64; rm -rf /", "Linux/AMD64"])
def test_a_bad_platform_is_refused(platform):
    with pytest.raises(ValueError, match="platform must be one os/arch"):
        build_command("kvd/api:abc", "app", platform)
    with pytest.raises(ValueError, match="platform must be one os/arch"):
        SessionApiImageArgs(registry="ghcr.io/acme", platform=platform)
