"""A line missing several required fields is refused naming every one of them (file, line,
fields), not only the first a check meets; a line missing one names that one as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.ledger import Ledger
from socialcredit.ledger.entries import EntryError, validate_entry
from socialcredit.timeutil import parse_timestamp

NOW = parse_timestamp("2026-01-01")

# a complete line of each kind, in CSV columns; the fields each requires
COMPLETE = {
    "record": {"subject": "p1", "type": "debt", "occurred_at": "2025-01-01"},
    "relation": {
        "subject": "p1",
        "relation": "employs",
        "related_subject": "p2",
        "valid_from": "2025-01-01",
    },
    "dispute": {"target_source": "court", "target_id": "r1", "occurred_at": "2025-02-01"},
    "extend": {
        "target_source": "court",
        "target_id": "r1",
        "occurred_at": "2025-02-01",
        "by": "P1M",
    },
    "exemption": {
        "subject": "p1",
        "services": "rail",
        "valid_from": "2025-01-01",
        "reason": "medical",
        "approved_by": "clerk",
    },
    "attribute": {
        "subject": "p1",
        "attribute": "born",
        "value": "1990-01-01",
        "valid_from": "2025-01-01",
    },
}


def test_a_csv_line_missing_several_fields_names_them_all(
    sqlite_ledger: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "missing.csv"
    path.write_text(
        "kind,id,source,subject,type,occurred_at\n"
        "record,r1,,,,\n"  # source, subject, type and occurred_at missing
        "record,r2,court,p1,,\n"  # type and occurred_at
        "record,r3,court,p1,debt,\n"  # only occurred_at: as before
        "record,r4,court,p1,debt,2025-01-01\n"
    )
    result = sqlite_ledger.ingest_file(str(path), now=NOW)
    assert result.accepted == 1
    shown = [str(p) for p in result.problems]
    assert shown == [
        f"{path}:2: source, type, occurred_at, subject: are required",
        f"{path}:3: type, occurred_at: are required",
        f"{path}:4: occurred_at: is required (an ISO 8601 date or date-time)",
    ]


def test_a_header_without_several_required_columns(sqlite_ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("id,source\nr1,court\n")
    result = sqlite_ledger.ingest_file(str(path), now=NOW)
    (problem,) = result.problems
    assert (problem.line, problem.field) == (2, "type, occurred_at, subject")


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(sorted(COMPLETE)),
    drop=st.sets(
        st.sampled_from(["source", "id", *sorted({f for v in COMPLETE.values() for f in v})])
    ),
)
def test_every_missing_required_field_is_named(kind: str, drop: set[str]) -> None:
    line = {"kind": kind, "id": "x1", "source": "court", **COMPLETE[kind]}
    wanted = [f for f in line if f in drop and f != "kind"]
    for field in wanted:
        line[field] = ""
    if not wanted:
        validate_entry(line, None, NOW)  # complete: accepted
        return
    with pytest.raises(EntryError) as caught:
        validate_entry(line, None, NOW)
    named = caught.value.field.split(", ")
    assert sorted(named) == sorted(wanted)
    if len(wanted) == 1:
        assert "is required" in caught.value.reason
    else:
        assert caught.value.reason == "are required"
