"""Points wallets (issue 11, part 2): what the wallet form costs, in CPU time of this process.

On one chunk of the carrot-rewards scenario (--population agents over --days days):
scoring everyone at the period's end with ``bulk_standings`` under carrot-rewards.yaml as
shipped (a wallet) and under the same file with the wallet replaced by the points form of
its 1.1 version (every record's points while it counts); then ``run_wallets`` alone,
worked out together (vectorised: nobody spends in this scenario) against one group at a
time, with the same result.

    .venv/bin/python benchmarks/bench_wallets.py [--population N] [--days D]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from socialcredit.examples import example_policy, example_scenario
from socialcredit.policy import compile_policy, load_policy, parse_policy
from socialcredit.scoring import Prepared, bulk_standings
from socialcredit.scoring.wallets import run_wallets
from socialcredit.sim.draws import SimSpec, draw_block
from socialcredit.sim.events import chunk_columns
from socialcredit.sim.scenario import load_scenario
from socialcredit.timeutil import DAY, parse_timestamp

POINTS = {"daily_step_goal": 10, "health_quiz": 20, "flu_shot": 50}


def points_version(text: str) -> str:
    """carrot-rewards.yaml with its wallet replaced by a points score over the same records."""
    head, rest = text.split("scores:\n", 1)
    rest = rest.split("record_types:\n", 1)[1]
    for name, points in POINTS.items():
        rest = rest.replace(f"  {name}:\n", f"  {name}:\n    points: {points}\n", 1)
    score = (
        "score: {form: points, base: 0, min: 0}\n"
        "grades:\n  - {name: gold, at_least: 500}\n  - {name: silver, at_least: 100}\n"
        "  - {name: member}\n\n"
    )
    rest = rest.replace("{score: carrot_points, value: 100}", "100")
    return head.replace('version: "2.0"', 'version: "bench"') + score + "record_types:\n" + rest


def main() -> None:
    """Time the wallet against the points form and the two ways of working wallets out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=16384)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}")
    spec = SimSpec(args.population, args.days, 1, parse_timestamp("2026-01-01"))
    scenario = load_scenario(example_scenario("carrot-rewards")).scenario
    draws = [draw_block(scenario, spec, b) for b in range(spec.blocks)]
    loaded = load_policy(example_policy("carrot-rewards"))
    wallet = compile_policy(loaded)
    points = compile_policy(parse_policy(points_version(loaded.text), "points-version.yaml"))
    end = spec.start + spec.days * DAY - 1
    for label, policy in (("points form (1.1)", points), ("wallet form (2.0)", wallet)):
        cols = chunk_columns(draws, scenario, spec, policy)
        t0 = time.process_time()
        prep = Prepared.build(cols, policy)
        bulk = bulk_standings(prep, end)
        t1 = time.process_time()
        print(
            f"{label}: {len(cols.rec_seq):,} records, bulk_standings {t1 - t0:.3f} s CPU; "
            f"mean score {bulk.scores[0].mean():.1f}"
        )
    sc = wallet.scores[0]
    assert sc.wallet is not None
    code = np.array([wallet.type_code.get(t, len(wallet.type_names)) for t in cols.rec_type])
    group = cols.rec_subject.astype(np.int64)
    at = np.full(len(cols.subjects), end, dtype=np.int64)
    happened = np.ones(len(code), dtype=bool)
    base = (wallet, sc.wallet, code, cols.rec_amount, group, cols.rec_occurred_at, happened, at)
    t0 = time.process_time()
    fast = run_wallets(*base)
    t1 = time.process_time()
    slow = run_wallets(*base, vectorised=False)
    t2 = time.process_time()
    print(
        f"run_wallets: together {t1 - t0:.3f} s CPU, one group at a time {t2 - t1:.3f} s CPU "
        f"({(t2 - t1) / (t1 - t0):.1f}x); same balances: "
        f"{np.allclose(fast.balance, slow.balance)}"
    )


if __name__ == "__main__":
    main()
