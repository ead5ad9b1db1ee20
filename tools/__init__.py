"""Command-line tools of the project (offline plan, ...)."""
