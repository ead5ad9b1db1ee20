"""One entry point for the whole journey: `python -m tools.cli <command> [approach...]`.

    tools                      check prerequisites; install pinned k3d / Pulumi CLI into .tools/bin if needed
    up [approach...]           platform, then the approaches concurrently (default: all three)
    down [approach...]         approaches, audit for leftover tables, then the platform (no names: everything)
    smoke [approach...]        drive each deployed session API and check its table against the contract
    smoke --local              the same smoke against a local app + moto server (no cluster)
    status [approach...]       Application -> table component -> engine object -> DynamoDB table; what blocks
    report                     side-by-side comparison as Markdown and PNG (out/report.md, out/report.png)
    compare [approach...]      day-2 scenarios (drift, change, deletion) on the deployed demo, then restore it
    audit                      list tables with the demo's prefix left in the DynamoDB target
    plan STACK [--set k=v] [--set-platform k=v]   the offline plan of a stack (JSON)
    test [pytest args]         the test suite

Approaches: crossplane, kro, kratix. `make <command>` runs the same with the
virtualenv set up first (`make up`, `make down`, `make smoke`, ...).
State stays in this folder (`.pulumi-state/`, file backend, generated passphrase
unless PULUMI_CONFIG_PASSPHRASE(_FILE) is set), tools in `.tools/bin`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, TextIO

from components.project_paths import PROJECT_DIR, TOOLS_DIR
from tools import toolchain
from tools.orchestrate import (
    AutomationOps,
    Orchestrator,
    Progress,
    StackOps,
    StackOpsError,
    StackRun,
    validate_approaches,
)
from tools.state import (
    APPROACHES,
    LOG_DIR,
    MEASUREMENTS_FILE,
    PLATFORM,
    Measurements,
    app_name,
    pulumi_env,
    table_name,
)
from tools.targets import Target, TargetError, list_prefixed_tables, table_status, target_from_outputs

OUT_DIR = PROJECT_DIR / "out"
# How long the teardown audit waits for tables DynamoDB is still deleting. ACK drops its
# Table's finalizer as soon as DeleteTable is accepted (aws-controllers-k8s/dynamodb-controller
# @v1.9.2 pkg/resource/table/sdk.go `sdkDelete` returns once the call succeeds), so the kro
# and kratix destroys end while the table is DELETING, and ListTables still names it.
AUDIT_DELETING_WAIT_SECONDS = 300
AUDIT_POLL_SECONDS = 5.0


class CliError(RuntimeError):
    """A user-facing failure; the message is printed as is and the exit code is 1."""


def _kube_client(kubeconfig: str, context: str | None = None):
    from tools.kube import KubeClient

    return KubeClient.from_kubeconfig(kubeconfig, context)


class Context:
    """What the commands share; every outside effect is a replaceable attribute (tests swap them)."""

    def __init__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.out = out
        self.err = err
        self.measurements = Measurements(MEASUREMENTS_FILE)
        self.log_dir = LOG_DIR
        self.ensure_tools: Callable[[], None] = self._ensure_tools
        self._ops: StackOps | None = None
        self.ops_factory: Callable[[], StackOps] = self._automation_ops
        self.target_factory: Callable[[dict[str, Any]], Target] = lambda outputs: target_from_outputs(outputs, self.kube)
        self._kube = None
        self.kube_factory: Callable[[str, str | None], Any] = _kube_client
        self.clock: Callable[[], float] = time.monotonic
        self.sleep: Callable[[float], None] = time.sleep

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _ensure_tools(self) -> None:
        try:
            toolchain.ensure(say=self.say)
        except toolchain.ToolError as error:
            raise CliError(str(error)) from None

    def _automation_ops(self) -> StackOps:
        env, notes = pulumi_env()
        for note in notes:
            self.say(note)
        local_pulumi = toolchain.TOOLS_BIN / "pulumi"
        from pulumi.automation.errors import InvalidVersionError

        try:
            return AutomationOps(PROJECT_DIR, env, TOOLS_DIR if local_pulumi.exists() else None)
        except (OSError, subprocess.CalledProcessError, InvalidVersionError) as error:
            raise CliError(
                f"the Pulumi CLI is needed to read the stacks and could not be run ({error.__class__.__name__}): "
                f"`make tools` installs the pinned version ({toolchain.PULUMI_VERSION}) into .tools/bin"
            ) from None

    @property
    def ops(self) -> StackOps:
        if self._ops is None:
            self._ops = self.ops_factory()
        return self._ops

    def outputs(self, stack: str) -> dict[str, Any]:
        if not self.ops.exists(stack):
            command = "up" if stack == PLATFORM else f"up {stack}"
            raise CliError(f"stack {stack!r} does not exist: bring it up first (`{command}`)")
        return self.ops.outputs(stack)

    def kube(self):
        """A client for the platform's cluster, with the kubeconfig and context the stacks use (one per command)."""
        from tools.kube import KubeError

        if self._kube is None:
            platform = self.outputs(PLATFORM)
            if not platform.get("kubeconfig"):
                raise CliError("the platform stack has no kubeconfig output: bring it up first (`up platform`)")
            try:
                # No kubeContext output: a platform from before it was exported, i.e. k3d's one context.
                self._kube = self.kube_factory(platform["kubeconfig"], platform.get("kubeContext") or None)
            except KubeError as error:
                raise CliError(f"cannot use the cluster: {error}") from None
        return self._kube

    def close(self) -> None:
        if self._kube is not None:
            self._kube.close()
            self._kube = None

    def target(self) -> Target:
        try:
            return self.target_factory(self.outputs(PLATFORM))
        except TargetError as error:
            raise CliError(str(error)) from None


# ─── up / down ───────────────────────────────────────────────────────────────


def _table_watcher(ctx: Context, target: Target | None) -> Callable[[str, StackRun, threading.Event], None] | None:
    if target is None:
        return None
    client = target.client()

    def watch(approach: str, run: StackRun, stop: threading.Event) -> None:
        table = table_name(target.prefix, approach)
        first = True
        while not stop.is_set():
            try:
                status = table_status(client, table)
            except Exception:  # the endpoint may come and go during up; keep watching
                status = None
            if status == "ACTIVE":
                # Already ACTIVE at the first look: this run did not create it, nothing to measure.
                if not first:
                    run.table_active = time.time()
                return
            first = False
            stop.wait(2.0)

    return watch


def _record_inventory(ctx: Context, runs: list[StackRun]) -> None:
    from tools.inventory import attribute, counts, evidence_from_resources, snapshot
    from tools.kube import KubeError

    approach_runs = [r for r in runs if r.stack in APPROACHES and r.ok]
    if not approach_runs:
        return
    try:
        evidence = [
            evidence_from_resources(r.stack, app_name(r.stack), ctx.ops.resources(r.stack), (r.started, r.finished))
            for r in approach_runs
        ]
        found = counts(attribute(snapshot(ctx.kube()), evidence))
    except (KubeError, CliError) as error:
        ctx.say(f"inventory not recorded: {error}")
        return
    except Exception as error:  # a measurement must not fail a successful `up`
        ctx.say(f"inventory not recorded: {error.__class__.__name__}")
        return
    for r in approach_runs:
        ctx.measurements.update(r.stack, inventory=found.get(r.stack, {"objects": 0, "crds": 0}))
        ctx.say(f"{r.stack}: {found[r.stack]['objects']} Kubernetes objects, {found[r.stack]['crds']} CRDs attributed")


def _release_recovery(ctx: Context) -> Callable[[str, str, str], str | None]:
    """Drop Helm's record of a release an interrupted run was installing (tools/helm_records.py).

    Needs the platform's kubeconfig output, which exists once a platform `up` completed;
    without it the orchestrator prints the command instead.
    """
    from tools.helm_records import forget_interrupted_release

    def recover(stack: str, namespace: str, release: str) -> str | None:
        try:
            platform = ctx.ops.outputs(PLATFORM) if ctx.ops.exists(PLATFORM) else {}
        except StackOpsError:
            platform = {}
        kubeconfig = platform.get("kubeconfig")
        if not kubeconfig:
            return None
        # A client of its own rather than ctx.kube(): the platform may have been brought up (a
        # new cluster, a new kubeconfig) earlier in this command. The platform's context, as every
        # other client uses (None: the kubeconfig's current one).
        kube = ctx.kube_factory(kubeconfig, platform.get("kubeContext") or None)
        try:
            return forget_interrupted_release(kube, namespace, release)
        finally:
            kube.close()

    return recover


def cmd_up(ctx: Context, args: argparse.Namespace) -> int:
    names = validate_approaches(args.approaches, allow_platform=True)
    approaches = [n for n in names if n != PLATFORM] if args.approaches else list(APPROACHES)
    ctx.ensure_tools()
    if args.no_platform and not ctx.ops.exists(PLATFORM):
        raise CliError("--no-platform needs an existing platform stack: run `up platform` first")
    progress = Progress(ctx.out)
    orchestrator = Orchestrator(
        ctx.ops, progress, ctx.measurements, ctx.log_dir, release_recovery=_release_recovery(ctx)
    )
    runs: list[StackRun] = []
    if not args.no_platform:
        runs += orchestrator.up([], include_platform=True)
        if not runs[-1].ok:
            return 1
    if approaches:
        target = None
        try:
            target = ctx.target()
        except CliError as error:
            ctx.say(f"table timing not measured: {error}")
        orchestrator.table_watcher = _table_watcher(ctx, target)
        runs += orchestrator.up(approaches, include_platform=False, parallel=not args.sequential)
        _record_inventory(ctx, runs)
    failed = [r.stack for r in runs if not r.ok]
    if failed:
        ctx.say(f"failed: {', '.join(failed)} — `status {' '.join(s for s in failed if s != PLATFORM)}` shows what blocks")
        return 1
    for approach in approaches:
        url = ctx.ops.outputs(approach).get("apiUrl")
        ctx.say(f"{approach}: API at {url}")
    ctx.say("next: `smoke` checks every API and table, `report` compares the approaches")
    return 0


def audit_tables(ctx: Context, approaches: list[str], whole_prefix: bool, target: Target | None = None) -> bool:
    """True when no table is left: the whole prefix (full down) or just these approaches' tables."""
    if target is None and not ctx.outputs(PLATFORM).get("dynamodbMode"):
        # Outputs are recorded when an `up` completes, and the approach stacks (the only
        # makers of tables) start only after that: a platform without them (its first
        # `up` failed, or it is destroyed already) has no target and no tables to list.
        ctx.say("audit: the platform stack records no DynamoDB target (no completed `up`, or destroyed already): nothing to audit")
        return True
    try:
        target = target or ctx.target()
        client = target.client()
        left = list_prefixed_tables(client, target.prefix)
    except CliError as error:
        ctx.say(f"audit: cannot read the DynamoDB target: {error}")
        ctx.say("audit: rerun with --skip-audit to go on without it (then check the target yourself)")
        return False
    except Exception as error:  # endpoint down or credentials: the text says which
        ctx.say(f"audit: cannot list tables ({error.__class__.__name__}: {error}); rerun with --skip-audit to go on")
        return False
    if not whole_prefix:
        wanted = {table_name(target.prefix, a) for a in approaches}
        left = [t for t in left if t in wanted]
    where = "AWS region " + target.region if target.mode == "aws" else f"emulator at {target.endpoint}"
    if left:
        statuses, waited_out = _wait_while_deleting(ctx, client, left)
        left = [name for name, status in statuses.items() if status != _GONE]
    if left:
        ctx.say(f"audit: FAIL — {len(left)} table(s) with prefix {target.prefix!r} still in the {where}:")
        for name in left:
            status = statuses[name]
            if status == "DELETING" and waited_out:
                ctx.say(f"  {name} (still DELETING after {AUDIT_DELETING_WAIT_SECONDS}s)")
            else:
                ctx.say(f"  {name}" + (f" ({status})" if status else ""))
        return False
    ctx.say(f"audit: ok — no table with prefix {target.prefix!r} left in the {where}")
    return True


_GONE = "gone"


def _wait_while_deleting(ctx: Context, client: Any, names: list[str]) -> tuple[dict[str, str | None], bool]:
    """Each listed table's status once none is DELETING any more, and whether the deadline came first.

    A table DynamoDB is deleting is no leftover: it goes by itself, shortly. A table in any
    other state is, and so is one whose state cannot be read (None): then the audit fails at
    once, without waiting for the others. Gone tables map to `_GONE`.
    """
    deadline = ctx.clock() + AUDIT_DELETING_WAIT_SECONDS
    announced = False
    while True:
        statuses: dict[str, str | None] = {}
        for name in names:
            try:
                status = table_status(client, name)
            except Exception:  # no DescribeTable permission, or the target went away: it counts as left
                statuses[name] = None
                continue
            statuses[name] = _GONE if status is None else status
        deleting = [name for name, status in statuses.items() if status == "DELETING"]
        settled = all(status in (_GONE, "DELETING") for status in statuses.values())
        if not deleting or not settled:
            return statuses, False
        if ctx.clock() >= deadline:
            return statuses, True
        if not announced:
            ctx.say(f"audit: waiting for DynamoDB to finish deleting {', '.join(deleting)} "
                    f"(up to {AUDIT_DELETING_WAIT_SECONDS}s)")
            announced = True
        ctx.sleep(AUDIT_POLL_SECONDS)


def _say_leftovers(ctx: Context, runs: list[StackRun], cluster_mode: str | None) -> None:
    """What each finished destroy left in the cluster by design (tools/leftovers.py)."""
    from tools.leftovers import describe

    for run in runs:
        if run.ok:
            for line in describe(run.stack, cluster_mode):
                ctx.say(f"{run.stack}: {line}")


def _unreachable_cluster(ctx: Context) -> str | None:
    """Why the stacks' Kubernetes provider could not use the platform's cluster now, or None.

    The approach stacks reach the cluster through a provider with `deleteUnreachable`
    (stacks/platform_ref.py), so that a cluster deleted by hand does not block their destroy.
    A cluster that is only stopped, or whose credentials fail (an exec plugin's expired
    session, a 401), looks the same to it: the objects would be dropped from the state and
    stay, Applications and tables included: the provider marks the cluster unreachable when
    its discovery fails for any reason, and then drops each object it is asked to read or
    delete (pulumi/pulumi-kubernetes@94977969d provider/pkg/provider/provider.go, Configure:
    `getResources` error -> clusterUnreachable; Read/Delete with deleteUnreachable). Any
    HTTP answer but 401 means the cluster is there and takes the credentials. No kubeconfig output (no platform `up` completed):
    nothing to check.
    """
    from tools.kube import KubeError, Unreachable

    if not ctx.outputs(PLATFORM).get("kubeconfig"):
        return None
    try:
        response = ctx.kube().request("GET", "/version")
    except Unreachable as error:
        return f"it does not answer: {error}"
    except (CliError, KubeError) as error:
        return f"its credentials cannot be used: {error}"
    if response.status_code == 401:
        return "it does not accept the credentials (HTTP 401)"
    return None


def cmd_down(ctx: Context, args: argparse.Namespace) -> int:
    names = validate_approaches(args.approaches, allow_platform=True)
    whole = not args.approaches or PLATFORM in args.approaches
    approaches = [n for n in names if n != PLATFORM] if not whole else list(APPROACHES)
    ctx.ensure_tools()
    platform_target: Target | None = None
    if whole and ctx.ops.exists(PLATFORM):
        try:
            platform_target = ctx.target()
        except CliError:
            platform_target = None
    if not args.ignore_unreachable and any(ctx.ops.exists(a) for a in approaches):
        unreachable = _unreachable_cluster(ctx)
        if unreachable:
            platform = ctx.outputs(PLATFORM)
            ctx.say(f"down: not started — the platform's cluster cannot be used ({unreachable}).")
            ctx.say("  Destroying the approach stacks now would drop their objects from the state without deleting "
                    "them, and leave their tables.")
            if platform.get("clusterMode") == "existing":
                ctx.say("  Make the cluster reachable with the platform's kubeconfig and context, then rerun.")
            else:
                ctx.say(f"  Start the cluster (`k3d cluster start {platform.get('clusterName') or '<name>'}`), then rerun.")
            gone = "If the cluster is gone for good, `down --ignore-unreachable` empties the stacks"
            if platform.get("dynamodbMode") == "aws":
                ctx.say(f"  {gone}; the audit then lists the tables left in AWS.")
            else:
                ctx.say(f"  {gone} (add --skip-audit: the emulator went with the cluster).")
            return 1
    orchestrator = Orchestrator(ctx.ops, Progress(ctx.out), ctx.measurements, ctx.log_dir)
    orchestrator.destroy_despite_pending = args.ignore_pending

    def audit(selected: list[str], whole_prefix: bool) -> bool:
        if args.skip_audit:
            ctx.say("audit: skipped (--skip-audit)")
            return True
        if not ctx.ops.exists(PLATFORM):
            ctx.say("audit: no platform stack, so no DynamoDB target to check")
            return True
        return audit_tables(ctx, selected, whole_prefix)

    cluster_mode = None
    if ctx.ops.exists(PLATFORM):
        try:
            cluster_mode = ctx.ops.outputs(PLATFORM).get("clusterMode")
        except StackOpsError:
            cluster_mode = None
    runs = orchestrator.down(approaches, include_platform=whole, audit=audit)
    _say_leftovers(ctx, runs, cluster_mode)
    if any(not r.ok for r in runs):
        return 1
    if whole and not any(r.stack == PLATFORM for r in runs) and ctx.ops.exists(PLATFORM):
        return 1  # kept because of leftovers; the reason was printed
    if whole and platform_target is not None and platform_target.mode == "aws" and not args.skip_audit:
        # Real tables outlive the cluster: check again with the caller's own credentials.
        if not audit_tables(ctx, approaches, True, platform_target):
            return 1
    return 0


# ─── smoke / status / audit ─────────────────────────────────────────────────


def _print_lines(ctx: Context, lines: list[str]) -> None:
    for line in lines:
        ctx.say(line)


def cmd_smoke(ctx: Context, args: argparse.Namespace) -> int:
    from tools.smoke import smoke

    if args.local:
        return _smoke_local(ctx, args)
    if args.api_url or args.table or args.dynamodb_endpoint:
        if not (args.api_url and args.table):
            raise CliError("--api-url and --table go together (plus --dynamodb-endpoint for an emulator)")
        target = Target("local" if args.dynamodb_endpoint else "aws", args.region, args.dynamodb_endpoint or None, "")
        result = smoke("custom", args.api_url, args.table, target.client(), args.max_expiry_wait)
        _print_lines(ctx, result.lines())
        return 0 if result.ok else 1
    approaches = validate_approaches(args.approaches)
    try:
        target = ctx.target()
        client = target.client()
    except CliError as error:
        ctx.say(f"table checks not possible: {error}")
        client = None
    # On an existing cluster the ingress hosts need DNS the program does not manage: by
    # default the APIs are reached through the API server's service proxy instead.
    try:
        cluster_mode = ctx.outputs(PLATFORM).get("clusterMode")
    except CliError:
        cluster_mode = None
    through_cluster = cluster_mode == "existing" and not args.via_ingress
    failed = []
    checked = 0
    for approach in approaches:
        outputs = ctx.ops.outputs(approach) if ctx.ops.exists(approach) else {}
        if not outputs:
            # No stack, or one that `down` emptied (destroy keeps the stack and its config).
            ctx.say(f"{approach}: not deployed — skipped (`up {approach}` deploys it)")
            continue
        checked += 1
        if not outputs.get("apiUrl") or not outputs.get("tableName"):
            ctx.say(f"{approach}: FAIL — the stack has no apiUrl/tableName outputs; run `up {approach}`")
            failed.append(approach)
            continue
        api_url, http = outputs["apiUrl"], None
        if through_cluster:
            service = outputs.get("apiService")
            if not service:
                ctx.say(f"{approach}: FAIL — the stack has no apiService output (its API's Service); run `up {approach}`"
                        " (or `smoke --via-ingress` if DNS for the ingress is set up)")
                failed.append(approach)
                continue
            try:
                kube = ctx.kube()
            except CliError as error:
                ctx.say(f"{approach}: FAIL — {error}")
                failed.append(approach)
                continue
            api_url, http = kube.service_proxy_url(service["namespace"], service["name"], service["port"]), kube.session
        result = smoke(approach, api_url, outputs["tableName"], client, args.max_expiry_wait, http=http)
        _print_lines(ctx, result.lines())
        ctx.measurements.update(approach, smoke=result.to_json())
        if not result.ok:
            failed.append(approach)
    if not checked:
        ctx.say(f"smoke: FAIL — none of {', '.join(approaches)} is deployed: run `up` first")
        return 1
    ctx.say("smoke: " + ("FAIL (" + ", ".join(failed) + ")" if failed else "all deployed approaches pass"))
    return 1 if failed else 0


def _smoke_local(ctx: Context, args: argparse.Namespace) -> int:
    """The same smoke against the session API and moto server on this machine (what the tests run)."""
    sys.path.insert(0, str(PROJECT_DIR / "app"))
    from session_api import local

    from tools.smoke import smoke

    region = args.region
    table = "kvdemo-sessions-local"
    moto_port = local.free_port()
    endpoint = f"http://{local.LOOPBACK}:{moto_port}"
    # Server logs go to files: the smoke's own lines are the output here.
    ctx.log_dir.mkdir(parents=True, exist_ok=True)
    moto = local.start_moto_server(moto_port, ctx.log_dir / "smoke-local-moto.log")
    api = None
    try:
        local.create_session_table(endpoint, table, region)
        port = local.free_port()
        api = local.start_gunicorn(
            local.app_environment(endpoint, table, region, port, SESSION_TTL_SECONDS=str(args.local_ttl)),
            ctx.log_dir / "smoke-local-api.log",
        )
        target = Target("local", region, endpoint, "kvdemo-")
        result = smoke("local", f"http://{local.LOOPBACK}:{port}", table, target.client(), args.max_expiry_wait)
        _print_lines(ctx, result.lines())
        return 0 if result.ok else 1
    finally:
        if api is not None:
            local.stop(api)
        local.stop(moto)


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    from tools.kube import KubeError
    from tools.status import walk

    approaches = validate_approaches(args.approaches)
    platform = ctx.outputs(PLATFORM)
    kube = ctx.kube()
    try:
        target = ctx.target()
        client = target.client()
        describe: Callable[[str], str | None] | None = lambda t: table_status(client, t)  # noqa: E731
    except CliError as error:
        ctx.say(f"(DynamoDB not checked: {error})")
        describe = None
    namespace = platform.get("appsNamespace") or "session-apps"
    all_ready = True
    try:
        for approach in approaches:
            table = table_name(platform.get("tablePrefix", ""), approach)
            result = walk(kube, approach, namespace, table, describe)
            _print_lines(ctx, result.lines())
            all_ready &= result.ready
    except KubeError as error:
        raise CliError(f"cannot read the cluster: {error}") from None
    return 0 if all_ready else 1


def cmd_audit(ctx: Context, args: argparse.Namespace) -> int:
    return 0 if audit_tables(ctx, list(APPROACHES), True) else 1


# ─── report / plan / test / tools ───────────────────────────────────────────


def _plan_lines() -> dict[str, tuple[int, int] | None]:
    from tools.plan import plan
    from tools.report import definition_lines

    lines: dict[str, tuple[int, int] | None] = {}
    for approach in APPROACHES:
        try:
            lines[approach] = definition_lines(plan(approach))
        except Exception:  # a stack that does not plan yet is shown as n/a
            lines[approach] = None
    return lines


def cmd_report(ctx: Context, args: argparse.Namespace, plan_lines: Callable[[], dict] = _plan_lines) -> int:
    from tools.day2_report import day2_results
    from tools.report import build_rows, chart, markdown

    try:
        measurements = ctx.measurements.load()
    except ValueError as error:
        raise CliError(str(error)) from None
    rows = build_rows(measurements, plan_lines())
    day2 = day2_results(measurements)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(rows, day2=day2)
    (out / "report.md").write_text(text)
    ctx.say(text)
    try:
        chart(rows, out / "report.png", day2=day2)
    except ImportError:
        ctx.say(f"wrote {out / 'report.md'}; the PNG chart needs matplotlib (`venv/bin/pip install matplotlib==3.11.2`)")
        return 0
    ctx.say(f"wrote {out / 'report.md'} and {out / 'report.png'}")
    return 0


def cmd_compare(ctx: Context, args: argparse.Namespace) -> int:
    from tools.compare_cluster import compare_command

    ctx.ensure_tools()
    return compare_command(ctx, args)


def cmd_plan(ctx: Context, args: argparse.Namespace) -> int:
    from tools import plan

    argv = [args.stack] + [f"--set={s}" for s in args.set] + [f"--set-platform={s}" for s in args.set_platform]
    argv += [f"--out={args.out}"] if args.out else []
    return plan.main(argv)


def cmd_test(ctx: Context, args: argparse.Namespace) -> int:
    if not (PROJECT_DIR / "node_modules").is_dir():
        ctx.say("node_modules/ is missing (the CUE tests need it): `make test` installs it")
    # One pytest-xdist worker per core, as `make test` runs it, unless the arguments choose (`-n 0`).
    chosen = any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in args.pytest_args)
    workers = [] if chosen else ["-n", "auto"]
    return subprocess.call([sys.executable, "-m", "pytest", *workers, *args.pytest_args], cwd=PROJECT_DIR)


def cmd_tools(ctx: Context, args: argparse.Namespace) -> int:
    ctx.ensure_tools()
    return 0


# ─── arguments ───────────────────────────────────────────────────────────────


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tools.cli",
        description="Bring the KubeVela + DynamoDB demo up and down, check it, compare the three approaches.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n")[1],
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="command")
    approaches_help = f"any of {', '.join(APPROACHES)} (default: all)"

    up = sub.add_parser("up", help="platform, then the approach stacks concurrently")
    up.add_argument("approaches", nargs="*", help=approaches_help + "; `platform` for the platform alone")
    up.add_argument("--sequential", action="store_true", help="one approach at a time (less memory, exact CRD timing)")
    up.add_argument("--no-platform", action="store_true", help="skip the platform's `pulumi up` (it must exist)")
    up.set_defaults(run=cmd_up)

    down = sub.add_parser("down", help="approach stacks, audit, then the platform")
    down.add_argument("approaches", nargs="*", help=approaches_help + " (naming some keeps the platform)")
    down.add_argument("--skip-audit", action="store_true", help="do not check the target for leftover tables")
    down.add_argument(
        "--ignore-pending",
        action="store_true",
        help="destroy an approach stack although an interrupted run left objects it was creating (run `up` first instead)",
    )
    down.add_argument(
        "--ignore-unreachable",
        action="store_true",
        help="destroy the approach stacks although the cluster does not answer (only when it is gone for good)",
    )
    down.set_defaults(run=cmd_down)

    smoke = sub.add_parser("smoke", help="drive each session API, check each table")
    smoke.add_argument("approaches", nargs="*", help=approaches_help)
    smoke.add_argument("--local", action="store_true", help="against a local app + moto server (no cluster)")
    smoke.add_argument("--local-ttl", type=_local_ttl, default=3, help="session TTL of the --local app (s, at least 2)")
    smoke.add_argument("--max-expiry-wait", type=float, default=15.0, help="wait for expiry only if TTL <= this (s)")
    smoke.add_argument("--api-url", help="smoke any session API at this URL (with --table)")
    smoke.add_argument("--table", help="its table name")
    smoke.add_argument("--dynamodb-endpoint", help="DynamoDB endpoint URL (default: AWS)")
    smoke.add_argument("--region", default="us-east-1", help="region for --local/--api-url (default us-east-1)")
    smoke.add_argument(
        "--via-ingress", action="store_true",
        help="existing cluster: call each API at its ingress URL (apiUrl) instead of through the API server",
    )
    smoke.set_defaults(run=cmd_smoke)

    for name in ("status", "doctor"):
        status = sub.add_parser(name, help="what each approach waits for (Application -> engine -> table)")
        status.add_argument("approaches", nargs="*", help=approaches_help)
        status.set_defaults(run=cmd_status)

    report = sub.add_parser("report", help="side-by-side comparison (Markdown + PNG)")
    report.add_argument("--out", default=str(OUT_DIR), help="output folder (default out/)")
    report.set_defaults(run=cmd_report)

    from tools.compare import SCENARIO_HELP, SCENARIOS

    compare = sub.add_parser(
        "compare",
        help="day-2 scenarios per approach: drift, change, deletion; then restore",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Runs day-2 scenarios on the deployed demo, one approach at a time, then restores it:\n"
        + "\n".join(f"  {name:<15} {text}" for name, text in SCENARIO_HELP.items())
        + "\nResults: .pulumi-state/measurements.json; `report` shows them side by side.",
    )
    compare.add_argument("approaches", nargs="*", help=approaches_help)
    compare.add_argument("--scenario", action="append", choices=SCENARIOS, default=[],
                         help="run only this scenario (repeatable; default: all)")
    # 660 s: the provider polls every 10 min ± 5 % (at most 630 s); a fair wait lets every engine show what it does.
    # Ref: crossplane-contrib/provider-upjet-aws@v2.6.0:cmd/provider/dynamodb/zz_main.go (--poll).
    compare.add_argument("--wait", type=_positive_int, default=660,
                         help="seconds to wait for an engine to converge (default 660: the Crossplane provider polls every 10 min)")
    compare.add_argument("--restore-wait", type=_positive_int, default=300, help="seconds per restore step (default 300)")
    compare.add_argument("--poll", type=float, default=2.0, help=argparse.SUPPRESS)
    compare.set_defaults(run=cmd_compare)

    audit = sub.add_parser(
        "audit", help="tables with the demo's prefix still in the target (waits up to 5 min for ones being deleted)"
    )
    audit.set_defaults(run=cmd_audit)

    plan = sub.add_parser("plan", help="offline plan of a stack (JSON)")
    plan.add_argument("stack", help="platform, crossplane, kro or kratix")
    plan.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a config value of STACK")
    plan.add_argument("--set-platform", action="append", default=[], metavar="KEY=VALUE",
                      help="a config value of the platform stack an approach stack reads")
    plan.add_argument("--out")
    plan.set_defaults(run=cmd_plan)

    test = sub.add_parser("test", help="the test suite (pytest; extra arguments are passed on)")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    test.set_defaults(run=cmd_test)

    tools = sub.add_parser("tools", help="check prerequisites; install pinned k3d/Pulumi into .tools/bin")
    tools.set_defaults(run=cmd_tools)
    return p


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of seconds, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _local_ttl(text: str) -> int:
    value = _positive_int(text)
    if value < 2:
        # The app's expiresAt is the whole second of creation plus the TTL: a 1 s session
        # made late in a second is gone before smoke reads it back.
        raise argparse.ArgumentTypeError(f"must be at least 2 (a 1 s session can expire before it is read), got {value}")
    return value


def main(argv: list[str] | None = None, ctx: Context | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["test"]:
        # pytest's own options (`-q`, `-n 0`, `-k ...`) go to pytest as given: argparse
        # would take a leading `-q` for an option of this CLI and refuse it.
        args = argparse.Namespace(run=cmd_test, pytest_args=list(argv[1:]))
    else:
        args = parser().parse_args(argv)
    ctx = ctx or Context()
    try:
        return args.run(ctx, args)
    except (CliError, StackOpsError, ValueError) as error:
        ctx.err.write(f"error: {error}\n")
        return 1
    except KeyboardInterrupt:
        ctx.err.write(
            "interrupted: rerun the same command to continue; it clears what the interrupted run left "
            "pending and adopts what it had created\n"
        )
        return 130
    finally:
        ctx.close()


if __name__ == "__main__":
    sys.exit(main())
