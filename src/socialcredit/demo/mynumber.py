"""The My Number demo (``socialcredit demo --system mynumber``): a synthetic population
under mynumber-points.yaml, with both of its wallets running side by side from September
2020 for two years (as if the 2015 food-tax plan had been enacted alongside Mynapoint).

Everyone's basic food purchases are reported by shop terminals (2 % back, at most ¥4,000 a
year); about 70 % signed up for Mynapoint and pay cashless (25 % back, at most ¥5,000 in
all). The
tax office refunds food-tax points each March; Mynapoint holders spend points three times.
A few people ask for more than their balance: ingestion rejects those. Every rate and
amount is ILLUSTRATIVE.
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

DEFAULT_SUBJECTS = 3_000

START = parse_timestamp("2020-09-01")
END = parse_timestamp("2022-09-01")
F64 = np.ndarray[Any, np.dtype[np.float64]]


def _names(n: int) -> list[str]:
    return [f"J{i:08d}" for i in range(1, n + 1)]


def earnings(n: int, seed: int) -> Iterator[dict[str, Any]]:
    """Food purchases (everyone: a terminal report about every three weeks) and cashless
    payments (the 70 % who signed up for Mynapoint, about one a month), in the period."""
    rng = np.random.default_rng(seed)
    names = _names(n)
    years = (END - START) / (365 * DAY)
    food_rate = rng.gamma(4.0, 4.5, n)  # reports a year, mean 18
    signed_up = rng.random(n) < 0.7
    pay_rate = np.where(signed_up, rng.gamma(2.0, 6.0, n), 0.0)  # payments a year, mean 12
    for kind, rate, median, sigma, source in (
        ("basic_food_purchase", food_rate, 9000.0, 0.6, "pos-terminals"),
        ("cashless_payment", pay_rate, 3000.0, 0.9, "cashless-services"),
    ):
        counts = rng.poisson(rate * years)
        who = np.repeat(np.arange(n), counts)
        times = START + rng.integers(0, END - START - DAY, len(who))
        amounts = np.maximum(np.round(rng.lognormal(np.log(median), sigma, len(who))), 1.0)
        stamps = np.datetime_as_string(times.astype("datetime64[s]"), unit="s")
        prefix = kind[:4]
        for j, (s, when, amount) in enumerate(
            zip(who.tolist(), stamps.tolist(), amounts.tolist(), strict=True)
        ):
            at = when + "Z"
            yield {
                "id": f"{prefix}-{j}",
                "source": source,
                "subject": names[s],
                "type": kind,
                "occurred_at": at,
                "recorded_at": at,
                "amount": amount,
            }


def _chooser(seed: int, share: float, low: float, least: float) -> Callable[[F64], Redemptions]:
    """Who asks for how much: ``share`` of those with at least ``least`` take a random part
    (from ``low`` to all) of their balance, rounded down; one in 200 of them asks for more
    than they have."""

    def choose(balances: F64) -> Redemptions:
        rng = np.random.default_rng(seed)
        who = np.flatnonzero((balances >= least) & (rng.random(len(balances)) < share))
        part = rng.uniform(low, 1.0, len(who))
        ask = np.floor(balances[who] * part)
        greedy = rng.random(len(who)) < 0.005
        ask = np.where(greedy, np.floor(balances[who]) + 500, ask)
        return [(int(s), float(a)) for s, a in zip(who, ask, strict=True) if a > 0]

    return choose


def rounds(seed: int) -> list[Round]:
    """Tax refunds each March; Mynapoint spending in January and June."""
    out = []
    for k, day in enumerate(("2021-01-20", "2021-06-20", "2022-01-20")):
        out.append(
            Round(
                parse_timestamp(day),
                "mynapoint",
                "mynapoint_spent",
                "cashless-services",
                _chooser(seed + 10 + k, 0.5, 0.3, 100),
            )
        )
    for k, day in enumerate(("2021-03-15", "2022-03-15")):
        out.append(
            Round(
                parse_timestamp(day),
                "food_tax_points",
                "food_tax_refund",
                "tax-office",
                _chooser(seed + 20 + k, 0.6, 1.0, 1000),
            )
        )
    return sorted(out, key=lambda r: r.at)


def examples(engine: Engine, bulk: BulkStandings) -> list[tuple[str, str, str]]:
    """Someone whose food-tax points hit the yearly cap and who claimed a refund; someone
    who reached Mynapoint's ¥5,000 and spent part of it; someone who never claimed a
    food-tax refund and lost points to expiry."""
    cp = engine.policy
    food = bulk.wallets[cp.score_index("food_tax_points")]
    myna = bulk.wallets[cp.score_index("mynapoint")]
    assert food is not None and myna is not None
    picks: list[tuple[str, str, str]] = []
    pick(
        picks,
        "Food-tax points held at ¥4,000 a year, then refunded",
        np.flatnonzero((food.forfeited > 0) & (food.redeemed > 0)),
        bulk.subjects,
        "tax_refund",
    )
    pick(
        picks,
        "Mynapoint's ¥5,000 reached, some spent, some left",
        np.flatnonzero((myna.forfeited > 0) & (myna.redeemed > 0) & (myna.balance > 0)),
        bulk.subjects,
        "mynapoint_payment",
    )
    pick(
        picks,
        "Food-tax points never refunded, some expired",
        np.flatnonzero((food.expired > 0) & (food.redeemed == 0)),
        bulk.subjects,
        "tax_refund",
    )
    return picks


DEMO = WalletDemo(
    system="mynumber",
    policy=example_policy("mynumber-points"),
    start=START,
    end=END,
    earnings=earnings,
    rounds=rounds,
    examples=examples,
)

run = partial(run_wallet_demo, DEMO)
show = print_wallet_report
