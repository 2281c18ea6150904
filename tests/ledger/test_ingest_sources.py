"""Ingestion restricted to one submitting source (issue 8, item 2): every line of another
source, or of anything the policy's ``sources:`` section does not let that source submit, is
rejected with its line number, field and reason; everything else is accepted exactly as
without the restriction. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import parse_policy
from socialcredit.timeutil import parse_timestamp
from tests.conftest import TEST_POLICY
from tests.policy.test_sources_language import POLICY

NOW = parse_timestamp("2026-01-01")
PARSED = parse_policy(POLICY).policy
COURT = IngestRules.from_policy(PARSED, submitter="court")
OPEN = IngestRules.from_policy(PARSED)


def record(rid: str, source: str = "court", type_: str = "debt", **extra: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "source": source,
        "subject": extra.pop("subject", "alice"),
        "type": type_,
        "occurred_at": "2025-01-01",
        **extra,
    }


def correction(
    kind: str, rid: str, target_source: str, target_id: str, **extra: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": rid,
        "source": extra.pop("source", "court"),
        "target_source": target_source,
        "target_id": target_id,
        "occurred_at": "2025-06-01",
        **extra,
    }


def test_each_kind_of_line_under_a_source_restriction(ledger: Ledger) -> None:
    # what the others submitted earlier, unrestricted (the operator's load)
    earlier = [record("f1", "transit-police", "fine"), record("m1", "transit-police", "misconduct")]
    assert ledger.ingest_entries(earlier, rules=OPEN, now=NOW).accepted == 2
    lines = [
        record("d1"),  # 1: accepted
        record("f2", type_="fine"),  # 2: a type the court may not submit
        record("f3", "transit-police", "fine"),  # 3: another source's
        correction("resolve", "r1", "court", "d1"),  # 4: its own record
        correction("annul", "a1", "transit-police", "f1"),  # 5: another source's record
        correction("dispute", "x1", "court", "d1"),  # 6: the subject's act
        correction("uphold", "u1", "court", "d1"),  # 7: a reviewer's act
        correction("rectify", "c1", "court", "d1", amount=10),  # 8: its own record
        correction("rectify", "c2", "court", "d1", type="fine"),  # 9: to a type it may not submit
        {
            "kind": "relation",
            "id": "h1",
            "source": "court",
            "subject": "kid",
            "relation": "child_of",
            "related_subject": "alice",
            "valid_from": "2020-01-01",
        },  # 10: a relation it may record
        {
            "kind": "exemption",
            "id": "e1",
            "source": "court",
            "subject": "alice",
            "services": ["air_travel", "rail"],
            "valid_from": "2025-02-01",
            "reason": "funeral",
            "approved_by": "judge",
        },  # 11: services it may exempt from
        {
            "kind": "exemption",
            "id": "e2",
            "source": "court",
            "subject": "alice",
            "services": "air_travel,bike_rental",
            "valid_from": "2025-02-01",
            "reason": "funeral",
            "approved_by": "judge",
        },  # 12: one service it may not
        record("d2", occurred_at="someday"),  # 13: bad anyway: the usual reason
        record("d1"),  # 14: a repeat of line 1: a duplicate, as always
    ]
    result = ledger.ingest_entries(lines, rules=COURT, now=NOW + 10)
    rejected = {p.line: (p.field, p.message) for p in result.problems}
    assert sorted(rejected) == [2, 3, 5, 6, 7, 9, 12, 13]
    assert rejected[2] == (
        "type",
        "'court' may not submit record type 'fine' under policy test-policy@1 (its record "
        "types: debt)",
    )
    assert rejected[3] == (
        "source",
        "is 'transit-police', not 'court': this submitter may submit only entries whose source "
        "is 'court'",
    )
    assert rejected[5] == (
        "target_source",
        "is 'transit-police': 'court' may annul only its own records",
    )
    assert rejected[6][0] == "kind" and "the subject disputes a record" in rejected[6][1]
    assert rejected[7][0] == "kind" and "a reviewer upholds, rectifies or annuls" in rejected[7][1]
    assert rejected[9][0] == "type"
    assert rejected[12] == (
        "services",
        "'court' may not grant exemptions from 'bike_rental' under policy test-policy@1 (it may "
        "from: air_travel, rail)",
    )
    assert rejected[13][0] == "occurred_at"
    assert (result.accepted, result.duplicates, result.rejected) == (5, 1, 8)
    stored = {(e["source"], e["id"]) for e in ledger.iter_entries()}
    assert stored == {
        ("transit-police", "f1"),
        ("transit-police", "m1"),
        ("court", "d1"),
        ("court", "r1"),
        ("court", "c1"),
        ("court", "h1"),
        ("court", "e1"),
    }


def test_an_undeclared_source_or_a_policy_without_sources_submits_nothing(ledger: Ledger) -> None:
    tax = IngestRules.from_policy(PARSED, submitter="tax")
    result = ledger.ingest_entries([record("t1", "tax")], rules=tax, now=NOW)
    assert result.accepted == 0
    assert [(p.line, p.field, p.message) for p in result.problems] == [
        (
            1,
            "source",
            "'tax' is not declared under sources in policy test-policy@1, so it may submit nothing",
        )
    ]
    plain = IngestRules.from_policy(parse_policy(TEST_POLICY).policy, submitter="court")
    result = ledger.ingest_entries([record("d1")], rules=plain, now=NOW)
    assert result.accepted == 0 and result.problems[0].field == "source"
    assert ledger.count_entries() == 0


def test_large_inputs_parsed_in_child_processes_are_restricted_too(tmp_path: Path) -> None:
    import orjson

    from socialcredit.ledger import store

    path = tmp_path / "big.jsonl"
    with path.open("wb") as out:
        for i in range(60_000):
            source, type_ = ("court", "debt") if i % 3 else ("transit-police", "fine")
            out.write(orjson.dumps(record(f"r{i}", source, type_, subject=f"p{i % 500}")) + b"\n")
    assert path.stat().st_size > store.PARALLEL_FROM_BYTES
    with Ledger.open(str(tmp_path / "l.db")) as ledger:
        ledger.upgrade()
        result = ledger.ingest_file(str(path), rules=COURT, now=NOW)
    assert result.rejected == 20_000 and result.accepted == 40_000
    assert {p.line for p in result.problems} == set(range(1, 60_001, 3))
    assert {p.field for p in result.problems} == {"source"}


SOURCES = st.sampled_from(["court", "transit-police", "ngo.volunteers"])
TYPES = st.sampled_from(["debt", "fine", "misconduct", "volunteering"])
KINDS = st.sampled_from(["resolve", "annul", "rectify", "extend", "end", "dispute", "uphold"])


@st.composite
def inputs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Records of any source and type, and corrections by any source of records of the
    court's that it may submit (which exist under the restriction too) or of others'."""
    lines: list[dict[str, Any]] = []
    targets: list[tuple[str, str]] = []
    for i in range(draw(st.integers(1, 12))):
        if targets and draw(st.booleans()):
            target_source, target_id = draw(st.sampled_from(targets))
            kind = draw(KINDS)
            extra: dict[str, Any] = {"source": draw(SOURCES), "reason": "x"}
            if kind == "extend":
                extra["by"] = "P1Y"
            if kind == "rectify":
                extra["amount"] = 5
            lines.append(correction(kind, f"c{i}", target_source, target_id, **extra))
        else:
            source, type_ = draw(SOURCES), draw(TYPES)
            lines.append(record(f"r{i}", source, type_, subject=f"s{draw(st.integers(0, 3))}"))
            if source != "court" or type_ == "debt":
                targets.append((source, f"r{i}"))
    return lines


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=inputs())
def test_a_restriction_rejects_exactly_what_the_source_may_not_submit(
    tmp_path_factory: pytest.TempPathFactory, lines: list[dict[str, Any]]
) -> None:
    court = PARSED.sources["court"]
    work = tmp_path_factory.mktemp("restricted")
    with Ledger.open(str(work / "open.db")) as free, Ledger.open(str(work / "court.db")) as held:
        free.upgrade()
        held.upgrade()
        unrestricted = free.ingest_entries(lines, rules=OPEN, now=NOW)
        restricted = held.ingest_entries(lines, rules=COURT, now=NOW)
        allowed = set()
        for number, line in enumerate(lines, start=1):
            kind = line.get("kind", "record")
            may = line["source"] == "court" and (
                line.get("type") in court.record_types
                if kind == "record"
                else kind not in ("dispute", "uphold") and line["target_source"] == "court"
            )
            if may:
                allowed.add(number)
        free_rejected = {p.line for p in unrestricted.problems}
        held_rejected = {p.line for p in restricted.problems}
        assert held_rejected == free_rejected | (set(range(1, len(lines) + 1)) - allowed)
        # the lines it may submit are stored exactly as without the restriction
        kept = {(line["source"], line["id"]) for n, line in enumerate(lines, 1) if n in allowed}
        assert list(held.iter_entries()) == [
            e for e in free.iter_entries() if (e["source"], e["id"]) in kept
        ]
