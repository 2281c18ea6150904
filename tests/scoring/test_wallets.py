"""Points wallets (``form: wallet``): a wallet worked out by hand across a cap and an expiry,
time travel, the explanation, properties (never negative; balance = earned - redeemed -
expired) and bulk == single subject."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.columns import columns_from_entries
from socialcredit.explain_text import wallet_sentence
from socialcredit.policy import compile_policy, parse_policy
from socialcredit.scoring import Prepared, bulk_standings, standing
from socialcredit.scoring.results import WalletValue
from socialcredit.scoring.wallets import WalletTotals, run_wallets
from socialcredit.timeutil import DAY, parse_timestamp
from tests.scoring.wallet_policy import WALLET_POLICY, wallet_policy

POLICY = wallet_policy()
# the same wallet with no cap, and with a cap over its whole life
VARIANTS = [
    POLICY,
    compile_policy(
        parse_policy(WALLET_POLICY.replace("      caps:\n        - {points: 100, per: year}\n", ""))
    ),
    compile_policy(parse_policy(WALLET_POLICY.replace("per: year", "per: lifetime"))),
]


def ts(text: str) -> int:
    return parse_timestamp(text)


def rec(rid: str, type_: str, when: str, amount: float | None = None, who: str = "ann") -> Any:
    out: dict[str, Any] = {
        "id": rid,
        "source": "shop",
        "subject": who,
        "type": type_,
        "occurred_at": ts(when),
    }
    if amount is not None:
        out["amount"] = amount
    return out


def wallet_at(entries: list[dict[str, Any]], when: str, subject: int = 0) -> WalletValue:
    p = Prepared.build(columns_from_entries(entries), POLICY)
    w = standing(p, subject, ts(when)).scores[0].wallet
    assert w is not None
    return w


HISTORY = [
    rec("p1", "purchase", "2024-01-10", 120),  # earns 60
    rec("p2", "purchase", "2024-06-01", 100),  # 50, but only 40 fit under the 100 a year
    rec("s1", "spend", "2024-07-01", 70),  # takes p1's 60 (oldest first), then 10 of p2's 40
    rec("p3", "purchase", "2025-02-01", 40),  # a new year: 20
]


def test_a_wallet_across_a_cap_and_an_expiry_by_hand() -> None:
    before = wallet_at(HISTORY, "2024-06-15")
    assert (before.balance, before.earned, before.forfeited) == (100, 100, 10)
    assert before.cap_reached and before.cap_reached_at == ts("2024-06-01")

    w = wallet_at(HISTORY, "2025-06-15")
    # p2's 30 left expired on 2025-06-01; p3's 20 remain
    assert (w.earned, w.redeemed, w.expired, w.balance) == (120, 70, 30, 20)
    assert w.forfeited == 10 and not w.cap_reached  # 2025's cap is not reached
    assert (w.next_expiry, w.next_expiry_points) == (ts("2026-02-01"), 20)

    just_before = wallet_at(HISTORY, "2025-05-31T23:59:59Z")
    assert (just_before.balance, just_before.expired) == (50, 0)


def test_the_explanation_says_balance_earned_redeemed_expired_cap_and_next_expiry() -> None:
    text = wallet_sentence("shop points", wallet_at(HISTORY, "2025-06-15"), 0)
    assert text.startswith("shop points: a balance of 20 points — 120 earned")
    assert "the cap of 100 points a year was reached: last on 2024-06-01" in text
    assert "10 more not paid" in text
    assert "70 redeemed, 30 expired" in text
    assert "expire 1 year after the record that earned them" in text
    assert "the next 20 points expire on 2026-02-01" in text


def test_a_measure_on_the_balance_ends_when_the_points_expire() -> None:
    p = Prepared.build(columns_from_entries([rec("b", "purchase", "2024-03-01", 120)]), POLICY)
    s = standing(p, 0, ts("2024-04-01"))
    [m] = s.measures
    assert m.name == "gold_lounge" and m.until == ts("2025-03-01")


def test_an_annulled_earning_leaves_a_redemption_short_never_a_negative_balance() -> None:
    entries = [
        rec("p1", "purchase", "2024-01-10", 100),
        rec("s1", "spend", "2024-02-01", 40),
        {
            "kind": "annul",
            "id": "a1",
            "source": "shop",
            "target_source": "shop",
            "target_id": "p1",
            "occurred_at": ts("2024-03-01"),
        },
    ]
    w = wallet_at(entries, "2024-04-01")
    assert (w.balance, w.earned, w.redeemed, w.shortfall) == (0, 0, 0, 40)
    assert "spent what there was" in wallet_sentence("x", w, 0)
    # time travel: before the annulment was known, the wallet was as it stood then
    then = wallet_at(entries, "2024-02-15")
    assert (then.balance, then.redeemed) == (10, 40)


events = st.lists(
    st.tuples(
        st.sampled_from(["purchase", "bonus", "spend"]),
        st.integers(0, 900),  # day
        st.integers(1, 200),  # amount
        st.sampled_from(["ann", "bob"]),
    ),
    max_size=25,
)


def _entries(evs: list[tuple[str, int, int, str]]) -> list[dict[str, Any]]:
    t0 = ts("2024-01-01")
    return [
        {
            "id": f"e{i}",
            "source": "shop",
            "subject": who,
            "type": kind,
            "occurred_at": t0 + day * DAY,
            "amount": float(amount),
        }
        for i, (kind, day, amount, who) in enumerate(evs)
    ]


@settings(max_examples=60, deadline=None)
@given(evs=events, day=st.integers(0, 1300))
def test_balance_is_never_negative_and_adds_up(
    evs: list[tuple[str, int, int, str]], day: int
) -> None:
    entries = _entries(evs)
    if not entries:
        return
    p = Prepared.build(columns_from_entries(entries), POLICY)
    t = ts("2024-01-01") + day * DAY
    for i in range(len(p.columns.subjects)):
        w = standing(p, i, t).scores[0].wallet
        assert w is not None
        assert w.balance >= 0
        assert w.balance == pytest.approx(w.earned - w.redeemed - w.expired, abs=1e-6)
        assert w.shortfall >= 0 and w.forfeited >= 0


@settings(max_examples=40, deadline=None)
@given(evs=events, day=st.integers(0, 1300))
def test_bulk_agrees_with_single_subject(evs: list[tuple[str, int, int, str]], day: int) -> None:
    entries = _entries(evs)
    if not entries:
        return
    p = Prepared.build(columns_from_entries(entries), POLICY)
    t = ts("2024-01-01") + day * DAY
    bulk = bulk_standings(p, t)
    for i in range(len(p.columns.subjects)):
        s = standing(p, i, t)
        assert bulk.scores[0][i] == pytest.approx(s.scores[0].value)
        assert bulk.grade_name(i, 0) == s.scores[0].grade
        assert bool(bulk.measures[0, i]) == bool(s.measures)


@settings(max_examples=60, deadline=None)
@given(evs=events, day=st.integers(0, 1300))
def test_wallets_that_spend_nothing_are_worked_out_alike_together_and_one_by_one(
    evs: list[tuple[str, int, int, str]], day: int
) -> None:
    entries = _entries([e for e in evs if e[0] != "spend"])
    if not entries:
        return
    cols = columns_from_entries(entries)
    code = np.array([POLICY.type_code[t] for t in cols.rec_type], dtype=np.int64)
    group = cols.rec_subject.astype(np.int64)
    at = np.full(len(cols.subjects), ts("2024-01-01") + day * DAY, dtype=np.int64)
    happened = np.ones(len(code), dtype=bool)
    for policy in VARIANTS:
        wallet = policy.scores[0].wallet
        assert wallet is not None
        args = (policy, wallet, code, cols.rec_amount, group, cols.rec_occurred_at)
        fast = run_wallets(*args, happened, at)
        slow = run_wallets(*args, happened, at, vectorised=False)
        for name in WalletTotals.__dataclass_fields__:
            assert np.allclose(getattr(fast, name), getattr(slow, name)), (name, wallet.caps)


def test_time_travel_gives_the_balance_known_then() -> None:
    late = {**rec("p1", "purchase", "2024-01-10", 120), "recorded_at": ts("2024-03-01")}
    entries = [late, rec("b1", "bonus", "2024-02-01")]
    assert wallet_at(entries, "2024-02-15").balance == 5  # the purchase not yet known
    w = wallet_at(entries, "2024-03-02")
    assert (w.balance, w.earned) == (65, 65)  # known now, earned when it occurred
    assert w.next_expiry == ts("2025-01-10")
