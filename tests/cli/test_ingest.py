"""``socialcredit ingest`` end to end: conflicts, notices, relations, spreadsheets, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from .conftest import ENTRIES, call


def _jsonl(path: Path, entries: list[Any]) -> str:
    path.write_bytes(b"".join(b"\n" if e is None else orjson.dumps(e) + b"\n" for e in entries))
    return str(path)


def test_a_conflict_is_reported_with_its_line_and_exit_1(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _jsonl(tmp_path / "again.jsonl", [ENTRIES[0], None, {**ENTRIES[0], "amount": 90000}])
    code, out, err = call(capsys, "ingest", data, "--db", db)
    assert code == 1
    assert "accepted 0, duplicates 1, conflicts 1, rejected 0, skipped (blank) 1" in out
    assert f"conflict: {data}:3: court/j1 was first given in an earlier ingest" in err
    assert "(amount 90000 here, 80000 in the ledger)" in err


def test_same_content_again_is_a_duplicate_and_exit_0(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _jsonl(tmp_path / "again.jsonl", ENTRIES)  # v1 has no recorded_at: still the same
    code, out, _ = call(capsys, "ingest", data, "--db", db, "--json")
    assert code == 0
    got = json.loads(out)
    assert (got["duplicates"], got["conflicts"], got["accepted"]) == (3, 0, 0)


def test_a_late_dispute_is_a_notice_not_a_rejection(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a traffic ticket recorded 2026-01-12; china-scs's policy-wide appeal window is 30 days:
    # it closes 2026-02-11 (the court list's own window has no published end)
    ticket = {
        "id": "t1",
        "source": "police",
        "subject": "driver",
        "type": "traffic_offence",
        "occurred_at": "2026-01-10",
        "recorded_at": "2026-01-12",
    }
    late = {
        "kind": "dispute",
        "id": "d1",
        "source": "police",
        "target_source": "police",
        "target_id": "t1",
        "occurred_at": "2026-03-01",
        "recorded_at": "2026-03-01",
    }
    data = _jsonl(tmp_path / "dispute.jsonl", [ticket, late])
    code, out, err = call(capsys, "ingest", data, "--db", db, "--backfill")
    assert code == 0
    assert "accepted 2," in out
    assert (
        f"no effect: {data}:2: recorded_at: the dispute of police/t1 is recorded on "
        "2026-03-01T00:00:00Z, after the appeal window closed on 2026-02-11T00:00:00Z" in err
    )
    assert "rejected" not in err
    code, out, _ = call(capsys, "ingest", data, "--db", db, "--json")
    got = json.loads(out)
    assert (code, got["duplicates"], got["no_effect"], got["no_effect_lines"]) == (0, 2, 0, [])


def test_relations_must_fit_the_policy(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    acme = {
        "id": "o1",
        "source": "tax",
        "subject": "acme",
        "subject_kind": "organisation",
        "type": "major_tax_violation",
        "occurred_at": "2026-01-10",
    }
    child = {**ENTRIES[2], "id": "h2", "subject": "kim", "related_subject": "acme"}
    cousin = {**ENTRIES[2], "id": "h3", "subject": "kim", "relation": "cousin_of"}
    data = _jsonl(tmp_path / "rel.jsonl", [acme, child, cousin])
    code, out, _ = call(capsys, "ingest", data, "--db", db, "--json")
    got = json.loads(out)
    assert code == 1
    lines = {p["line"]: p for p in got["problems"]}
    assert sorted(lines) == [2, 3]
    assert lines[2]["field"] == "related_subject"
    assert (
        lines[2]["message"]
        == "child_of must point to a person; acme is recorded as an organisation"
    )
    assert lines[3]["field"] == "relation"
    assert "unknown relation 'cousin_of' for the active policy" in lines[3]["message"]


def test_a_spreadsheet_csv(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_bytes(
        "\ufeffid;source;subject;type;occurred_at;recorded_at\n"
        "s1;rail;ann;court_judgment_unfulfilled ;10/02/2026;11/02/2026\n"
        "s2;rail;bo;court_judgment_unfulfilled;12/02/2026;12/02/2026\n".encode()
    )
    code, out, err = call(
        capsys, "ingest", str(sheet), "--db", db, "--delimiter", ";", "--date-format", "%d/%m/%Y"
    )
    assert code == 0, err
    assert "accepted 2," in out
    assert "notice: trimmed surrounding spaces from fields on 1 line (2)" in err
    code, out, _ = call(capsys, "score", "ann", "--db", db, "--at", "2026-03-01", "--json")
    assert code == 0 and json.loads(out)["subject"] == "ann"


def test_a_trailing_space_in_jsonl_gets_a_suggestion(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = {**ENTRIES[0], "id": "j9", "type": "court_judgment_unfulfilled "}
    code, _, err = call(capsys, "ingest", _jsonl(tmp_path / "t.jsonl", [entry]), "--db", db)
    assert code == 1
    assert "did you mean 'court_judgment_unfulfilled' (without the surrounding spaces)?" in err


def test_bad_csv_options_are_usage_errors(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "s.csv"
    sheet.write_text("id\n")
    code, _, err = call(capsys, "ingest", str(sheet), "--db", db, "--delimiter", ";;")
    assert code == 2 and "one character" in err
    data = _jsonl(tmp_path / "x.jsonl", ENTRIES)
    code, _, err = call(capsys, "ingest", data, "--db", db, "--date-format", "%d/%m/%Y")
    assert code == 2 and "apply to CSV files only" in err


def test_an_unknown_format_is_named_not_the_file(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _jsonl(tmp_path / "x.jsonl", ENTRIES)
    code, _, err = call(capsys, "ingest", data, "--db", db, "--format", "xml")
    assert code == 2 and "unknown format 'xml': choose jsonl or csv" in err, err


def test_help_documents_outcomes_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "ingest", "--help")
    text = " ".join(out.split())
    assert code == 0
    assert "1 when any line was rejected or conflicted" in text
    assert "--delimiter" in text and "--date-format" in text


def test_a_bad_date_format_is_a_usage_error_before_reading(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "s.csv"
    sheet.write_text("id,source,subject,type,occurred_at\nd1,court,ann,debt,01/02/2026\n")
    for pattern, why in (("%Q", "bad directive"), ("%H:%M", "no date")):
        code, out, err = call(capsys, "ingest", str(sheet), "--db", db, "--date-format", pattern)
        assert code == 2, (pattern, out, err)
        assert f"--date-format {pattern!r}" in err and why in err
        assert len(err.strip().splitlines()) == 1 and "accepted" not in out


def test_a_semicolon_csv_without_delimiter_says_so(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "s.csv"
    for sep, option in ((";", "';'"), ("\t", "tab")):
        sheet.write_text(
            sep.join(["id", "source", "subject", "type", "occurred_at"])
            + "\n"
            + sep.join(["d1", "court", "ann", "court_judgment_unfulfilled", "2026-02-01"])
            + "\n"
        )
        code, _, err = call(capsys, "ingest", str(sheet), "--db", db)
        assert code == 2, err
        assert f"use --delimiter {option}" in err
        assert "is not a field" not in err


def test_a_large_semicolon_csv_says_so_too(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # over the size from which a child process parses the file: its problem with the file
    # must reach the person as the same one line and exit 2, not as a worker failure
    from socialcredit.ledger.store import PARALLEL_FROM_BYTES

    sheet = tmp_path / "big.csv"
    row = ";".join(["d{}", "court", "ann", "court_judgment_unfulfilled", "2026-02-01"]) + "\n"
    lines = ["id;source;subject;type;occurred_at\n"]
    lines += [row.format(i) for i in range(PARALLEL_FROM_BYTES // len(row) + 10)]
    sheet.write_text("".join(lines))
    assert sheet.stat().st_size > PARALLEL_FROM_BYTES
    code, _, err = call(capsys, "ingest", str(sheet), "--db", db)
    assert code == 2, err
    assert "use --delimiter ';'" in err
    assert "failed" not in err


def test_a_line_cannot_turn_an_organisation_into_a_person(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    acme = {
        "id": "o1",
        "source": "tax",
        "subject": "acme",
        "subject_kind": "organisation",
        "type": "major_tax_violation",
        "occurred_at": "2026-01-10",
    }
    code, _, err = call(capsys, "ingest", _jsonl(tmp_path / "a.jsonl", [acme]), "--db", db)
    assert code == 0, err
    # volunteering is declared for persons only in china-scs.yaml
    volunteer = {**ENTRIES[1], "id": "v9", "subject": "acme", "subject_kind": "person"}
    unkinded = {**ENTRIES[1], "id": "v10", "subject": "acme"}
    data = _jsonl(tmp_path / "v.jsonl", [volunteer, unkinded])
    code, out, _ = call(capsys, "ingest", data, "--db", db, "--json")
    got = json.loads(out)
    assert code == 1 and got["accepted"] == 0
    lines = {p["line"]: p for p in got["problems"]}
    assert lines[1]["field"] == "subject_kind"
    assert lines[1]["message"].startswith("acme is recorded as an organisation since ")
    assert lines[2]["field"] == "subject_kind"
    assert lines[2]["message"].startswith(
        "record type 'volunteering' applies to person subjects only; acme is recorded as an "
        "organisation since "
    )
    # the documented relation format, without kinds: acme's stored kind is used
    boss = {
        "kind": "relation",
        "id": "r6b",
        "source": "registry",
        "subject": "boss",
        "relation": "legal_representative_of",
        "related_subject": "acme",
        "valid_from": "2020-01-01",
    }
    code, out, err = call(capsys, "ingest", _jsonl(tmp_path / "r.jsonl", [boss]), "--db", db)
    assert code == 0, err
    assert "accepted 1," in out
