"""One builder per stack; `__main__.py` picks one by stack name (or the `approach` config key)."""

from __future__ import annotations

from typing import Callable

from stacks import platform

BUILDERS: dict[str, Callable[[], None]] = {
    "platform": platform.build,
}


def select_builder(stack_name: str, approach: str | None) -> Callable[[], None]:
    wanted = approach or stack_name
    if wanted not in BUILDERS:
        source = f"config 'approach' = {approach!r}" if approach else f"stack name {stack_name!r}"
        raise LookupError(
            f"{source} is not a known stack; valid stacks: {', '.join(sorted(BUILDERS))} "
            "(name the stack after one, or set `pulumi config set approach <name>`)"
        )
    return BUILDERS[wanted]
