"""Ingestion throughput into SQLite, parsing and validation included (target >= 100,000/s).

Baseline in the same run: a bare ``executemany`` of the same number of rows into a table
with a unique key, with the same SQLite settings, rows already in memory (no parsing).
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import time

from _common import SPEC, fresh_db, machine, population_file
from socialcredit.ledger import Ledger


def run_ingest(path: str) -> tuple[float, int]:
    db = fresh_db("ingest.db")
    with Ledger.open(str(db)) as ledger:
        ledger.upgrade()
        start = time.perf_counter()
        result = ledger.ingest_file(path, now=SPEC.end)
        seconds = time.perf_counter() - start
        assert result.rejected == 0 and result.accepted == result.lines
        with ledger.engine.connect() as conn:  # what the deferred checkpoint costs
            start = time.perf_counter()
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            checkpoint = time.perf_counter() - start
    print(
        f"  run: {result.lines:,} lines in {seconds:.2f}s = {result.lines / seconds:,.0f}/s (checkpoint afterwards {checkpoint:.2f}s)"
    )
    return seconds, result.lines


def run_baseline(n: int) -> float:
    db = fresh_db("baseline.db")
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in (
        "page_size=16384",
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "cache_size=-262144",
    ):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(
        "CREATE TABLE t (seq INTEGER PRIMARY KEY, source TEXT, entry_id TEXT, subject_id INTEGER, "
        "type TEXT, occurred_at INTEGER, recorded_at INTEGER, UNIQUE (source, entry_id))"
    )
    rows = [("court", f"court-{i}", i % 100_000, "traffic_offence", i, i + 60) for i in range(n)]
    start = time.perf_counter()
    for i in range(0, n, 50_000):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO t (source, entry_id, subject_id, type, occurred_at, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows[i : i + 50_000],
        )
        conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def main() -> None:
    print(f"machine: {machine()}")
    path = str(population_file())
    runs = [run_ingest(path) for _ in range(3)]
    lines = runs[0][1]
    median = statistics.median(s for s, _ in runs)
    print(
        f"ingest (median of 3): {lines:,} entries in {median:.2f}s = {lines / median:,.0f} entries/s"
    )
    base = statistics.median(run_baseline(1_000_000) for _ in range(3))
    print(
        f"baseline bare executemany (median of 3): 1,000,000 rows in {base:.2f}s = {1e6 / base:,.0f} rows/s"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
