"""The audit log's cost (issue 8, item 6; target: 5,000 audited checks/s on one worker
process), on SQLite and PostgreSQL, with baselines from the same run.

    .venv/bin/python benchmarks/bench_audit.py [--events 100000] [--pg URL | --no-pg]

For each database (a fresh SQLite file; a fresh schema in the PostgreSQL at
``SOCIALCREDIT_BENCH_PG``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``):

- ``append``: what a request pays, ``AuditLog.append`` with no writer running (µs each);
- ``write``: one group commit of B events (hash chain, lock, insert, head update,
  commit with its fsync; ``COPY`` on PostgreSQL), per batch and per event, next to two baselines: the chain's
  hashing alone, and a bare insert of the same rows (``executemany`` on SQLite, ``COPY`` on
  PostgreSQL, as the writer) into an unindexed table of the same columns in one transaction;
- ``saturation``: events appended as fast as one thread can, with the background writer
  running (5 ms interval), until ``close`` has written them all: events/s end to end;
- ``offered``: 5,000 events/s appended at a steady pace for 5 s with the writer running:
  the most events ever waiting in the buffer, and the process's CPU time per event.

Wall-clock figures on a loaded machine say as much about the other processes as about the
code: CPU times are printed next to them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from _common import fresh_db, machine
from socialcredit.audit import GENESIS, AuditEvent, AuditLog
from socialcredit.audit.chain import chain_entry
from socialcredit.ledger import Ledger

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def events(n: int) -> list[AuditEvent]:
    """``n`` check events as the API writes them."""
    now = time.time()
    return [
        AuditEvent(
            f"key{i % 50}",
            "enforcer:air_travel",
            "POST /v1/checks",
            f"P{i:08d}",
            "deny" if i % 7 == 0 else "allow",
            "china-scs 2.0",
            now + i / 1000,
            service="air_travel",
            status=200,
            check_id=f"chk_{i:012x}",
        )
        for i in range(n)
    ]


@contextmanager
def database(kind: str, pg_url: str) -> Iterator[Ledger]:
    """A fresh ledger: a new SQLite file, or a new PostgreSQL schema (dropped afterwards)."""
    if kind == "sqlite":
        ledger = Ledger.open(str(fresh_db("audit-bench.db")))
        ledger.upgrade()
        try:
            yield ledger
        finally:
            ledger.close()
        return
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    ledger = Ledger.open(f"{pg_url}?options=-csearch_path%3D{schema}")
    ledger.upgrade()
    try:
        yield ledger
    finally:
        ledger.close()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def clocked(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call of ``fn``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_append(ledger: Ledger, evs: list[AuditEvent]) -> None:
    audit = AuditLog(ledger, start=False, max_buffer=len(evs) + 1)
    append = audit.append

    def run() -> None:
        for e in evs:
            append(e)

    wall, cpu = clocked(run)
    n = len(evs)
    print(f"  append (no writer): {wall / n * 1e6:.2f} µs wall, {cpu / n * 1e6:.2f} µs CPU each")
    audit.flush()
    audit.close()


def bench_write(ledger: Ledger, evs: list[AuditEvent], batch: int) -> None:
    audit = AuditLog(ledger, start=False, batch=batch, max_buffer=len(evs) + batch)
    walls, cpus = [], []
    for start in range(0, min(len(evs), batch * 20), batch):
        for e in evs[start : start + batch]:
            audit.append(e)
        wall, cpu = clocked(audit.flush)
        walls.append(wall)
        cpus.append(cpu)
    audit.close()
    w, c = statistics.median(walls), statistics.median(cpus)
    # baselines on the same events: the hash chain alone, and a bare insert
    sample = evs[:batch]

    def chain() -> list[tuple[Any, ...]]:
        prev, rows = GENESIS, []
        for i, e in enumerate(sample, 1):
            fields, prev = chain_entry(i, prev, e)
            rows.append((*fields, GENESIS, prev))
        return rows

    hw, hc = clocked(chain)
    rows = chain()
    bw, bc = bare_insert(ledger, rows)
    print(
        f"  write of {batch} events (median of {len(walls)}): {w * 1e3:.2f} ms wall, "
        f"{c * 1e3:.2f} ms CPU = {w / batch * 1e6:.1f} µs wall / {c / batch * 1e6:.1f} µs CPU "
        f"an event; baselines: hashing alone {hw / batch * 1e6:.1f} µs wall / "
        f"{hc / batch * 1e6:.1f} µs CPU, bare insert {bw / batch * 1e6:.1f} µs wall / "
        f"{bc / batch * 1e6:.1f} µs CPU an event"
    )


def bare_insert(ledger: Ledger, rows: list[tuple[Any, ...]]) -> tuple[float, float]:
    """A bare insert of ``rows`` into an unindexed table in one transaction: ``executemany``
    on SQLite, ``COPY`` on PostgreSQL (what the writer uses on each)."""
    mark = "?" if ledger.is_sqlite else "%s"
    columns = ", ".join(f"c{i} TEXT" for i in range(len(rows[0])))
    with ledger.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS audit_bare")
        conn.exec_driver_sql(f"CREATE TABLE audit_bare ({columns})")
    raw = ledger.engine.raw_connection()
    try:
        cur = raw.cursor()
        text_rows = [tuple(None if v is None else str(v) for v in r) for r in rows]
        sql = f"INSERT INTO audit_bare VALUES ({', '.join([mark] * len(rows[0]))})"

        def run() -> None:
            if ledger.is_sqlite:
                cur.executemany(sql, text_rows)
            else:
                with cur.copy("COPY audit_bare FROM STDIN") as copy:
                    for r in text_rows:
                        copy.write_row(r)
            raw.commit()

        return clocked(run)
    finally:
        raw.close()


def bench_saturation(ledger: Ledger, evs: list[AuditEvent]) -> None:
    audit = AuditLog(ledger, interval=0.005, batch=2000, max_buffer=len(evs) + 1)
    append = audit.append
    wall, cpu = time.perf_counter(), time.process_time()
    for e in evs:
        append(e)
    appended = time.perf_counter() - wall
    audit.close()
    total, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = len(evs)
    print(
        f"  saturation, {n} events: appended in {appended:.2f} s, all written after "
        f"{total:.2f} s = {n / total:,.0f} events/s end to end ({cpu / n * 1e6:.1f} µs CPU "
        "an event, appending and writing)"
    )
    result = audit.verify()
    assert result.ok and result.entries >= n, result.problem


def bench_offered(
    ledger: Ledger, evs: list[AuditEvent], rate: int = 5000, seconds: float = 5
) -> None:
    audit = AuditLog(ledger, interval=0.005, batch=2000)
    n = min(len(evs), int(rate * seconds))
    most = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        due = wall + i / rate
        pause = due - time.perf_counter()
        if pause > 0.001:
            time.sleep(pause)
        audit.append(evs[i])
        if i % 100 == 0:
            most = max(most, audit.pending())
    offered = time.perf_counter() - wall
    audit.close()
    total, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"  offered {rate}/s for {offered:.1f} s ({n} events): at most {most} waiting in the "
        f"buffer, last written {total - offered:.3f} s after the last append, "
        f"{cpu / n * 1e6:.1f} µs CPU an event ({cpu / total * 100:.0f} % of one core)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--pg", default=PG, help="PostgreSQL URL (a schema is made and dropped)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()

    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    evs = events(args.events)
    pg_url = os.environ.get("SOCIALCREDIT_BENCH_PG", args.pg)
    for kind in ("sqlite", *(() if args.no_pg else ("postgresql",))):
        print(kind)
        with database(kind, pg_url) as ledger:
            bench_append(ledger, evs)
        for batch in (50, 500, 2000):
            with database(kind, pg_url) as ledger:
                bench_write(ledger, evs, batch)
        with database(kind, pg_url) as ledger:
            bench_saturation(ledger, evs)
        with database(kind, pg_url) as ledger:
            bench_offered(ledger, evs)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
