"""gunicorn settings: ``gunicorn -c python:session_api.gunicorn_conf session_api.wsgi:app``.

The configuration is validated here, in the master process, so a missing
variable stops start-up with one clear line instead of a worker boot loop.

Shutdown: on SIGTERM gunicorn stops accepting connections and gives in-flight
requests ``graceful_timeout`` seconds to finish before workers are killed.
Keep it below the orchestrator's grace period (Kubernetes: 30 s by default).
"""

from __future__ import annotations

import os
import sys

from session_api.config import Config, ConfigError

try:
    _config = Config.from_env()
except ConfigError as _error:
    sys.stderr.write(f"session-api: configuration error: {_error}\n")
    sys.exit(2)

bind = [f"{_config.host}:{_config.port}"]
workers = _config.workers
# Threads overlap the time a request waits on DynamoDB.
worker_class = "gthread"
threads = _config.threads
graceful_timeout = _config.graceful_timeout
timeout = 30
keepalive = 5
# GET /sessions/user/<userId>?nextToken=... with the longest user id (2048
# bytes, each percent-encoded as 3 characters) is about 6.4 KB of request
# line; gunicorn's default limit is 4094, and 8190 is the most it allows.
# Ref: benoitc/gunicorn@27.0.1:gunicorn/config.py (LimitRequestLine)
limit_request_line = 8190
# gunicorn's runtime control socket is not used; without it the server needs
# no writable home directory and several instances on one host do not collide.
control_socket_disable = True
# Heartbeat files on a RAM disk: a slow or read-only /tmp must not look like a hung worker.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# The app logs one JSON line per request (with its request id); gunicorn's
# own access log would duplicate it in another format.
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "session_api.logs.JsonFormatter"}},
    "filters": {"request_id": {"()": "session_api.logs.RequestIdFilter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": _config.log_level, "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": _config.log_level, "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
    },
}
