"""Fixtures for the CLI tests: a fake Pulumi (StackOps), a CLI context writing to a buffer, a moto server."""

from __future__ import annotations

import io
import threading
from types import SimpleNamespace

import pytest

from tools import cli
from tools.state import Measurements


class FakeOps:
    """Stacks in memory; records every operation in order. `fail` names stacks whose operation raises."""

    def __init__(self, existing=(), outputs=None, fail=(), on_up=None, on_destroy=None, pending=None):
        self.stacks = set(existing)
        self.pending = {stack: list(ops) for stack, ops in (pending or {}).items()}
        self.adopted: list[str] = []
        self._outputs = outputs or {}
        self.fail = set(fail)
        self.calls: list[tuple[str, str]] = []
        self.on_up = on_up
        self.on_destroy = on_destroy
        self.lock = threading.Lock()

    def exists(self, stack):
        return stack in self.stacks

    def up(self, stack, on_output, on_event, adopt_existing=False):
        with self.lock:
            self.calls.append(("up", stack))
            if adopt_existing:
                self.adopted.append(stack)
        on_output(f"Updating ({stack})")
        if self.on_up:
            self.on_up(stack, on_event)
        if stack in self.fail:
            raise RuntimeError(f"error: {stack} failed on purpose")
        self.stacks.add(stack)

    def destroy(self, stack, on_output, on_event):
        with self.lock:
            self.calls.append(("down", stack))
        if self.on_destroy:
            self.on_destroy(stack)
        if stack in self.fail:
            raise RuntimeError(f"error: {stack} failed to destroy")
        self.stacks.discard(stack)

    def pending_operations(self, stack):
        return list(self.pending.get(stack, []))

    def clear_pending(self, stack, on_output):
        with self.lock:
            self.calls.append(("clear-pending", stack))
        self.pending[stack] = []

    def outputs(self, stack):
        return dict(self._outputs.get(stack, {}))

    def resources(self, stack):
        return []


@pytest.fixture
def make_ctx(tmp_path):
    """A CLI Context with fake ops, no tool installs, measurements in tmp_path."""

    def make(ops=None, target=None):
        out = io.StringIO()
        ctx = cli.Context(out=out, err=out)
        ctx.measurements = Measurements(tmp_path / "measurements.json")
        ctx.log_dir = tmp_path / "logs"  # never the project's own .pulumi-state/logs
        ctx.ensure_tools = lambda: None
        ctx.ops_factory = lambda: ops or FakeOps()
        if target is not None:
            ctx.target_factory = lambda outputs: target
        ctx.text = lambda: out.getvalue()
        return ctx

    return make


@pytest.fixture
def fake_ops():
    return FakeOps


@pytest.fixture
def ns():
    return SimpleNamespace
