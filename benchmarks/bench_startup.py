"""Start-up time of the CLI: `socialcredit check SUBJECT SERVICE` on the demo database, as a
ticket counter's script would run it (one process per question). Target: under 0.4 s wall.

Like hyperfine: each command runs a few times to warm the disk cache, then N times in fresh
subprocesses; the median and 90th percentile of the wall time are reported. The floor (an
empty interpreter) and the import cost of each heavy dependency are measured the same way,
so the figures say what limits them.

    .venv/bin/python benchmarks/bench_startup.py [--db demo-data/demo.db] [--runs 30]
        [--before /tmp/old-checkout/src]

The commands run with their bytecode cached, as an installed package has it (pip compiles
it): ``PYTHONDONTWRITEBYTECODE`` is removed from their environment, so the warm-up runs
write it for a checkout. ``--before SRC`` also times `check` from an older source tree
(e.g. a ``git worktree`` of an earlier commit) on ``PYTHONPATH``, alternating run by run
with the current tree, so both see the same load.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import machine

BIN = Path(sys.executable).parent
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def one_run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one fresh run of ``args``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(args, capture_output=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed: {result.stderr.decode()[-500:]}")
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def wall_times(args: list[str], runs: int, warmup: int = 3) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) seconds of each of ``runs`` fresh runs of ``args``, after
    ``warmup`` untimed ones. CPU time moves less than wall time when the machine is busy."""
    walls, cpus = [], []
    for i in range(warmup + runs):
        wall, cpu = one_run(args, ENV)
        if i >= warmup:
            walls.append(wall)
            cpus.append(cpu)
    return walls, cpus


def paired_times(
    args: list[str], envs: list[dict[str, str]], runs: int, warmup: int = 3
) -> list[tuple[list[float], list[float]]]:
    """Like ``wall_times`` for ``args`` under each of ``envs``, alternating run by run."""
    out: list[tuple[list[float], list[float]]] = [([], []) for _ in envs]
    for i in range(warmup + runs):
        for env, (walls, cpus) in zip(envs, out, strict=True):
            wall, cpu = one_run(args, env)
            if i >= warmup:
                walls.append(wall)
                cpus.append(cpu)
    return out


def summary(walls: list[float], cpus: list[float]) -> str:
    ordered = sorted(walls)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return (
        f"wall median {statistics.median(ordered) * 1000:5.0f} ms  p90 {p90 * 1000:5.0f} ms  "
        f"min {ordered[0] * 1000:5.0f} ms   cpu median {statistics.median(cpus) * 1000:5.0f} ms"
    )


def import_breakdown(args: list[str], runs: int = 5) -> list[tuple[str, float]]:
    """Median import time (self, in ms) by top-level package, from ``-X importtime``."""
    per_run: list[dict[str, float]] = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", *args],
            capture_output=True,
            text=True,
            check=False,
            env=ENV,
        )
        totals: dict[str, float] = {}
        for line in result.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _cumulative, name = line.removeprefix("import time:").split("|")
            top = name.strip().split(".")[0]
            totals[top] = totals.get(top, 0.0) + int(self_us) / 1000
        per_run.append(totals)
    names = {n for totals in per_run for n in totals}
    medians = {n: statistics.median(t.get(n, 0.0) for t in per_run) for n in names}
    return sorted(medians.items(), key=lambda kv: -kv[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a demo database (default: benchmarks/.data/demo.db)")
    parser.add_argument("--subject", default="P00000010", help="a subject of the demo")
    parser.add_argument("--service", default="air_travel")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--before", help="an older source tree (its src/) to compare `check` with")
    ns = parser.parse_args()
    if ns.db is None:
        from _common import demo_db

        ns.db = str(demo_db())
    print(f"machine: {machine()}")
    print(f"database: {ns.db}; {ns.runs} runs each, after 3 warm-up runs")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    python = str(BIN / "python")
    cli = str(BIN / "socialcredit")
    check = [cli, "check", ns.subject, ns.service, "--db", ns.db]
    rows = [
        ("python -c pass (interpreter floor)", [python, "-c", "pass"]),
        ("import numpy", [python, "-c", "import numpy"]),
        ("import sqlalchemy", [python, "-c", "import sqlalchemy"]),
        ("import pydantic + the policy model", [python, "-c", "import socialcredit.policy"]),
        ("import typer + rich", [python, "-c", "import typer, rich.console"]),
        ("import socialcredit.scoring (pure core)", [python, "-c", "import socialcredit.scoring"]),
        ("import the whole CLI", [python, "-c", "import socialcredit.cli"]),
        (
            "libraries check cannot do without",
            # Typer (which builds pydantic TypeAdapters for the options), NumPy (with one
            # OpenBLAS thread, as the CLI sets it), PyYAML
            [
                python,
                "-c",
                "import os; os.environ.setdefault('OPENBLAS_NUM_THREADS', '1'); "
                "import typer, typer._adapters, numpy, yaml",
            ],
        ),
        ("socialcredit --version", [cli, "--version"]),
        (f"socialcredit check {ns.subject} {ns.service}", check),
        (f"socialcredit check {ns.subject} {ns.service} --json", [*check, "--json"]),
    ]
    width = max(len(name) for name, _ in rows)
    for name, args in rows:
        print(f"{name:<{width}}   {summary(*wall_times(args, ns.runs))}", flush=True)
    if ns.before:
        print(f"\n`check` before ({ns.before}) and now, alternating run by run:")
        module_check = [python, "-m", "socialcredit", *check[1:]]
        old_env = {**ENV, "PYTHONPATH": str(Path(ns.before).resolve())}
        before, now = paired_times(module_check, [old_env, ENV], ns.runs)
        print(f"{'before':<{width}}   {summary(*before)}")
        print(f"{'now':<{width}}   {summary(*now)}", flush=True)
    print("\nimports of `check`, by top-level package (median self time of 5 runs, ms):")
    breakdown = import_breakdown(["-m", "socialcredit", *check[1:]])
    total = sum(ms for _, ms in breakdown)
    shown = [f"{name} {ms:.0f}" for name, ms in breakdown[:10]]
    print(f"  total {total:.0f}: " + ", ".join(shown))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
