"""The WSGI application gunicorn serves: ``session_api.wsgi:app``.

Configuration is read here, once per worker, from the environment.
"""

from __future__ import annotations

import sys

from session_api.app import create_app
from session_api.config import Config, ConfigError
from session_api.logs import configure_logging

try:
    config = Config.from_env()
except ConfigError as error:
    sys.stderr.write(f"session-api: configuration error: {error}\n")
    raise SystemExit(2) from None

configure_logging(config.log_level)
app = create_app(config)
