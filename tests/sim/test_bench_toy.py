"""The toy model of benchmarks/bench_mesa.py stays a valid policy and scenario, and the
simulator runs it to the aggregates the model implies (so the benchmark cannot rot)."""

from __future__ import annotations

from pathlib import Path

from socialcredit.policy import compile_policy, load_policy
from socialcredit.sim.draws import SimSpec
from socialcredit.sim.run import simulate
from socialcredit.sim.scenario import check_against, load_scenario
from socialcredit.timeutil import parse_timestamp

TOY = Path(__file__).parents[2] / "benchmarks" / "toy"


def test_toy_model_runs_with_the_rates_it_declares() -> None:
    policy = compile_policy(load_policy(TOY / "policy.yaml"))
    scenario = load_scenario(TOY / "scenario.yaml")
    check_against(scenario, [policy])
    n, days = 4096, 365
    result = simulate([policy], scenario, SimSpec(n, days, 7, parse_timestamp("2026-01-01")))
    records = int(result.metrics[0].count("records").sum())
    expected = n * (0.8 + 2.0) * days / 365.25  # Poisson: s.d. = sqrt(expected) ~ 107
    assert abs(records - expected) < 5 * expected**0.5
    banned = int(result.metrics[0].count("list:banned")[-1].sum())
    # banned: score 100 - 40 M + 10 G < 50 with M ~ Poisson(0.8), G ~ Poisson(2.0) over the
    # 365-day window: P(4 M - G > 5) = 0.1444 by summing the two Poisson laws; s.e. 0.0055
    assert abs(banned / n - 0.1444) < 5 * 0.0055
