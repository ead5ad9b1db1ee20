"""Where the CLI keeps things: Pulumi state, passphrase, logs and measurements, all under `.pulumi-state/`.

The folder is git-ignored. The passphrase file is created once with mode 0600 and
never printed; keep it as long as you keep the stacks (it decrypts their secrets).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from components.project_paths import PROJECT_DIR
from tools.toolchain import tools_env

STATE_DIR = PROJECT_DIR / ".pulumi-state"
PASSPHRASE_FILE = STATE_DIR / "passphrase"
LOG_DIR = STATE_DIR / "logs"
MEASUREMENTS_FILE = STATE_DIR / "measurements.json"

APPROACHES = ("crossplane", "kro", "kratix")
ENGINE_OF = {"crossplane": "xp", "kro": "kro", "kratix": "kratix"}
PLATFORM = "platform"


def app_name(approach: str) -> str:
    return f"session-api-app-{ENGINE_OF[approach]}"


def table_name(prefix: str, approach: str) -> str:
    """The convention every approach stack follows: `<tablePrefix>sessions-<engine>`."""
    return f"{prefix}sessions-{ENGINE_OF[approach]}"


def pulumi_env(state_dir: Path = STATE_DIR, environ: dict[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """Environment for every Pulumi command, and notes on what was set up for the user.

    A local file backend unless PULUMI_BACKEND_URL is set; the passphrase from
    PULUMI_CONFIG_PASSPHRASE(_FILE) if set, otherwise from a generated file.
    """
    env = tools_env(environ)
    notes: list[str] = []
    env.setdefault("PULUMI_BACKEND_URL", f"file://{state_dir}")
    env["PULUMI_SKIP_UPDATE_CHECK"] = "true"
    if env["PULUMI_BACKEND_URL"].startswith("file://"):
        Path(env["PULUMI_BACKEND_URL"][len("file://"):]).mkdir(parents=True, exist_ok=True)
    if "PULUMI_CONFIG_PASSPHRASE" not in env and "PULUMI_CONFIG_PASSPHRASE_FILE" not in env:
        passphrase = state_dir / "passphrase"
        if not passphrase.exists():
            state_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(passphrase, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32) + "\n")
            notes.append(f"generated a Pulumi passphrase in {passphrase} (keep it to manage these stacks)")
        env["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(passphrase)
    return env, notes


class Measurements:
    """Timestamps and counts per stack, kept across runs in one JSON file (thread-safe)."""

    def __init__(self, path: Path = MEASUREMENTS_FILE) -> None:
        self.path = path
        self._lock = threading.Lock()

    def load(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError as error:
            raise ValueError(f"{self.path} is not valid JSON ({error}); delete it to start over") from None

    def update(self, stack: str, **values: Any) -> None:
        with self._lock:
            data = self.load()
            data.setdefault(stack, {}).update(values)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
            tmp.replace(self.path)


def now() -> float:
    return time.time()
