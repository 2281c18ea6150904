"""``export``: typed columns read back with pyarrow and JSON, against hand-computed standings."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from socialcredit.policy import load_policy
from tests.cli.conftest import CHINA, IN_FORCE_FROM, activate, call
from tests.cli.standings_ledger import AT, AT_ISO, CHINA_HASH, ENTRIES, EXPECTED, build
from tests.policy.test_policy_language import edit

# Parquet's coarsest time unit is the millisecond: times are written as timestamp[s, UTC] and
# read back as timestamp[ms, UTC], the values whole seconds
PARQUET_TIME = pa.timestamp("ms", tz="UTC")
LIST_COLUMNS = ("lists", "denied_services", "benefit_services", "reason_codes", "reasons")


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    return build(tmp_path, capsys)


def _export(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> tuple[int, str, str]:
    return call(capsys, "export", *args, "--db", db)


def _cli(*args: str, stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "socialcredit", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        check=False,
    )


def _by_subject(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r.pop("subject"): r for r in rows}


def test_parquet_standings_are_typed(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.parquet"
    code, out, _ = _export(capsys, db, "standings", "-o", str(path), "--at", AT)
    assert code == 0 and "wrote 6 standings" in out and CHINA_HASH[:12] in out
    table = pq.read_table(path)
    schema = table.schema
    assert schema.field("as_of").type == PARQUET_TIME
    assert schema.field("score").type == pa.float64()
    for name in LIST_COLUMNS:
        assert schema.field(name).type == pa.list_(pa.string()), name
    for name in ("subject", "kind", "grade", "policy_version", "policy_hash"):
        assert schema.field(name).type == pa.string(), name
    rows = _by_subject(table.to_pylist())
    assert set(rows) == set(EXPECTED)
    at = datetime(2026, 6, 1, tzinfo=UTC)
    for subject, row in rows.items():
        assert row.pop("as_of") == at
        assert row.pop("policy_version") == "china-scs@2026.3"
        assert row.pop("policy_hash") == CHINA_HASH
        assert row == EXPECTED[subject], subject


def test_jsonl_standings_have_arrays_and_iso_times(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.jsonl"
    assert _export(capsys, db, "standings", "-o", str(path), "--at", AT)[0] == 0
    rows = _by_subject([json.loads(line) for line in path.read_text().splitlines()])
    for subject, row in rows.items():
        assert row.pop("as_of") == AT_ISO
        assert (row.pop("policy_version"), row.pop("policy_hash")) == (
            "china-scs@2026.3",
            CHINA_HASH,
        )
        assert row == EXPECTED[subject], subject


def test_csv_standings_join_lists_with_semicolons(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.csv"
    assert _export(capsys, db, "standings", "-o", str(path), "--at", AT)[0] == 0
    rows = _by_subject(list(csv.DictReader(path.open(newline=""))))
    for subject, row in rows.items():
        want = EXPECTED[subject]
        assert row["as_of"] == AT_ISO
        assert float(row["score"]) == want["score"] and row["kind"] == want["kind"]
        for name in LIST_COLUMNS:
            assert row[name] == ";".join(want[name]), (subject, name)


def test_the_help_says_how_csv_writes_lists(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "export", "--help")
    text = " ".join(out.split())
    assert code == 0 and "joined by ';'" in text and "list<string>" in text


def test_standings_to_stdout_as_json_lines(db: str) -> None:
    result = _cli("export", "standings", "-o", "-", "--db", db, "--at", AT)
    assert result.returncode == 0, result.stderr
    rows = _by_subject([json.loads(line) for line in result.stdout.decode().splitlines()])
    assert set(rows) == set(EXPECTED)
    assert rows["child"]["reasons"] == ["child_of debtor"]
    # the summary goes to stderr, so that stdout is only data
    assert b"wrote 6 standings to standard output" in result.stderr


def test_standings_to_stdout_as_csv_and_parquet(db: str) -> None:
    result = _cli("export", "standings", "-o", "-", "--format", "csv", "--db", db, "--at", AT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines()[0].startswith('"subject","kind","as_of"')
    result = _cli("export", "standings", "-o", "-", "--format", "parquet", "--db", db, "--at", AT)
    assert result.returncode == 0, result.stderr
    table = pq.read_table(io.BytesIO(result.stdout))
    assert table.num_rows == 6 and table.schema.field("lists").type == pa.list_(pa.string())


def test_parquet_is_never_written_to_a_terminal(db: str) -> None:
    leader, follower = pty.openpty()
    try:
        result = _cli(
            "export", "standings", "-o", "-", "--format", "parquet", "--db", db, stdout=follower
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert result.returncode == 2
    assert b"refusing to write Parquet (binary) to a terminal" in result.stderr


def test_no_progress_bar_when_stderr_is_not_a_terminal(db: str, tmp_path: Path) -> None:
    result = _cli("export", "standings", "-o", str(tmp_path / "s.parquet"), "--db", db)
    assert result.returncode == 0 and result.stderr == b""


def test_exports_name_the_policy_in_force_at_the_time(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newer = tmp_path / "newer.yaml"
    newer.write_text(edit('version: "2026.3"', 'version: "2026.4"', Path(CHINA).read_text()))
    activate(db, str(newer), int(datetime(2026, 7, 1, tzinfo=UTC).timestamp()))
    newer_hash = load_policy(newer).content_hash
    for at, label, digest in (
        (AT, "china-scs@2026.3", CHINA_HASH),
        ("2026-08-01", "china-scs@2026.4", newer_hash),
    ):
        path = tmp_path / f"s-{at}.jsonl"
        assert _export(capsys, db, "standings", "-o", str(path), "--at", at)[0] == 0
        row = json.loads(path.read_text().splitlines()[0])
        assert (row["policy_version"], row["policy_hash"]) == (label, digest)


def test_records_parquet_has_typed_times_and_matches_the_json_lines(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jsonl, parquet = tmp_path / "r.jsonl", tmp_path / "r.parquet"
    assert _export(capsys, db, "records", "-o", str(jsonl))[0] == 0
    assert _export(capsys, db, "records", "-o", str(parquet))[0] == 0
    entries = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(entries) == len(ENTRIES)
    table = pq.read_table(parquet)
    for name in ("occurred_at", "recorded_at", "valid_from", "valid_until"):
        assert table.schema.field(name).type == PARQUET_TIME, name
    for entry, row in zip(entries, table.to_pylist(), strict=True):
        present = {k: v for k, v in row.items() if v is not None}
        as_text = {
            k: v.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(v, datetime) else v
            for k, v in present.items()
        }
        assert as_text == entry
    j1 = next(row for row in table.to_pylist() if row["id"] == "j1")
    assert j1["occurred_at"] == datetime(2026, 1, 10, tzinfo=UTC)


def test_records_to_stdout_round_trip_through_ingest(db: str, tmp_path: Path) -> None:
    result = _cli("export", "records", "-o", "-", "--db", db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    # in ledger order, which need not be the order of the file they came from
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(e["id"] for e in ENTRIES)
    again = tmp_path / "again.jsonl"
    again.write_bytes(result.stdout)
    fresh = str(tmp_path / "fresh.db")
    activate(fresh, CHINA, int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()))
    ingested = _cli("ingest", str(again), "--db", fresh)
    assert ingested.returncode == 0, ingested.stderr
    assert f"accepted {len(ENTRIES)}".encode() in ingested.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["standings", "-o", "x.xlsx"], "cannot tell the format"),
        (["everyone", "-o", "x.csv"], "choose records or standings"),
        (
            ["standings", "-o", "q.csv", "--format", "xml"],
            "unknown format 'xml': choose csv, parquet or jsonl",
        ),
        (["standings", "-o", "-", "--format", "xml"], "unknown format 'xml'"),
    ],
)
def test_bad_exports_are_one_line_and_exit_2(
    db: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = _export(capsys, db, *args)
    assert code == 2 and message in err


@pytest.fixture
def claimed_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """``ENTRIES`` ingested without --backfill: each keeps its line's recorded_at as its
    claimed time, the ledger's receive time (now) as its recorded_at."""
    path = str(tmp_path / "claimed.db")
    activate(path, CHINA, IN_FORCE_FROM)
    data = tmp_path / "claimed.jsonl"
    data.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in ENTRIES))
    code, out, err = call(capsys, "ingest", str(data), "--db", path)
    assert code == 0 and f"accepted {len(ENTRIES)}" in out, err
    return path


def _parquet_as_jsonl(parquet: Path, jsonl: Path) -> None:
    """``ingest`` reads JSON lines and CSV: the Parquet rows as JSON lines, times in ISO."""
    rows = pq.read_table(parquet).to_pylist()
    jsonl.write_bytes(
        b"".join(
            orjson.dumps(
                {
                    k: v.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(v, datetime) else v
                    for k, v in row.items()
                    if v is not None
                }
            )
            + b"\n"
            for row in rows
        )
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_records_with_claimed_times_round_trip_in_every_format(
    claimed_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    out = tmp_path / f"r.{fmt}"
    code, _, err = _export(capsys, claimed_db, "records", "-o", str(out))
    assert code == 0, err
    if fmt == "parquet":
        table = pq.read_table(out)
        assert table.schema.field("claimed_recorded_at").type == PARQUET_TIME
        assert table.column("claimed_recorded_at").null_count == 0
        _parquet_as_jsonl(out, tmp_path / "r-parquet.jsonl")
        out = tmp_path / "r-parquet.jsonl"
    fresh = str(tmp_path / "fresh.db")
    activate(fresh, CHINA, IN_FORCE_FROM)
    code, said, err = call(capsys, "ingest", str(out), "--db", fresh, "--backfill")
    assert code == 0 and f"accepted {len(ENTRIES)}" in said, err

    def records(db: str) -> list[dict[str, Any]]:
        path = tmp_path / f"records-{Path(db).stem}.jsonl"
        assert _export(capsys, db, "records", "-o", str(path))[0] == 0
        return sorted(
            (json.loads(line) for line in path.read_text().splitlines()),
            key=lambda e: (e["source"], e["id"]),
        )

    def standings(db: str, at: str) -> list[dict[str, Any]]:
        path = tmp_path / f"standings-{Path(db).stem}-{at[:10]}.jsonl"
        assert _export(capsys, db, "standings", "-o", str(path), "--at", at)[0] == 0
        return sorted(
            (json.loads(line) for line in path.read_text().splitlines()),
            key=lambda e: e["subject"],
        )

    original = records(claimed_db)
    assert all("claimed_recorded_at" in e for e in original)
    assert records(fresh) == original
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for at in ("2026-02-15", AT, "2027-06-01", now):
        assert standings(fresh, at) == standings(claimed_db, at), at


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (("--at", "2026-06-01"), "--at applies"),
        (("--policy", CHINA), "--policy applies"),
        (("--at", "2026-06-01", "--policy", CHINA), "--at and --policy apply"),
    ],
)
def test_records_refuse_the_time_and_policy_options(
    db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: tuple[str, ...],
    named: str,
) -> None:
    # export records writes every entry whatever --at says: it wrote them all, as if the
    # file were the ledger as of that time
    out_file = tmp_path / "r.jsonl"
    code, out, err = _export(capsys, db, "records", "-o", str(out_file), *options)
    assert (code, out) == (2, "")
    assert err == (
        f"error: {named} to standings only: export records writes every entry the ledger "
        "holds (each with its recorded_at); leave them out\n"
    )
    assert not out_file.exists()


def test_the_summary_counts_what_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # export records writes every ledger entry: a dispute is not a record, and one is one
    # (it said "wrote 2 records" for a record and its dispute, and "wrote 1 standings")
    db = str(tmp_path / "one.db")
    activate(db, CHINA, IN_FORCE_FROM)
    lines = [
        {
            "id": "c1",
            "source": "court",
            "subject": "P1",
            "type": "court_judgment_unfulfilled",
            "occurred_at": "2026-01-10",
        },
    ]
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert call(capsys, "ingest", str(data), "--db", db)[0] == 0
    code, out, err = _export(capsys, db, "records", "-o", str(tmp_path / "r.jsonl"))
    assert code == 0 and "wrote 1 ledger entry to" in out, err
    code, _, err = call(
        capsys, "disputes", "file", "P1", "court", "c1", "--reason", "paid", "--db", db
    )
    assert code == 0, err
    code, out, err = _export(capsys, db, "records", "-o", str(tmp_path / "r2.jsonl"))
    assert code == 0 and "wrote 2 ledger entries to" in out, err
    code, out, err = _export(capsys, db, "standings", "-o", str(tmp_path / "s.jsonl"))
    assert code == 0 and "wrote 1 standing to" in out, err
