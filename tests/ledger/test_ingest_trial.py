"""Defects a newcomer's trial found in ingestion (round 2): each test failed before its fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from socialcredit.ledger import Ledger
from socialcredit.ledger.files import MAX_ROW_LINES, read_lines
from socialcredit.timeutil import TimeFormatError, parse_timestamp

NOW = parse_timestamp("2026-01-01")
HEADER = "id,source,subject,type,occurred_at"


def _problems(result: Any) -> dict[int, tuple[str, str]]:
    return {p.line: (p.field, p.message) for p in result.problems}


def _write(path: Path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n")
    return str(path)


# 1. an unterminated quote in CSV


def test_a_stray_quote_rejects_its_row_and_keeps_every_following_row(
    ledger: Ledger, tmp_path: Path
) -> None:
    lines = [HEADER] + [f"q{i},court,Q{i},fine,2025-01-10" for i in range(8)]
    lines[6] = '"' + lines[6]  # line 7
    result = ledger.ingest_file(_write(tmp_path / "q.csv", lines), now=NOW)
    assert result.accepted == 7
    assert _problems(result) == {
        7: (
            "",
            "unterminated quoted field starting at line 7 (the file ends inside it); "
            "reading resumes at line 8",
        )
    }
    assert sorted(ledger.columns().subjects) == sorted(f"Q{i}" for i in range(8) if i != 5)


def test_every_line_of_a_large_file_with_a_stray_quote_is_counted_once(tmp_path: Path) -> None:
    n = 20_000
    lines = [HEADER] + [f"q{i},court,Q{i},fine,2025-01-10" for i in range(n)]
    lines[6] = '"' + lines[6]
    seen = [
        (number, obj is not None, note)
        for number, obj, note in read_lines(_write(tmp_path / "big.csv", lines))
    ]
    assert [number for number, _, _ in seen] == list(range(2, n + 2))
    assert [(number, note) for number, ok, note in seen if not ok] == [
        (
            7,
            f"unterminated quoted field starting at line 7 (a row may span at most "
            f"{MAX_ROW_LINES} lines); reading resumes at line 8",
        )
    ]


def test_a_quote_closed_lines_later_is_reported_with_the_lines_it_spans(
    ledger: Ledger, tmp_path: Path
) -> None:
    lines = [
        HEADER + ",evidence",
        'a,court,A,fine,2025-01-10,"two\nlines"',  # lines 2-3: a good multi-line field
        '"b,court,B,fine,2025-01-10,x',  # line 4 opens a quote ...
        'c,court,C,fine,2025-01-10",y',  # ... line 5 closes it: 6 cells, identifier broken
        '"d,court,D,fine,2025-01-10,x',  # line 6 opens a quote ...
        'e",court,E,fine,2025-01-10,y',  # ... line 7 closes it: id with a line break
        "f,court,F,fine,2025-01-10,z",
    ]
    result = ledger.ingest_file(_write(tmp_path / "span.csv", lines), now=NOW)
    assert result.accepted == 2  # a and f
    got = _problems(result)
    assert got[4] == (
        "",
        "has 2 cells, the header has 6 (the row spans lines 4-5: a quoted field holds line "
        "breaks; is a quote unbalanced?)",
    )
    assert "the row spans lines 4-5" in got[4][1]
    assert got[6][0] == "id" and "the row spans lines 6-7" in got[6][1]
    assert set(got) == {4, 6}


# 2. a rectify's corrected time obeys the rules of occurred_at


@pytest.mark.parametrize(
    ("corrected", "message"),
    [
        (
            "2030-01-01",
            "2030-01-01T00:00:00Z is in the future (the ledger's clock is 2026-01-01T00:00:00Z)",
        ),
        ("0999-12-31", "outside the times the ledger supports"),
        ("12000-01-01", "outside the times the ledger supports"),
    ],
)
def test_a_rectify_cannot_move_a_record_out_of_the_allowed_times(
    ledger: Ledger, corrected: str, message: str
) -> None:
    record = {
        "id": "r",
        "source": "court",
        "subject": "s",
        "type": "fine",
        "occurred_at": "2025-01-01",
    }
    rectify = {
        "kind": "rectify",
        "id": "x",
        "source": "court",
        "target_source": "court",
        "target_id": "r",
        "occurred_at": "2025-02-01",
        "corrected_occurred_at": corrected,
    }
    result = ledger.ingest_entries([record, rectify], now=NOW)
    assert result.accepted == 1
    [(field, got)] = _problems(result).values()
    assert field == "corrected_occurred_at"
    assert message in got


def test_a_corrected_time_after_the_claimed_recording_is_refused(ledger: Ledger) -> None:
    rectify = {
        "kind": "rectify",
        "id": "x",
        "source": "court",
        "target_source": "court",
        "target_id": "r",
        "occurred_at": "2025-02-01",
        "recorded_at": "2025-03-01",
        "corrected_occurred_at": "2025-04-01",
    }
    result = ledger.ingest_entries([rectify], now=NOW)
    assert _problems(result) == {
        1: ("corrected_occurred_at", "is after recorded_at: a record cannot precede its event")
    }


# 3. a repeated JSON key


@pytest.mark.parametrize(
    "raw",
    [
        b'{"id":"1","source":"court","subject":"dupA","subject":"dupB","type":"fine",'
        b'"occurred_at":"2025-01-01"}',
        b'{"id":"1","source":"court","subject" : "dupA","type":"fine",'
        b'"occurred_at":"2025-01-01","subject":"dupB"}',
        b'{"id":"1","source":"court","subject":"dupA","type":"fine","evidence":"a, b, c",'
        b'"occurred_at":"2025-01-01","subject":"dupB"}',
    ],
)
def test_a_line_that_repeats_a_key_is_rejected_naming_it(
    ledger: Ledger, tmp_path: Path, raw: bytes
) -> None:
    good = orjson.dumps(
        {
            "id": "2",
            "source": "court",
            "subject": "ok",
            "type": "fine",
            "occurred_at": "2025-01-01",
            "evidence": "x, y",
        }
    )
    path = tmp_path / "dup.jsonl"
    path.write_bytes(raw + b"\n" + good + b"\n")
    result = ledger.ingest_file(str(path), now=NOW)
    assert result.accepted == 1
    assert _problems(result) == {
        1: ("subject", "'subject' is given twice on the line; give each field once")
    }
    assert ledger.columns().subjects == ["ok"]


# 4. blank identifiers


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (
            {
                "id": "1",
                "source": "court",
                "subject": "   ",
                "type": "fine",
                "occurred_at": "2025-01-01",
            },
            "subject",
        ),
        (
            {
                "id": "1",
                "source": "\t",
                "subject": "s",
                "type": "fine",
                "occurred_at": "2025-01-01",
            },
            "source",
        ),
        (
            {
                "id": " ",
                "source": "court",
                "subject": "s",
                "type": "fine",
                "occurred_at": "2025-01-01",
            },
            "id",
        ),
        (
            {
                "id": "1",
                "source": "court",
                "subject": "s",
                "type": " ",
                "occurred_at": "2025-01-01",
            },
            "type",
        ),
        (
            {
                "kind": "relation",
                "id": "1",
                "source": "court",
                "subject": "s",
                "relation": "kin",
                "related_subject": "  ",
                "valid_from": "2025-01-01",
            },
            "related_subject",
        ),
        (
            {
                "kind": "annul",
                "id": "1",
                "source": "court",
                "target_source": "court",
                "target_id": " ",
                "occurred_at": "2025-01-01",
            },
            "target_id",
        ),
    ],
)
def test_blank_identifiers_are_rejected_in_json_as_in_csv(
    ledger: Ledger, tmp_path: Path, entry: dict[str, Any], field: str
) -> None:
    path = tmp_path / "blank.jsonl"
    path.write_bytes(orjson.dumps(entry) + b"\n")
    result = ledger.ingest_file(str(path), now=NOW)
    assert result.accepted == 0
    [(got_field, message)] = _problems(result).values()
    assert got_field == field
    assert message.startswith("is required")
    if entry.get("kind") is None:  # CSV trims the cell and says the same
        csv_path = tmp_path / "blank.csv"
        csv_path.write_text(",".join(entry) + "\n" + ",".join(entry.values()) + "\n")
        by_csv = ledger.ingest_file(str(csv_path), now=NOW)
        assert [(p.field, p.message[:11]) for p in by_csv.problems] == [(field, "is required")]


# 5. occurred_at in the future, with no recorded_at


def test_a_future_event_is_called_future(ledger: Ledger) -> None:
    entry = {
        "id": "1",
        "source": "court",
        "subject": "s",
        "type": "fine",
        "occurred_at": "2030-01-01",
    }
    result = ledger.ingest_entries([entry], now=NOW)
    assert _problems(result) == {
        1: (
            "occurred_at",
            "2030-01-01T00:00:00Z is in the future (the ledger's clock is 2026-01-01T00:00:00Z)",
        )
    }


# 6. dates beyond year 9999


@pytest.mark.parametrize("text", ["12000-01-01", "12000-01-01T00:00:00Z", "0000-05-01"])
def test_a_date_beyond_the_supported_years_is_out_of_range_not_unreadable(text: str) -> None:
    with pytest.raises(TimeFormatError, match="is outside the supported range"):
        parse_timestamp(text)


def test_the_cli_says_out_of_range_for_at(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from socialcredit.cli import run

    db = str(tmp_path / "g.db")
    policy = Path(__file__).parents[2] / "src/socialcredit/examples/policies/fair-transit.yaml"
    assert run(["init", "--db", db, "--policy", str(policy)]) == 0
    capsys.readouterr()
    assert run(["score", "--db", db, "--at", "12000-01-01", "someone"]) == 2
    captured = capsys.readouterr()
    assert "'12000-01-01' is outside the supported range" in captured.err + captured.out


# 7. articles


def test_an_annul_before_its_record_reads_an_annul(ledger: Ledger) -> None:
    record = {
        "id": "r",
        "source": "court",
        "subject": "s",
        "type": "fine",
        "occurred_at": "2025-06-01",
    }
    annul = {
        "kind": "annul",
        "id": "a",
        "source": "court",
        "target_source": "court",
        "target_id": "r",
        "occurred_at": "2025-01-01",
    }
    uphold = {
        "kind": "uphold",
        "id": "u",
        "source": "court",
        "target_source": "court",
        "target_id": "r",
        "occurred_at": "2025-07-01",
        "type": "fine",
    }
    result = ledger.ingest_entries([record, annul, uphold], now=NOW)
    got = _problems(result)
    assert "an annul cannot precede the record it corrects" in got[2][1]
    assert got[3] == ("type", "is not a field of an uphold entry")
