"""Ratings under a policy with a rating score (electoral-credit.yaml): nobody rates
themselves, a rating needs an amount within the range; a citizen may rate again (the later
rating replaces the earlier when scored)."""

from __future__ import annotations

from typing import Any

from socialcredit.examples import example_policy
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import load_policy
from socialcredit.timeutil import parse_timestamp

NOW = parse_timestamp("2026-01-01")
RULES = IngestRules.from_policy(load_policy(example_policy("electoral-credit")).policy)


def rating(rid: str, citizen: str, candidate: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "source": citizen,
        "subject": candidate,
        "type": "candidate_rating",
        "occurred_at": "2025-03-01",
        "amount": 4,
        **extra,
    }


def test_a_rating_of_oneself_or_out_of_range_is_rejected_with_its_reason(ledger: Ledger) -> None:
    result = ledger.ingest_entries(
        [
            rating("1", "c1", "K1"),
            rating("2", "K1", "K1"),
            rating("3", "c2", "K1", amount=6),
            {k: v for k, v in rating("4", "c3", "K1").items() if k != "amount"},
            rating("5", "c1", "K1", occurred_at="2025-06-01", amount=2),  # rates again
        ],
        rules=RULES,
        now=NOW,
    )
    assert (result.accepted, result.rejected) == (2, 3)
    by_line = {p.line: (p.field, p.message) for p in result.problems}
    assert by_line[2] == (
        "source",
        "a candidate_rating record rates its own subject ('K1' is both the source and the "
        "subject): nobody rates themselves",
    )
    assert by_line[3] == (
        "amount",
        "a candidate_rating record gives its rating in amount, from 1 to 5; got 6",
    )
    assert by_line[4][1].endswith("got no amount")


def test_without_a_policy_ratings_are_not_checked(ledger: Ledger) -> None:
    result = ledger.ingest_entries([rating("2", "K1", "K1")], now=NOW)
    assert result.accepted == 1
