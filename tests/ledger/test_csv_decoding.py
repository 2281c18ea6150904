"""CSV is decoded row by row: an undecodable row is rejected with its true physical line
number and every other row is kept (issue 6, item 2); a header that names a column twice
is an error about the file (item 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialcredit.ledger import Ledger
from socialcredit.ledger.files import FileFormatError, read_lines
from socialcredit.timeutil import parse_timestamp

NOW = parse_timestamp("2026-01-01")
HEADER = b"id,source,subject,type,occurred_at,evidence\n"


def row(i: int, evidence: bytes = b"") -> bytes:
    return b"%d,court,p%d,debt,2025-01-01,%s\n" % (i, i % 40, evidence)


def test_one_bad_byte_in_a_small_file_rejects_only_its_row(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    path.write_bytes(HEADER + row(1) + row(2, b"caf\xe9") + row(3))
    result = ledger.ingest_file(str(path), now=NOW)
    assert (result.lines, result.accepted, result.rejected) == (3, 2, 1)
    (problem,) = result.problems
    assert problem.line == 3
    assert "not valid UTF-8" in problem.message and "e9" in problem.message
    assert sorted(e["id"] for e in ledger.iter_entries()) == ["1", "3"]


def test_a_bad_byte_at_row_10000_of_20000(sqlite_ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = [row(i, b"bad \xff byte" if i == 10_000 else b"ok") for i in range(1, 20_001)]
    path.write_bytes(HEADER + b"".join(rows))
    result = sqlite_ledger.ingest_file(str(path), now=NOW)
    assert (result.lines, result.accepted, result.rejected) == (20_000, 19_999, 1)
    assert result.problems[0].line == 10_001  # the header is line 1
    assert sqlite_ledger.count_entries() == 19_999


def test_line_numbers_count_every_physical_line(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    path.write_bytes(
        b"\xef\xbb\xbf"  # a byte order mark
        + HEADER
        + row(1, b'"two\nlines"')  # lines 2-3
        + row(2, b"\xff")  # line 4
        + b'5,court,x,debt,2025-01-01,"three\r\nline\r\nnote \xfe"\n'  # lines 5-7, bad
        + row(6)  # line 8
        + b"\n"  # line 9, blank
        + row(7, b'"quote ""inside"""')  # line 10
        + b"8,court,y,debt,2025-01-01,cr\r9,court,z,debt,2025-01-01,\xff\r"  # lines 11, 12
        + row(10)  # line 13
    )
    lines = list(read_lines(str(path)))
    outcome = [
        (n, obj["id"] if obj else None, str(note) if note else None) for n, obj, note in lines
    ]
    assert [n for n, _, _ in outcome] == [2, 4, 5, 8, 9, 10, 11, 12, 13]
    ids = {n: i for n, i, _ in outcome if i is not None}
    assert ids == {2: "1", 8: "6", 10: "7", 11: "8", 13: "10"}
    bad = [n for n, i, note in outcome if note and "UTF-8" in note]
    assert bad == [4, 5, 12]
    assert lines[0][1]["evidence"] == "two\nlines" and "id" in lines[0][1]  # no BOM in the name


def test_a_bad_byte_in_the_header_is_an_error_about_the_file(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(b"id,sou\xffrce,subject,type,occurred_at\n" + row(1))
    with pytest.raises(FileFormatError, match=r"header \(line 1\) is not valid UTF-8"):
        ledger.ingest_file(str(path), now=NOW)
    assert ledger.count_entries() == 0


def test_a_column_named_twice_is_an_error_about_the_file(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"id,source,subject,type,occurred_at, subject\n1,court,a,debt,2025-01-01,b\n")
    with pytest.raises(FileFormatError, match="names the column 'subject' twice"):
        ledger.ingest_file(str(path), now=NOW)
    assert ledger.count_entries() == 0


def test_a_row_of_one_cell_says_one_cell(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_bytes(HEADER + b"record\n" + row(1) + b"1,court\n")
    notes = [str(note) for _, _, note in read_lines(str(path)) if note]
    assert notes == ["has 1 cell, the header has 6", "has 2 cells, the header has 6"]
