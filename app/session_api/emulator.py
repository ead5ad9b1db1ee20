"""moto's DynamoDB server, with one request served at a time.

Real DynamoDB applies each write -- condition check and update together --
atomically per item. moto's server handles requests on parallel threads with
no locking, so two conditional updates of one item can interleave and one
can silently undo the other: a lost update the real service cannot produce.
Serialising requests restores the guarantee, so concurrency tests and the
local run behave like DynamoDB. moto is CPU-bound under the GIL anyway, so
this costs little throughput.

    python -m session_api.emulator --port 5000      # binds 127.0.0.1 only

Needs ``moto[server]`` (requirements-test.txt); not part of the image.
"""

from __future__ import annotations

import argparse
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


class Serialized:
    """WSGI middleware: the wrapped app sees one request at a time."""

    def __init__(self, app) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            # Produce the whole body under the lock: the work happens while iterating.
            return list(self.app(environ, start_response))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m session_api.emulator", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    app = Serialized(DomainDispatcherApplication(create_backend_app))
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
