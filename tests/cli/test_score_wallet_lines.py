"""``score`` on a points wallet says each record as what it did in the wallet, in one true
sentence: what it earned (all, part of it under a cap, or nothing), what it spent, on which
date, and when the wallet's rule lets its points expire — not the record type's own term.
The old breakdown row ("points +0, counts +10.00, expired") said a record that earned 10
points had expired, and gave a Mynapoint record's one-year term as when its points expire
(they last two years). Expected sentences worked out by hand from the policies' rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from socialcredit.engine import Engine
from socialcredit.examples import example_policy
from socialcredit.ledger import Ledger
from socialcredit.policy import load_policy
from socialcredit.timeutil import parse_timestamp
from socialcredit.wallet_lines import wallet_lines
from tests.cli.conftest import call


def _said(db: str, at: str) -> list[str]:
    """What each of ann's records did in the wallet, as ``score`` says it."""
    t = parse_timestamp(at)
    with Ledger.open(db) as ledger:
        engine = Engine.open(ledger, lambda: t)
        st = engine.standing("ann", t)
        policy = engine.policy_at(t)
    return [s for s in wallet_lines(policy, st.breakdown, t) if s is not None]


def _ledger(where: Path, policy: str, start: str, entries: list[dict[str, Any]]) -> str:
    loaded = load_policy(example_policy(policy))
    db = str(where / "w.db")
    with Ledger.open(db) as ledger:
        ledger.upgrade()
        p = loaded.policy
        ledger.activate_policy(
            loaded.text,
            p.policy,
            p.version,
            loaded.content_hash,
            parse_timestamp(start),
            "test",
            now=parse_timestamp("2026-01-01"),
            backfill=True,
        )
        result = ledger.ingest_entries(entries, now=parse_timestamp("2026-01-01"), backfill=True)
        assert result.rejected == 0, result.problems
    return db


def _entry(n: int, type_: str, day: str, **extra: Any) -> dict[str, Any]:
    when = f"{day}T12:00:00Z"
    return {
        "id": f"e{n}",
        "source": "app",
        "subject": "ann",
        "type": type_,
        "occurred_at": when,
        "recorded_at": when,
        **extra,
    }


def test_carrot_records_say_what_they_earned_spent_and_when_points_expire(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 19 step goals (10 points each: 190) on 1-19 January, a quiz (20) on the 20th of
    # which the cap of 200 a month lets 10 through, a step goal on the 21st that earns
    # nothing; 100 points redeemed on 1 February
    entries = [_entry(d, "daily_step_goal", f"2018-01-{d:02d}") for d in range(1, 20)]
    entries += [
        _entry(20, "health_quiz", "2018-01-20"),
        _entry(21, "daily_step_goal", "2018-01-21"),
        _entry(22, "points_redeemed", "2018-02-01", amount=100),
    ]
    db = _ledger(tmp_path, "carrot-rewards", "2017-10-01", entries)
    said = _said(db, "2019-01-10")
    assert len(said) == len(entries)
    for sentence in (
        # the points of 5 January expired a year later; those of the 19th not yet
        "Earned 10 points in Carrot points on 2018-01-05; any of them still unspent "
        "expired on 2019-01-05.",
        "Earned 10 points in Carrot points on 2018-01-19; any of them still unspent "
        "expire on 2019-01-19.",
        "Earned 10 of its 20 points in Carrot points on 2018-01-20 (the cap of 200 points "
        "a month was reached); any of them still unspent expire on 2019-01-20.",
        "Earned nothing in Carrot points on 2018-01-21: the cap of 200 points a month was "
        "already reached.",
        "Spent 100 points from Carrot points on 2018-02-01.",
    ):
        assert sentence in said, (sentence, said)
    code, out, err = call(capsys, "score", "ann", "--db", db, "--at", "2019-01-10")
    assert code == 0, err
    assert "wallet records" in out and "Spent 100 points" in " ".join(out.split())
    assert "breakdown (base" not in out and "+10.00" not in out


def test_mynapoint_points_expire_by_the_wallets_rule_not_the_records_term(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a cashless payment of 1,000 yen earns 25 % back (250 yen) in Mynapoint, whose points
    # last 2 years; the record itself is kept 1 year (its term ended on 2021-10-01)
    db = _ledger(
        tmp_path,
        "mynumber-points",
        "2020-09-01",
        [_entry(1, "cashless_payment", "2020-10-01", amount=1000)],
    )
    assert _said(db, "2022-01-01") == [
        "Earned 250 yen in Mynapoint on 2020-10-01; any of them still unspent expire on 2022-10-01."
    ]
    code, out, err = call(capsys, "score", "ann", "--db", db, "--at", "2022-01-01")
    assert code == 0, err
    assert "2021-10-01" not in out  # the record's own term is not said as the points' end


def test_a_wallet_score_of_thousands_is_said_with_separators(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 19 step goals (10 points each) on the 1st-19th of six months: 1,140 points, none
    # redeemed or expired by July; the score is the wallet's balance, said as the wallet
    # sentence says it (it was "1140" in the first sentence and "1,140" in the next)
    entries = [
        _entry(m * 100 + d, "daily_step_goal", f"2018-{m:02d}-{d:02d}")
        for m in range(1, 7)
        for d in range(1, 20)
    ]
    db = _ledger(tmp_path, "carrot-rewards", "2017-10-01", entries)
    code, out, err = call(capsys, "explain", "ann", "--db", db, "--at", "2018-07-01")
    assert code == 0, err
    assert "your score (Carrot points) is 1,140 (grade" in out
    assert "a balance of 1,140 points" in out
    assert "1140" not in out
    code, out, err = call(capsys, "score", "ann", "--db", db, "--at", "2018-07-01")
    assert code == 0, err
    assert "score 1,140, grade" in out and "1140" not in out
