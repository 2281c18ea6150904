"""Values at and beyond what the ledger can store: refused per line, with line and field,
before writing; what the database still refuses costs only its own line (issue 6, items 1
and 3). Every test ends by reading the ledger back as ``score`` and ``export`` do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from socialcredit.engine import Engine
from socialcredit.ledger import Ledger
from socialcredit.ledger.refusals import insert_keeping
from socialcredit.policy import parse_policy
from socialcredit.timeutil import MAX_TIME, MIN_TIME, TimeFormatError, parse_timestamp, to_iso

from ..conftest import TEST_POLICY

NOW = parse_timestamp("2026-01-01")


def record(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(i),
        "source": "court",
        "subject": f"p{i % 50}",
        "type": "debt",
        "occurred_at": "2025-01-01",
        **extra,
    }


def relation(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "relation",
        "id": f"r{i}",
        "source": "registry",
        "subject": f"kid{i}",
        "relation": "child_of",
        "related_subject": f"p{i % 50}",
        "valid_from": "2010-01-01",
        **extra,
    }


def write(path: Path, entries: list[dict[str, Any]]) -> str:
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in entries))
    return str(path)


def reads_back(ledger: Ledger, at: int = NOW) -> int:
    """Everything ``score``, ``check``, ``explain`` and ``export`` read works; returns the
    number of entries exported."""
    if ledger.active_policy() is None:
        loaded = parse_policy(TEST_POLICY)
        ledger.activate_policy(
            loaded.text,
            loaded.policy.policy,
            loaded.policy.version,
            loaded.content_hash,
            MIN_TIME,
            now=MIN_TIME,
        )
    engine = Engine.open(ledger, lambda: at)
    bulk = engine.recompute(at)
    assert len(bulk.subjects) == len(ledger.subject_names())
    for name in ledger.subject_names()[:20]:
        engine.standing(name, at)
        engine.explain(name, "air_travel", at)
        engine.check(name, "air_travel", at)
    exported = list(ledger.iter_entries())
    for entry in exported:  # every time written back is one ingestion reads
        for key, value in entry.items():
            if key.endswith(("_at", "_from", "_until")):
                assert parse_timestamp(value) is not None
    return len(exported)


# ---------------------------------------------------------------------- item 1


BAD_VALUES: list[tuple[dict[str, Any], str]] = [
    (relation(0, valid_until=18446744073709551615), "valid_until"),
    (record(0, subject="nul\u0000name"), "subject"),
    (record(0, evidence="case\u00007"), "evidence"),
    (record(0, source="co\u0000urt"), "source"),
    (record(0, amount=1e308), "amount"),
    (record(0, amount=18446744073709551615), "amount"),
    (record(0, amount=1e16), "amount"),
    (relation(0, relation="child\u0000of"), "relation"),
    ({**record(0), "id": 2**64 - 1}, "id"),
    (
        {
            "kind": "resolve",
            "id": "x",
            "source": "court",
            "target_source": "court",
            "target_id": "0",
            "occurred_at": "2025-06-01",
            "reason": "paid\u0000",
        },
        "reason",
    ),
]


@pytest.mark.parametrize("bad, field", BAD_VALUES, ids=[f for _, f in BAD_VALUES])
def test_a_value_the_database_cannot_store_loses_only_its_line(
    ledger: Ledger, tmp_path: Path, bad: dict[str, Any], field: str
) -> None:
    good = [record(i) for i in range(1, 1001)]
    bad = {**bad, "id": bad["id"] if field == "id" else "bad"}
    entries = [*good[:500], bad, *good[500:]]
    result = ledger.ingest_file(write(tmp_path / "in.jsonl", entries), now=NOW)
    assert (result.accepted, result.rejected) == (1000, 1)
    problem = result.problems[0]
    assert (problem.line, problem.field) == (501, field), str(problem)
    assert ledger.count_entries() == 1000
    assert reads_back(ledger) == 1000


def test_text_that_is_not_valid_unicode_is_refused_by_the_api(ledger: Ledger) -> None:
    result = ledger.ingest_entries([record(1), record(2, subject="lone\ud800"), record(3)], now=NOW)
    assert (result.accepted, result.rejected) == (2, 1)
    assert (result.problems[0].line, result.problems[0].field) == (2, "subject")
    assert "surrogate" in result.problems[0].message


def _refuse_evidence(ledger: Ledger, column: str, value: str) -> None:
    """A trigger in this test's database that refuses entries (or subjects) whose
    ``column`` is ``value``: a real refusal by the database that no check of ours knows."""
    table = "subjects" if column == "name" else "entries"
    with ledger.engine.begin() as conn:
        if ledger.is_sqlite:
            conn.exec_driver_sql(
                f"CREATE TRIGGER refuse_it BEFORE INSERT ON {table} "
                f"WHEN NEW.{column} = '{value}' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the operator''s rule'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse_it() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.{column} = '{value}' THEN RAISE EXCEPTION "
                "'refused by the operator''s rule' USING ERRCODE = 'check_violation'; "
                "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                f"CREATE TRIGGER refuse_it BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_it()"
            )


def test_a_line_the_database_refuses_is_found_and_the_rest_kept(
    ledger: Ledger, tmp_path: Path
) -> None:
    _refuse_evidence(ledger, "evidence", "refuse")
    entries = [record(i) for i in range(1, 3001)]
    entries[1499] = record(1500, evidence="refuse")  # line 1500, in the middle of the chunk
    entries[2999] = record(3000, evidence="refuse")  # and the last line
    entries.append(  # a correction of a refused line: its target never got in
        {
            "kind": "resolve",
            "id": "c1",
            "source": "court",
            "target_source": "court",
            "target_id": "1500",
            "occurred_at": "2025-06-01",
        }
    )
    entries.append({**record(1500, evidence="refuse")})  # repeats the refused line
    result = ledger.ingest_file(write(tmp_path / "in.jsonl", entries), now=NOW)
    assert result.accepted == 2998
    assert [(p.line, p.field) for p in result.problems] == [
        (1500, ""),
        (3000, ""),
        (3001, "target_id"),
        (3002, "id"),
    ]
    assert "the database refused this line" in result.problems[0].message
    assert "refused by the operator's rule" in result.problems[0].message
    assert result.lines == result.accepted + result.rejected
    assert ledger.count_entries() == 2998
    assert reads_back(ledger) == 2998
    # the same file again: everything kept is a duplicate, the refused lines again refused
    again = ledger.ingest_file(write(tmp_path / "in.jsonl", entries), now=NOW)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 2998, 4)


def test_a_subject_the_database_refuses_loses_only_the_lines_naming_it(
    ledger: Ledger, tmp_path: Path
) -> None:
    _refuse_evidence(ledger, "name", "p7")
    entries = [record(i) for i in range(1, 1001)] + [relation(1), relation(7)]
    result = ledger.ingest_file(write(tmp_path / "in.jsonl", entries), now=NOW)
    refused = [p.line for p in result.problems]
    assert refused == [i for i in range(1, 1001) if i % 50 == 7] + [1002]
    assert all("subject p7" in p.message for p in result.problems)
    assert result.accepted == 1002 - len(refused)
    assert "p7" not in ledger.subject_names() and "kid7" not in ledger.subject_names()
    assert reads_back(ledger) == result.accepted


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1])
def test_bisection_keeps_the_rows_the_driver_takes(ledger: Ledger, value: int) -> None:
    """A value no check stopped (here handed straight to the insert): the driver or server
    refuses it (sqlite3: OverflowError; PostgreSQL: numeric value out of range)."""
    p = "?" if ledger.is_sqlite else "%s"
    rows = [(f"s{i}", i) for i in range(200)]
    rows[101] = ("s101", value)
    sql = f"INSERT INTO ingest_batches (origin, started_at, lines, accepted, duplicates, rejected) VALUES ({p}, {p}, 0, 0, 0, 0)"
    refused: list[tuple[Any, str]] = []
    with ledger.engine.connect() as conn:
        count, kept = insert_keeping(conn, sql, rows, lambda row, why: refused.append((row, why)))
        conn.commit()
        stored = conn.execute(sa.text("SELECT origin FROM ingest_batches ORDER BY id")).scalars()
        assert list(stored) == [r[0] for r in kept]
    assert count == 199 and len(kept) == 199 and [r for r, _ in refused] == [("s101", value)]


# ---------------------------------------------------------------------- item 3

OUT_OF_RANGE: list[tuple[dict[str, Any], str]] = [
    (record(0, occurred_at="0001-01-01T00:00:00+01:00"), "occurred_at"),
    (record(0, occurred_at="0999-12-31T23:59:59Z"), "occurred_at"),
    (record(0, occurred_at=-9000000000000000000), "occurred_at"),
    (record(0, occurred_at=MIN_TIME - 1), "occurred_at"),
    (record(0, recorded_at="0500-01-01"), "recorded_at"),
    (relation(0, valid_until="9999-12-31T23:59:59-14:00"), "valid_until"),
    (relation(0, valid_from="0001-01-01"), "valid_from"),
    (relation(0, valid_until=MAX_TIME + 1), "valid_until"),
    (
        {
            "kind": "rectify",
            "id": "x",
            "source": "court",
            "target_source": "court",
            "target_id": "1",
            "occurred_at": "2025-06-01",
            "corrected_occurred_at": "0001-01-01T00:00:00Z",
        },
        "corrected_occurred_at",
    ),
    (
        {
            "kind": "annul",
            "id": "x",
            "source": "court",
            "target_source": "court",
            "target_id": "1",
            "occurred_at": -(2**62),
        },
        "occurred_at",
    ),
]


@pytest.mark.parametrize("bad, field", OUT_OF_RANGE, ids=[str(i) for i in range(len(OUT_OF_RANGE))])
def test_times_outside_the_supported_range_are_refused(
    ledger: Ledger, bad: dict[str, Any], field: str
) -> None:
    result = ledger.ingest_entries([record(1), bad, record(2)], now=NOW)
    assert (result.accepted, result.rejected) == (2, 1)
    problem = result.problems[0]
    assert (problem.line, problem.field) == (2, field)
    assert "outside the times the ledger supports" in problem.message
    assert "1000-01-01T00:00:00Z to 9999-12-31T23:59:59Z" in problem.message
    assert reads_back(ledger) == 2


def test_the_ends_of_the_range_are_accepted_and_read_back(ledger: Ledger) -> None:
    entries = [
        record(1, occurred_at="1000-01-01T00:00:00Z", recorded_at="1000-01-01T00:00:00Z"),
        record(2, occurred_at="1000-01-01T05:00:00+05:00", amount=1e15),
        record(3, occurred_at=MIN_TIME, amount=-1e15),
        relation(1, valid_from="1000-01-01", valid_until="9999-12-31T23:59:59Z"),
        relation(2, valid_from=MIN_TIME, valid_until=MAX_TIME),
        {
            "kind": "rectify",
            "id": "x",
            "source": "court",
            "target_source": "court",
            "target_id": "1",
            "occurred_at": "2025-06-01",
            "corrected_occurred_at": "1000-01-01",
        },
    ]
    result = ledger.ingest_entries(entries, now=NOW)
    assert (result.accepted, result.rejected) == (6, 0), result.problems
    for at in (MIN_TIME, NOW, MAX_TIME):
        assert reads_back(ledger, at) == 6
    exported = list(ledger.iter_entries())
    assert exported[0]["occurred_at"] == "1000-01-01T00:00:00Z"
    until = [e["valid_until"] for e in exported if e["kind"] == "relation"]
    assert until == ["9999-12-31T23:59:59Z"] * 2


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+01:00",
        "0999-12-31",
        "9999-12-31T23:59:59-14:00",
        "-9000000000000000000",
    ],
)
def test_parse_timestamp_is_bounded_like_ingestion(text: str) -> None:
    value: str | int = int(text) if text.lstrip("-").isdigit() else text
    with pytest.raises(TimeFormatError, match="outside the supported range"):
        parse_timestamp(value)


def test_iso_text_has_four_digit_years_and_never_fails() -> None:
    assert to_iso(MIN_TIME) == "1000-01-01T00:00:00Z"
    assert to_iso(MAX_TIME) == "9999-12-31T23:59:59Z"
    assert to_iso(parse_timestamp("1000-03-01") - 86_400 * 300) == "0999-05-05T00:00:00Z"
    assert to_iso(MAX_TIME + 1) == "+10000-01-01T00:00:00Z"  # computed ends, past 9999
    assert to_iso(-(2**61)) is not None
