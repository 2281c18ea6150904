"""Ingestion's notes on disputes follow each record type's due process: its own appeal
window, and a reconsideration applied for after the review upheld the record."""

from __future__ import annotations

from typing import Any

from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import compile_policy, parse_policy
from socialcredit.scoring.rows import fold
from socialcredit.timeutil import parse_timestamp
from tests.scoring.test_due_process_per_type import POLICY

NOW = parse_timestamp("2026-01-01")
PARSED = parse_policy(POLICY, "process-test.yaml")
RULES = IngestRules.from_policy(PARSED.policy)


def rec(rid: str, type_: str) -> dict[str, Any]:
    return {
        "id": rid,
        "source": "s",
        "subject": "p",
        "type": type_,
        "occurred_at": "2025-01-01",
        "recorded_at": "2025-01-01",
    }


def fix(kind: str, rid: str, target: str, recorded_at: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": rid,
        "source": "s",
        "target_source": "s",
        "target_id": target,
        "occurred_at": "2025-01-01",
        "recorded_at": recorded_at,
    }


def test_the_appeal_window_is_the_record_types_own(ledger: Ledger) -> None:
    # fcra_item: 60 days (closes 2025-03-02); plain: the policy-wide 30 days (2025-01-31)
    result = ledger.ingest_entries(
        [
            rec("f", "fcra_item"),
            rec("p", "plain"),
            fix("dispute", "df", "f", "2025-02-20"),
            fix("dispute", "dp", "p", "2025-02-20"),
        ],
        rules=RULES,
        now=NOW,
        backfill=True,
    )
    assert result.accepted == 4
    assert [(n.line, n.message) for n in result.no_effect_lines] == [
        (
            4,
            "the dispute of s/p is recorded on 2025-02-20T00:00:00Z, after the appeal window "
            "closed on 2025-01-31T00:00:00Z: it is kept in the ledger but has no effect on the "
            "record",
        )
    ]
    rows, _ = fold(ledger.columns(), compile_policy(PARSED))
    assert rows.disputed[0] == parse_timestamp("2025-02-20")  # the fcra item: in time
    assert rows.dispute_late[1] == parse_timestamp("2025-02-20")


def test_reconsideration_on_day_10_is_not_noted_and_day_11_is(ledger: Ledger) -> None:
    ledger.ingest_entries(
        [
            rec("a", "staged_item"),
            rec("b", "staged_item"),
            fix("dispute", "da", "a", "2025-01-06"),
            fix("dispute", "db", "b", "2025-01-06"),
            fix("uphold", "ua", "a", "2025-01-13"),
            fix("uphold", "ub", "b", "2025-01-13"),
        ],
        rules=RULES,
        now=NOW,
        backfill=True,
    )
    result = ledger.ingest_entries(
        [
            fix("dispute", "ra", "a", "2025-01-23"),  # 10 days after the decision
            fix("dispute", "rb", "b", "2025-01-24"),  # 11 days after
        ],
        rules=RULES,
        now=NOW,
        backfill=True,
    )
    assert result.accepted == 2
    assert [(n.line, n.message) for n in result.no_effect_lines] == [
        (
            2,
            "the reconsideration of s/b is applied for on 2025-01-24T00:00:00Z, after the "
            "period to apply closed on 2025-01-23T00:00:00Z: it is kept in the ledger but has "
            "no effect on the record",
        )
    ]
    again = ledger.ingest_entries(
        [fix("dispute", "ra2", "a", "2025-01-23")], rules=RULES, now=NOW, backfill=True
    )
    assert [(n.line, n.message) for n in again.no_effect_lines] == [
        (
            1,
            "reconsideration of s/a was already applied for (by s/ra, recorded on "
            "2025-01-23T00:00:00Z): another dispute is kept in the ledger but has no effect",
        )
    ]
    rows, _ = fold(ledger.columns(), compile_policy(PARSED))
    assert rows.reconsidered[0] == parse_timestamp("2025-01-23")
    assert rows.reconsidered[1] > parse_timestamp("9000-01-01")


def test_a_reconsideration_in_the_same_file_as_the_review_is_not_noted(ledger: Ledger) -> None:
    # one file: disputed on 2025-01-06, upheld on 2025-01-13, reconsideration applied for on
    # 2025-01-20 (7 days after the decision, within the 10 to apply): the engine counts it as
    # the reconsideration, so ingest must not call it a second dispute without effect
    result = ledger.ingest_entries(
        [
            rec("a", "staged_item"),
            fix("dispute", "da", "a", "2025-01-06"),
            fix("uphold", "ua", "a", "2025-01-13"),
            fix("dispute", "ra", "a", "2025-01-20"),
            fix("dispute", "ra2", "a", "2025-01-21"),  # a second application: no effect
        ],
        rules=RULES,
        now=NOW,
        backfill=True,
    )
    assert result.accepted == 5
    assert [(n.line, n.message) for n in result.no_effect_lines] == [
        (
            5,
            "reconsideration of s/a was already applied for (by s/ra, recorded on "
            "2025-01-20T00:00:00Z): another dispute is kept in the ledger but has no effect",
        )
    ]
    rows, _ = fold(ledger.columns(), compile_policy(PARSED))
    assert rows.reconsidered[0] == parse_timestamp("2025-01-20")
