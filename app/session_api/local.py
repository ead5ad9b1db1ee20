"""Run the session API on this machine with no AWS account.

    cd app && python -m session_api.local            # API on http://127.0.0.1:8080

Starts a moto server (an in-memory DynamoDB, see :mod:`session_api.emulator`)
on 127.0.0.1, creates the session table from the shared definition in
:mod:`session_api.table`, enables TTL on it, and serves the API under gunicorn
against it. Ctrl-C stops both.

The process helpers here are also what the integration tests and the
benchmarks use to start and stop the same two servers. Needs the packages in
``requirements-test.txt`` (moto[server]); the image does not ship them.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import botocore.exceptions

from session_api.table import TTL_ATTRIBUTE, create_table_kwargs

LOOPBACK = "127.0.0.1"
# The directory holding the session_api package (``app/``).
APP_DIR = Path(__file__).resolve().parent.parent
# Moto accepts any credentials. Passing these explicitly keeps a developer's
# real AWS credentials out of the local run.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen | None = None, timeout: float = 30.0) -> None:
    """Block until ``url`` answers any HTTP response, or fail with a reason."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[:4]} exited with code {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # any HTTP status means the server is up
        except OSError:
            # Short: start-up is waited for once per server, and each poll is one refused connect.
            time.sleep(0.02)
    raise TimeoutError(f"{url} did not answer within {timeout} seconds")


def start_moto_server(port: int, log_path: Path | None = None) -> subprocess.Popen:
    """moto's DynamoDB server on 127.0.0.1:``port`` as a child process.

    Run through :mod:`session_api.emulator`, which gives it DynamoDB's
    per-request atomicity (plain ``moto_server`` can lose concurrent updates).
    """
    output = open(log_path, "ab") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "session_api.emulator", "--host", LOOPBACK, "--port", str(port)],
        cwd=APP_DIR,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    wait_for_http(f"http://{LOOPBACK}:{port}/moto-api/", process)
    return process


def create_session_table(endpoint_url: str, table_name: str, region: str) -> None:
    """Create the session table (if missing) and turn TTL on, as the engines do."""
    client = boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    try:
        client.create_table(**create_table_kwargs(table_name))
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )


def app_environment(endpoint_url: str, table_name: str, region: str, port: int, **extra: str) -> dict[str, str]:
    """Environment for the API process pointed at the emulator."""
    env = {
        name: value
        for name, value in os.environ.items()
        # A developer's AWS settings must not redirect the local run.
        if not name.startswith("AWS_")
    }
    env.update(FAKE_CREDENTIALS)
    env.update(
        {
            "TABLE_NAME": table_name,
            "AWS_REGION": region,
            "AWS_ENDPOINT_URL": endpoint_url,
            "HOST": LOOPBACK,
            "PORT": str(port),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(APP_DIR), os.environ.get("PYTHONPATH")])),
        }
    )
    env.update(extra)
    return env


def start_gunicorn(env: dict[str, str], log_path: Path | None = None) -> subprocess.Popen:
    """The API under gunicorn, configured by ``env`` (see :func:`app_environment`)."""
    output = open(log_path, "ab") if log_path else None
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:session_api.gunicorn_conf", "session_api.wsgi:app"],
        env=env,
        cwd=APP_DIR,
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
    )
    wait_for_http(f"http://{env['HOST']}:{env['PORT']}/health", process)
    return process


def stop(process: subprocess.Popen, timeout: float = 15.0) -> int:
    """SIGTERM by PID, wait, then SIGKILL if it has not exited. Returns the exit code."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout)
    return process.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m session_api.local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080, help="API port on 127.0.0.1 (default 8080)")
    parser.add_argument("--moto-port", type=int, default=0, help="moto server port (default: any free port)")
    parser.add_argument("--table", default="sessions", help="table name (default sessions)")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--ttl", type=int, default=None, help="session TTL in seconds (default 24 h)")
    args = parser.parse_args(argv)

    moto_port = args.moto_port or free_port()
    endpoint = f"http://{LOOPBACK}:{moto_port}"
    moto = start_moto_server(moto_port)
    api = None
    try:
        create_session_table(endpoint, args.table, args.region)
        extra = {"SESSION_TTL_SECONDS": str(args.ttl)} if args.ttl else {}
        api = start_gunicorn(app_environment(endpoint, args.table, args.region, args.port, **extra))
        print(
            f"\nmoto server (DynamoDB) on {endpoint}, table {args.table!r}\n"
            f"session API on http://{LOOPBACK}:{args.port}  (try /ready, /openapi.json)\n"
            "Ctrl-C to stop.\n",
            file=sys.stderr,
            flush=True,
        )
        # SIGTERM ends the wait like Ctrl-C does, so both children get stopped.
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        try:
            return api.wait()
        except KeyboardInterrupt:
            return 0
    finally:
        if api is not None:
            stop(api)
        stop(moto)


if __name__ == "__main__":
    sys.exit(main())
