"""Resource options shared by every component."""

from __future__ import annotations

import pulumi


def child_options(parent: pulumi.Resource, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """Options for a component's children: parented to it, and waiting for what it waits for.

    Pulumi does not pass a component's `depends_on` down to its children, so a
    component created "after X" would otherwise start its children before X is ready.
    """
    depends_on = opts.depends_on if opts is not None else None
    return pulumi.ResourceOptions(parent=parent, depends_on=depends_on)
