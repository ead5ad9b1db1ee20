"""Where the project is on disk, and where its CLI installs the pinned k3d and Pulumi CLI.

The Pulumi program (the k3d cluster's commands, the session API image's build context)
and the CLI (tools/toolchain.py, which installs into `.tools/bin`) must agree on these.
Standard library only: the CLI imports it before the virtualenv exists.
"""

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
TOOLS_DIR = PROJECT_DIR / ".tools"
TOOLS_BIN = TOOLS_DIR / "bin"
