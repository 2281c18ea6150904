"""``AuditLog``: group commit, reading, several processes appending to one database, faults."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from socialcredit.audit import AuditLog, AuditUnavailable
from socialcredit.audit.chain import event_row
from socialcredit.errors import StorageError
from socialcredit.ledger import Ledger
from tests.audit.conftest import event, fill, rows, sql, unprotect, wait_until

WORKER = Path(__file__).with_name("append_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def test_entries_are_chained_in_append_order(ledger: Ledger) -> None:
    audit = fill(ledger, 5)
    stored = rows(ledger)
    assert [r[0] for r in stored] == [1, 2, 3, 4, 5]
    assert [r[5] for r in stored] == ["P0", "P1", "P2", "P3", "P4"]
    assert stored[0][12] == "0" * 64
    assert all(stored[i][12] == stored[i - 1][13] for i in range(1, 5))
    assert audit.head() == (5, stored[-1][13])


def test_the_background_writer_writes_without_a_flush(ledger: Ledger) -> None:
    audit = AuditLog(ledger, interval=0.002)
    try:
        for i in range(300):
            audit.append(event(i))
        assert wait_until(lambda: audit.written == 300)
        assert audit.pending() == 0
        assert len(rows(ledger)) == 300
    finally:
        audit.close()
    assert audit.verify().ok


def test_close_writes_what_the_buffer_holds(ledger: Ledger) -> None:
    audit = AuditLog(ledger, interval=60)  # the writer would not wake up on its own
    for i in range(10):
        audit.append(event(i))
    audit.close()
    assert len(rows(ledger)) == 10
    with pytest.raises(AuditUnavailable, match="closed"):
        audit.append(event(11))
    audit.close()  # again: nothing happens


def test_read_pages_and_filters_by_subject(ledger: Ledger) -> None:
    audit = AuditLog(ledger, start=False)
    for i in range(20):
        audit.append(event(i, subject="alice" if i % 5 == 0 else None))
    audit.close()
    assert [e.seq for e in audit.read(after=0, limit=3)] == [1, 2, 3]
    assert [e.seq for e in audit.read(after=18, limit=10)] == [19, 20]
    assert audit.read(after=20) == []
    assert [e.seq for e in audit.read(subject="alice")] == [1, 6, 11, 16]
    assert [e.seq for e in audit.read(after=6, limit=1, subject="alice")] == [11]
    entry = audit.read(limit=1)[0]
    assert entry.computed_hash() == entry.hash
    data = entry.to_json()
    assert data["subject"] == "alice" and data["at"] == "2026-05-28T20:26:40.000000Z"
    with pytest.raises(ValueError, match="limit"):
        audit.read(limit=0)


def test_odd_content_is_stored_not_dropped(ledger: Ledger) -> None:
    audit = AuditLog(ledger, start=False)
    audit.append(event(1, subject="nul\x00here", details={"n": 1, "b": "\ud800"}))
    audit.append(event(2, subject="😀 ünïcode", status=10**12, service=5))  # type: ignore[arg-type]
    audit.close()
    first, second = audit.read()
    assert first.subject == "nul\ufffdhere" and first.details == '{"b":"\ufffd","n":1}'
    assert (second.subject, second.status, second.service) == ("😀 ünïcode", None, "5")
    assert audit.verify().ok


def test_a_full_buffer_refuses_rather_than_answering_unaudited(ledger: Ledger) -> None:
    audit = AuditLog(ledger, start=False, batch=2, max_buffer=3)
    for i in range(3):
        audit.append(event(i))
    with pytest.raises(AuditUnavailable, match="buffer is full"):
        audit.append(event(3))
    audit.close()
    assert len(rows(ledger)) == 3


def test_rows_are_entries_as_their_events_make_them(ledger: Ledger) -> None:
    """``append_row``/``append_rows`` (the check path's) store what ``append`` of the same
    events stores, odd content cleaned alike; ``append_rows`` takes all or none."""
    odd = {"subject": "nul\x00 here", "status": True, "details": {"b": 1, "a": [2]}}
    events = [event(0), event(1, **odd), event(2, at=float("nan")), event(3)]
    by_event = AuditLog(ledger, start=False)
    for e in events[:2]:
        by_event.append(e)
    by_event.flush()
    first = rows(ledger)
    unprotect(ledger)
    sql(ledger, "DELETE FROM audit_log")
    sql(ledger, "DELETE FROM audit_head")
    by_row = AuditLog(ledger, start=False, batch=2, max_buffer=3)
    by_row.append_row(event_row(events[0]))
    with pytest.raises(AuditUnavailable, match="buffer is full"):
        by_row.append_rows([event_row(e) for e in events[1:]])
    assert by_row.pending() == 1
    by_row.append_rows([event_row(events[1])])
    by_row.flush()
    assert rows(ledger) == first
    by_row.append_row(event_row(events[2]))  # a time that is not finite: at_us 0, kept
    by_row.close()
    assert rows(ledger)[-1][1] == 0
    by_event.close()


def test_a_failed_write_keeps_the_entries_in_order(ledger: Ledger) -> None:
    audit = AuditLog(ledger, start=False, batch=4)
    fill(ledger, 2).close()
    unprotect(ledger)
    head = audit.head()
    sql(ledger, "DELETE FROM audit_head")
    for i in range(10):
        audit.append(event(i))
    with pytest.raises(StorageError, match="head row is missing"):
        audit.flush()
    assert audit.pending() == 10 and audit.last_error is not None
    sql(ledger, "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)", params=head)
    assert audit.flush() == 10
    audit.close()
    assert [r[5] for r in rows(ledger)] == ["P0", "P1", *[f"P{i}" for i in range(10)]]
    assert audit.verify().ok


def _url(ledger: Ledger) -> str:
    return ledger.engine.url.render_as_string(hide_password=False)


def _worker(url: str, name: str, count: int, *extra: str) -> subprocess.Popen[str]:
    # this tree's package first (a worktree's, not the one the environment installed)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(ROOT / "src"), str(ROOT)))}
    return subprocess.Popen(
        [sys.executable, str(WORKER), url, name, str(count), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_two_processes_append_one_linear_chain(ledger: Ledger, tmp_path: Path) -> None:
    go = tmp_path / "go"
    count = 1500
    workers = [_worker(_url(ledger), name, count, "", str(go)) for name in ("a", "b")]
    for w in workers:
        assert w.stdout is not None and w.stdout.readline() == "ready\n"
    go.touch()
    for w in workers:
        _out, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
    stored = rows(ledger)
    assert [r[0] for r in stored] == list(range(1, 2 * count + 1))  # nothing lost, no gap
    for name in ("a", "b"):  # each process's entries once each, in its own order
        mine = [r[5] for r in stored if r[5].startswith(f"{name}-")]
        assert mine == [f"{name}-{i}" for i in range(count)]
    # the two wrote at the same time: their batches alternate in the chain
    writers = [r[5][0] for r in stored]
    assert sum(a != b for a, b in itertools.pairwise(writers)) >= 2
    result = AuditLog(ledger, start=False).verify()
    assert result.ok and result.entries == 2 * count, result.problem


@pytest.mark.slow
def test_a_killed_process_keeps_everything_flushed_and_no_half_batch(ledger: Ledger) -> None:
    for round_ in range(3):
        worker = _worker(_url(ledger), f"r{round_}", 500, "spin")
        assert worker.stdout is not None
        line = worker.stdout.readline()
        assert line == "flushed 500\n", worker.stderr.read() if worker.stderr else ""
        time.sleep(0.05 + 0.1 * round_)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        subjects = [r[5] for r in rows(ledger) if r[5].startswith(f"r{round_}-")]
        assert subjects[:500] == [f"r{round_}-{i}" for i in range(500)]
        assert subjects == [f"r{round_}-{i}" for i in range(len(subjects))]  # a prefix: no hole
        result = AuditLog(ledger, start=False).verify()
        assert result.ok, result.problem


def test_an_event_without_a_usable_time_is_refused_at_once(ledger: Ledger) -> None:
    audit = AuditLog(ledger, start=False)
    with pytest.raises(TypeError, match="epoch seconds"):
        audit.append(event(1, at="2026-01-01"))
    for at in (float("nan"), float("inf"), 1e300):
        with pytest.raises(ValueError, match="finite time"):
            audit.append(event(1, at=at))
    audit.append(event(1, at=1_780_000_000))  # an int is a time too
    audit.close()
    assert [e.at_us for e in audit.read()] == [1_780_000_000_000_000]


def test_a_database_without_the_schema_is_refused(tmp_path: Path) -> None:
    from socialcredit.ledger import LedgerError

    with pytest.raises(LedgerError, match="does not exist"):
        AuditLog(Ledger.open(str(tmp_path / "nope.db")))


@contextlib.contextmanager
def database_write_lock(ledger: Ledger) -> Iterator[None]:
    """Hold the lock the audit writer needs (SQLite: the database's write lock; PostgreSQL:
    the head table's), so that a write the writer thread starts waits until the block ends."""
    if ledger.is_sqlite:
        from socialcredit.ledger.database import sqlite_path

        conn = sqlite3.connect(str(sqlite_path(ledger.url)), isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield
            conn.execute("COMMIT")
        finally:
            conn.close()
        return
    with ledger.engine.connect() as pg:
        pg.exec_driver_sql("LOCK TABLE audit_head IN ACCESS EXCLUSIVE MODE")
        yield
        pg.commit()


def test_flush_waits_for_a_batch_the_writer_thread_took(ledger: Ledger) -> None:
    fill(ledger, 1).close()  # the head row exists: the writer's first step is to lock it
    audit = AuditLog(ledger, interval=0.001)
    try:
        with database_write_lock(ledger):
            audit.append(event(1))
            # the writer thread takes the batch, then waits for the database
            assert wait_until(lambda: audit.pending() == 0)
            flushed = threading.Thread(target=audit.flush)
            flushed.start()
            flushed.join(0.5)
            # the buffer is empty, but an entry appended before the flush is not written:
            # flush must not have returned
            assert flushed.is_alive(), "flush returned before the batch in flight was written"
            assert len(rows(ledger)) == 1
        flushed.join(30)
        assert not flushed.is_alive()
        assert audit.written == 1 and len(rows(ledger)) == 2
    finally:
        audit.close()
    assert audit.verify().ok
