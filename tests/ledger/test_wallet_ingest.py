"""Ingesting into a points wallet: a redemption the balance at its time cannot cover is
rejected with its true line number and the balance; a later redemption is judged without
the rejected one; an amount the wallet needs is required (both databases)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import orjson

from socialcredit.engine import Engine
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import compile_policy, parse_policy
from socialcredit.timeutil import parse_timestamp
from tests.scoring.wallet_policy import WALLET_POLICY

NOW = parse_timestamp("2026-01-01")
LOADED = parse_policy(WALLET_POLICY, "wallet-test.yaml")
RULES = IngestRules.from_policy(LOADED.policy)


def rec(eid: str, typ: str, when: str, amount: float | None, who: str = "ann") -> dict[str, Any]:
    out: dict[str, Any] = {"id": eid, "source": "shop", "subject": who, "type": typ}
    out["occurred_at"] = when
    if amount is not None:
        out["amount"] = amount
    return out


def test_redemptions_beyond_the_balance_are_rejected_with_their_line(ledger: Ledger) -> None:
    lines = [
        rec("p1", "purchase", "2025-01-10", 120),  # 1: earns 60
        rec("s1", "spend", "2025-02-01", 50),  # 2: fine, 10 left
        rec("s2", "spend", "2025-02-02", 30),  # 3: 10 left: rejected
        rec("s3", "spend", "2025-02-03", 10),  # 4: covered once line 3 is rejected
        rec("p2", "purchase", "2025-03-01", None),  # 5: no amount
        rec("s4", "spend", "2025-03-02", -5),  # 6: a negative redemption
        rec("s5", "spend", "2025-02-05", 1, who="bob"),  # 7: bob has nothing
    ]
    result = ledger.ingest_entries(lines, rules=RULES, now=NOW)
    got = {p.line: (p.field, p.message) for p in result.problems}
    assert sorted(got) == [3, 5, 6, 7], got
    field, message = got[3]
    assert field == "amount"
    assert message.startswith(
        "redeems 30 points from wallet 'points' on 2025-02-02T00:00:00Z, but the balance "
        "then was 10 points"
    )
    assert got[5] == (
        "amount",
        "a positive amount is required: wallet 'points' pays 0.5 points per unit of it (got none)",
    )
    assert got[6][0] == "amount" and "(got -5)" in got[6][1]
    assert "the balance then was 0 points" in got[7][1]
    assert result.accepted == 3

    engine = Engine(ledger, lambda: NOW, policy=compile_policy(LOADED))
    wallet = engine.standing("ann", NOW).scores[0].wallet
    assert wallet is not None
    assert (wallet.earned, wallet.redeemed, wallet.balance) == (60, 60, 0)


def test_a_later_file_cannot_overdraw_what_an_earlier_one_left(ledger: Ledger) -> None:
    first = [rec("p1", "purchase", "2025-01-10", 40), rec("s1", "spend", "2025-01-11", 15)]
    assert not ledger.ingest_entries(first, rules=RULES, now=NOW).problems
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "more.jsonl"
        more = [
            rec("x", "bonus", "2025-01-12", None),  # +5: 10 left
            rec("s2", "spend", "2025-01-13", 11),  # line 2: one too many
        ]
        path.write_bytes(b"".join(orjson.dumps(m) + b"\n" for m in more))
        result = ledger.ingest_file(str(path), rules=RULES, now=NOW)
    [problem] = result.problems
    assert (problem.line, problem.field) == (2, "amount")
    assert "the balance then was 10 points" in problem.message
    assert result.accepted == 1
