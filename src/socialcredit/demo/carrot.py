"""The Carrot Rewards demo (``socialcredit demo --system carrot``): a synthetic population of
app users under carrot-rewards.yaml for eighteen months from October 2017.

About 30 % are active (a step goal most days, a quiz a month) and 70 % casual, as in the
simulator's scenario for this policy (examples/scenarios/carrot-rewards.yaml); points are
capped at 200 a month and expire after a year. Every three months about 40 % of those with
100 points or more redeem some with a loyalty partner, in hundreds; a few ask for more than
they have, which ingestion rejects. Every rate and amount is ILLUSTRATIVE.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np

from socialcredit.demo.wallets import (
    Redemptions,
    Round,
    WalletDemo,
    pick,
    print_wallet_report,
    run_wallet_demo,
)
from socialcredit.engine import Engine
from socialcredit.examples import example_policy
from socialcredit.scoring import BulkStandings
from socialcredit.timeutil import DAY, parse_timestamp

DEFAULT_SUBJECTS = 1_200

START = parse_timestamp("2017-10-01")
END = parse_timestamp("2019-04-01")
F64 = np.ndarray[Any, np.dtype[np.float64]]

# per group: share, and records a year of each type (the scenario's rates)
GROUPS = (
    (0.3, {"daily_step_goal": 250.0, "health_quiz": 12.0, "flu_shot": 0.6}),
    (0.7, {"daily_step_goal": 40.0, "health_quiz": 3.0, "flu_shot": 0.3}),
)
SOURCES = {"daily_step_goal": "carrot-app", "health_quiz": "carrot-app", "flu_shot": "pharmacy"}


def _names(n: int) -> list[str]:
    return [f"C{i:08d}" for i in range(1, n + 1)]


def earnings(n: int, seed: int) -> Iterator[dict[str, Any]]:
    """Each user's step goals, quizzes and flu shots over the period, at their group's rates."""
    rng = np.random.default_rng(seed)
    names = _names(n)
    years = (END - START) / (365 * DAY)
    active = rng.random(n) < GROUPS[0][0]
    serial = 0
    for kind in ("daily_step_goal", "health_quiz", "flu_shot"):
        rate = np.where(active, GROUPS[0][1][kind], GROUPS[1][1][kind])
        counts = rng.poisson(rate * years)
        who = np.repeat(np.arange(n), counts)
        times = START + rng.integers(0, END - START - DAY, len(who))
        stamps = np.datetime_as_string(times.astype("datetime64[s]"), unit="s")
        source = SOURCES[kind]
        for s, when in zip(who.tolist(), stamps.tolist(), strict=True):
            serial += 1
            at = when + "Z"
            yield {
                "id": f"e{serial}",
                "source": source,
                "subject": names[s],
                "type": kind,
                "occurred_at": at,
                "recorded_at": at,
            }


def _chooser(seed: int) -> Callable[[F64], Redemptions]:
    """About 40 % of those with 100 points or more redeem a random part of their balance in
    hundreds; one in 200 of them asks for 100 more than they have."""

    def choose(balances: F64) -> Redemptions:
        rng = np.random.default_rng(seed)
        who = np.flatnonzero((balances >= 100) & (rng.random(len(balances)) < 0.4))
        part = rng.uniform(0.3, 1.0, len(who))
        ask = np.floor(balances[who] * part / 100) * 100
        greedy = rng.random(len(who)) < 0.005
        ask = np.where(greedy, np.floor(balances[who] / 100) * 100 + 100, ask)
        return [(int(s), float(a)) for s, a in zip(who, ask, strict=True) if a > 0]

    return choose


def rounds(seed: int) -> list[Round]:
    """Redemptions every three months."""
    days = ("2018-01-15", "2018-04-15", "2018-07-15", "2018-10-15", "2019-01-15")
    return [
        Round(
            parse_timestamp(day),
            "carrot_points",
            "points_redeemed",
            "carrot-app",
            _chooser(seed + k),
        )
        for k, day in enumerate(days)
    ]


def examples(engine: Engine, bulk: BulkStandings) -> list[tuple[str, str, str]]:
    """A gold member; someone whose points expired unspent; someone the monthly cap held
    back who redeemed."""
    cp = engine.policy
    w = bulk.wallets[cp.score_index("carrot_points")]
    assert w is not None
    picks: list[tuple[str, str, str]] = []
    pick(
        picks,
        "A gold member (500 points or more)",
        np.flatnonzero(w.balance >= 500),
        bulk.subjects,
        "loyalty_points",
    )
    pick(
        picks,
        "Points that expired unspent",
        np.flatnonzero((w.expired > 0) & (w.redeemed == 0)),
        bulk.subjects,
        "loyalty_points",
    )
    pick(
        picks,
        "Held back by the monthly cap, and redeemed",
        np.flatnonzero((w.forfeited > 0) & (w.redeemed > 0)),
        bulk.subjects,
        "loyalty_points",
    )
    return picks


DEMO = WalletDemo(
    system="carrot",
    policy=example_policy("carrot-rewards"),
    start=START,
    end=END,
    earnings=earnings,
    rounds=rounds,
    examples=examples,
)

run = partial(run_wallet_demo, DEMO)
show = print_wallet_report
