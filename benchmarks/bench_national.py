"""The national run (issue 10, item 7): china-scs on 1.41e9 agents x 365 days — measured
where it fits, projected where it does not, and always said which.

Two modes:

- ``--sample K`` (the default, K=6): evaluate K chunks of ``--chunk-size`` agents taken
  evenly across the blocks of a ``--population`` run (every block draws from its own
  stream of the same scenario, so blocks are alike in distribution) in this process, and
  report their CPU seconds per agent-day and this process's peak memory; then PROJECT the
  whole run: CPU time = agent-days x CPU per agent-day, wall time on ``--workers`` free
  cores = that / workers. A projection, printed as one; it assumes idle cores.
- ``--run``: run ``socialcredit.sim.run.simulate`` on the whole ``--population`` with
  ``--workers`` Dask worker processes (a LocalCluster) and report the MEASURED wall time,
  CPU time (this process and every worker), agent-days per wall second, and the peak
  resident memory of this process and of the largest worker.

    .venv/bin/python benchmarks/bench_national.py                       # projection
    .venv/bin/python benchmarks/bench_national.py --run --population 1000000 --workers 2
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np

from socialcredit.examples import example_policy, example_scenario
from socialcredit.policy import compile_policy, load_policy
from socialcredit.sim.draws import BLOCK, SimSpec
from socialcredit.sim.fast import evaluate_chunk_events
from socialcredit.sim.run import simulate
from socialcredit.sim.scenario import check_against, load_scenario
from socialcredit.timeutil import parse_timestamp

NATION = 1_410_000_000


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    """Project or run the national run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=NATION)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--policy", default="china-scs")
    parser.add_argument("--chunk-size", type=int, default=16 * BLOCK)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=6, help="chunks to time (projection)")
    parser.add_argument("--run", action="store_true", help="run the whole population")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        help="with --run: save the progress to this file every minute, and resume from it "
        "(a run of hours that is stopped goes on where it was; the figures printed are then "
        "this run's, the earlier runs' own are listed)",
    )
    args = parser.parse_args()
    policy = compile_policy(load_policy(example_policy(args.policy)))
    loaded = load_scenario(example_scenario(args.policy))
    check_against(loaded, [policy])
    spec = SimSpec(args.population, args.days, args.seed, parse_timestamp("2026-01-01"))
    agent_days = spec.population * spec.days
    print(f"load average {os.getloadavg()}; {os.cpu_count()} cores")
    if not args.run:
        per = max(1, args.chunk_size // BLOCK)
        firsts = np.linspace(0, max(spec.blocks - per, 0), args.sample).astype(np.int64)
        cpu = 0.0
        done = 0
        for first in firsts.tolist():
            blocks = range(first, min(first + per, spec.blocks))
            t = _cpu()
            evaluate_chunk_events(loaded.scenario, spec, [policy], blocks)
            cpu += _cpu() - t
            done += sum(spec.block_range(b)[1] for b in blocks) * spec.days
        rate = done / cpu
        print(
            f"MEASURED: {args.sample} chunks of {per * BLOCK:,} agents x {spec.days} days "
            f"spread over {spec.blocks:,} blocks: {cpu:.1f} s CPU, {rate:,.0f} agent-days per "
            f"CPU-second; peak RSS of this process {_peak() / 2**20:,.0f} MiB"
        )
        total = agent_days / rate
        print(
            f"PROJECTED (not run): {spec.population:,} agents x {spec.days} days = "
            f"{agent_days:.3g} agent-days: {total:,.0f} CPU-seconds = {total / 3600:,.1f} h "
            f"of one core; on {args.workers} free cores {total / args.workers / 3600:,.1f} h "
            f"wall (target: 600 s, i.e. {agent_days / 600:.3g} agent-days per second)"
        )
        return
    from socialcredit.sim.distributed import cluster_client

    wall, cpu = time.perf_counter(), _cpu()
    done = [0, 0.0]  # agent-days finished, the last time a line was printed

    def progress(agent_days: int) -> None:
        done[0] += agent_days
        now = time.perf_counter() - wall
        if now - done[1] >= 60 or done[0] >= spec.population * spec.days:
            done[1] = now
            share = done[0] / (spec.population * spec.days)
            print(f"  {now:8,.0f} s: {share:6.1%} of the agent-days done", flush=True)

    with cluster_client(workers=args.workers) as client:
        result = simulate(
            [policy], loaded, spec, args.chunk_size, progress, client, checkpoint=args.checkpoint
        )
        worker_cpu = client.run(
            lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])  # utime + stime
        )
    wall = time.perf_counter() - wall
    cpu = _cpu() - cpu
    used = cpu + sum(worker_cpu.values())
    if result.resumed_at_chunk:
        agent_days = result.agent_days_this_run
        print(
            f"RESUMED from {args.checkpoint} after {result.resumed_at_chunk:,} of "
            f"{result.chunks:,} chunks; the figures below are this run's, over "
            f"{agent_days:,} agent-days; earlier runs: {result.earlier_parts}"
        )
    print(
        f"MEASURED: {spec.population:,} agents x {spec.days} days on {args.workers} Dask "
        f"workers: {wall:,.1f} s wall = {agent_days / wall:,.0f} agent-days per second; CPU "
        f"{used:,.1f} s (this process {cpu:,.1f} s, workers {sum(worker_cpu.values()):,.1f} s) "
        f"= {agent_days / used:,.0f} agent-days per CPU-second; peak RSS this process "
        f"{_peak() / 2**20:,.0f} MiB, largest worker "
        f"{(result.worker_peak_rss_bytes or 0) / 2**20:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
