"""Fixtures for the Kratix Promise pipeline tests.

The pipeline is a standalone program (it runs in its own image), so it is
imported from its directory; the CUE helpers of tests/cue render the same
requests KubeVela would hand to Kratix.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PIPELINE_DIR = REPO / "components" / "kratix" / "pipeline"
if str(PIPELINE_DIR) not in sys.path:
    sys.path.insert(0, str(PIPELINE_DIR))
