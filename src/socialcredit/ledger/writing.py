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
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from socialcredit.columns import KIND_CODES, RECORD, RELATION, SUBJECT_KINDS
from socialcredit.errors import StorageError
from socialcredit.ledger.entries import a_kind, relation_kind_problem
from socialcredit.ledger.parsing import (
    IngestProblem,
    PreparedChunk,
    Row,
    conflict_message,
    content_differences,
    content_of,
    details_content,
    target_problem,
)
from socialcredit.ledger.refusals import insert_keeping, names_in, without_lines
from socialcredit.ledger.rules import IngestRules
from socialcredit.timeutil import to_iso

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("socialcredit.ledger")
_DISPUTE = KIND_CODES["dispute"]
_RECTIFY = KIND_CODES["rectify"]


@dataclass
class IngestResult:
    """What one ingestion did with every line of its input.

    ``lines == accepted + duplicates + conflicts + rejected + skipped``. ``problems``: the
    rejected lines; ``conflict_lines``: repeats of a stored (source, id) with different
    content (the ledger keeps what it has); ``no_effect_lines``: accepted disputes that
    change nothing; ``trimmed_lines``: CSV lines whose fields had surrounding spaces
    (trimmed, then read as usual).
    """

    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    skipped: int = 0
    problems: list[IngestProblem] = field(default_factory=list)
    conflict_lines: list[IngestProblem] = field(default_factory=list)
    no_effect_lines: list[IngestProblem] = field(default_factory=list)
    trimmed_lines: list[int] = field(default_factory=list)

    @property
    def no_effect(self) -> int:
        """How many accepted entries change nothing (see ``no_effect_lines``)."""
        return len(self.no_effect_lines)

    @property
    def trimmed(self) -> int:
        """How many lines had spaces trimmed from their fields."""
        return len(self.trimmed_lines)

    def to_json(self) -> dict[str, Any]:
        """Counts, every problem, conflict and notice, for ``ingest --json``."""
        return {
            "lines": self.lines,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "no_effect": self.no_effect,
            "trimmed": self.trimmed,
            "problems": [p.__dict__ for p in self.problems],
            "conflict_lines": [p.__dict__ for p in self.conflict_lines],
            "no_effect_lines": [p.__dict__ for p in self.no_effect_lines],
            "trimmed_lines": self.trimmed_lines,
        }


# The write-ahead log is brought back to its start (``wal_checkpoint(RESTART)``, between
# chunks, by the writer) once it is larger than this: a large import cannot fill the disk
# with it. Between restarts a background checkpoint copies committed pages meanwhile.
WAL_RESTART_BYTES = 256 * 1024 * 1024


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


class _Writer:
    def __init__(
        self, engine: Engine, origin: str, now: int, rules: IngestRules | None, backfill: bool
    ) -> None:
        self.engine = engine
        self.backfill = backfill
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.p = "?" if self.is_sqlite else "%s"
        self.origin = origin
        self.now = now
        self.rules = rules
        self.result = IngestResult()
        self.batch_id = 0
        self.withheld: dict[str, int] = {}  # subjects only rejected lines named, so far
        self.first_lines: dict[str, int] = {}  # the line that first named each new subject
        self.since: dict[str, str] = {}  # see ``_since``
        # lines of the chunk being written that the database refused, with its reason
        self.refused: dict[int, str] = {}

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
        with self.engine.connect() as conn:
            if checkpoints:
                # The writer does not stop for every checkpoint: another connection copies
                # committed pages from the write-ahead log into the database file meanwhile,
                # and the writer restarts the log when it has grown (``Checkpointer.bound``).
                conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
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
            self._record_counts(conn, finished_at=self.now + int(time.monotonic() - started))
            conn.commit()
        return result

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
            self._write_chunk(conn, chunk)
            if not self.refused:
                return
            conn.rollback()
            self._restore(saved)
            refusals.extend(
                IngestProblem(self.origin, line, "", f"the database refused this line: {reason}")
                for line, reason in sorted(self.refused.items())
            )
            self.result.problems.extend(refusals)
            chunk, dropped = without_lines(chunk, set(self.refused))
            self.withheld.update(dropped)  # named again later, they are stored then
            saved = self._state()
            refusals = []

    def _state(self) -> tuple[Any, ...]:
        result = self.result
        return (
            result.accepted,
            result.duplicates,
            len(result.problems),
            len(result.conflict_lines),
            len(result.no_effect_lines),
            dict(self.withheld),
            dict(self.first_lines),
            dict(self.since),
        )

    def _restore(self, saved: tuple[Any, ...]) -> None:
        result = self.result
        accepted, duplicates, problems, conflicts, notes, withheld, first, since = saved
        result.accepted = accepted
        result.duplicates = duplicates
        del result.problems[problems:]
        del result.conflict_lines[conflicts:]
        del result.no_effect_lines[notes:]
        self.withheld = withheld
        self.first_lines = first
        self.since = since

    def _insert(
        self, conn: Connection, sql: str, rows: list[Row], chunk: PreparedChunk | None = None
    ) -> tuple[int, list[Row]]:
        """Execute ``sql`` for ``rows`` (entries: the line last; with ``chunk``, subjects
        as (name, kind)); lines the database refuses go to ``self.refused`` (a refused
        subject: every line of the chunk that names it). Returns the rowcount and the rows
        not refused."""

        def refused(row: Row, reason: str) -> None:
            if chunk is None:
                self.refused.setdefault(int(row[-1]), reason)
                return
            name = row[0]
            for entry in (*chunk.rows, *chunk.relations):
                if name in names_in(entry):
                    self.refused.setdefault(int(entry[-1]), f"(subject {name}) {reason}")

        return insert_keeping(conn, sql, rows, refused)

    def _write_chunk(self, conn: Connection, chunk: PreparedChunk) -> None:
        p = self.p
        if self.is_sqlite:
            # one writer at a time: take the write lock first (waiting for another writer up
            # to the busy timeout), so every check below reads what this chunk writes onto
            conn.exec_driver_sql("BEGIN IMMEDIATE")
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
        if subjects:
            self._insert(
                conn,
                f"INSERT INTO subjects (name, kind) VALUES ({p}, {p}) ON CONFLICT (name) DO NOTHING",
                subjects,
                chunk,
            )
            if self.refused:
                return  # written again without the lines naming the refused subjects
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
            (rows, "", ""),
            (relations, "related_subject_id, valid_until, ", f"{subject}, {p}, "),
        ):
            if not group:
                continue
            sql = columns.format(
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
        if chunk.repeats:
            self._settle_repeats(conn, chunk.repeats)
        self._record_counts(conn)
        conn.commit()

    def _kinds_fit(
        self, conn: Connection, chunk: PreparedChunk, new: dict[str, int]
    ) -> tuple[list[Row], list[Row]]:
        """The chunk's records and relations whose subject kinds fit (``_claims_fit``,
        ``_stored_kinds_fit``); the others become problems. ``new``: the subjects this
        ingest stores first, with their kinds, updated here. A subject's kind is the one
        the first line naming it that is kept gives it (a rejected line fixes nothing):
        when that line is rejected, the chunk is checked again with the next line's."""
        excluded: set[int] = set()  # lines rejected although they fixed a kind
        reasons: dict[int, IngestProblem] = {}  # why, with the kinds they gave
        if self.withheld:  # their kinds came from rejected lines: this chunk's first line's
            self._take_first_kinds(chunk, excluded, self.withheld.keys(), new)
        saved = self._state()
        for round_ in range(1, _KIND_ROUNDS + 1):
            rows, relations = chunk.rows, chunk.relations
            if chunk.record_kinds or chunk.claims or chunk.kind_exceptions:
                rows, relations = self._claims_fit(conn, chunk, new)
            if relations and self.rules is not None:
                relations = self._stored_kinds_fit(conn, relations, new)
            if round_ == _KIND_ROUNDS or (
                len(rows) == len(chunk.rows) and len(relations) == len(chunk.relations)
            ):
                break
            kept = {r[-1] for r in rows} | {r[-1] for r in relations}
            lines = {r[-1] for r in chunk.rows} | {r[-1] for r in chunk.relations}
            first = {self.first_lines.get(name) for name in new}
            wrong = (lines - kept) & first - excluded
            if not wrong:
                break
            excluded |= wrong
            # their reasons as they stand now, when the kinds they give were in force
            found = self.result.problems[saved[2] :]
            for problem in found:
                if problem.line in wrong:
                    reasons.setdefault(problem.line, problem)
            self._restore(saved)
            self._take_first_kinds(chunk, excluded, list(new), new)
            saved = self._state()
        problems = self.result.problems
        for i in range(saved[2], len(problems)):
            problems[i] = reasons.get(problems[i].line, problems[i])
        return rows, relations

    def _take_first_kinds(
        self,
        chunk: PreparedChunk,
        excluded: set[int],
        names: Collection[str],
        new: dict[str, int],
    ) -> None:
        """For each of ``names`` that a record or relation of the chunk not ``excluded``
        names, set its kind in ``new`` and its first line to the first such line's."""
        rules = self.rules
        wanted = set(names)
        stated: dict[tuple[int, int], int] = {}  # (relation line, 0/1) -> stated kind
        for (_, kind, which), claimed in chunk.claims.items():
            for line in claimed:
                stated[(line, which)] = kind
        found: dict[str, tuple[int, int]] = {}

        def give(name: str, kind: int, line: int) -> None:
            if name in wanted and (name not in found or line < found[name][1]):
                found[name] = (kind, line)

        for row in chunk.rows:
            name, line = row[3], int(row[-1])
            if name not in wanted or line in excluded:
                continue
            exception = chunk.kind_exceptions.get(line)
            code = exception[1] if exception is not None else chunk.record_kinds.get(name, -1)
            if code < 0:  # none stated: a person, if its type applies to persons
                if rules is not None and 0 not in rules.record_types.get(row[4], (0,)):
                    continue
                code = 0
            give(name, code, line)
        for row in chunk.relations:
            line = int(row[-1])
            if line in excluded:
                continue
            declared = rules.relations.get(row[4], (0, 0)) if rules is not None else (0, 0)
            for which, name in ((0, row[3]), (1, row[9])):
                give(name, stated.get((line, which), declared[which]), line)
        for name, (kind, line) in found.items():
            new[name] = kind
            self.first_lines[name] = line

    def _stored_kinds(self, conn: Connection, names: list[str]) -> dict[str, int]:
        """The kinds the ledger records for those of ``names`` it knows."""
        kinds: dict[str, int] = {}
        for start in range(0, len(names), 900):  # SQLite takes up to 999 parameters
            part = names[start : start + 900]
            found = conn.exec_driver_sql(
                f"SELECT name, kind FROM subjects WHERE name IN ({','.join([self.p] * len(part))})",
                tuple(part),
            )
            kinds.update((str(n), int(k)) for n, k in found)
        return kinds

    def _claims_fit(
        self, conn: Connection, chunk: PreparedChunk, pending: dict[str, int]
    ) -> tuple[list[Row], list[Row]]:
        """The chunk's records and relations without the lines whose subject kinds (stated,
        or a record type's kinds when none is stated) do not fit the kind of the subject:
        the ledger's, else the one given by the line that first named it in this input
        (``pending``), else person. The others become problems. Kinds are compared once
        per distinct subject; rows are looked at only for the subjects that do not fit."""
        exceptions = chunk.kind_exceptions
        claims = chunk.claims
        names = set(chunk.record_kinds) | {name for name, _ in exceptions.values()}
        names |= {claim[0] for claim in claims}
        stored = self._stored_kinds(conn, sorted(names))
        rules = self.rules
        suspect = {name for name, _ in exceptions.values()}
        for name, code in chunk.record_kinds.items():
            have = stored.get(name, pending.get(name))
            if have is None or have == code:
                continue
            # a stated kind that differs; or none stated (a person's types were checked
            # when parsing) about a subject that is not a person, under rules
            if code >= 0 or (rules is not None and have != 0):
                suspect.add(name)
        bad: dict[int, tuple[str, str]] = {}  # line -> field, reason
        if suspect:
            for row in chunk.rows:
                name = row[3]
                if name not in suspect:
                    continue
                line = row[-1]
                code = exceptions[line][1] if line in exceptions else chunk.record_kinds[name]
                have = stored.get(name, pending.get(name))
                problem = self._record_kind_problem(conn, name, code, have, row[4], stored)
                if problem is not None:
                    bad[line] = ("subject_kind", problem)
        for (name, code, which), lines in claims.items():
            have = stored.get(name, pending.get(name))
            if have is None or have == code:
                continue
            field = ("subject_kind", "related_kind")[which]
            message = (
                f"{name} is recorded as {a_kind(have)} {self._since(conn, name, stored)}; "
                f"this line gives {field} {SUBJECT_KINDS[code]}"
            )
            for line in lines:
                bad.setdefault(line, (field, message))
        if not bad:
            return chunk.rows, chunk.relations
        self.result.problems.extend(
            IngestProblem(self.origin, line, field, message)
            for line, (field, message) in bad.items()
        )
        return (
            [r for r in chunk.rows if r[-1] not in bad],
            [r for r in chunk.relations if r[-1] not in bad],
        )

    def _record_kind_problem(
        self,
        conn: Connection,
        name: str,
        code: int,
        have: int | None,
        type_name: str,
        stored: dict[str, int],
    ) -> str | None:
        """Why a record about ``name`` stating kind ``code`` (-1: none) does not fit the
        subject's kind ``have`` (None: unknown), or None."""
        if code >= 0:
            if have is None or have == code:
                return None
            return (
                f"{name} is recorded as {a_kind(have)} {self._since(conn, name, stored)}; "
                f"this line gives subject_kind {SUBJECT_KINDS[code]}"
            )
        rules = self.rules
        if rules is None or (0 if have is None else have) in rules.record_types[type_name]:
            return None
        applies = " and ".join(rules.kind_names(type_name))
        if have is None:
            return (
                f"record type {type_name!r} applies to {applies} subjects only; the ledger "
                f"does not know {name}, and without subject_kind a new subject is a person: "
                "give subject_kind"
            )
        return (
            f"record type {type_name!r} applies to {applies} subjects only; {name} is "
            f"recorded as {a_kind(have)} {self._since(conn, name, stored)}"
        )

    def _since(self, conn: Connection, name: str, stored: dict[str, int]) -> str:
        """Since when the ledger records ``name``'s kind, as a phrase ("since line 3 of
        this input", "since 2025-01-03T00:00:00Z (ingest batch 2, line 5)")."""
        phrase = self.since.get(name)
        if phrase is None:
            phrase = self.since[name] = self._find_since(conn, name, stored)
        return phrase

    def _find_since(self, conn: Connection, name: str, stored: dict[str, int]) -> str:
        if name not in stored:
            line = self.first_lines.get(name)
            return f"since line {line} of this input" if line is not None else "in this input"
        p = self.p
        first = None
        for column in ("subject_id", "related_subject_id"):
            first = conn.exec_driver_sql(
                "SELECT b.started_at, e.batch_id, e.line FROM entries e "
                "LEFT JOIN ingest_batches b ON b.id = e.batch_id "
                f"WHERE e.{column} = (SELECT id FROM subjects WHERE name = {p}) "
                "ORDER BY e.seq LIMIT 1",
                (name,),
            ).first()
            if first is not None:
                break
        if first is None or first[1] is None:
            return "in the ledger"
        started, batch, line = first
        if batch == self.batch_id:
            return f"since line {line} of this input"
        where = f"ingest batch {batch}" + (f", line {line}" if line is not None else "")
        return f"since {to_iso(int(started))} ({where})"

    def _stored_kinds_fit(
        self, conn: Connection, relations: list[Row], pending: dict[str, int]
    ) -> list[Row]:
        """The relations whose subjects the ledger knows (or will know, from ``pending``:
        names first seen in this input, with their kinds) as the declared kinds; the others
        become problems (the line's own kinds were checked when parsing)."""
        assert self.rules is not None
        names = sorted({r[3] for r in relations} | {r[9] for r in relations})
        kinds = self._stored_kinds(conn, names)
        for name in names:
            if name not in kinds and name in pending:
                kinds[name] = pending[name]
        kept = []
        declarations = self.rules.relations
        for row in relations:
            declared = declarations.get(row[4])
            if declared is None or (
                kinds.get(row[3], declared[0]) == declared[0]
                and kinds.get(row[9], declared[1]) == declared[1]
            ):
                kept.append(row)  # only declared relations get here; these fit
                continue
            for which, name, want in (
                ("subject", row[3], declared[0]),
                ("related subject", row[9], declared[1]),
            ):
                have = kinds.get(name, want)
                if have != want:
                    self.result.problems.append(
                        IngestProblem(
                            self.origin,
                            row[-1],
                            "subject" if which == "subject" else "related_subject",
                            relation_kind_problem(row[4], which, have, want, name),
                        )
                    )
                    break
            else:
                kept.append(row)
        return kept

    def _write_corrections(self, conn: Connection, chunk: PreparedChunk, before: int) -> None:
        p = self.p
        rows: list[Row] = []
        notes: dict[tuple[str, str], IngestProblem] = {}
        window = self.rules.appeal_window if self.rules is not None else None
        disputed: dict[int, tuple[int, str, str]] = {}  # target seq -> earliest in-time dispute
        lookup = (
            "SELECT e.seq, e.subject_id, e.kind, e.recorded_at, e.occurred_at, e.target_seq, "
            "s.kind, s.name FROM entries e JOIN subjects s ON s.id = e.subject_id "
            f"WHERE e.source = {p} AND e.entry_id = {p}"
        )
        # this chunk's corrections (inserted after all are checked): (source, id) -> target
        here = {(c[4][0], c[4][1]): (c[1], c[2], c[3]) for c in chunk.corrections}
        cursor = conn.connection.cursor()  # plain DBAPI: one point query per correction
        try:
            for number, kind, target_source, target_id, values, earlier in chunk.corrections:
                cursor.execute(lookup, (target_source, target_id))
                target = cursor.fetchone()
                if target is not None and not earlier and int(target[0]) > before:
                    target = None  # only a later line of this input: not there yet
                corrects = None
                if target is None and earlier and (target_source, target_id) in here:
                    its_kind, *its_target = here[(target_source, target_id)]
                    target = (0, 0, its_kind, 0, 0, None)  # a correction on an earlier line
                    corrects = (its_target[0], its_target[1])
                elif target is not None and target[5] is not None:
                    cursor.execute(
                        f"SELECT source, entry_id FROM entries WHERE seq = {p}", (target[5],)
                    )
                    found = cursor.fetchone()
                    corrects = (str(found[0]), str(found[1])) if found else None
                problem = target_problem(
                    target, kind, target_source, target_id, int(values[4]), corrects
                )
                if problem is None and kind == _RECTIFY and values[3] is not None:
                    assert target is not None
                    problem = self._rectified_type_problem(conn, target, str(values[3]))
                if problem:
                    self.result.problems.append(IngestProblem(self.origin, number, *problem))
                    continue
                assert target is not None
                if kind == _DISPUTE and window is not None and int(target[2]) == RECORD:
                    note = self._dispute_note(
                        cursor, values, target, window, disputed, f"{target_source}/{target_id}"
                    )
                    if note is not None:
                        notes[(values[0], values[1])] = IngestProblem(
                            self.origin, number, "recorded_at", note
                        )
                rows.append((*values, int(target[1]), int(target[0]), number))
        finally:
            cursor.close()
        if not rows:
            return
        if not self.is_sqlite:
            rows.sort(key=_key_order)  # see ``_write_chunk``
        inserted, rows = self._insert(
            conn,
            "INSERT INTO entries (source, entry_id, kind, type, occurred_at, recorded_at, "
            "amount, details, claimed_recorded_at, subject_id, target_seq, batch_id, line) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, COALESCE({p}, {self.now}), {p}, {p}, {p}, {p}, "
            f"{p}, {self.batch_id}, {p}) ON CONFLICT (source, entry_id) DO NOTHING",
            rows,
        )
        self.result.accepted += inserted
        if inserted < len(rows):
            # as repeats: values, then the target's source and id, then the line
            by_key = {(c[4][0], c[4][1]): (c[2], c[3]) for c in chunk.corrections}
            repeated = [(*r[:9], *by_key[(r[0], r[1])], r[-1]) for r in rows]
            kept = self._settle_repeats(conn, repeated)
            notes = {key: note for key, note in notes.items() if key in kept}
        self.result.no_effect_lines.extend(notes.values())

    def _rectified_type_problem(
        self, conn: Connection, target: Any, type_name: str
    ) -> tuple[str, str] | None:
        """Why a rectify cannot give its target record the type ``type_name``: the type
        does not apply to the kind the ledger records for the record's subject."""
        rules = self.rules
        have, name = int(target[6]), str(target[7])
        if rules is None or have in rules.record_types.get(type_name, (have,)):
            return None
        applies = " and ".join(rules.kind_names(type_name))
        return (
            "type",
            f"record type {type_name!r} applies to {applies} subjects only; {name} is "
            f"recorded as {a_kind(have)} {self._since(conn, name, {name: have})}",
        )

    def _dispute_note(
        self,
        cursor: Any,
        values: Row,
        target: Any,
        window: int,
        disputed: dict[int, tuple[int, str, str]],
        target_name: str,
    ) -> str | None:
        """Why a dispute changes nothing, or None. The rule is the scoring rule
        (``scoring.rows.fold``): a dispute counts iff it was recorded no later than the
        target record's recorded_at plus the appeal window, and only the first such one.
        Both are the times the ledger received them (a source's claimed times cannot put
        a dispute inside the window after the fact; see ``Ledger.ingest``)."""
        recorded = self.now if values[5] is None else int(values[5])
        target_seq, target_recorded = int(target[0]), int(target[3])
        closes = target_recorded + window
        if recorded > closes:
            claimed = values[8]
            dated = (
                f" (the source dates it {to_iso(int(claimed))}; the window runs on the times "
                "the ledger received the record and the dispute)"
                if claimed is not None and int(claimed) != recorded
                else ""
            )
            return (
                f"the dispute of {target_name} is recorded on {to_iso(recorded)}{dated}, after "
                f"the appeal window closed on {to_iso(closes)}: it is kept in the ledger but "
                "has no effect on the record"
            )
        earliest = disputed.get(target_seq)
        cursor.execute(
            "SELECT recorded_at, source, entry_id FROM entries WHERE target_seq = "
            f"{self.p} AND kind = {_DISPUTE} AND recorded_at <= {self.p} "
            "ORDER BY recorded_at, seq LIMIT 1",
            (target_seq, closes),
        )
        stored = cursor.fetchone()
        if stored is not None and (earliest is None or int(stored[0]) <= earliest[0]):
            earliest = (int(stored[0]), str(stored[1]), str(stored[2]))
        if earliest is not None and earliest[0] <= recorded and earliest[1:] != values[:2]:
            return (
                f"{target_name} is already disputed (by {earliest[1]}/{earliest[2]}, recorded "
                f"on {to_iso(earliest[0])}): another dispute is kept in the ledger but has no "
                "effect"
            )
        if earliest is None or recorded < earliest[0]:
            disputed[target_seq] = (recorded, str(values[0]), str(values[1]))
        return None

    def _settle_repeats(self, conn: Connection, rows: list[Row]) -> set[tuple[str, str]]:
        """Sort rows the insert left out, and repeats within a chunk, into duplicates and
        conflicts (compared with what is stored); returns the keys of the rows among
        ``rows`` that were stored by this very line."""
        log.debug("%s: %d rows repeat stored entries; comparing content", self.origin, len(rows))
        p = self.p
        sql = (
            "SELECT e.kind, s.name, e.type, e.occurred_at, e.recorded_at, e.amount, e.evidence, "
            "r.name, e.valid_until, e.details, t.source, t.entry_id, e.batch_id, e.line, "
            "e.claimed_recorded_at "
            "FROM entries e JOIN subjects s ON s.id = e.subject_id "
            "LEFT JOIN subjects r ON r.id = e.related_subject_id "
            "LEFT JOIN entries t ON t.seq = e.target_seq "
            f"WHERE e.source = {p} AND e.entry_id = {p}"
        )
        stored_here: set[tuple[str, str]] = set()
        cursor = conn.connection.cursor()
        try:
            for row in rows:
                cursor.execute(sql, (row[0], row[1]))
                stored = cursor.fetchone()
                if stored is None:  # a repeat of an earlier line of the chunk, rejected
                    self.result.problems.append(
                        IngestProblem(
                            self.origin,
                            row[-1],
                            "id",
                            f"{row[0]}/{row[1]} repeats an earlier line of this input that "
                            "was rejected; this line is not stored either",
                        )
                    )
                    continue
                batch, line = stored[12], stored[13]
                if batch == self.batch_id and line == row[-1]:
                    stored_here.add((row[0], row[1]))
                    continue
                differences = content_differences(
                    content_of(row), _stored_content(stored), self.now, "in the ledger"
                )
                if not differences:
                    self.result.duplicates += 1
                    continue
                first = (
                    f"on line {line}"
                    if batch == self.batch_id
                    else f"in an earlier ingest (batch {batch}, line {line})"
                    if line is not None
                    else "in an earlier ingest"
                )
                self.result.conflict_lines.append(
                    IngestProblem(
                        self.origin,
                        row[-1],
                        "",
                        conflict_message(row[0], row[1], differences, first),
                    )
                )
        finally:
            cursor.close()
        return stored_here


_KIND_ROUNDS = 6  # checks of a chunk's subject kinds (again when a first line was rejected)

RETRIES = 8  # attempts at a chunk that other writers' locks keep failing

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


def _key_order(row: Row) -> tuple[str, str]:
    return (row[0], row[1])


def _stored_content(stored: Any) -> dict[str, Any]:
    """The comparable content (as ``parsing.content_of``) of a stored entry's row."""
    kind, subject, typ, occurred, recorded, amount, evidence, related, until, details = stored[:10]
    claimed = stored[14]
    kind = int(kind)
    if kind == RECORD:
        return {
            "kind": kind,
            "subject": subject,
            "type": typ,
            "occurred_at": occurred,
            "recorded_at": recorded,
            "claimed_recorded_at": claimed,
            "amount": amount,
            "evidence": evidence,
        }
    if kind == RELATION:
        return {
            "kind": kind,
            "subject": subject,
            "relation": typ,
            "valid_from": occurred,
            "recorded_at": recorded,
            "claimed_recorded_at": claimed,
            "related_subject": related,
            "valid_until": until,
        }
    return {
        "kind": kind,
        "target": f"{stored[10]}/{stored[11]}",
        "type": typ,
        "occurred_at": occurred,
        "recorded_at": recorded,
        "claimed_recorded_at": claimed,
        "amount": amount,
        **details_content(details),
    }
