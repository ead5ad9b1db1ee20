"""Entry point: builds the stack named by `pulumi stack select` (or by config `approach`)."""

import pulumi

from stacks import select_builder
from stacks.config import ConfigError, approach_override

try:
    build = select_builder(pulumi.get_stack(), approach_override())
except LookupError as error:
    raise ConfigError(str(error)) from None

build()
