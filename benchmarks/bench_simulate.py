"""The simulator's speed in agent-days per CPU-second (issue 10, item 7): the event-driven
evaluator against the reference, in the same run.

Runs the default scenario of each policy named (default: china-scs) on one chunk of
--population agents in this process and reports, in CPU time of this process
(``time.process_time``, which a loaded machine changes far less than the wall clock):
drawing the events, then the whole evaluation of the chunk (every metric, with and without
the erroneous records) by the reference (``bulk_standings`` on every day:
``evaluate_draws``) and by the event-driven evaluator (``evaluate_draws_events``, the
default of ``socialcredit simulate``), and checks that both give the same metrics. The
target of the national run is 9e8 agent-days per second on two cores.

    .venv/bin/python benchmarks/bench_simulate.py [--population N] [--days D] [POLICY ...]
    .venv/bin/python benchmarks/bench_simulate.py --no-reference --population 65536 china-scs
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from socialcredit.examples import example_policy, example_scenario
from socialcredit.policy import compile_policy, load_policy
from socialcredit.sim.draws import SimSpec, draw_block
from socialcredit.sim.evaluate import evaluate_draws
from socialcredit.sim.fast import evaluate_draws_events
from socialcredit.sim.metrics import PolicyMetrics
from socialcredit.sim.scenario import check_against, load_scenario
from socialcredit.timeutil import parse_timestamp


def same(a: PolicyMetrics, b: PolicyMetrics) -> bool:
    """Whether two chunks' metrics are equal bit for bit."""
    a.finish()
    b.finish()
    return (
        a.counts.keys() == b.counts.keys()
        and all(np.array_equal(a.counts[k], b.counts[k]) for k in a.counts)
        and all(np.array_equal(a.spells[k], b.spells[k]) for k in a.spells)
        and np.array_equal(a.score_keys, b.score_keys)
        and np.array_equal(a.score_counts, b.score_counts)
    )


def main() -> None:
    """Time each evaluator for each policy and print agent-days per CPU-second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=16384)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-reference", action="store_true", help="time the new one only")
    parser.add_argument("policies", nargs="*", default=["china-scs"])
    args = parser.parse_args()
    spec = SimSpec(args.population, args.days, args.seed, parse_timestamp("2026-01-01"))
    print(f"load average {os.getloadavg()}")
    for name in args.policies:
        policy = compile_policy(load_policy(example_policy(name)))
        loaded = load_scenario(example_scenario(name))
        check_against(loaded, [policy])
        sc = loaded.scenario
        agent_days = spec.population * spec.days
        t0 = time.process_time()
        draws = [draw_block(sc, spec, b) for b in range(spec.blocks)]
        t1 = time.process_time()
        new = evaluate_draws_events(sc, spec, policy, draws)
        t2 = time.process_time()
        records = sum(len(d.subject) for d in draws)
        print(f"{name}: {spec.population:,} agents x {spec.days} days, {records:,} records drawn")
        print(f"  draw events            {t1 - t0:8.3f} s CPU")
        print(
            f"  events evaluator       {t2 - t1:8.3f} s CPU  "
            f"({agent_days / (t2 - t1):,.0f} agent-days per CPU-second)"
        )
        if args.no_reference:
            continue
        t3 = time.process_time()
        ref = evaluate_draws(sc, spec, policy, draws)
        t4 = time.process_time()
        print(
            f"  reference evaluator    {t4 - t3:8.3f} s CPU  "
            f"({agent_days / (t4 - t3):,.0f} agent-days per CPU-second)"
        )
        print(f"  ratio {(t4 - t3) / (t2 - t1):.1f}x; same metrics: {same(ref, new)}")


if __name__ == "__main__":
    main()
