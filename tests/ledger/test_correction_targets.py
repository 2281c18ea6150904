"""What a correction may point at, and when (issue 6, item 16): not at a time before its
record occurred, and not at another correction (said as such, with the record to name)."""

from __future__ import annotations

from typing import Any

import pytest

from socialcredit.ledger import Ledger
from socialcredit.timeutil import parse_timestamp

NOW = parse_timestamp("2026-01-01")
RECORD = {
    "id": "1",
    "source": "court",
    "subject": "a",
    "type": "debt",
    "occurred_at": "2025-01-01T12:00:00Z",
}


def correction(
    kind: str, entry_id: str, target: str, occurred: str, **extra: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": entry_id,
        "source": "court",
        "target_source": "court",
        "target_id": target,
        "occurred_at": occurred,
        **extra,
    }


@pytest.mark.parametrize("kind", ["resolve", "annul", "dispute", "uphold", "rectify"])
@pytest.mark.parametrize("same_input", [True, False])
def test_a_correction_dated_before_its_record_occurred_is_rejected(
    ledger: Ledger, kind: str, same_input: bool
) -> None:
    extra = {"amount": 5} if kind == "rectify" else {}
    early = correction(kind, "c1", "1", "2025-01-01T11:59:59Z", **extra)
    on_time = correction(kind, "c2", "1", "2025-01-01T12:00:00Z", **extra)
    if not same_input:
        ledger.ingest_entries([RECORD], now=NOW)
    result = ledger.ingest_entries(
        [RECORD, early, on_time] if same_input else [early, on_time], now=NOW
    )
    (problem,) = result.problems
    assert (problem.line, problem.field) == (2 if same_input else 1, "occurred_at")
    assert problem.message == (
        f"2025-01-01T11:59:59Z is before court/1 occurred (2025-01-01T12:00:00Z): "
        f"{'an' if kind in ('annul', 'uphold') else 'a'} {kind} cannot precede the record it "
        "corrects"
    )
    assert ledger.count_entries() == 2


@pytest.mark.parametrize("same_input", [True, False])
def test_an_uphold_of_a_dispute_says_it_targets_a_correction(
    ledger: Ledger, same_input: bool
) -> None:
    dispute = correction("dispute", "d1", "1", "2025-02-01")
    uphold = correction("uphold", "u1", "d1", "2025-03-01")
    lines = [RECORD, dispute, uphold]
    if not same_input:
        ledger.ingest_entries(lines[:2], now=NOW)
        lines = lines[2:]
    result = ledger.ingest_entries(lines, now=NOW)
    (problem,) = result.problems
    assert (problem.line, problem.field) == (len(lines), "target_id")
    assert problem.message == (
        "court/d1 is a dispute entry (a correction of court/1), not a record; only records "
        "can be upheld: to uphold that record, give target_source court and target_id 1"
    )
    assert "no entry" not in problem.message
    fixed = ledger.ingest_entries([{**uphold, "target_id": "1"}], now=NOW)
    assert (fixed.accepted, fixed.rejected) == (1, 0)


def test_a_relation_can_be_annulled_but_not_resolved(ledger: Ledger) -> None:
    relation = {
        "kind": "relation",
        "id": "r1",
        "source": "court",
        "subject": "kid",
        "relation": "child_of",
        "related_subject": "a",
        "valid_from": "2010-01-01",
    }
    result = ledger.ingest_entries(
        [
            relation,
            correction("resolve", "x1", "r1", "2025-01-01"),
            correction("annul", "x2", "r1", "2005-01-01"),  # before valid_from: allowed
        ],
        now=NOW,
    )
    (problem,) = result.problems
    assert problem.message == (
        "court/r1 is a relation entry; a relation can be annulled, not resolved"
    )
    assert result.accepted == 2


def test_a_rectify_cannot_give_a_record_a_type_for_the_other_kind(ledger: Ledger) -> None:
    from socialcredit.ledger import IngestRules

    rules = IngestRules.for_record_types(
        {"debt": ["person", "organisation"], "pers": ["person"], "org": ["organisation"]}
    )
    company = {**RECORD, "subject": "acme", "subject_kind": "organisation"}
    result = ledger.ingest_entries(
        [
            company,
            correction("rectify", "x1", "1", "2025-02-01", type="pers"),
            correction("rectify", "x2", "1", "2025-02-01", type="org"),
        ],
        rules=rules,
        now=NOW,
    )
    (problem,) = result.problems
    assert (problem.line, problem.field) == (2, "type")
    assert problem.message == (
        "record type 'pers' applies to person subjects only; acme is recorded as an "
        "organisation since line 1 of this input"
    )
    assert result.accepted == 2
