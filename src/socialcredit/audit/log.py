"""``AuditLog``: appending audit entries with group commit, reading them, verifying the chain.

``append`` only puts the event in an in-memory buffer (a tuple appended to a list under a
lock, about a microsecond; ``append_row`` takes the tuple as it is, for the hot path); the
hash chain is computed by the writer, a batch at a time: a background thread writes the buffer every ``interval`` seconds, or as soon
as it holds ``batch`` events, in one transaction (one fsync per batch, not per event; rows
go in with ``executemany`` on SQLite, ``COPY`` on PostgreSQL). The
writer extends the chain under a lock that every process writing to the same database takes
(SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: ``SELECT … FOR UPDATE`` of the head row), so
several API workers give one linear chain. A process that dies loses what its buffer held
(at most ``interval`` plus one write's worth of events; docs/audit.md).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from socialcredit.audit.chain import FIELDS, GENESIS, AuditEntry, AuditEvent, Row, chain_row
from socialcredit.audit.subjects import (
    BATCH_ROUTE,
    PAIRS,
    batch_subjects,
    begin_immediate,
    index_step,
    subject_seqs,
)
from socialcredit.audit.verify import Anchor, AuditVerification, verify_chain
from socialcredit.errors import StorageError

if TYPE_CHECKING:
    from socialcredit.ledger import Ledger

log = logging.getLogger("socialcredit.audit")

_COLUMNS = (*FIELDS, "prev_hash", "hash")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM audit_log"
PAGE = 5000
"""Entries read per query by ``verify`` and ``entries``."""


class AuditUnavailable(StorageError):
    """The audit log cannot take more entries: its buffer is full because the database has
    not accepted a write for a while (or the log is closed). A request must not be answered
    unaudited; the service answers 503 and the caller retries."""


class AuditLog:
    """The hash-chained audit log in ``ledger``'s database (tables ``audit_log`` and
    ``audit_head``, created by ``Ledger.upgrade``).

    ``interval``: seconds between background writes (default 5 ms); ``batch``: a buffer of
    this many events is written at once without waiting; ``max_buffer``: past this many
    unwritten events ``append`` raises ``AuditUnavailable`` (the database is not keeping up
    or is unreachable); ``clock``: the time recorded in the head row. ``start=False``: no
    background thread (``flush`` writes), for tests and one-shot commands.
    ``index_interval``: when it starts and every this many seconds a second thread, on its
    own connection, brings the subject index up to date (``audit.subjects``; None: never,
    searches then read the entries above the index themselves). Raises ``LedgerError`` unless
    the database is a ledger at this program's schema.

    One ``AuditLog`` per process (make it after forking); thread-safe. ``close`` (or the
    interpreter's exit) writes what the buffer holds.
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        interval: float = 0.005,
        batch: int = 2000,
        max_buffer: int = 1_000_000,
        clock: Callable[[], float] = time.time,
        start: bool = True,
        index_interval: float | None = 10.0,
    ) -> None:
        if not (interval > 0 and math.isfinite(interval)):
            raise ValueError("interval must be a positive number of seconds")
        if batch < 1 or max_buffer < batch:
            raise ValueError("batch must be at least 1 and max_buffer at least batch")
        ledger.check_schema()  # a database without the audit tables fails here, not later
        self.ledger = ledger
        self.interval = interval
        self.batch = batch
        self.max_buffer = max_buffer
        self.clock = clock
        self.index_interval = index_interval
        self._index_lock = threading.Lock()
        self._indexer: _Writer | None = None  # the index's own connection
        self._index_thread: threading.Thread | None = None
        self._buffer: list[Row] = []
        self._lock = threading.Lock()  # guards _buffer and _closed
        self._write_lock = threading.Lock()  # one write at a time in this process
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._closed = False
        self._writer: _Writer | None = None
        self.written = 0
        """Events this log has written to the database so far."""
        self._appended = 0  # events appended so far (under ``_lock``)
        self.last_error: str | None = None
        """The last write's failure (None after a write succeeds)."""
        self._thread: threading.Thread | None = None
        if start:
            self._thread = threading.Thread(
                target=self._run, name="socialcredit-audit-writer", daemon=True
            )
            self._thread.start()
            if index_interval is not None:
                self._index_thread = threading.Thread(
                    target=self._run_index, name="socialcredit-audit-indexer", daemon=True
                )
                self._index_thread.start()
        ref = weakref.ref(self)
        self._atexit = lambda: _close_ref(ref)
        atexit.register(self._atexit)

    # ------------------------------------------------------------------ appending

    def append(self, event: AuditEvent) -> None:
        """Put ``event`` in the buffer and return: once this returns, the entry will be
        written unless the process dies within the flush window. Raises
        ``AuditUnavailable`` when the log is closed or its buffer is full, and
        ``TypeError``/``ValueError`` for an event whose ``at`` is not a finite number."""
        at = event.at
        if (type(at) is not float and type(at) is not int) and (
            not isinstance(at, float | int) or isinstance(at, bool)
        ):
            raise TypeError(f"AuditEvent.at must be epoch seconds, not {type(at).__name__}")
        if not -(2**52) < at < 2**52:  # NaN too
            raise ValueError(f"AuditEvent.at must be a finite time, not {at!r}")
        self.append_row(
            (
                at,
                event.key_id,
                event.role,
                event.route,
                event.subject,
                event.service,
                event.decision,
                event.policy_version,
                event.status,
                event.check_id,
                event.details,
            )
        )

    def append_row(self, row: Row) -> None:
        """``append`` of the event ``row`` stands for (``chain.Row``: ``at`` first, then the
        hashed fields after ``seq`` in ``FIELDS`` order), without making an ``AuditEvent``
        or checking its time: for callers whose ``at`` is the clock's (a row whose time is
        not a finite number gets ``at_us`` 0, as ``event_fields`` says). Raises
        ``AuditUnavailable`` as ``append`` does."""
        with self._lock:
            if self._closed:
                raise AuditUnavailable("the audit log is closed: the request was not audited")
            n = len(self._buffer)
            if n >= self.max_buffer:
                raise AuditUnavailable(
                    f"the audit log's buffer is full ({n} entries not yet written: "
                    f"{self.last_error or 'the database is not keeping up'}); try again later"
                )
            self._buffer.append(row)
            self._appended += 1
        if n + 1 == self.batch:
            self._wake.set()

    def append_rows(self, rows: list[Row]) -> None:
        """``append_row`` of each of ``rows``, in order, all or none (``AuditUnavailable``
        when the log is closed or the buffer cannot take them all)."""
        with self._lock:
            if self._closed:
                raise AuditUnavailable("the audit log is closed: the request was not audited")
            n = len(self._buffer)
            if n + len(rows) > self.max_buffer:
                raise AuditUnavailable(
                    f"the audit log's buffer is full ({n} entries not yet written: "
                    f"{self.last_error or 'the database is not keeping up'}); try again later"
                )
            self._buffer.extend(rows)
            self._appended += len(rows)
        if n < self.batch <= n + len(rows):
            self._wake.set()

    def pending(self) -> int:
        """How many appended events are not yet written (an estimate while a write runs)."""
        return len(self._buffer)

    def flush(self) -> int:
        """Write every event appended before this call, and return once they are committed
        (one the background writer is writing now is waited for); return how many this call
        wrote. Raises ``StorageError`` if the database refuses the write (the events stay in the
        buffer, in order, for the next attempt)."""
        # Events are written in the order appended (a failed batch goes back to the front),
        # so those appended before this call are written once ``written`` reaches the count
        # appended by then. One of them may be in a batch the writer thread took and is
        # writing now: the buffer no longer holds it, and the write lock is held until it
        # is committed (or back in the buffer), so every round takes the write lock.
        with self._lock:
            target = self._appended
        total = 0
        while True:
            with self._write_lock:
                if self.written >= target:
                    return total
                written = self._write_once(raise_errors=True)
            if written == 0:
                return total
            total += written

    def close(self) -> None:
        """Stop the background writer, write what the buffer holds, release the connection.
        Appending afterwards raises ``AuditUnavailable``. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        if self._index_thread is not None:
            self._index_thread.join()  # it stops between two steps
        try:
            self.flush()
        finally:
            with self._write_lock:
                if self._writer is not None:
                    self._writer.close()
                    self._writer = None
            with self._index_lock:
                if self._indexer is not None:
                    self._indexer.close()
                    self._indexer = None
            atexit.unregister(self._atexit)

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        backoff = self.interval
        while not self._stop.is_set():
            self._wake.wait(backoff)
            self._wake.clear()
            if self._stop.is_set():
                return
            with self._write_lock:
                ok = self._write_once(raise_errors=False) >= 0
            # a failing database is tried again less often (up to once a second)
            backoff = self.interval if ok else min(1.0, backoff * 2)
            if ok and len(self._buffer) >= self.batch:
                self._wake.set()

    def _run_index(self) -> None:
        """The indexer thread: the subject index caught up at start, then every
        ``index_interval`` seconds (on its own connection: writes never wait for it)."""
        interval = self.index_interval
        assert interval is not None
        while not self._stop.is_set():
            try:
                self.index_subjects(until=self._stop.is_set)
            except Exception as exc:  # searches read the rest themselves meanwhile
                log.warning("indexing the audit log's batch checks failed: %s", exc)
            self._stop.wait(interval)

    def index_subjects(self, until: Callable[[], bool] | None = None, step: int = PAIRS) -> int:
        """Bring the subject index up to date (``audit.subjects``), one step (one
        transaction, about ``step`` index rows) at a time, up to the head of the log as it was when the last step
        began; stop early when ``until()`` says so. Returns how many entries about a
        subject were indexed. Raises ``StorageError`` when the database refuses."""
        total = 0
        while until is None or not until():
            with self._index_lock:
                try:
                    if self._indexer is None:
                        self._indexer = _Writer(self.ledger)
                    done, complete = index_step(self._indexer.conn, self._indexer.is_sqlite, step)
                except Exception as exc:
                    if self._indexer is not None:
                        self._indexer.close(broken=True)
                        self._indexer = None
                    raise StorageError(f"indexing the audit log failed: {exc}") from exc
            total += done
            # a step that reached the head: stop. (Going on while the head moves — checks
            # arrive every few ms — made this a loop of write transactions that never ended,
            # competing with the audit writer: +450 us of CPU a check at 1,000 checks/s.)
            if complete:
                return total
        return total

    def _write_once(self, raise_errors: bool) -> int:
        """Write one batch (at most ``batch`` events) in one transaction; the number written
        (-1: the write failed and ``raise_errors`` is False). Called under ``_write_lock``."""
        with self._lock:
            taken = self._buffer[: self.batch]
            del self._buffer[: self.batch]
        if not taken:
            return 0
        try:
            if self._writer is None:
                self._writer = _Writer(self.ledger)
            self._writer.write(taken, self.clock)
        except Exception as exc:
            with self._lock:  # back at the front, in order
                self._buffer[:0] = taken
            if self._writer is not None:  # a new connection next time
                self._writer.close(broken=True)
                self._writer = None
            self.last_error = f"writing the audit log failed: {' '.join(str(exc).split())}"
            log.error("%s; %d entries kept to try again", self.last_error, len(taken))
            if raise_errors:
                raise StorageError(self.last_error) from exc
            return -1
        self.last_error = None
        self.written += len(taken)
        return len(taken)

    # ------------------------------------------------------------------ reading

    def read(
        self, after: int = 0, limit: int = 100, subject: str | None = None
    ) -> list[AuditEntry]:
        """Up to ``limit`` written entries with seq greater than ``after``, in seq order;
        with ``subject``, only entries about that subject."""
        return read_entries(self.ledger, after, limit, subject)

    def head(self) -> tuple[int, str]:
        """The head row: the last written entry's seq and hash ((0, GENESIS) when empty)."""
        return read_head(self.ledger)

    def verify(self, anchors: Iterable[Anchor] = ()) -> AuditVerification:
        """Verify the written chain (see ``verify_log``)."""
        return verify_log(self.ledger, anchors)


def _close_ref(ref: weakref.ref[AuditLog]) -> None:
    audit = ref()
    if audit is not None:
        with contextlib.suppress(Exception):  # at exit, a failure is already logged
            audit.close()


class _Writer:
    """One connection that extends the chain: each ``write`` is one transaction that locks
    the head row, appends the events after it and moves the head."""

    def __init__(self, ledger: Ledger) -> None:
        self.is_sqlite = ledger.is_sqlite
        self._proxy: Any = None
        if self.is_sqlite:
            self.conn: Any = _sqlite_writer(ledger)
        else:
            self._proxy = ledger.engine.raw_connection()
            self.conn = self._proxy.driver_connection
        mark = "?" if self.is_sqlite else "%s"
        self._insert = (
            f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join([mark] * len(_COLUMNS))})"
        )
        self._copy = f"COPY audit_log ({', '.join(_COLUMNS)}) FROM STDIN"
        self._move = f"UPDATE audit_head SET seq = {mark}, hash = {mark}, updated_at_us = {mark} WHERE id = 1"

    def write(self, events: list[Row], clock: Callable[[], float]) -> None:
        conn = self.conn
        cur = conn.cursor()
        try:
            if self.is_sqlite:
                begin_immediate(cur)
            row = self._lock_head(cur)
            if row is None:  # the first write ever makes the head row
                cur.execute("SELECT 1 FROM audit_log LIMIT 1")
                if cur.fetchone() is not None:
                    raise StorageError(
                        "the audit head row is missing: the audit log was tampered with"
                    )
                cur.execute(
                    "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, "
                    f"'{GENESIS}') ON CONFLICT (id) DO NOTHING"
                )
                row = self._lock_head(cur)
                assert row is not None
            seq, prev = int(row[0]), str(row[1])
            rows = []
            for event in events:
                seq += 1
                fields, digest = chain_row(seq, prev, event)
                rows.append((*fields, prev, digest))
                prev = digest
            if self.is_sqlite:
                cur.executemany(self._insert, rows)
            else:  # COPY: several times faster than an executemany of INSERTs
                with cur.copy(self._copy) as copy:
                    for r in rows:
                        copy.write_row(r)
            cur.execute(self._move, (seq, prev, round(clock() * 1_000_000)))
            conn.commit() if not self.is_sqlite else cur.execute("COMMIT")
        except BaseException:
            try:
                if self.is_sqlite:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                else:
                    conn.rollback()
            except Exception:
                pass
            raise
        finally:
            cur.close()

    def _lock_head(self, cur: Any) -> Any:
        """The head row (seq, hash), locked until the transaction ends (SQLite: the whole
        database already is, by ``BEGIN IMMEDIATE``); None if there is none yet."""
        if self.is_sqlite:
            cur.execute("SELECT seq, hash FROM audit_head WHERE id = 1")
        else:
            cur.execute("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
        return cur.fetchone()

    def close(self, broken: bool = False) -> None:
        """Release the connection (``broken``: discard it rather than return it to the pool)."""
        try:
            if self._proxy is not None:
                if broken:
                    self._proxy.invalidate()
                self._proxy.close()
            else:
                self.conn.close()
        except Exception:  # a broken connection: nothing left to release
            pass


def _sqlite_writer(ledger: Ledger) -> sqlite3.Connection:
    """A connection of its own to the ledger's SQLite file, in autocommit mode (the writer
    issues ``BEGIN IMMEDIATE``), with the ledger's settings and ``synchronous=FULL``: each
    batch's commit is synced to disk once, so a power loss, not only a crash, keeps it.
    Its busy timeout is 0: the write lock is waited for by ``subjects.begin_immediate``
    (in WAL mode nothing else a writer does waits for another connection's lock)."""
    from socialcredit.ledger.database import _sqlite_pragmas, sqlite_path

    path = sqlite_path(ledger.url)
    if path is None:
        raise StorageError(f"the audit log needs a SQLite file or PostgreSQL, not {ledger.url}")
    from pathlib import Path

    uri = Path(path).absolute().as_uri() + "?mode=rw"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    try:
        _sqlite_pragmas(conn, None)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=0")
    except BaseException:
        conn.close()
        raise
    return conn


# ---------------------------------------------------------------------- reading


def _entry(row: tuple[Any, ...]) -> AuditEntry:
    return AuditEntry(*row)


@contextmanager
def _snapshot(ledger: Ledger) -> Iterator[Any]:
    """A DBAPI cursor inside one read transaction: every query sees the same state."""
    with ledger.reading() as conn:
        cur = conn.cursor()
        try:
            if ledger.is_sqlite:
                cur.execute("BEGIN")
            else:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield cur
        finally:
            try:
                if ledger.is_sqlite:
                    cur.execute("COMMIT")
                else:
                    conn.rollback()
            finally:
                cur.close()


def read_head(ledger: Ledger) -> tuple[int, str]:
    """The head row's (seq, hash): (0, ``GENESIS``) before the first write; raises
    ``StorageError`` if the row is missing although entries exist."""
    with _snapshot(ledger) as cur:
        head = _head(cur)
    if head is None:
        raise StorageError("the audit head row is missing: the audit log was tampered with")
    return head


def _head(cur: Any) -> tuple[int, str] | None:
    """The head row; (0, GENESIS) for a log never written to (no head row and no entry);
    None for a missing head row in front of entries."""
    cur.execute("SELECT seq, hash FROM audit_head WHERE id = 1")
    row = cur.fetchone()
    if row is not None:
        return int(row[0]), str(row[1])
    cur.execute("SELECT 1 FROM audit_log LIMIT 1")
    return (0, GENESIS) if cur.fetchone() is None else None


def read_entries(
    ledger: Ledger, after: int = 0, limit: int = 100, subject: str | None = None
) -> list[AuditEntry]:
    """Up to ``limit`` entries with seq greater than ``after``, in seq order (only those
    about ``subject`` if given: its own entries and the batch checks that list it, found
    through indexes: ``subjects.subject_seqs``). ``limit`` must be positive."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    mark = "?" if ledger.is_sqlite else "%s"
    with _snapshot(ledger) as cur:
        if subject is None:
            cur.execute(f"{_SELECT} WHERE seq > {mark} ORDER BY seq LIMIT {int(limit)}", (after,))
            return [_entry(tuple(r)) for r in cur.fetchall()]
        seqs = subject_seqs(cur, ledger.is_sqlite, subject, int(after), limit)
        if not seqs:
            return []
        cur.execute(
            f"{_SELECT} WHERE seq IN ({', '.join([mark] * len(seqs))}) ORDER BY seq", tuple(seqs)
        )
        return [_entry(tuple(r)) for r in cur.fetchall()]


def verify_log(ledger: Ledger, anchors: Iterable[Anchor] = ()) -> AuditVerification:
    """Verify the audit log in ``ledger`` as one consistent snapshot (writers may go on
    meanwhile): the chain, the head row and each anchor (``verify.verify_chain``)."""
    mark = "?" if ledger.is_sqlite else "%s"
    anchors = tuple(anchors)
    with _snapshot(ledger) as cur:
        head = _head(cur)

        def pages() -> Iterator[AuditEntry]:
            after: int | None = None
            while True:
                if after is None:  # the first page: whatever the smallest seq is
                    cur.execute(f"{_SELECT} ORDER BY seq LIMIT {PAGE}")
                else:
                    cur.execute(f"{_SELECT} WHERE seq > {mark} ORDER BY seq LIMIT {PAGE}", (after,))
                rows = cur.fetchall()
                for row in rows:
                    yield _entry(tuple(row))
                if len(rows) < PAGE:
                    return
                after = int(rows[-1][0])

        return verify_chain(pages(), head, anchors)


__all__ = [
    "BATCH_ROUTE",
    "PAGE",
    "AuditLog",
    "AuditUnavailable",
    "batch_subjects",
    "read_entries",
    "read_head",
    "verify_log",
]
