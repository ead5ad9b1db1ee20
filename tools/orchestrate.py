"""Bring stacks up and down in the right order, with visible progress and recorded timings.

`up`:   platform first, then the approach stacks concurrently (one thread each;
        every Automation API call is its own `pulumi` subprocess, and each passes
        `--stack`, so they do not share a "current stack").
`down`: approach stacks concurrently, then an audit of leftover tables while the
        DynamoDB target still exists, then the platform.

Rerunning `up` after an interrupted one (Ctrl-C twice, a killed process) recovers:
operations the engine left pending are cleared (`pulumi refresh
--clear-pending-creates`), and that run adopts the Kubernetes objects the
interrupted one had already created (pulumi-kubernetes `upsertExistingObjects`,
through PULUMI_K8S_UPSERT_EXISTING_OBJECTS) instead of failing with AlreadyExists
(pulumi-kubernetes >= 4.29 creates client-side). Helm releases whose create was
pending are handed to `release_recovery` (the CLI drops Helm's record of the
interrupted install, which the new install would refuse with "cannot re-use a name
that is still in use"; the objects stay and that install adopts them), or the exact
command is printed. A single Ctrl-C needs none of this: Pulumi lets the running
steps finish, and a Release's install is atomic (rolled back on cancel).

Pulumi is reached through `StackOps`; `AutomationOps` is the real one (Pulumi
Automation API, local program in the project folder), tests pass a fake.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, TextIO

from tools.state import APPROACHES, LOG_DIR, PLATFORM, Measurements, now

APPLICATION_TYPE = "kubernetes:core.oam.dev/v1beta1:Application"
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
ADOPT_ENV = "PULUMI_K8S_UPSERT_EXISTING_OBJECTS"
"""Read by pulumi-kubernetes (provider config `upsertExistingObjects`; the Python SDK's
Provider reads the same variable): create adopts an object that already exists.
Ref: pulumi/pulumi-kubernetes CHANGELOG 4.29.0 (#2926), provider/pkg/provider/provider.go."""


class StackOpsError(RuntimeError):
    """Pulumi could not read or select a stack; the message says why and, when known, what to do."""


# Pulumi errors whose own text does not say what to do in this project's setup.
HINTS = (
    (
        "incorrect passphrase",
        "the stack's encryption salt (`encryptionsalt:` in stacks/Pulumi.<stack>.yaml) was made with another "
        "passphrase: restore that passphrase (.pulumi-state/passphrase or PULUMI_CONFIG_PASSPHRASE), or, if the "
        "stack no longer exists in .pulumi-state, delete that `encryptionsalt:` line and rerun",
    ),
    (
        "passphrase must be set",
        "set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE, or unset both to use .pulumi-state/passphrase",
    ),
    # Helm's own words (helm/helm@v3.20.2 pkg/action/install.go availableName,
    # pkg/action/action.go errPending), through pulumi-kubernetes' Release.
    (
        "cannot re-use a name that is still in use",
        "Helm has a record of this release that Pulumi's state does not: list it with "
        "`kubectl -n <release namespace> get secret -l owner=helm,name=<release> -L status`; if it is this project's "
        "interrupted install (status pending-install), drop it with `kubectl -n <release namespace> delete secret "
        "-l owner=helm,name=<release>` (the objects stay; the next install adopts them) and rerun the same command; "
        "if it is a deployed release of someone else's, choose another namespace or release instead",
    ),
    (
        "another operation (install/upgrade/rollback) is in progress",
        "a Helm operation on this release was interrupted and its record is stuck pending: see it with "
        "`kubectl -n <release namespace> get secret -l owner=helm,name=<release>`, delete the pending one "
        "(label status=pending-install/pending-upgrade), then rerun the same command",
    ),
)
_COLOR_TAG = re.compile(r"<\{%[^%]*%\}>")


def hint_for(text: str) -> str | None:
    lowered = text.lower()
    return next((hint for needle, hint in HINTS if needle in lowered), None)


def _command_error_text(error: Exception) -> str:
    text = _first_lines(str(error), 6)
    hint = hint_for(text)
    return text + (f"\nhint: {hint}" if hint else "")


@dataclass(frozen=True)
class PendingOperation:
    """An operation the engine started and never saw finish (the CLI was killed or crashed)."""

    operation: str
    """creating, updating, deleting, reading (Pulumi's apitype OperationType)."""
    type: str
    name: str
    release: tuple[str, str] | None = None
    """(namespace, release name) when this is a Helm Release."""


def pending_from_deployment(deployment: dict[str, Any]) -> list[PendingOperation]:
    """The `pending_operations` of an exported deployment (pulumi/pulumi sdk/go/common/apitype/core.go OperationV2)."""
    found = []
    for entry in deployment.get("pending_operations") or []:
        resource = entry.get("resource") or {}
        type_ = resource.get("type", "")
        release = None
        if type_ == RELEASE_TYPE:
            inputs = resource.get("inputs") or {}
            if isinstance(inputs.get("name"), str) and isinstance(inputs.get("namespace"), str):
                release = (inputs["namespace"], inputs["name"])
        found.append(PendingOperation(entry.get("type", ""), type_, _name_of_urn(resource.get("urn", "")), release))
    return found


class StackOps(Protocol):
    def exists(self, stack: str) -> bool: ...
    def up(
        self,
        stack: str,
        on_output: Callable[[str], None],
        on_event: Callable[[Any], None],
        adopt_existing: bool = False,
    ) -> None: ...
    def pending_operations(self, stack: str) -> list[PendingOperation]: ...
    def clear_pending(self, stack: str, on_output: Callable[[str], None]) -> None: ...
    def destroy(self, stack: str, on_output: Callable[[str], None], on_event: Callable[[Any], None]) -> None: ...
    def outputs(self, stack: str) -> dict[str, Any]: ...
    def resources(self, stack: str) -> list[dict[str, Any]]: ...


class AutomationOps:
    """StackOps on the Pulumi Automation API, for the program in `project_dir`."""

    def __init__(self, project_dir: Path, env: dict[str, str], pulumi_root: Path | None = None) -> None:
        """Raises OSError/CalledProcessError when no Pulumi CLI runs, InvalidVersionError when it is too old."""
        from pulumi import automation as auto

        self._auto = auto
        self._project_dir = str(project_dir)
        # One PulumiCommand for every workspace: it runs `pulumi version` when made, so
        # a missing CLI fails here (where the caller turns it into a message), not
        # half-way through a command, and the check runs once instead of per call.
        if pulumi_root is not None and (pulumi_root / "bin" / "pulumi").exists():
            command = auto.PulumiCommand(root=str(pulumi_root))
        else:
            command = auto.PulumiCommand()
        self._options = auto.LocalWorkspaceOptions(env_vars=env, pulumi_command=command)
        self._lock = threading.Lock()

    def _stack(self, name: str, create: bool, extra_env: dict[str, str] | None = None):
        options = self._options
        if extra_env:
            options = self._auto.LocalWorkspaceOptions(
                env_vars={**self._options.env_vars, **extra_env}, pulumi_command=self._options.pulumi_command
            )
        # `pulumi stack select` writes the workspace's current-stack file, so one at a
        # time; the operations that follow pass `--stack` and run in parallel.
        with self._lock:
            if create:
                return self._auto.create_or_select_stack(name, work_dir=self._project_dir, opts=options)
            try:
                return self._auto.select_stack(name, work_dir=self._project_dir, opts=options)
            except self._auto.errors.CommandError as error:
                raise StackOpsError(f"cannot select stack {name!r}: {_command_error_text(error)}") from None

    def exists(self, stack: str) -> bool:
        workspace = self._auto.LocalWorkspace(work_dir=self._project_dir, **_workspace_kwargs(self._options))
        try:
            stacks = workspace.list_stacks()
        except self._auto.errors.CommandError as error:
            raise StackOpsError(f"cannot list the stacks: {_command_error_text(error)}") from None
        # The file backend lists a project's stacks by short name, or as
        # organization/<project>/<stack> when PULUMI_FULLY_QUALIFY_STACK_NAMES is set.
        return any(s.name.rsplit("/", 1)[-1] == stack for s in stacks)

    def up(self, stack, on_output, on_event, adopt_existing: bool = False) -> None:
        extra_env = {ADOPT_ENV: "true"} if adopt_existing else None
        # show_secrets=False: the result summary then holds no decrypted config.
        self._stack(stack, create=True, extra_env=extra_env).up(
            on_output=on_output, on_event=on_event, color="never", show_secrets=False
        )

    def pending_operations(self, stack: str) -> list[PendingOperation]:
        if not self.exists(stack):
            return []
        try:
            deployment = self._stack(stack, create=False).export_stack().deployment or {}
        except self._auto.errors.CommandError as error:
            raise StackOpsError(f"cannot export {stack!r}: {_command_error_text(error)}") from None
        return pending_from_deployment(deployment)

    def clear_pending(self, stack: str, on_output) -> None:
        """`pulumi refresh --clear-pending-creates`: drops pending creates, refreshes everything else."""
        self._stack(stack, create=False).refresh(
            clear_pending_creates=True, on_output=on_output, color="never", show_secrets=False
        )

    def destroy(self, stack, on_output, on_event) -> None:
        self._stack(stack, create=False).destroy(on_output=on_output, on_event=on_event, color="never", show_secrets=False)

    def outputs(self, stack: str) -> dict[str, Any]:
        """Output values by name; secret ones included (callers never print them)."""
        try:
            found = self._stack(stack, create=False).outputs()
        except self._auto.errors.CommandError as error:
            raise StackOpsError(f"cannot read the outputs of {stack!r}: {_command_error_text(error)}") from None
        return {k: v.value for k, v in found.items()}

    def resources(self, stack: str) -> list[dict[str, Any]]:
        """Type, id and namespace of each resource in the stack's state (secrets dropped)."""
        try:
            deployment = self._stack(stack, create=False).export_stack().deployment or {}
        except self._auto.errors.CommandError as error:
            raise StackOpsError(f"cannot export {stack!r}: {_command_error_text(error)}") from None
        kept = []
        for resource in deployment.get("resources", []):
            outputs = resource.get("outputs") or {}
            metadata = outputs.get("metadata") if isinstance(outputs.get("metadata"), dict) else {}
            status = outputs.get("status") if isinstance(outputs.get("status"), dict) else {}
            kept.append(
                {
                    "type": resource.get("type", ""),
                    "id": resource.get("id", ""),
                    "namespace": metadata.get("namespace") or status.get("namespace") or "",
                    "name": metadata.get("name") or status.get("name") or "",
                    "createNamespace": bool((resource.get("inputs") or {}).get("createNamespace")),
                }
            )
        return kept


def _workspace_kwargs(options) -> dict[str, Any]:
    return {"env_vars": options.env_vars, "pulumi_command": options.pulumi_command}


# ─── progress ───────────────────────────────────────────────────────────────


class Progress:
    """One line per step: elapsed time, stack, phase. Lines from parallel stacks interleave."""

    def __init__(self, out: TextIO = sys.stdout, clock: Callable[[], float] = time.monotonic) -> None:
        self.out = out
        self.clock = clock
        self.start = clock()
        self._lock = threading.Lock()

    def elapsed(self) -> str:
        seconds = int(self.clock() - self.start)
        return f"{seconds // 60:02d}:{seconds % 60:02d}"

    def say(self, stack: str, text: str) -> None:
        with self._lock:
            self.out.write(f"[{self.elapsed()}] {stack:<10} {text}\n")
            self.out.flush()


def _short_type(type_: str) -> str:
    return type_.rsplit(":", 1)[-1] if type_ else "?"


def _name_of_urn(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else "?"


@dataclass
class StackRun:
    """What happened to one stack in one operation."""

    stack: str
    operation: str
    started: float = 0.0
    finished: float = 0.0
    ok: bool = False
    error: str = ""
    app_ready: float | None = None
    table_active: float | None = None
    done_steps: int = 0
    errors: list[str] = field(default_factory=list)
    log_path: Path | None = None


class EventSink:
    """Turns engine events into progress lines and timestamps."""

    def __init__(self, run: StackRun, progress: Progress, clock: Callable[[], float] = now) -> None:
        self.run = run
        self.progress = progress
        self.clock = clock

    def __call__(self, event: Any) -> None:
        pre = getattr(event, "resource_pre_event", None)
        outputs = getattr(event, "res_outputs_event", None)
        diagnostic = getattr(event, "diagnostic_event", None)
        if pre is not None and not getattr(pre, "planning", False):
            meta = pre.metadata
            op = getattr(meta.op, "value", meta.op)
            if op not in ("same", "read"):
                self.progress.say(self.run.stack, f"{op:<8} {_short_type(meta.type)} {_name_of_urn(meta.urn)}")
        if outputs is not None:
            meta = outputs.metadata
            op = getattr(meta.op, "value", meta.op)
            if op not in ("same", "read"):
                self.run.done_steps += 1
            # The Application waits for `running` (table ready, API ready) before Pulumi
            # records its outputs, so this moment is "app ready" for this run.
            if meta.type == APPLICATION_TYPE and op in ("create", "update", "replace", "create-replacement"):
                self.run.app_ready = self.clock()
                self.progress.say(self.run.stack, f"ready    {_name_of_urn(meta.urn)} is running")
        if diagnostic is not None and diagnostic.severity == "error":
            # Event messages can carry Pulumi's colour directives (`<{%reset%}>`); the log is plain text.
            self.run.errors.append(_COLOR_TAG.sub("", diagnostic.message or "").strip())


class Orchestrator:
    def __init__(
        self,
        ops: StackOps,
        progress: Progress,
        measurements: Measurements,
        log_dir: Path = LOG_DIR,
        clock: Callable[[], float] = now,
        table_watcher: Callable[[str, StackRun, threading.Event], None] | None = None,
        release_recovery: Callable[[str, str, str], str | None] | None = None,
    ) -> None:
        self.ops = ops
        self.progress = progress
        self.measurements = measurements
        self.log_dir = log_dir
        self.clock = clock
        self.table_watcher = table_watcher
        self.release_recovery = release_recovery
        """(stack, namespace, release) -> what was done about Helm's record, or None when it could not look."""
        self.destroy_despite_pending = False
        """Destroy an approach stack although an interrupted run left creates pending (`down --ignore-pending`)."""

    def _pending(self, stack: str) -> list[PendingOperation]:
        # A StackOps that cannot read state (a minimal fake) has nothing pending to recover.
        reader = getattr(self.ops, "pending_operations", None)
        return reader(stack) if reader is not None else []

    def _recover(self, stack: str, pending: list[PendingOperation], on_output: Callable[[str], None]) -> None:
        say = lambda text: self.progress.say(stack, text)  # noqa: E731
        say(f"recovering: {len(pending)} operation(s) of an interrupted run never finished:")
        for op in pending:
            say(f"  {op.operation:<8} {_short_type(op.type)} {op.name}")
        self.ops.clear_pending(stack, on_output)
        say("  cleared (pulumi refresh --clear-pending-creates); this run adopts the Kubernetes objects "
            "the interrupted one created")
        for op in pending:
            if op.release is None:
                continue
            namespace, release = op.release
            done = None
            if self.release_recovery is not None:
                try:
                    done = self.release_recovery(stack, namespace, release)
                except Exception as error:  # the install's own error will then say more
                    done = None
                    say(f"  Helm release {namespace}/{release}: could not check its record ({error})")
            if done:
                say(f"  Helm release {namespace}/{release}: {done}")
            else:
                say(f"  Helm release {namespace}/{release}: if Helm answers \"cannot re-use a name that is still in "
                    f"use\", run `kubectl -n {namespace} delete secret -l owner=helm,name={release}` (Helm's record "
                    "of the interrupted install; the objects stay and the install adopts them), then rerun")

    def _warn_pending_on_destroy(self, stack: str, pending: list[PendingOperation]) -> None:
        """Refuse to destroy an approach stack whose objects an interrupted run created but never recorded.

        The destroy would not delete them, yet it would delete what they need to go away: an
        Application whose create was cut short (it is the step that waits longest) keeps its
        table, and the approach's engine (Crossplane's provider, kro, Kratix and Flux), the only
        thing that deletes that table, goes with the stack. `up` adopts them first. The
        platform holds no table, and on k3d its objects go with the cluster: there it is only a note.
        """
        creates = [op for op in pending if op.operation == "creating"]
        if creates and stack != PLATFORM and not self.destroy_despite_pending:
            listed = "; ".join(f"{_short_type(op.type)} {op.name}" for op in creates)
            raise StackOpsError(
                f"not destroyed: an interrupted run was creating {len(creates)} object(s) that are not in the "
                f"state ({listed}). This destroy would leave them, and remove the engine that deletes their "
                f"table. Run `up {stack}` first (it adopts them), then `down {stack}`; "
                "`down --ignore-pending` destroys anyway."
            )
        if creates:
            self.progress.say(stack, f"note: {len(creates)} object(s) an interrupted run was creating are not in the "
                                     "state, so this destroy does not delete them (`up` first adopts them):")
            for op in creates:
                self.progress.say(stack, f"  {_short_type(op.type)} {op.name}")

    def _operate(self, stack: str, operation: str) -> StackRun:
        run = StackRun(stack, operation, started=self.clock())
        self.log_dir.mkdir(parents=True, exist_ok=True)
        run.log_path = self.log_dir / f"{stack}-{operation}.log"
        sink = EventSink(run, self.progress, self.clock)
        stop_watch = threading.Event()
        watcher = None
        if operation == "up" and stack != PLATFORM and self.table_watcher is not None:
            watcher = threading.Thread(target=self.table_watcher, args=(stack, run, stop_watch), daemon=True)
            watcher.start()
        self.progress.say(stack, f"{operation} started (log: {run.log_path})")
        with open(run.log_path, "w") as log:
            def on_output(line: str) -> None:
                log.write(line + ("" if line.endswith("\n") else "\n"))
                log.flush()

            try:
                pending = self._pending(stack)
                if operation == "up":
                    if pending:
                        self._recover(stack, pending, on_output)
                        self.ops.up(stack, on_output, sink, adopt_existing=True)
                    else:
                        self.ops.up(stack, on_output, sink)
                else:
                    self._warn_pending_on_destroy(stack, pending)
                    self.ops.destroy(stack, on_output, sink)
                run.ok = True
            except Exception as error:  # the CLI's message is what the user needs; it is shown below
                run.error = _first_lines(str(error))
        stop_watch.set()
        if watcher is not None:
            watcher.join(timeout=10)
        run.finished = self.clock()
        took = run.finished - run.started
        if run.ok:
            self.progress.say(stack, f"{operation} done in {took:.0f}s ({run.done_steps} resources changed)")
        else:
            self.progress.say(stack, f"{operation} FAILED after {took:.0f}s")
            for message in (run.errors or [run.error])[:5]:
                for line in message.splitlines()[:8]:
                    self.progress.say(stack, f"  {line}")
            hint = hint_for("\n".join(run.errors + [run.error]))
            if hint:
                self.progress.say(stack, f"  hint: {hint}")
            self.progress.say(stack, f"  full log: {run.log_path}")
        self._record(run)
        return run

    def _record(self, run: StackRun) -> None:
        entry: dict[str, Any] = {
            run.operation: {"start": run.started, "end": run.finished, "ok": run.ok},
        }
        if run.operation == "up":
            # Only a run that created/updated the Application measures "ready";
            # a no-change rerun keeps the earlier measurement.
            if run.app_ready is not None:
                entry["appReadySeconds"] = round(run.app_ready - run.started, 1)
                entry["appReadyRunStart"] = run.started
            if run.table_active is not None:
                entry["tableActiveSeconds"] = round(run.table_active - run.started, 1)
        self.measurements.update(run.stack, **entry)

    def up(self, approaches: list[str], include_platform: bool = True, parallel: bool = True) -> list[StackRun]:
        runs: list[StackRun] = []
        if include_platform:
            platform_run = self._operate(PLATFORM, "up")
            runs.append(platform_run)
            if not platform_run.ok:
                self.progress.say(PLATFORM, "approach stacks not started: the platform must be up first")
                return runs
        runs.extend(self._many(approaches, "up", parallel))
        return runs

    def down(
        self,
        approaches: list[str],
        include_platform: bool,
        audit: Callable[[list[str], bool], bool] | None = None,
        parallel: bool = True,
    ) -> list[StackRun]:
        """Destroy `approaches`, audit, then the platform if asked and nothing is left over.

        `audit(approaches, whole_prefix)` returns True when no table is left.
        """
        present = [a for a in approaches if self.ops.exists(a)]
        for missing in sorted(set(approaches) - set(present)):
            self.progress.say(missing, "no such stack: nothing to destroy")
        runs = self._many(present, "down", parallel) if present else []
        if any(not r.ok for r in runs):
            if include_platform:
                self.progress.say(
                    PLATFORM,
                    "kept: an approach stack failed to destroy, and its controllers (in the platform) "
                    "are what delete its table. Fix the failure and rerun `down`.",
                )
            return runs
        clean = audit(approaches, include_platform) if audit is not None else True
        if not include_platform:
            return runs
        if not clean:
            self.progress.say(
                PLATFORM,
                "kept: tables with the demo's prefix are still there (listed above). Delete them, "
                "or find out why with `status`, then rerun `down`.",
            )
            return runs
        if self.ops.exists(PLATFORM):
            runs.append(self._operate(PLATFORM, "down"))
        else:
            self.progress.say(PLATFORM, "no such stack: nothing to destroy")
        return runs

    def _many(self, stacks: list[str], operation: str, parallel: bool) -> list[StackRun]:
        if not parallel or len(stacks) < 2:
            return [self._operate(s, operation) for s in stacks]
        with ThreadPoolExecutor(max_workers=len(stacks), thread_name_prefix=operation) as pool:
            return list(pool.map(lambda s: self._operate(s, operation), stacks))


def _first_lines(text: str, count: int = 12) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-count:])


def validate_approaches(names: list[str], allow_platform: bool = False) -> list[str]:
    """The named approaches (all if none), in the canonical order; unknown names are an error."""
    valid = list(APPROACHES) + ([PLATFORM] if allow_platform else [])
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise ValueError(f"unknown approach {', '.join(map(repr, unknown))}; valid: {', '.join(valid)}")
    if not names:
        return list(APPROACHES)
    return [a for a in valid if a in names]
