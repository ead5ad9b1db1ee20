"""Shared by the session API benchmarks: servers on loopback, percentiles.

Starts the same two processes the integration tests use (moto's DynamoDB
server and the API under gunicorn), both on 127.0.0.1, and stops them by PID.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

APP_DIR = Path(__file__).resolve().parents[2] / "app"
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

from session_api import local  # noqa: E402

REGION = "us-east-1"


def require_loopback(url: str) -> str:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"benchmarks only target loopback addresses, not {host!r}")
    return url.rstrip("/")


@contextlib.contextmanager
def servers(workers: int = 2, threads: int = 4):
    """Yield (api base URL, moto endpoint, table name); stop both on exit."""
    logs = Path(tempfile.mkdtemp(prefix="session-api-bench-"))
    moto_port = local.free_port()
    endpoint = f"http://{local.LOOPBACK}:{moto_port}"
    moto = local.start_moto_server(moto_port, logs / "moto.log")
    api = None
    try:
        table = f"bench-{uuid.uuid4().hex[:8]}"
        local.create_session_table(endpoint, table, REGION)
        port = local.free_port()
        env = local.app_environment(
            endpoint, table, REGION, port, WEB_CONCURRENCY=str(workers), GUNICORN_THREADS=str(threads), LOG_LEVEL="WARNING"
        )
        api = local.start_gunicorn(env, logs / "gunicorn.log")
        yield f"http://{local.LOOPBACK}:{port}", endpoint, table
    finally:
        if api is not None:
            local.stop(api)
        local.stop(moto)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def summary(latencies_ms: list[float]) -> str:
    ordered = sorted(latencies_ms)
    return (
        f"n={len(ordered):5d}  p50={percentile(ordered, 0.50):7.2f} ms  "
        f"p95={percentile(ordered, 0.95):7.2f} ms  p99={percentile(ordered, 0.99):7.2f} ms"
    )
