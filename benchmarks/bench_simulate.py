"""The simulator's speed in agent-days per CPU-second (issue 10, item 7), stage by stage.

Runs the default scenario of each policy named (default: china-scs) on a small population
in this process and reports, in CPU time of this process (``time.process_time``, which a
loaded machine changes far less than the wall clock): drawing the events, building the
chunk's ledger columns, folding them (``Prepared``), and reading everyone's standing on
every day (``bulk_standings``, twice: with and without the erroneous records). The target
of the national run is 9e8 agent-days per second; this is the reference evaluator's rate.

    .venv/bin/python benchmarks/bench_simulate.py [--population N] [--days D] [POLICY ...]
"""

from __future__ import annotations

import argparse
import time

from socialcredit.examples import example_policy, example_scenario
from socialcredit.policy import compile_policy, load_policy
from socialcredit.scoring import Prepared, bulk_standings
from socialcredit.sim.evaluate import evaluate_draws
from socialcredit.sim.events import SimSpec, chunk_columns, draw_block
from socialcredit.sim.scenario import check_against, load_scenario
from socialcredit.timeutil import parse_timestamp


def main() -> None:
    """Time each stage for each policy and print agent-days per CPU-second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=4096)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("policies", nargs="*", default=["china-scs"])
    args = parser.parse_args()
    spec = SimSpec(args.population, args.days, args.seed, parse_timestamp("2026-01-01"))
    for name in args.policies:
        policy = compile_policy(load_policy(example_policy(name)))
        loaded = load_scenario(example_scenario(name))
        check_against(loaded, [policy])
        sc = loaded.scenario
        agent_days = spec.population * spec.days
        t0 = time.process_time()
        draws = [draw_block(sc, spec, b) for b in range(spec.blocks)]
        t1 = time.process_time()
        columns = chunk_columns(draws, sc, spec, policy)
        t2 = time.process_time()
        prep = Prepared.build(columns, policy)
        t3 = time.process_time()
        for day in range(spec.days):
            bulk_standings(prep, spec.day_end(day))
        t4 = time.process_time()
        evaluate_draws(sc, spec, policy, draws)
        t5 = time.process_time()
        records = len(columns.rec_seq)
        print(f"{name}: {spec.population:,} agents x {spec.days} days, {records:,} records")
        print(f"  draw events           {t1 - t0:8.3f} s CPU")
        print(f"  ledger columns        {t2 - t1:8.3f} s CPU")
        print(f"  fold (Prepared)       {t3 - t2:8.3f} s CPU")
        print(
            f"  bulk_standings x days {t4 - t3:8.3f} s CPU  ({agent_days / (t4 - t3):,.0f} agent-days/s)"
        )
        print(
            f"  evaluate_draws (all metrics, with and without errors) {t5 - t4:8.3f} s CPU  "
            f"({agent_days / (t5 - t4):,.0f} agent-days/s)"
        )


if __name__ == "__main__":
    main()
