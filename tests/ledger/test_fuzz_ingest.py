"""Fuzzing ingestion (issue 6, "Tests that keep it so"): valid entries mixed with mutated
entries, random JSON, random bytes and CSV quirks, on SQLite and PostgreSQL.

Whatever the input: nothing raises out of ``Ledger.ingest*``; every line is counted once;
every valid line is kept; every rejected line is reported once, at its true line number
(a line that is not JSON at exactly its own); and afterwards the ledger reads back as
``score`` and ``export`` read it (the engine, bulk standings, ``iter_entries``).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.engine import Engine
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import parse_policy
from socialcredit.timeutil import MAX_TIME, MIN_TIME, parse_timestamp, to_iso

from ..conftest import TEST_POLICY

NOW = parse_timestamp("2026-01-01")
LOADED = parse_policy(TEST_POLICY)
RULES = IngestRules.from_policy(LOADED.policy)
TYPES = sorted(LOADED.policy.record_types)
_examples = itertools.count()  # a fresh namespace per example: ledgers outlive examples

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# ---------------------------------------------------------------------- strategies

TIMES = st.one_of(
    st.integers(MIN_TIME, NOW).map(to_iso),
    st.integers(MIN_TIME, NOW),
    st.sampled_from(["2025-01-01", "2025-01-01T10:00:00+08:00", "2024-02-29T23:59:59Z"]),
)
ODD_TEXT = st.text(
    st.characters(codec="utf-8") | st.sampled_from(["\x00", "\ud800", "\udcff", "\n", "\r"]),
    max_size=30,
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats()
    | ODD_TEXT
    | st.sampled_from(["", "2025-01-01", "0001-01-01T00:00:00+01:00", "person", "record"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ODD_TEXT, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def valid_line(draw: st.DrawFn, prefix: str, i: int) -> dict[str, Any]:
    """A line that is valid on its own and meets no other line (its own id and subjects,
    persons only): it must be kept, whatever surrounds it."""
    if draw(st.integers(0, 4)) == 0:
        start = draw(st.integers(MIN_TIME, NOW - 1))
        line: dict[str, Any] = {
            "kind": "relation",
            "id": f"{prefix}r{i}",
            "source": "registry",
            "subject": f"{prefix}kid{i}",
            "relation": "child_of",
            "related_subject": f"{prefix}parent{i}",
            "valid_from": to_iso(start),
        }
        if draw(st.booleans()):
            line["valid_until"] = to_iso(draw(st.integers(start + 1, MAX_TIME)))
        return line
    occurred = draw(st.integers(MIN_TIME, NOW))
    line = {
        "id": f"{prefix}e{i}",
        "source": draw(st.sampled_from(["court", "rail", "tax office"])),
        "subject": f"{prefix}s{i}",
        "type": draw(st.sampled_from(TYPES)),
        "occurred_at": draw(st.sampled_from([to_iso(occurred), occurred])),
    }
    if draw(st.booleans()):
        line["subject_kind"] = "person"
    if draw(st.booleans()):
        line["recorded_at"] = to_iso(draw(st.integers(occurred, NOW)))
    if draw(st.booleans()):
        line["amount"] = draw(st.floats(-1e15, 1e15, allow_nan=False) | st.integers(-5, 10**9))
    if draw(st.booleans()):
        line["evidence"] = draw(
            st.text(
                st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20
            )
        )
    return line


EXTRA_KEYS = ["kind", "target_id", "target_source", "valid_until", "related_kind", "reason"]
EXTRA_KEYS += ["subject_kind", "corrected_occurred_at", "extra"]


@st.composite
def mutated_line(draw: st.DrawFn, prefix: str, i: int) -> Any:
    """A valid line with fields changed, removed or added, in a namespace of its own."""
    line = dict(draw(valid_line(f"{prefix}m", i)))
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["set", "drop", "add"]))
        if action == "drop" and line:
            line.pop(draw(st.sampled_from(sorted(line))))
        elif action == "set" and line:
            line[draw(st.sampled_from(sorted(line)))] = draw(JSON)
        else:
            key = draw(st.sampled_from(EXTRA_KEYS))
            line[key] = draw(JSON)
    return line


@st.composite
def jsonl_input(draw: st.DrawFn) -> tuple[list[bytes], set[int]]:
    """Lines of a JSON Lines file (without their newlines) and the numbers of the valid
    ones."""
    prefix = f"x{next(_examples)}-"
    lines: list[bytes] = []
    valid: set[int] = set()
    for i in range(draw(st.integers(0, 25))):
        what = draw(st.sampled_from(["valid"] * 3 + ["mutated"] * 2 + ["json", "bytes"]))
        if what == "valid":
            lines.append(orjson.dumps(draw(valid_line(prefix, i))))
            valid.add(len(lines))
        elif what == "mutated":
            lines.append(_dumps(draw(mutated_line(prefix, i))))
        elif what == "json":
            lines.append(_dumps(draw(JSON)))
        else:
            lines.append(draw(st.binary(max_size=40)).replace(b"\n", b" "))
    return lines, valid


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # what JSON cannot say (NaN is written as null; >64-bit ints refused)
        return repr(value).encode(errors="surrogatepass")


# ---------------------------------------------------------------------- checks


def check_counts(result: Any, n_lines: int, valid: set[int], last: int | None = None) -> None:
    """Every line counted once; rejected lines reported once each, at a line of the input
    (up to ``last``, default ``n_lines``), none of them a valid one."""
    assert result.lines == n_lines
    assert (
        result.accepted + result.duplicates + result.conflicts + result.rejected + result.skipped
        == n_lines
    )
    rejected = [p.line for p in result.problems]
    assert len(rejected) == len(set(rejected)) == result.rejected  # each line once
    assert all(1 <= line <= (last or n_lines) for line in rejected)
    assert not valid & set(rejected), [p for p in result.problems if p.line in valid]
    assert not valid & {p.line for p in result.conflict_lines}


def reads_back(ledger: Ledger) -> None:
    if ledger.active_policy() is None:
        ledger.activate_policy(
            LOADED.text, LOADED.policy.policy, LOADED.policy.version, LOADED.content_hash, 0, now=0
        )
    engine = Engine.open(ledger, lambda: NOW)
    names = ledger.subject_names()
    bulk = engine.recompute(NOW)
    assert sorted(bulk.subjects) == sorted(names)
    for name in names[-3:]:
        engine.standing(name, NOW)
        engine.explain(name, "air_travel", NOW)
    for entry in ledger.iter_entries():
        for key, value in entry.items():
            if key.endswith(("_at", "_from", "_until")):
                parse_timestamp(value)  # every time read back is one ingestion accepts


def _ingest_jsonl(ledger: Ledger, tmp: Path, lines: list[bytes], valid: set[int]) -> None:
    path = tmp / f"in{next(_examples)}.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    result = ledger.ingest_file(str(path), rules=RULES, now=NOW)
    check_counts(result, len(lines), valid)
    rejected = {p.line for p in result.problems}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            assert number in rejected  # not JSON: reported at exactly its line
    assert result.skipped == sum(1 for raw in lines if not raw.strip())
    reads_back(ledger)


# ---------------------------------------------------------------------- tests


@FUZZ
@given(data=jsonl_input())
def test_fuzzed_json_lines_on_sqlite(
    sqlite_ledger: Ledger, tmp_path: Path, data: tuple[list[bytes], set[int]]
) -> None:
    _ingest_jsonl(sqlite_ledger, tmp_path, *data)


@pytest.mark.postgres
@settings(FUZZ, max_examples=30)
@given(data=jsonl_input())
def test_fuzzed_json_lines_on_postgres(
    pg_ledger: Ledger, tmp_path: Path, data: tuple[list[bytes], set[int]]
) -> None:
    _ingest_jsonl(pg_ledger, tmp_path, *data)


@FUZZ
@given(objects=st.lists(JSON | mutated_line("api-", 0), max_size=15))
def test_any_python_objects_through_the_api(sqlite_ledger: Ledger, objects: list[Any]) -> None:
    """The library takes Python objects: >64-bit integers, NaN, lone surrogates, any type."""
    result = sqlite_ledger.ingest_entries(objects, rules=RULES, now=NOW)
    check_counts(result, len(objects), set())
    reads_back(sqlite_ledger)


CSV_FIELDS = ["kind", "id", "source", "subject", "type", "occurred_at", "amount", "evidence"]


@st.composite
def csv_input(draw: st.DrawFn) -> tuple[bytes, dict[int, str], set[int]]:
    """A CSV file with quirks: quoted cells spanning lines, quotes, stray delimiters,
    invalid UTF-8, blank rows, wrong cell counts, a byte order mark, CRLF. Returns the
    file, the physical line each row starts on -> its kind of row, and the valid rows'
    lines."""
    prefix = f"c{next(_examples)}-"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(CSV_FIELDS)
    chunks = [out.getvalue().encode()]
    line = 2
    rows: dict[int, str] = {}
    valid: set[int] = set()
    for i in range(draw(st.integers(0, 20))):
        what = draw(st.sampled_from(["valid", "valid", "cells", "bad byte", "blank", "width"]))
        occurred = to_iso(draw(st.integers(MIN_TIME, NOW)))
        cells = ["record", f"{prefix}{i}", "court", f"{prefix}s{i}", draw(st.sampled_from(TYPES))]
        cells += [occurred or "", "", draw(st.sampled_from(["", 'a, "quoted"\nnote', "x"]))]
        if what == "cells":
            cells[draw(st.integers(0, len(cells) - 1))] = draw(ODD_TEXT.filter(_encodable))
        if what == "width":
            cells = cells[: draw(st.integers(1, len(cells) - 1))]
        out = io.StringIO()
        # "\r\n": cells holding either character are quoted (a lone "\r" ends a line)
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(cells) if what != "blank" else out.write("\r\n")
        raw = out.getvalue().encode()
        if what == "bad byte":
            raw = raw.replace(b"court", b"co\xffurt", 1)
        rows[line] = what
        if what == "valid":
            valid.add(line)
        chunks.append(raw)
        line += len(re.findall(rb"\r\n|\r|\n", raw))  # a lone CR ends a line too
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + b"".join(chunks), rows, valid


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _ingest_csv(ledger: Ledger, tmp: Path, data: tuple[bytes, dict[int, str], set[int]]) -> None:
    content, rows, valid = data
    path = tmp / f"in{next(_examples)}.csv"
    path.write_bytes(content)
    result = ledger.ingest_file(str(path), rules=RULES, now=NOW)
    check_counts(result, len(rows), valid, max(rows, default=1))
    rejected = {p.line: p for p in result.problems}
    for line, what in rows.items():
        if what in ("bad byte", "width"):
            assert line in rejected, (line, what, result.problems)
        if what == "bad byte":
            assert "not valid UTF-8" in rejected[line].message
    assert set(rejected) <= set(rows)  # every report at the line its row starts on
    assert result.skipped == sum(1 for what in rows.values() if what == "blank")
    reads_back(ledger)


@FUZZ
@given(data=csv_input())
def test_fuzzed_csv_on_sqlite(
    sqlite_ledger: Ledger, tmp_path: Path, data: tuple[bytes, dict[int, str], set[int]]
) -> None:
    _ingest_csv(sqlite_ledger, tmp_path, data)


@pytest.mark.postgres
@settings(FUZZ, max_examples=20)
@given(data=csv_input())
def test_fuzzed_csv_on_postgres(
    pg_ledger: Ledger, tmp_path: Path, data: tuple[bytes, dict[int, str], set[int]]
) -> None:
    _ingest_csv(pg_ledger, tmp_path, data)
