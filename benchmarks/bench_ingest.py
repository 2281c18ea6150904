"""Ingestion throughput into SQLite, parsing and validation included (target >= 100,000/s).

Baseline in the same run: a bare ``executemany`` of the same records, already parsed into
rows in memory, into the same schema with the same SQLite settings: the storage limit.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import time

import orjson

from _common import POLICY, SPEC, fresh_db, machine, population_file
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.ledger.parsing import CHUNK
from socialcredit.policy import load_policy

RULES = IngestRules.from_policy(load_policy(POLICY).policy)


def run_ingest(path: str) -> tuple[float, float, int, int]:
    """One ingest into a fresh file: seconds, seconds with the WAL checkpoint, lines, records."""
    db = fresh_db("ingest.db")
    with Ledger.open(str(db)) as ledger:
        ledger.upgrade()
        start = time.perf_counter()
        # as the CLI does: check types, relations and subject kinds against the policy
        result = ledger.ingest_file(path, rules=RULES, now=SPEC.end)
        seconds = time.perf_counter() - start
        assert result.rejected == 0 and result.accepted == result.lines
        with ledger.engine.connect() as conn:  # what the deferred checkpoint costs
            start = time.perf_counter()
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            checkpoint = time.perf_counter() - start
    records = ledger_records(path)
    print(
        f"  run: {result.lines:,} lines in {seconds:.2f}s = {result.lines / seconds:,.0f}/s "
        f"(checkpoint afterwards {checkpoint:.2f}s)"
    )
    return seconds, seconds + checkpoint, result.lines, records


_RECORDS: dict[str, int] = {}


def ledger_records(path: str) -> int:
    """How many of the file's lines are records (the rest: relations and corrections)."""
    if path not in _RECORDS:
        with open(path, "rb") as fh:
            _RECORDS[path] = sum(1 for line in fh if b'"kind"' not in line)
    return _RECORDS[path]


def baseline_rows(path: str) -> list[tuple[object, ...]]:
    """The records of the file as ready-made rows (parsed beforehand, not timed)."""
    ids: dict[str, int] = {}
    rows = []
    with open(path, "rb") as fh:
        for line in fh:
            e = orjson.loads(line)
            if "kind" in e:
                continue
            sid = ids.setdefault(e["subject"], len(ids) + 1)
            rows.append(
                (e["source"], e["id"], 0, sid, e["type"], 0, 0, e.get("amount"), e.get("evidence"))
            )
    return rows


def run_baseline(rows: list[tuple[object, ...]]) -> float:
    """Bare executemany of the same records into the same schema and settings, no parsing."""
    db = fresh_db("baseline.db")
    with Ledger.open(str(db)) as ledger:
        ledger.upgrade()
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "cache_size=-262144",
        "wal_autocheckpoint=0",
    ):
        conn.execute(f"PRAGMA {pragma}")
    start = time.perf_counter()
    for i in range(0, len(rows), CHUNK):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO entries (source, entry_id, kind, subject_id, type, occurred_at, recorded_at, "
            "amount, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            rows[i : i + CHUNK],
        )
        conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def main() -> None:
    print(f"machine: {machine()}")
    path = str(population_file())
    runs = [run_ingest(path) for _ in range(3)]
    lines, records = runs[0][2], runs[0][3]
    median = statistics.median(r[0] for r in runs)
    with_checkpoint = statistics.median(r[1] for r in runs)
    print(
        f"ingest (median of 3): {lines:,} entries ({records:,} records) in {median:.2f}s = "
        f"{lines / median:,.0f} entries/s, {records / median:,.0f} records/s"
    )
    print(
        f"ingest including the WAL checkpoint (median of 3): {with_checkpoint:.2f}s = "
        f"{lines / with_checkpoint:,.0f} entries/s, {records / with_checkpoint:,.0f} records/s"
    )
    rows = baseline_rows(path)
    base = statistics.median(run_baseline(rows) for _ in range(3))
    print(
        f"baseline, bare executemany of the same {len(rows):,} records into the same schema "
        f"(median of 3): {base:.2f}s = {len(rows) / base:,.0f} rows/s"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
