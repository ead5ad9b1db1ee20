"""How long `make test` takes here, and how fast this machine is while it runs.

    venv/bin/python benchmarks/suite_time.py            # --runs 3 --workers auto
    venv/bin/python benchmarks/suite_time.py --cold     # as a fresh clone: no cached bytecode first
    venv/bin/python benchmarks/suite_time.py --gc       # also the garbage collector's pauses

Each run is the command `make test` runs (pytest with its workers, bytecode cached), timed
from outside: wall time, and the CPU time of pytest and every process it started (workers,
node, moto, gunicorn). Before each run a fixed pure-Python loop runs on every core at once
and its CPU time is printed beside the run: on a shared virtual machine the same suite
takes a fifth to a third longer while the host is busy, and that column shows when it was.
The suite's own timings in docs/testing.md were taken this way. With --gc, the pytest processes
(controller and workers) also report their garbage collections (benchmarks/gc_pauses.py):
full ones (generation 2) and all of them, summed over the processes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SKIPPED = {"venv", "node_modules", ".git", ".tools"}
LOOP = 20_000_000


def _spin(_: int) -> float:
    started = time.process_time()
    total = 0
    for i in range(LOOP):
        total += i
    return time.process_time() - started


def calibrate(cores: int) -> float:
    """Seconds of CPU the fixed loop takes per core with every core busy (slowest core)."""
    with multiprocessing.Pool(cores) as pool:
        return max(pool.map(_spin, range(cores)))


def drop_bytecode() -> int:
    removed = 0
    for top in PROJECT.iterdir():
        if top.name in SKIPPED or not top.is_dir():
            continue
        for cache in list(top.rglob("__pycache__")):
            shutil.rmtree(cache, ignore_errors=True)
            removed += 1
    return removed


def gc_summary(folder: Path) -> str:
    """Full collections and all collections of the pytest processes, from benchmarks/gc_pauses.py."""
    full = [0, 0.0]
    every = 0.0
    for report in folder.glob("*.json"):
        for generation, (count, seconds) in json.loads(report.read_text()).items():
            every += seconds
            if generation == "2":
                full[0] += count
                full[1] += seconds
    return f"gc: {full[0]} full collections {full[1]:.1f}s, all collections {every:.1f}s"


def run_suite(workers: str, gc_pauses: Path | None = None) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds of the run's processes, exit code, pytest's last line."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    command = [sys.executable, "-m", "pytest", "-n", workers, "-q", "-p", "no:cacheprovider"]
    if gc_pauses is not None:
        env["GC_PAUSES_DIR"] = str(gc_pauses)
        command += ["-p", "benchmarks.gc_pauses"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return wall, cpu, done.returncode, lines[-1].strip("= ") if lines else done.stderr.strip()[-200:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="auto", help="pytest-xdist -n (default auto: one per core)")
    parser.add_argument("--cold", action="store_true", help="remove the project's __pycache__ before each run")
    parser.add_argument("--gc", action="store_true", help="also sum the pytest processes' garbage collections")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    print(f"{cores} cores; loop = {LOOP:,} additions, CPU seconds per core with all {cores} busy")
    print(f"{'run':>3}  {'loop':>6}  {'wall':>7}  {'CPU':>7}  pytest")
    failed = False
    for number in range(1, args.runs + 1):
        if args.cold:
            drop_bytecode()
        loop = calibrate(cores)
        if args.gc:
            with tempfile.TemporaryDirectory(prefix="gc-pauses-") as folder:
                wall, cpu, code, last = run_suite(args.workers, Path(folder))
                gc_note = f"  ({gc_summary(Path(folder))})"
        else:
            wall, cpu, code, last = run_suite(args.workers)
            gc_note = ""
        failed |= code != 0
        print(f"{number:>3}  {loop:>5.2f}s  {wall:>6.1f}s  {cpu:>6.1f}s  {last}{gc_note}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
