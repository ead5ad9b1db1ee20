"""Pulumi environment: local backend and a generated passphrase unless the user set their own."""

from __future__ import annotations

import os

from tools.state import pulumi_env


def test_generates_a_private_passphrase_once(tmp_path):
    env, notes = pulumi_env(tmp_path, {"PATH": "/usr/bin"})
    passphrase = tmp_path / "passphrase"
    assert env["PULUMI_BACKEND_URL"] == f"file://{tmp_path}"
    assert env["PULUMI_CONFIG_PASSPHRASE_FILE"] == str(passphrase)
    assert oct(os.stat(passphrase).st_mode & 0o777) == "0o600"
    secret = passphrase.read_text()
    assert notes and secret.strip() not in " ".join(notes)  # says where, never what
    again, notes_again = pulumi_env(tmp_path, {"PATH": "/usr/bin"})
    assert passphrase.read_text() == secret and notes_again == []
    assert again["PATH"].split(os.pathsep)[0].endswith(".tools/bin")


def test_users_own_backend_and_passphrase_win(tmp_path):
    env, notes = pulumi_env(tmp_path, {"PULUMI_BACKEND_URL": "s3://bucket", "PULUMI_CONFIG_PASSPHRASE": "mine"})
    assert env["PULUMI_BACKEND_URL"] == "s3://bucket"
    assert "PULUMI_CONFIG_PASSPHRASE_FILE" not in env and notes == []
    assert not (tmp_path / "passphrase").exists()
