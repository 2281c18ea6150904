"""``Ledger``: the append-only ledger over SQLAlchemy Core (SQLite by default, PostgreSQL in
production), one class in front of the modules that do the work. Reads of a SQLite file use
the standard library's ``sqlite3`` directly (``database.SqliteConnections``) and the SQLAlchemy
engine is made only when something needs it (ingestion, migrations, export, PostgreSQL).

- ``database``: opening, URLs, migrations, the schema check;
- ``policies``: policy activations;
- ``files`` → ``parsing`` (→ ``workers`` for large files) → ``writing``: ingestion;
- ``loading``: columns for scoring; ``exporting``: entries in the ingestion format.

History is never updated or deleted: ingestion only inserts, idempotently on (source, id);
corrections are new entries that point at what they change.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from socialcredit.columns import SUBJECT_KINDS, LedgerColumns
from socialcredit.ledger import database, loading, policies
from socialcredit.ledger.database import LedgerError, SqliteConnections, placeholders
from socialcredit.ledger.policies import PolicyVersion

if TYPE_CHECKING:  # ingestion's modules are imported by the methods that ingest
    from sqlalchemy.engine import Engine

    from socialcredit.ledger.backfills import Backfill
    from socialcredit.ledger.changes import Change, HighWater
    from socialcredit.ledger.files import CsvOptions
    from socialcredit.ledger.results import IngestResult
    from socialcredit.ledger.rules import IngestRules

PARALLEL_FROM_BYTES = 4 * 1024 * 1024

log = logging.getLogger("socialcredit.ledger")

Clock = Callable[[], int]


def _now(now: int | Clock) -> int:
    return int(now()) if callable(now) else int(now)


class Ledger:
    """An append-only store of records, relations, corrections and policy versions."""

    def __init__(self, engine: Engine | None = None, *, url: str | None = None) -> None:
        """A ledger over ``engine``, or over the database at ``url`` (see ``Ledger.open``)."""
        if engine is None and url is None:
            raise ValueError("a Ledger needs an engine or a URL")
        self._engine = engine
        self._full_url = database.normalise_url(url) if engine is None else None
        if engine is not None:
            self.url = engine.url.render_as_string(hide_password=True)
            self.is_sqlite = engine.dialect.name == "sqlite"
            self._sqlite: SqliteConnections | None = None
        else:
            assert self._full_url is not None
            path = database.sqlite_path(self._full_url)
            self.url = self._full_url
            self.is_sqlite = path is not None
            self._sqlite = SqliteConnections(path) if path is not None else None
            if path is None:  # other databases: the engine now, so a bad URL fails here
                self._engine = database.open_engine(self._full_url)
                self.url = self._engine.url.render_as_string(hide_password=True)
                self.is_sqlite = self._engine.dialect.name == "sqlite"
        self._checked = False  # the schema exists (checked once, as it is never dropped)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (made on first use for a SQLite file)."""
        if self._engine is None:
            self._engine = database.open_engine(self._full_url)
        return self._engine

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, url: str | None = None) -> Ledger:
        """Open the ledger at ``url`` (a SQLAlchemy URL or a SQLite path); nothing is created yet.

        A bad URL or a missing driver raises ``LedgerError`` (for a SQLite file, nothing can
        be wrong with the URL; the file is checked on first use).
        """
        return cls(url=url if url is not None else database.normalise_url(None))

    def close(self) -> None:
        """Release connections."""
        if self._sqlite is not None:
            self._sqlite.close()
        if self._engine is not None:
            self._engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reading(self) -> AbstractContextManager[Any]:
        """A DBAPI connection to read from, for a ``with`` block (no transaction is left open).

        For a SQLite file, a ``sqlite3`` connection (no SQLAlchemy); else the engine's.
        Parameter marks: ``?`` when ``is_sqlite``, ``%s`` otherwise.
        """
        if self._sqlite is not None:
            return self._sqlite.connection()
        return _engine_dbapi(self.engine)

    def upgrade(self) -> None:
        """Create the schema or migrate it to the newest version (idempotent)."""
        database.upgrade(self.engine, self.url)

    def check_schema(self) -> None:
        """Raise ``LedgerError`` unless the database holds a ledger at this program's schema
        version (checked once per ``Ledger``: the schema is never dropped)."""
        self._check()

    def _check(self) -> None:
        if not self._checked:
            if self._sqlite is not None:
                self._sqlite.check_schema()
            else:
                database.check_schema(self.engine, self.url)
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
        *,
        now: int | Clock | None = None,
        backfill: bool = False,
        earlier_hash: str | None = None,
        lint_findings: str | None = None,
        lint_override: str | None = None,
    ) -> PolicyVersion:
        """Make a policy the active one, in force from ``activated_at``, and return its
        activation.

        ``now``: the ledger's clock (epoch seconds or a callable; default the wall clock),
        recorded with the activation. An ``activated_at`` before ``now`` would change answers
        already given about the time between: it is refused (``PastActivationError``)
        unless ``backfill`` (loading history, e.g. the demo's policy in force from the start
        of its simulated period), and then recorded as a backfill (``PolicyVersion.backfill``).

        Activating the active policy again changes nothing. A body activated before may be
        activated again (a new activation). A different body under a (policy id, declared
        version) already activated raises ``PolicyVersionConflict`` (a ``ConflictError``):
        changed rules need a new declared version. ``earlier_hash``: the content hash the
        same body had before durations were calendar spans (``legacy_content_hash``); an
        activation recorded under it is the same body. ``lint_findings`` (JSON) and
        ``lint_override`` (a justification) are recorded with the activation (the lint gate,
        ``socialcredit.lint.gate``; the ledger itself does not lint).
        """
        self._check()
        return policies.activate(
            self.engine,
            body,
            policy_id,
            declared_version,
            content_hash,
            activated_at,
            activated_by,
            int(time.time()) if now is None else _now(now),
            backfill,
            earlier_hash,
            lint_findings,
            lint_override,
        )

    def policy_history(self) -> list[PolicyVersion]:
        """Every activation, oldest first."""
        self._check()
        with self.reading() as conn:
            return policies.history(conn)

    def active_policy(self) -> PolicyVersion | None:
        """The most recently activated policy, if any."""
        self._check()
        with self.reading() as conn:
            return policies.active(conn)

    # ------------------------------------------------------------------ ingestion

    def ingest_file(
        self,
        name: str,
        fmt: str | None = None,
        rules: IngestRules | None = None,
        now: int | Clock = 0,
        progress: Callable[[int], None] | None = None,
        csv_options: CsvOptions | None = None,
        *,
        backfill: bool = False,
    ) -> IngestResult:
        """Ingest a JSON Lines or CSV file (``-`` = stdin, which needs ``fmt``); see ``ingest``.

        ``csv_options``: the delimiter and date format of a CSV file. Large JSON Lines files
        are decoded and validated in two child processes (with the same ``rules``) while
        this one writes, so parsing and storage overlap on two cores; the result is the same
        as in one process (a test checks this).
        """
        from socialcredit.ledger.files import FileFormatError, detect_format, read_lines

        now = _now(now)
        detect_format(name, fmt)
        if name != "-" and not os.path.isfile(name):
            raise FileFormatError(f"cannot read {name!r}: no such file")
        if name != "-" and os.path.getsize(name) > PARALLEL_FROM_BYTES and _can_fork():
            # only large files are parsed in child processes (and import multiprocessing)
            from socialcredit.ledger.workers import parse_in_children, parts_for

            parts = parts_for(name, fmt)
            log.debug("parsing %s in %d child process(es)", name, parts)
            chunks = parse_in_children(name, fmt, csv_options, rules, now, parts, backfill)
            return self._write(chunks, name, now, rules, progress, backfill)
        return self.ingest(
            read_lines(name, fmt, csv_options), name, rules, now, progress, backfill=backfill
        )

    def ingest_entries(
        self,
        objects: Iterable[dict[str, Any]],
        origin: str = "<api>",
        rules: IngestRules | None = None,
        now: int | Clock = 0,
        progress: Callable[[int], None] | None = None,
        *,
        backfill: bool = False,
    ) -> IngestResult:
        """Ingest decoded entries (dicts in the file format), numbered from 1; see ``ingest``."""
        return self.ingest(
            ((i, obj, None) for i, obj in enumerate(objects, start=1)),
            origin,
            rules,
            now,
            progress,
            backfill=backfill,
        )

    def ingest(
        self,
        lines: Iterable[tuple[int, Any, str | None]],
        origin: str,
        rules: IngestRules | None,
        now: int | Clock,
        progress: Callable[[int], None] | None = None,
        *,
        backfill: bool = False,
    ) -> IngestResult:
        """Validate and append decoded lines ``(line number, object or None, note or None)``
        (see ``socialcredit.ledger.files`` for the notes).

        Every line ends up accepted, a duplicate (its source and id are already stored, or
        came on an earlier line, with the same content: see ``parsing.content_differences``),
        a conflict (the same source and id with different content: the first one stays),
        rejected with an ``IngestProblem`` naming the line, the field and the reason, or
        skipped (blank); good lines are kept whatever happens to bad ones.
        ``rules``: what the active policy declares (``IngestRules.from_policy``): record
        types and their subject kinds, relations and their subjects' kinds (as given on the
        line and as the ledger already knows them), and the appeal window, with which
        accepted disputes that change nothing are reported. None = check the format only.
        ``now``: the ledger's clock in epoch seconds, or a callable read once: the time the
        ledger receives these entries, which is every entry's ``recorded_at`` (the time the
        ledger learned it, from which time travel counts it), so an ingest never changes an
        answer about a time before it. A line's own ``recorded_at`` is the source's claim,
        kept in ``claimed_recorded_at`` (it must not precede ``occurred_at`` nor be more
        than ``MAX_CLOCK_SKEW`` after ``now``). ``backfill`` (loading history: the demo, a
        migration from another system): a line's own ``recorded_at`` is kept as the entry's
        ``recorded_at`` (``now`` when it gives none) and the batch is recorded as a backfill
        (``ingest_batches.backfill``), which answers about times before ``now`` then
        mention (see ``socialcredit.ledger.backfills``). ``progress`` is called with the
        number of lines done after each chunk.

        Each chunk of lines is one transaction, so an interruption loses at most the chunk in
        flight, and running the same input again completes it (ingestion is idempotent).
        Within a chunk, entries are stored grouped by subject (faster to index), so ledger
        order follows the input only from chunk to chunk; a correction always comes after
        what it corrects.
        """
        from socialcredit.ledger.parsing import prepare_chunks

        now = _now(now)
        chunks = prepare_chunks(lines, origin, rules, now, None, backfill)
        return self._write(chunks, origin, now, rules, progress, backfill)

    def _write(
        self,
        chunks: Iterable[Any],
        origin: str,
        now: int,
        rules: IngestRules | None,
        progress: Callable[[int], None] | None,
        backfill: bool = False,
    ) -> IngestResult:
        from socialcredit.ledger.writing import write_chunks

        self._check()
        return write_chunks(self.engine, chunks, origin, now, rules, progress, backfill)

    # ------------------------------------------------------------------ reading

    def count_entries(self) -> int:
        """How many entries the ledger holds."""
        self._check()
        with self.reading() as conn:
            cursor = conn.cursor()
            cursor.execute("SELECT COUNT(*) FROM entries")
            return int(cursor.fetchone()[0])

    def has_subject(self, name: str) -> bool:
        """Whether the ledger has heard of ``name`` (as subject or related subject)."""
        self._check()
        p = "?" if self.is_sqlite else "%s"
        with self.reading() as conn:
            cursor = conn.cursor()
            cursor.execute(f"SELECT 1 FROM subjects WHERE name = {p}", (name,))
            return cursor.fetchone() is not None

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
        with self.reading() as conn:
            cursor = conn.cursor()
            cursor.execute(sql + " ORDER BY id")
            return [r[0] for r in cursor.fetchall()]

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
            return loading.load_subjects(
                self.reading, self.is_sqlite, list(dict.fromkeys(subjects)), follow_relations
            )
        return loading.load_everyone(self.reading, self.is_sqlite, with_ids)

    def claims(self, records: Collection[str]) -> dict[str, tuple[int, int]]:
        """For those of ``records`` (``source/id``) whose source claimed a ``recorded_at``
        other than the time the ledger learned them: ``source/id`` -> (claimed time,
        ``recorded_at``)."""
        self._check()
        by_source: dict[str, list[str]] = {}
        for source, entry_id in sorted({tuple(r.split("/", 1)) for r in records if "/" in r}):
            by_source.setdefault(source, []).append(entry_id)
        found: dict[tuple[str, str], tuple[int, int]] = {}
        p = "?" if self.is_sqlite else "%s"
        with self.reading() as conn:
            cursor = conn.cursor()
            # one query per source (an entry is unique by source and id); in key order
            for source, ids in by_source.items():
                for i in range(0, len(ids), 500):
                    chunk = ids[i : i + 500]
                    cursor.execute(
                        "SELECT entry_id, claimed_recorded_at, recorded_at FROM entries "
                        f"WHERE source = {p} AND entry_id IN ({placeholders(self.is_sqlite, len(chunk))}) "
                        "AND claimed_recorded_at IS NOT NULL AND claimed_recorded_at <> recorded_at",
                        (source, *chunk),
                    )
                    for entry_id, claimed, recorded in cursor.fetchall():
                        found[(source, str(entry_id))] = (int(claimed), int(recorded))
        return {
            f"{source}/{entry_id}": found[source, entry_id] for source, entry_id in sorted(found)
        }

    def backfills_crossed(self, at: int, subjects: Sequence[str] | None = None) -> list[Backfill]:
        """The backfill batches an answer about ``at`` crosses: loaded after ``at``, with
        entries recorded at or before ``at`` (so counted); ``subjects``: only entries about
        these subjects (None: the whole ledger). See ``socialcredit.ledger.backfills``."""
        from socialcredit.ledger.backfills import crossed

        self._check()
        with self.reading() as conn:
            return crossed(conn, self.is_sqlite, at, subjects)

    def changes_after(
        self, seq: int, ranges: Sequence[tuple[int, int]] = (), limit: int = 50_000
    ) -> list[Change]:
        """Entries received after ``seq`` (at most ``limit``), and those numbered within
        ``ranges`` (numbers a reader has not seen yet), in ``seq`` order: see
        ``socialcredit.ledger.changes``."""
        from socialcredit.ledger.changes import changes_after

        self._check()
        with self.reading() as conn:
            return changes_after(conn, self.is_sqlite, seq, ranges, limit)

    def seqs_above(self, low: int) -> list[int]:
        """The ``seq`` of every committed entry above ``low`` (``changes.seqs_above``)."""
        from socialcredit.ledger.changes import seqs_above

        self._check()
        with self.reading() as conn:
            return seqs_above(conn, self.is_sqlite, low)

    def transaction_horizon(self) -> tuple[int, int] | None:
        """PostgreSQL: (xmin, xmax) of a snapshot taken now (``changes.transaction_horizon``:
        whether the writers in flight at some moment have all ended since); SQLite: None
        (one writer at a time: entries commit in ``seq`` order)."""
        from socialcredit.ledger.changes import transaction_horizon

        if self.is_sqlite:
            return None
        with self.reading() as conn:
            return transaction_horizon(conn)

    def high_water(self) -> HighWater:
        """The highest ``seq`` and the policy history's size (``changes.HighWater``)."""
        from socialcredit.ledger.changes import high_water

        self._check()
        with self.reading() as conn:
            return high_water(conn)

    def policy_water(self) -> tuple[int, int]:
        """(activations, highest version) of the policy history: it changed if these did."""
        from socialcredit.ledger.changes import policy_water

        self._check()
        with self.reading() as conn:
            return policy_water(conn)

    def backfills_loaded(self) -> int | None:
        """When the last backfill batch was loaded (None: never)."""
        from socialcredit.ledger.changes import backfills_loaded

        self._check()
        with self.reading() as conn:
            return backfills_loaded(conn)

    def iter_entries(self, kinds: Collection[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every entry in ledger order, in the ingestion format (export → ingest round-trips).

        ``kinds``: only entries of these kinds (``record``, ``relation``, ``resolve``, …);
        None = all. Corrections still name their targets by source and id.
        """
        from socialcredit.ledger import exporting

        self._check()
        return exporting.iter_entries(self.engine, kinds)


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


@contextmanager
def _engine_dbapi(engine: Engine) -> Iterator[Any]:
    with engine.connect() as conn:
        yield conn.connection


__all__ = ["Ledger", "LedgerError", "PolicyVersion"]
