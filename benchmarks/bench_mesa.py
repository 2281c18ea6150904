"""The simulator against Mesa on one toy model (issue 10, item 7, second bullet).

The model (``benchmarks/toy/policy.yaml`` and ``scenario.yaml``): everyone alike; misdeeds
(-40 points) at 0.8 and good deeds (+10) at 2.0 a year, each counting for 365 days; a score
of 100 held within 0-200; a flight ban while the score is below 50. Mesa runs it as agents
stepped once a day (each draws whether it had a misdeed and a good deed that day — the
chance of two of a kind in one day, ~2e-6, is ignored; the simulator draws Poisson
processes); ``socialcredit.sim.simulate`` runs the policy file itself.

Both run POPULATION agents x 365 days with different seeds; the script then checks that the
aggregates on the last day (share banned, mean score) and the records per agent agree within
sampling error (|difference| < 4 standard errors), and reports the speed of each in
agent-days per CPU-second and their ratio (the issue's target: >= 1,000x). The simulator is
then run at --large agents too (default 10^8; 0 skips it) and its rate reported.

    .venv/bin/pip install -e '.[bench]'   # Mesa is a benchmark-only dependency
    .venv/bin/python benchmarks/bench_mesa.py [--population 10000] [--large 100000000]
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from socialcredit.policy import compile_policy, load_policy
from socialcredit.sim.draws import SimSpec
from socialcredit.sim.run import simulate
from socialcredit.sim.scenario import check_against, load_scenario
from socialcredit.timeutil import parse_timestamp

TOY = Path(__file__).parent / "toy"
DAYS = 365
BASE, LOW, HIGH, BAN_BELOW = 100, 0, 200, 50
MISDEED, GOOD_DEED = (-40, 0.8), (10, 2.0)  # points, yearly rate
YEAR_DAYS = 365.25  # the simulator's rates are per year of 365.25 days


def run_mesa(population: int, seed: int) -> dict[str, float]:
    """The toy model in Mesa: its aggregates on the last day and its CPU time."""
    import mesa

    p_misdeed = 1 - math.exp(-MISDEED[1] / YEAR_DAYS)
    p_good = 1 - math.exp(-GOOD_DEED[1] / YEAR_DAYS)

    class Person(mesa.Agent):  # type: ignore[misc]
        def __init__(self, model: Any) -> None:
            super().__init__(model)
            self.records: deque[tuple[int, int]] = deque()  # (last day it counts, points)
            self.score = BASE
            self.banned = False
            self.count = 0

        def step(self) -> None:
            day, draw = self.model.day, self.model.random.random
            if draw() < p_misdeed:
                self.records.append((day + DAYS - 1, MISDEED[0]))
                self.count += 1
            if draw() < p_good:
                self.records.append((day + DAYS - 1, GOOD_DEED[0]))
                self.count += 1
            while self.records and self.records[0][0] < day:
                self.records.popleft()
            total = BASE + sum(points for _, points in self.records)
            self.score = min(HIGH, max(LOW, total))
            self.banned = self.score < BAN_BELOW

    class Toy(mesa.Model):  # type: ignore[misc]
        def __init__(self, n: int, seed: int) -> None:
            super().__init__(seed=seed)
            self.day = 0
            Person.create_agents(self, n)

        def step(self) -> None:
            self.agents.do("step")
            self.day += 1

    cpu = time.process_time()
    model = Toy(population, seed)
    for _ in range(DAYS):
        model.step()
    cpu = time.process_time() - cpu
    agents = list(model.agents)
    scores = np.array([a.score for a in agents], dtype=np.float64)
    return {
        "cpu": cpu,
        "banned": sum(a.banned for a in agents) / population,
        "mean_score": float(scores.mean()),
        "score_sd": float(scores.std(ddof=1)),
        "records": sum(a.count for a in agents) / population,
    }


def run_ours(population: int, seed: int) -> dict[str, float]:
    """The same model as a policy file in ``socialcredit.sim``: aggregates and CPU time."""
    policy = compile_policy(load_policy(TOY / "policy.yaml"))
    scenario = load_scenario(TOY / "scenario.yaml")
    check_against(scenario, [policy])
    spec = SimSpec(population, DAYS, seed, parse_timestamp("2026-01-01"))
    cpu, wall = time.process_time(), time.perf_counter()
    result = simulate([policy], scenario, spec)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    metrics = result.metrics[0]
    mean, _ = metrics.score_summary()
    return {
        "cpu": cpu,
        "wall": wall,
        "banned": float(metrics.count("list:banned")[-1].sum()) / population,
        "mean_score": float(mean[-1]),
        "records": float(metrics.count("records").sum()) / population,
    }


def _agree(name: str, a: float, b: float, se: float) -> bool:
    ok = abs(a - b) < 4 * se
    print(
        f"  {name:<12} mesa {a:10.4f}   ours {b:10.4f}   4 s.e. {4 * se:8.4f}   {'ok' if ok else 'DIFFER'}"
    )
    return ok


def main() -> None:
    """Run both at --population, compare, time; then ours at --large."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    try:
        import mesa
    except ImportError:
        sys.exit("bench_mesa needs Mesa: .venv/bin/pip install -e '.[bench]'")
    n = args.population
    agent_days = n * DAYS
    print(f"toy model, {n:,} agents x {DAYS} days; Mesa {mesa.__version__}")
    theirs = run_mesa(n, args.seed)
    ours = run_ours(n, args.seed + 1)
    print(
        f"  Mesa      {theirs['cpu']:8.2f} s CPU  {agent_days / theirs['cpu']:>14,.0f} agent-days/s"
    )
    print(f"  ours      {ours['cpu']:8.2f} s CPU  {agent_days / ours['cpu']:>14,.0f} agent-days/s")
    print(f"  ratio     {theirs['cpu'] / ours['cpu']:,.1f}x at {n:,} agents")
    p = (theirs["banned"] + ours["banned"]) / 2
    se_banned = math.sqrt(max(p * (1 - p), 1 / n) * 2 / n)
    # records per agent are Poisson (variance = mean); the scores' spread is Mesa's sample's
    se_records = math.sqrt(2 * theirs["records"] / n)
    se_score = theirs["score_sd"] * math.sqrt(2 / n)
    agree = all(
        [
            _agree("banned", theirs["banned"], ours["banned"], se_banned),
            _agree("mean score", theirs["mean_score"], ours["mean_score"], se_score),
            _agree("records", theirs["records"], ours["records"], se_records),
        ]
    )
    print(f"  aggregates {'agree' if agree else 'DIFFER'} within sampling error")
    if args.large:
        big = run_ours(args.large, args.seed + 2)
        rate = args.large * DAYS / big["cpu"]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
        print(
            f"ours at {args.large:,} agents: {big['cpu']:,.1f} s CPU, {big['wall']:,.1f} s wall, "
            f"{rate:,.0f} agent-days per CPU-second, peak RSS {peak:,.0f} MB; "
            f"{rate / (agent_days / theirs['cpu']):,.0f}x Mesa's rate; banned {big['banned']:.4f}"
        )
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
