"""The append-only ledger over SQLAlchemy Core: SQLite by default, PostgreSQL in production.

History is never updated or deleted here: ingestion only inserts, idempotently on
(source, id); corrections are new entries that point at what they change.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, OperationalError

from socialcredit.columns import (
    KIND_CODES,
    KIND_NAMES,
    RECORD,
    RELATION,
    SUBJECT_KINDS,
    LedgerColumns,
)
from socialcredit.errors import StorageError
from socialcredit.ledger.ingest import FileFormatError, detect_format, read_lines
from socialcredit.ledger.prepare import (
    IngestProblem,
    PreparedChunk,
    _prepared_in_subprocess,
    _target_problem,
    prepare_chunks,
)
from socialcredit.ledger.reading import (
    bulk_to_columns,
    fetch_transposed,
    rows_to_columns,
    sqlite_record_columns,
)
from socialcredit.ledger.schema import ingest_batches, policies
from socialcredit.timeutil import NEVER, to_iso

DEFAULT_URL = "sqlite:///socialcredit.db"
PARALLEL_FROM_BYTES = 4 * 1024 * 1024
_MIGRATIONS = Path(__file__).parent / "migrations"
_ANNUL = KIND_CODES["annul"]


Clock = Callable[[], int]


def _now(now: int | Clock) -> int:
    return int(now()) if callable(now) else int(now)


def _parts(name: str, fmt: str | None) -> int:
    """How many processes parse a large file: two for JSON Lines on a multi-core machine
    (parsing costs more than writing), one for CSV (read as one text stream)."""
    return 2 if detect_format(name, fmt) == "jsonl" and (os.cpu_count() or 1) > 1 else 1


class _Checkpointer:
    """SQLite WAL checkpoints on a background thread and its own connection, one at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pool = ThreadPoolExecutor(1)
        self.pending: Future[None] | None = None

    def start(self) -> None:
        """Copy what is committed so far into the database file, unless a copy is running."""
        if self.pending is None or self.pending.done():
            if self.pending is not None:
                self.pending.result()
            self.pending = self.pool.submit(self._run)

    def _run(self) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def finish(self) -> None:
        """Wait for the running copy and stop the thread."""
        self.pool.shutdown(wait=True)
        if self.pending is not None:
            self.pending.result()


class LedgerError(StorageError, RuntimeError):
    """The database cannot be opened or is not a ledger; the message says what to do."""


@dataclass(frozen=True)
class PolicyVersion:
    """A policy as activated in this ledger."""

    version: int
    policy_id: str
    declared_version: str
    content_hash: str
    activated_at: int
    activated_by: str | None
    body: str


@dataclass
class IngestResult:
    """What one ingestion did: every line is accepted, a duplicate, or rejected."""

    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    problems: list[IngestProblem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Counts and every problem, for ``ingest --json``."""
        return {
            "lines": self.lines,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "problems": [p.__dict__ for p in self.problems],
        }


def normalise_url(url: str | None) -> str:
    """A SQLAlchemy URL from a URL, a file path, or ``SOCIALCREDIT_DB`` / the default."""
    url = url or os.environ.get("SOCIALCREDIT_DB") or DEFAULT_URL
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA page_size=16384")  # only takes effect on a new, empty database
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-262144")  # 256 MiB: indexes stay in memory while ingesting
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


class Ledger:
    """An append-only store of records, relations, corrections and policy versions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._checked = False  # the schema exists (checked once, as it is never dropped)

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, url: str | None = None) -> Ledger:
        """Open the ledger at ``url`` (a SQLAlchemy URL or a SQLite path); nothing is created yet."""
        full = normalise_url(url)
        try:
            engine = create_engine(full)
        except (ArgumentError, ImportError) as exc:
            raise LedgerError(f"cannot use database URL {full!r}: {exc}") from None
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return cls(engine)

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def upgrade(self) -> None:
        """Create the schema or migrate it to the newest version (idempotent)."""
        from alembic import command  # only migrating needs alembic
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except OperationalError as exc:
            raise LedgerError(f"cannot open the database {self.url}: {exc.orig}") from None

    def _check(self) -> None:
        if self._checked:
            return
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1 FROM entries LIMIT 1"))
        except OperationalError as exc:
            raise LedgerError(
                f"{self.url} is not an initialised ledger ({exc.orig}); run `socialcredit init`"
            ) from None
        self._checked = True

    # ------------------------------------------------------------------ policies

    def activate_policy(
        self,
        body: str,
        policy_id: str,
        declared_version: str,
        content_hash: str,
        activated_at: int,
        activated_by: str | None = None,
    ) -> PolicyVersion:
        """Make a policy the active one; activating the active policy again changes nothing."""
        current = self.active_policy()
        if current is not None and current.content_hash == content_hash:
            return current
        with self.engine.begin() as conn:
            conn.execute(
                insert(policies).values(
                    policy_id=policy_id,
                    declared_version=declared_version,
                    content_hash=content_hash,
                    body=body,
                    activated_at=activated_at,
                    activated_by=activated_by,
                )
            )
        active = self.active_policy()
        assert active is not None
        return active

    def policy_history(self) -> list[PolicyVersion]:
        """Every activated policy, oldest first."""
        self._check()
        with self.engine.connect() as conn:
            rows = conn.execute(select(policies).order_by(policies.c.version)).all()
        return [PolicyVersion(**row._mapping) for row in rows]

    def active_policy(self) -> PolicyVersion | None:
        """The most recently activated policy, if any."""
        self._check()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(policies).order_by(policies.c.version.desc()).limit(1)
            ).first()
        return PolicyVersion(**row._mapping) if row else None

    # ------------------------------------------------------------------ ingestion

    def ingest_file(
        self,
        name: str,
        fmt: str | None = None,
        known_types: Collection[str] | None = None,
        now: int | Clock = 0,
        progress: Callable[[int], None] | None = None,
    ) -> IngestResult:
        """Ingest a JSON Lines or CSV file (``-`` = stdin, which needs ``fmt``); see ``ingest``.

        Large JSON Lines files are decoded and validated in two child processes while this
        one writes, so parsing and storage overlap on two cores; the result is the same as
        in one process (a test checks this).
        """
        now = _now(now)
        detect_format(name, fmt)
        if name != "-" and not os.path.isfile(name):
            raise FileFormatError(f"cannot read {name!r}: no such file")
        parallel = "fork" in multiprocessing.get_all_start_methods()
        if parallel and name != "-" and os.path.getsize(name) > PARALLEL_FROM_BYTES:
            return self._ingest_prepared(
                _prepared_in_subprocess(name, fmt, known_types, now, _parts(name, fmt)),
                name,
                now,
                progress,
            )
        return self.ingest(read_lines(name, fmt), name, known_types, now, progress)

    def ingest_entries(
        self,
        objects: Iterable[dict[str, Any]],
        origin: str = "<api>",
        known_types: Collection[str] | None = None,
        now: int | Clock = 0,
        progress: Callable[[int], None] | None = None,
    ) -> IngestResult:
        """Ingest decoded entries (dicts in the file format), numbered from 1; see ``ingest``."""
        return self.ingest(
            ((i, obj, None) for i, obj in enumerate(objects, start=1)),
            origin,
            known_types,
            now,
            progress,
        )

    def ingest(
        self,
        lines: Iterable[tuple[int, Any, str | None]],
        origin: str,
        known_types: Collection[str] | None,
        now: int | Clock,
        progress: Callable[[int], None] | None = None,
    ) -> IngestResult:
        """Validate and append decoded lines ``(line number, object or None, error or None)``.

        Every line ends up accepted, a duplicate (its source and id are already stored, or
        came on an earlier line: the first one wins) or rejected with an ``IngestProblem``
        naming the line, the field and the reason; good lines are kept whatever happens to
        bad ones. ``known_types``: record types the active policy declares (a mapping of
        type to subject kinds also checks the kind), None = any. ``now``: the ledger's clock
        in epoch seconds, or a callable read once; it is the default ``recorded_at``.
        ``progress`` is called with the number of lines done after each chunk.

        Each chunk of lines is one transaction, so an interruption loses at most the chunk in
        flight, and running the same input again completes it (ingestion is idempotent).
        Within a chunk, entries are stored grouped by subject (faster to index), so ledger
        order follows the input only from chunk to chunk; a correction always comes after
        what it corrects.
        """
        now = _now(now)
        return self._ingest_prepared(
            prepare_chunks(lines, origin, known_types, now), origin, now, progress
        )

    def _ingest_prepared(
        self,
        chunks: Iterable[PreparedChunk],
        origin: str,
        now: int,
        progress: Callable[[int], None] | None,
    ) -> IngestResult:
        # Chunks are large lists of tuples without reference cycles: pausing the cycle
        # collector saves it from rescanning them again and again while they are written.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._ingest_chunks(chunks, origin, now, progress)
        finally:
            if collecting:
                gc.enable()

    def _ingest_chunks(
        self,
        chunks: Iterable[PreparedChunk],
        origin: str,
        now: int,
        progress: Callable[[int], None] | None,
    ) -> IngestResult:
        self._check()
        result = IngestResult()
        checkpoints = _Checkpointer(self.engine) if self.is_sqlite else None
        with self.engine.connect() as conn:
            if checkpoints:
                # The writer never stops to checkpoint: another connection copies committed
                # pages from the write-ahead log into the database file meanwhile.
                conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            batch_id = self._new_batch(conn, origin, now)
            try:
                for chunk in chunks:
                    result.lines += chunk.lines
                    result.duplicates += chunk.duplicates
                    result.problems.extend(chunk.problems)
                    self._write_chunk(conn, chunk, batch_id, origin, result)
                    if checkpoints:
                        checkpoints.start()
                    if progress:
                        progress(result.lines)
            finally:
                if checkpoints:
                    checkpoints.finish()
            result.problems.sort(key=lambda p: p.line)
            result.rejected = len(result.problems)
            conn.execute(
                ingest_batches.update()
                .where(ingest_batches.c.id == batch_id)
                .values(
                    lines=result.lines,
                    accepted=result.accepted,
                    duplicates=result.duplicates,
                    rejected=result.rejected,
                )
            )
            conn.commit()
            if checkpoints:
                conn.exec_driver_sql("PRAGMA wal_autocheckpoint=1000")
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")  # the rest
        return result

    def _new_batch(self, conn: Connection, origin: str, now: int) -> int:
        res = conn.execute(
            insert(ingest_batches)
            .values(origin=origin, started_at=now, lines=0, accepted=0, duplicates=0, rejected=0)
            .returning(ingest_batches.c.id)
        )
        batch_id = int(res.scalar_one())
        conn.commit()
        return batch_id

    def _p(self, n: int) -> str:
        mark = "?" if self.is_sqlite else "%s"
        return ",".join([mark] * n)

    def _write_chunk(
        self,
        conn: Connection,
        chunk: PreparedChunk,
        batch_id: int,
        origin: str,
        result: IngestResult,
    ) -> None:
        p = "?" if self.is_sqlite else "%s"
        # entries up to here were in the ledger before this chunk: a correction whose target
        # is not an earlier line of the chunk must point at one of them, not at a later line
        before = 0
        if chunk.corrections:
            before = int(
                conn.exec_driver_sql("SELECT COALESCE(MAX(seq), 0) FROM entries").scalar_one()
            )
        if chunk.subjects:
            conn.exec_driver_sql(
                f"INSERT INTO subjects (name, kind) VALUES ({p}, {p}) ON CONFLICT (name) DO NOTHING",
                chunk.subjects,
            )
        subject = f"(SELECT id FROM subjects WHERE name = {p})"
        columns = (
            "INSERT INTO entries (source, entry_id, kind, subject_id, type, occurred_at, "
            "recorded_at, amount, evidence, {extra}batch_id) VALUES ({p}, {p}, {p}, {subject}, "
            "{p}, {p}, {p}, {p}, {p}, {extra_values}{batch}) ON CONFLICT (source, entry_id) DO NOTHING"
        )
        # Subject names become ids inside the database (one indexed lookup per row, in C),
        # so this process does no per-row work beyond handing the rows over.
        for rows, extra, extra_values in (
            (chunk.rows, "", ""),
            (chunk.relations, "related_subject_id, valid_until, ", f"{subject}, {p}, "),
        ):
            if not rows:
                continue
            sql = columns.format(
                p=p, subject=subject, extra=extra, extra_values=extra_values, batch=batch_id
            )
            inserted = conn.exec_driver_sql(sql, rows).rowcount
            result.accepted += inserted
            result.duplicates += len(rows) - inserted
        if chunk.corrections:
            rows = []
            lookup = (
                f"SELECT seq, subject_id, kind FROM entries WHERE source = {p} AND entry_id = {p}"
            )
            cursor = conn.connection.cursor()  # plain DBAPI: one point query per correction
            for number, kind, target_source, target_id, values, earlier in chunk.corrections:
                cursor.execute(lookup, (target_source, target_id))
                target = cursor.fetchone()
                if target is not None and not earlier and int(target[0]) > before:
                    target = None  # only a later line of this input: not there yet
                problem = _target_problem(target, kind, target_source, target_id)
                if problem:
                    result.problems.append(IngestProblem(origin, number, "target_id", problem))
                    continue
                assert target is not None
                rows.append((*values, int(target[1]), int(target[0])))
            cursor.close()
            if rows:
                inserted = conn.exec_driver_sql(
                    "INSERT INTO entries (source, entry_id, kind, type, occurred_at, recorded_at, "
                    f"amount, details, subject_id, target_seq, batch_id) VALUES ({self._p(10)}, "
                    f"{batch_id}) ON CONFLICT (source, entry_id) DO NOTHING",
                    rows,
                ).rowcount
                result.accepted += inserted
                result.duplicates += len(rows) - inserted
        conn.commit()

    # ------------------------------------------------------------------ reading

    def count_entries(self) -> int:
        """How many entries the ledger holds."""
        self._check()
        with self.engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT COUNT(*) FROM entries").scalar_one())

    def has_subject(self, name: str) -> bool:
        """Whether any entry ever named ``name`` (as subject or related subject)."""
        self._check()
        p = "?" if self.is_sqlite else "%s"
        with self.engine.connect() as conn:
            found = conn.exec_driver_sql(f"SELECT 1 FROM subjects WHERE name = {p}", (name,))
            return found.first() is not None

    def subject_names(self, kind: str | None = None) -> list[str]:
        """Every subject the ledger has heard of, in the order it first heard of them.

        ``kind``: only persons or only organisations (one of ``SUBJECT_KINDS``).
        """
        self._check()
        sql = "SELECT name FROM subjects"
        if kind is not None:
            if kind not in SUBJECT_KINDS:
                raise ValueError(f"kind must be one of {', '.join(SUBJECT_KINDS)}, not {kind!r}")
            sql += f" WHERE kind = {SUBJECT_KINDS.index(kind)}"
        with self.engine.connect() as conn:
            return [r[0] for r in conn.exec_driver_sql(sql + " ORDER BY id")]

    def columns(
        self,
        subjects: Sequence[str] | None = None,
        with_ids: bool = True,
        follow_relations: bool = False,
    ) -> LedgerColumns:
        """Everything about ``subjects`` (None = everyone) in the column form scoring reads.

        For named subjects: their records, the corrections of those records, and the relations
        in which they are the subject; related subjects are appended to ``subjects``, and with
        ``follow_relations`` their records and corrections come too (what a measure that
        reaches through a relation needs). ``with_ids=False`` leaves sources and entry ids
        out of records (bulk scoring does not need them).
        """
        self._check()
        if subjects is not None:
            return self._subject_columns(list(dict.fromkeys(subjects)), follow_relations)
        return self._bulk_columns(with_ids)

    def _bulk_columns(self, with_ids: bool) -> LedgerColumns:
        # The fast path for everyone: plain DBAPI cursors (no SQLAlchemy row objects), rows
        # turned into columns with zip (in C), NULLs replaced in SQL so that every column
        # converts to NumPy in one call, and the cycle collector paused while a million
        # tuples are created (they hold no cycles). Records are read on this thread while a
        # second connection reads subjects, relations and corrections; the drivers release
        # the GIL while the database works. Both read the entries up to one seq: as entries
        # are only ever appended, that is one consistent state of the ledger.
        inf = "9e999" if self.is_sqlite else "'Infinity'::float8"
        ids = ", source, entry_id" if with_ids else ""
        fetched: dict[str, list[Any]] = {}
        collecting = gc.isenabled()
        gc.disable()
        try:
            with self.engine.connect() as conn:
                cursor = conn.connection.cursor()
                try:
                    cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM entries")
                    (upto,) = cursor.fetchone() or (0,)
                    others = {
                        "subjects": "SELECT id, name, kind FROM subjects",
                        "relations": "SELECT seq, subject_id, related_subject_id, occurred_at, "
                        f"COALESCE(valid_until, {NEVER}), recorded_at, type, source FROM entries "
                        # "+seq": sort the few rows the partial index finds, not scan in order
                        f"WHERE related_subject_id IS NOT NULL AND seq <= {upto} ORDER BY +seq",
                        "corrections": "SELECT seq, target_seq, kind, occurred_at, recorded_at, "
                        f"COALESCE(amount, {inf}), COALESCE(type, ''), details, source, entry_id "
                        f"FROM entries WHERE target_seq IS NOT NULL AND seq <= {upto} "
                        "ORDER BY +seq",
                    }
                    with ThreadPoolExecutor(1) as pool:
                        rest = pool.submit(self._fetch_columns, others)
                        fast = None
                        if self.is_sqlite:
                            fast = sqlite_record_columns(cursor, with_ids, 0, upto)
                        if fast is None:
                            fast = fetch_transposed(
                                cursor,
                                "SELECT seq, subject_id, occurred_at, recorded_at, "
                                f"COALESCE(amount, {inf}), type{ids} FROM entries "
                                f"WHERE kind = {RECORD} AND seq <= {upto} ORDER BY seq",
                            )
                        fetched["records"] = fast
                        fetched.update(rest.result())
                finally:
                    cursor.close()
        finally:
            if collecting:
                gc.enable()
        return bulk_to_columns(fetched, with_ids)

    def _fetch_columns(self, queries: dict[str, str]) -> dict[str, list[Any]]:
        with self.engine.connect() as conn:
            cursor = conn.connection.cursor()
            try:
                return {name: fetch_transposed(cursor, sql) for name, sql in queries.items()}
            finally:
                cursor.close()

    def _subject_columns(self, names: list[str], follow_relations: bool) -> LedgerColumns:
        recs: list[tuple[Any, ...]] = []
        rels: list[tuple[Any, ...]] = []
        cors: list[tuple[Any, ...]] = []
        with self.engine.connect() as conn:

            def lookup(column: str, values: Sequence[Any]) -> list[tuple[int, str, int]]:
                if not values:
                    return []
                found = conn.exec_driver_sql(
                    f"SELECT id, name, kind FROM subjects WHERE {column} IN ({self._p(len(values))})",
                    tuple(values),
                )
                return [(int(r[0]), str(r[1]), int(r[2])) for r in found]

            def load(ids: list[int], keep_relations: bool) -> None:
                if not ids:
                    return
                rows = conn.exec_driver_sql(
                    "SELECT seq, kind, subject_id, type, occurred_at, recorded_at, amount, source, "
                    "entry_id, target_seq, related_subject_id, valid_until, details FROM entries "
                    f"WHERE subject_id IN ({self._p(len(ids))}) ORDER BY seq",
                    tuple(ids),
                )
                for (
                    seq,
                    kind,
                    sid,
                    typ,
                    occ,
                    rec,
                    amount,
                    src,
                    eid,
                    target,
                    rel,
                    until,
                    det,
                ) in rows:
                    if kind == RECORD:
                        recs.append((seq, sid, typ, occ, rec, amount, src, eid))
                    elif kind == RELATION:
                        if keep_relations:
                            rels.append((seq, sid, rel, typ, occ, until, rec, src))
                    else:
                        cors.append((seq, target, kind, occ, rec, typ, amount, det, src, eid))

            found = {r[1]: r for r in lookup("name", names)}
            subj_rows = [found.get(n) or (-1 - i, n, 0) for i, n in enumerate(names)]
            known = [r[0] for r in subj_rows if r[0] >= 0]
            load(known, keep_relations=True)
            extra = sorted({int(r[2]) for r in rels} - set(known))
            if extra:
                subj_rows += lookup("id", extra)
                if follow_relations:
                    load(extra, keep_relations=False)
        if follow_relations:
            recs.sort()
            cors.sort()
        return rows_to_columns(subj_rows, recs, rels, cors, True)

    def iter_entries(self, kinds: Collection[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every entry in ledger order, in the ingestion format (export → ingest round-trips).

        ``kinds``: only entries of these kinds (``record``, ``relation``, ``resolve``, …);
        None = all. Corrections still name their targets by source and id.
        """
        self._check()
        wanted = None
        if kinds is not None:
            unknown = set(kinds) - set(KIND_NAMES)
            if unknown:
                raise ValueError(
                    f"unknown entry kinds {sorted(unknown)}; expected {', '.join(KIND_NAMES)}"
                )
            wanted = {KIND_CODES[k] for k in kinds}
        with self.engine.connect() as conn:
            names: dict[int, str] = {}
            kind_of: dict[int, int] = {}
            for sid, name, kind in conn.exec_driver_sql("SELECT id, name, kind FROM subjects"):
                names[int(sid)] = str(name)
                kind_of[int(sid)] = int(kind)
            targets: dict[int, tuple[str, str]] = {}
            result = conn.execution_options(stream_results=True, yield_per=10_000).exec_driver_sql(
                "SELECT seq, source, entry_id, kind, subject_id, type, occurred_at, recorded_at, "
                "amount, evidence, target_seq, related_subject_id, valid_until, details "
                "FROM entries ORDER BY seq"
            )
            for row in result:
                (
                    seq,
                    source,
                    eid,
                    kind,
                    sid,
                    typ,
                    occ,
                    rec,
                    amount,
                    evidence,
                    target,
                    rel,
                    until,
                    details,
                ) = row
                if kind in (RECORD, RELATION):
                    targets[seq] = (source, eid)
                if wanted is not None and kind not in wanted:
                    continue
                out: dict[str, Any] = {"kind": KIND_NAMES[kind], "id": eid, "source": source}
                if kind == RECORD:
                    out.update(
                        subject=names[sid],
                        subject_kind=SUBJECT_KINDS[kind_of[sid]],
                        type=typ,
                        occurred_at=to_iso(occ),
                        recorded_at=to_iso(rec),
                    )
                    if amount is not None:
                        out["amount"] = amount
                    if evidence is not None:
                        out["evidence"] = evidence
                elif kind == RELATION:
                    out.update(
                        subject=names[sid],
                        subject_kind=SUBJECT_KINDS[kind_of[sid]],
                        relation=typ,
                        related_subject=names[rel],
                        related_kind=SUBJECT_KINDS[kind_of[rel]],
                        valid_from=to_iso(occ),
                        recorded_at=to_iso(rec),
                    )
                    if until is not None:
                        out["valid_until"] = to_iso(until)
                else:
                    tsrc, tid = targets[target]
                    out.update(
                        target_source=tsrc,
                        target_id=tid,
                        occurred_at=to_iso(occ),
                        recorded_at=to_iso(rec),
                    )
                    extra = orjson.loads(details) if details else {}
                    if "reason" in extra:
                        out["reason"] = extra["reason"]
                    if typ is not None:
                        out["type"] = typ
                    if amount is not None:
                        out["amount"] = amount
                    if "corrected_occurred_at" in extra:
                        out["corrected_occurred_at"] = to_iso(extra["corrected_occurred_at"])
                yield out


__all__ = [
    "IngestProblem",
    "IngestResult",
    "Ledger",
    "LedgerError",
    "PolicyVersion",
]
