"""Writing prepared chunks into the ledger: inserts, repeats, corrections, checkpoints.

Every line of an input ends up in exactly one of: accepted, duplicate (its source and id
are stored with the same content), conflict (stored with different content; the stored
entry is kept), rejected (with the line, field and reason) or skipped (blank). Accepted
disputes that change nothing (filed after the appeal window, or of a record already
disputed) are also reported, as notices.
"""

from __future__ import annotations

import gc
import logging
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from socialcredit.columns import KIND_CODES
from socialcredit.errors import StorageError
from socialcredit.ledger.chunk_checks import KNOWN_KINDS_LIMIT
from socialcredit.ledger.copying import (
    can_copy,
    copy_entries,
    copy_entries_direct,
    copy_subjects,
    subject_ids,
)
from socialcredit.ledger.correction_checks import CorrectionChecks
from socialcredit.ledger.database import CACHE_KIB
from socialcredit.ledger.parsing import (
    IngestProblem,
    PreparedChunk,
    Row,
)
from socialcredit.ledger.refusals import without_lines
from socialcredit.ledger.results import IngestResult
from socialcredit.ledger.rules import IngestRules
from socialcredit.ledger.wallet_checks import overdrawn

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("socialcredit.ledger")
_DISPUTE = KIND_CODES["dispute"]
_RECTIFY = KIND_CODES["rectify"]


WAL_RESTART_BYTES = 256 * 1024 * 1024


WRITER_CACHE_KIB = 1024 * 1024


def writer_cache_kib() -> int:
    """The page cache of an ingest's writing connection on SQLite, in KiB (negative in
    ``PRAGMA cache_size``): 1 GiB, or an eighth of the machine's memory if that is less,
    and never below every connection's (``database.CACHE_KIB``).
    SQLite takes pages as it needs them, so a small ingest does not use more memory;
    a large one keeps its indexes' pages (the subject index takes a page in each chunk
    nearly everywhere) in memory instead of reading them again from the file."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return CACHE_KIB
    return max(CACHE_KIB, min(WRITER_CACHE_KIB, memory // 8 // 1024))


class Checkpointer:
    """SQLite WAL checkpoints: PASSIVE ones on a background thread and its own connection,
    one at a time, while the writer goes on; and, when the log has grown past
    ``limit`` bytes, a RESTART by the writer between chunks, so that the log starts again
    from its beginning and its file stays bounded (about ``limit`` plus one chunk)."""

    def __init__(self, engine: Engine, wal_path: str | None, limit: int) -> None:
        self.engine = engine
        self.wal_path = wal_path
        self.limit = limit
        self.pool = ThreadPoolExecutor(1)
        self.pending: Future[None] | None = None

    def start(self) -> None:
        """Copy what is committed so far into the database file, unless a copy is running."""
        if self.pending is None or self.pending.done():
            if self.pending is not None:
                self.pending.result()
            self.pending = self.pool.submit(self._run)

    def _run(self) -> None:
        # A checkpoint only copies committed pages into the database file: one that fails
        # (another process writing or checkpointing the same file can make SQLite report a
        # short read, "disk I/O error") loses nothing and is tried again after a later chunk.
        from sqlalchemy.exc import OperationalError

        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except OperationalError as exc:
            log.debug("WAL checkpoint skipped: %s", exc)

    def bound(self, conn: Connection) -> None:
        """Between chunks, on the writer's connection (no transaction open): if the log is
        larger than the limit, wait for the background copy, then copy the rest and restart
        the log, so that the next chunk writes it from its beginning. A reader that still
        uses the log (or another writer) may keep it from restarting this time: the
        checkpoint then waits at most a second and the writer goes on."""
        if self.wal_path is None:
            return
        try:
            size = os.path.getsize(self.wal_path)
        except OSError:
            return
        if size <= self.limit:
            return
        from sqlalchemy.exc import OperationalError

        self._wait()
        timeout = int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one())
        conn.exec_driver_sql("PRAGMA busy_timeout=1000")
        try:
            busy, log_frames, done = conn.exec_driver_sql("PRAGMA wal_checkpoint(RESTART)").one()
        except OperationalError as exc:  # as in _run: nothing is lost, the next chunk retries
            conn.rollback()
            log.debug("WAL restart skipped: %s", exc)
            return
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={timeout}")
        conn.commit()
        log.debug("WAL restart: busy=%s, %s of %s frames copied", busy, done, log_frames)

    def _wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def finish(self) -> None:
        """Wait for the running copy and stop the thread."""
        self.pool.shutdown(wait=True)
        self._wait()


def write_chunks(
    engine: Engine,
    chunks: Iterable[PreparedChunk],
    origin: str,
    now: int,
    rules: IngestRules | None,
    progress: Callable[[int], None] | None,
    backfill: bool = False,
) -> IngestResult:
    """Write prepared chunks, one transaction each, as one ingest batch; see ``Ledger.ingest``.

    ``backfill``: the batch is recorded as one (``ingest_batches.backfill``); the chunks
    must have been prepared with ``backfill`` too."""
    # Chunks are large lists of tuples without reference cycles: pausing the cycle
    # collector saves it from rescanning them again and again while they are written.
    collecting = gc.isenabled()
    gc.disable()
    started = time.perf_counter()
    try:
        result = _Writer(engine, origin, now, rules, backfill).run(chunks, progress)
    finally:
        if collecting:
            gc.enable()
    log.info(
        "ingested %s: %d lines in %.2fs: %d accepted, %d duplicates, %d conflicts, "
        "%d rejected, %d skipped, %d without effect",
        origin,
        result.lines,
        time.perf_counter() - started,
        result.accepted,
        result.duplicates,
        result.conflicts,
        result.rejected,
        result.skipped,
        result.no_effect,
    )
    return result


class _Writer(CorrectionChecks):
    def __init__(
        self, engine: Engine, origin: str, now: int, rules: IngestRules | None, backfill: bool
    ) -> None:
        super().__init__(engine, origin, now, rules)
        self.backfill = backfill
        self.copying = False  # PostgreSQL, by COPY (``copying``)
        # PostgreSQL: entries are copied straight into the table (``copy_entries_direct``)
        # unless the last chunk repeated stored ones (then through the staging tables)
        self.direct = True
        self.ids: dict[str, int] = {}  # subject ids read or stored by committed chunks
        self.chunk_ids: dict[str, int] = {}  # those read by the chunk being written
        # redemption lines of the chunk being written that a wallet cannot cover
        self.overdrawn: dict[int, str] = {}

    def _subject_ids(
        self, conn: Connection, rows: list[Row], relations: list[Row]
    ) -> dict[str, int]:
        """The ids of the subjects ``rows`` and ``relations`` name, those not known yet
        read in one query (they are kept once the chunk is committed)."""
        names = {r[3] for r in rows}
        names.update(r[3] for r in relations)
        names.update(r[9] for r in relations if r[9] is not None)
        known = self.ids
        ids = {name: known[name] for name in names if name in known}
        if len(ids) < len(names):
            found = subject_ids(conn, [name for name in names if name not in ids])
            self.chunk_ids.update(found)
            ids.update(found)
        return ids

    def run(
        self, chunks: Iterable[PreparedChunk], progress: Callable[[int], None] | None
    ) -> IngestResult:
        result = self.result
        started = time.monotonic()
        checkpoints = None
        if self.is_sqlite:
            database = self.engine.url.database
            wal = f"{database}-wal" if database and database != ":memory:" else None
            checkpoints = Checkpointer(self.engine, wal, WAL_RESTART_BYTES)
        with self.engine.connect() as conn, self._writer_settings(conn, checkpoints):
            if not self.is_sqlite:
                self.copying = can_copy(conn)
            self._retrying(conn, lambda: self._new_batch(conn), 0)
            try:
                for chunk in chunks:
                    result.lines += chunk.lines
                    result.skipped += chunk.skipped
                    result.problems.extend(chunk.problems)
                    result.trimmed_lines.extend(chunk.trimmed)
                    self._write_chunk_retrying(conn, chunk)
                    if checkpoints:
                        checkpoints.bound(conn)
                        checkpoints.start()
                    if progress:
                        progress(result.lines)
            finally:
                if checkpoints:
                    checkpoints.finish()
            for found in (result.problems, result.conflict_lines, result.no_effect_lines):
                found.sort(key=lambda p: p.line)
            result.trimmed_lines.sort()
            result.rejected = len(result.problems)
            result.conflicts = len(result.conflict_lines)
            # the ledger's clock, read once at the start, plus the time the batch took
            self._write_lock(conn)
            self._record_counts(conn, finished_at=self.now + int(time.monotonic() - started))
            conn.commit()
        return result

    @contextmanager
    def _writer_settings(
        self, conn: Connection, checkpoints: Checkpointer | None
    ) -> Iterator[None]:
        """SQLite, while this ingest writes: no automatic checkpoints on the writing
        connection (the writer does not stop for every checkpoint: another connection
        copies committed pages from the write-ahead log into the database file meanwhile,
        and the writer restarts the log when it has grown, ``Checkpointer.bound``), and
        a larger page cache (``writer_cache_kib``). The connection goes back to the pool
        with its settings as they were (a server that ingests keeps its memory)."""
        if checkpoints is None:
            yield
            return
        autocheckpoint = int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())
        cache = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
        conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        conn.exec_driver_sql(f"PRAGMA cache_size=-{writer_cache_kib()}")
        try:
            yield
        finally:
            from sqlalchemy.exc import DBAPIError

            # after a failure the connection may be unusable: the pool then discards it
            with suppress(DBAPIError):
                conn.exec_driver_sql(f"PRAGMA cache_size={cache}")
                conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={autocheckpoint}")

    def _write_lock(self, conn: Connection) -> None:
        """SQLite: open the transaction with the write lock (``BEGIN IMMEDIATE``), waiting
        for other writers however long their transactions take, up to ``LOCK_WAIT``
        seconds in all. SQLite's own wait (the busy timeout) gives up after ten seconds,
        which a writer of a large chunk on a loaded machine can exceed; here each refusal
        is followed by a pause of random length (so that waiting writers do not all try at
        once), doubling up to a second. Nothing is written before the lock is held, so
        nothing is lost or repeated by waiting. PostgreSQL: nothing (rows are locked one
        by one as they are written)."""
        if not self.is_sqlite:
            return
        from sqlalchemy.exc import OperationalError

        deadline = time.monotonic() + LOCK_WAIT
        pause = 0.02
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if not _contended(exc):
                    raise
                conn.rollback()
                if time.monotonic() >= deadline:
                    raise StorageError(
                        f"ingesting {self.origin}: another writer kept the database locked "
                        f"for more than {LOCK_WAIT:.0f} seconds ({_first_line(exc.orig)}); "
                        "the chunks committed before are stored; running the same ingest "
                        "again completes it"
                    ) from None
                log.debug("%s: waiting for another writer's lock (%s)", self.origin, exc.orig)
                time.sleep(random.uniform(pause / 2, pause))
                pause = min(pause * 2, 1.0)

    def _record_counts(self, conn: Connection, finished_at: int | None = None) -> None:
        """Write what this batch has stored so far into its row (in the open transaction,
        so the row always matches the committed chunks); ``finished_at`` at the end."""
        from socialcredit.ledger.schema import ingest_batches

        result = self.result
        values: dict[str, int] = {
            "lines": result.lines,
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "rejected": len(result.problems),
            "conflicts": len(result.conflict_lines),
            "skipped": result.skipped,
        }
        if finished_at is not None:
            values["finished_at"] = finished_at
        conn.execute(
            ingest_batches.update().where(ingest_batches.c.id == self.batch_id).values(**values)
        )

    def _write_chunk_retrying(self, conn: Connection, chunk: PreparedChunk) -> None:
        """``_write_chunk``, again from the start of the chunk (after a pause of random
        length) when the database gave up on its transaction because of other writers: a
        deadlock or serialization failure (PostgreSQL) or a lock held too long (SQLite).
        What the failed attempt counted is forgotten; after ``RETRIES`` attempts the
        ingest stops with a ``StorageError`` (the committed chunks stay)."""
        self._retrying(conn, lambda: self._write_chunk_keeping_good(conn, chunk), chunk.lines)

    def _retrying(self, conn: Connection, write: Callable[[], None], lines: int) -> None:
        from sqlalchemy.exc import DBAPIError

        saved = self._state()
        for attempt in range(1, RETRIES + 1):
            try:
                write()
                return
            except DBAPIError as exc:
                if not _contended(exc):
                    raise
                conn.rollback()
                self._restore(saved)
                if attempt == RETRIES:
                    raise StorageError(
                        f"ingesting {self.origin}: the database kept refusing a chunk because "
                        f"of other writers ({_first_line(exc.orig)}) after {RETRIES} attempts; "
                        f"{self.result.lines - lines} lines before it are stored; "
                        "running the same ingest again completes it"
                    ) from None
                pause = random.uniform(0.05, 0.2 * 2 ** min(attempt, 5))
                log.info(
                    "%s: chunk refused (%s); trying again in %.2fs (attempt %d of %d)",
                    self.origin,
                    _first_line(exc.orig),
                    pause,
                    attempt + 1,
                    RETRIES,
                )
                time.sleep(pause)

    def _new_batch(self, conn: Connection) -> None:
        from sqlalchemy import insert

        from socialcredit.ledger.schema import ingest_batches

        self._write_lock(conn)
        res = conn.execute(
            insert(ingest_batches)
            .values(
                origin=self.origin,
                started_at=self.now,
                lines=0,
                accepted=0,
                duplicates=0,
                rejected=0,
                backfill=1 if self.backfill else 0,
            )
            .returning(ingest_batches.c.id)
        )
        self.batch_id = int(res.scalar_one())
        conn.commit()

    def _write_chunk_keeping_good(self, conn: Connection, chunk: PreparedChunk) -> None:
        """``_write_chunk``; when the database refuses some of its lines (see
        ``refusals``), the chunk is rolled back and written again without them, and they
        are reported as rejected with the database's reason: good lines are kept."""
        saved = self._state()
        refusals: list[IngestProblem] = []
        while True:
            self.refused = {}
            self.overdrawn = {}
            self._write_chunk(conn, chunk)
            if not self.refused and not self.overdrawn:
                return
            conn.rollback()
            self._restore(saved)
            refusals.extend(
                IngestProblem(self.origin, line, "", f"the database refused this line: {reason}")
                for line, reason in sorted(self.refused.items())
            )
            refusals.extend(
                IngestProblem(self.origin, line, "amount", reason)
                for line, reason in sorted(self.overdrawn.items())
            )
            self.result.problems.extend(refusals)
            chunk, dropped = without_lines(chunk, set(self.refused) | set(self.overdrawn))
            self.withheld.update(dropped)  # named again later, they are stored then
            saved = self._state()
            refusals = []

    def _write_chunk(self, conn: Connection, chunk: PreparedChunk) -> None:
        p = self.p
        self.chunk_ids = {}
        # SQLite: one writer at a time: take the write lock first (waiting for other
        # writers), so every check below reads what this chunk writes onto
        self._write_lock(conn)
        # entries up to here were in the ledger before this chunk: a correction whose target
        # is not an earlier line of the chunk must point at one of them, not at a later line
        before = 0
        if chunk.corrections:
            before = int(
                conn.exec_driver_sql("SELECT COALESCE(MAX(seq), 0) FROM entries").scalar_one()
            )
        subjects = chunk.subjects
        rows = chunk.rows
        relations = chunk.relations
        self.first_lines.update(chunk.first_lines)
        # names this ingest stores first, with the kinds the first lines naming them give
        new = {**dict(subjects), **self.withheld}  # withheld ones were seen first
        rows, relations = self._kinds_fit(conn, chunk, new)
        if self.withheld or len(relations) < len(chunk.relations) or len(rows) < len(chunk.rows):
            # before subjects are added: a subject only rejected lines name is not stored
            # (the ledger would claim to know of it); it waits in ``withheld`` for a later
            # line that is stored
            used = {r[3] for r in rows} | {r[3] for r in relations}
            used |= {r[9] for r in relations}
            subjects = sorted((name, kind) for name, kind in new.items() if name in used)
            self.withheld = {name: kind for name, kind in new.items() if name not in used}
        stored_subjects = 0
        if subjects:
            # PostgreSQL: by COPY (``copying``); the row-by-row insert finds refused rows
            copied = copy_subjects(conn, subjects) if self.copying else None
            if copied is not None:
                stored_subjects = copied
            else:
                stored_subjects, _ = self._insert(
                    conn,
                    f"INSERT INTO subjects (name, kind) VALUES ({p}, {p}) "
                    "ON CONFLICT (name) DO NOTHING",
                    subjects,
                    chunk,
                )
            if self.refused:
                return  # written again without the lines naming the refused subjects
        if self.copying and (rows or relations) and self.direct:
            ids = self._subject_ids(conn, rows, relations)
            if copy_entries_direct(conn, rows, relations, ids, self.batch_id, self.now):
                self.result.accepted += len(rows) + len(relations)
                rows = relations = []
            else:  # some are stored already: the staging way, until a chunk has no repeat
                self.direct = False
        if self.copying and (rows or relations):
            stored = copy_entries(conn, rows, relations, self.batch_id, self.now)
            if stored is not None:
                self.result.accepted += len(stored)
                left = [r for group in (rows, relations) for r in group if r[-1] not in stored]
                if left:
                    self._settle_repeats(conn, left)
                self.direct = not left
                rows = relations = []
        if not self.is_sqlite:
            # concurrent writers take the unique keys' locks in one order (subjects by name,
            # then entries by subject, source and id), so two ingests of the same keys wait
            # for each other instead of deadlocking (what remains is retried)
            rows = sorted(rows, key=_entry_order)
            relations = sorted(relations, key=_entry_order)
        subject = f"(SELECT id FROM subjects WHERE name = {p})"
        columns = (
            "INSERT INTO entries (source, entry_id, kind, subject_id, type, occurred_at, "
            "recorded_at, amount, evidence, {extra}claimed_recorded_at, batch_id, line) VALUES "
            "({p}, {p}, {p}, {subject}, {p}, {p}, COALESCE({p}, {now}), {p}, {p}, "
            "{extra_values}{p}, {batch}, {p}) ON CONFLICT (source, entry_id) DO NOTHING"
        )
        # Subject names become ids inside the database (one indexed lookup per row, in C),
        # so this process does no per-row work beyond handing the rows over.
        for group, extra, extra_values in (
            (rows, "details, ", f"{p}, "),
            (relations, "related_subject_id, valid_until, ", f"{subject}, {p}, "),
        ):
            if not group:
                continue
            template = columns
            if group is relations:
                # a relation has no evidence; an exemption's or attribute's details go there
                template = columns.replace("amount, evidence,", "amount, details,")
            sql = template.format(
                p=p,
                subject=subject,
                extra=extra,
                extra_values=extra_values,
                batch=self.batch_id,
                now=self.now,
            )
            inserted, kept = self._insert(conn, sql, group)
            self.result.accepted += inserted
            if inserted < len(kept):
                self._settle_repeats(conn, kept)
        if chunk.corrections:
            self._write_corrections(conn, chunk, before)
        if self.refused:
            return  # written again without the refused lines (``_write_chunk_keeping_good``)
        if self.rules is not None and self.rules.wallet_policy is not None:
            # redemptions a wallet cannot cover: written again without them, like refusals
            self.overdrawn = overdrawn(conn, self.is_sqlite, self.rules, chunk.rows, self.batch_id)
            if self.overdrawn:
                return
        if chunk.repeats:
            self._settle_repeats(conn, chunk.repeats)
        self._record_counts(conn)
        conn.commit()
        if self.chunk_ids and len(self.ids) < KNOWN_KINDS_LIMIT:
            self.ids.update(self.chunk_ids)  # committed: ids never change
        if subjects:
            self._remember_stored(subjects, stored_subjects)
        # the first lines of subjects now stored are read from the ledger when needed: only
        # those still waiting are kept (``_state`` copies this at every chunk)
        first_lines = self.first_lines
        self.first_lines = {n: first_lines[n] for n in self.withheld if n in first_lines}


RETRIES = 8  # attempts at a chunk that other writers' locks keep failing
LOCK_WAIT = 600.0  # seconds a SQLite writer waits for other writers' transactions

# PostgreSQL: serialization_failure, deadlock_detected
_RETRY_STATES = {"40001", "40P01"}


def _contended(exc: Exception) -> bool:
    """Whether the database refused a transaction only because of other writers."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in _RETRY_STATES:
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED


def _first_line(exc: object) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _entry_order(row: Row) -> tuple[str, str, str]:
    return (row[3], row[0], row[1])
