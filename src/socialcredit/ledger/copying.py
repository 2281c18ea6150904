"""Bulk writing on PostgreSQL: a chunk's subjects and entries go in by ``COPY``.

When none of a chunk's (source, id) is stored yet (a first load: the usual case of a
large ingest), its records, relations and facts are copied straight into ``entries``
(``copy_entries_direct``), with the subject ids looked up beforehand in one query, in
(source, id) order: PostgreSQL's fastest path, the same as a bare ``COPY``. The table's
unique (source, id) key refuses the whole ``COPY`` if any row is stored already (or is
being stored by a concurrent ingest, which it waits for), and the chunk then goes the
staging way below, which sorts repeats out; nothing is half-copied, as the ``COPY`` runs
in a savepoint.

A row-by-row ``INSERT`` costs PostgreSQL a statement per row, even pipelined; ``COPY`` streams
the rows. But ``COPY`` has no ``ON CONFLICT`` and knows nothing of subject names, so the
rows are copied into temporary staging tables first (private to the session, emptied
at each commit) and moved into the ledger's tables by one ``INSERT … SELECT`` each, which
looks subject ids up by name, keeps idempotency on (source, id) with ``ON CONFLICT DO
NOTHING``, and inserts in key order, so that concurrent ingests of the same keys take
their locks in the same order (one waits for the other instead of deadlocking). Its
``RETURNING`` says which lines were stored, so only the others are compared with what
is stored (duplicates and conflicts, ``ChunkChecks._settle_repeats``).

Everything else is as with ``INSERT``: the same transaction per chunk, the same checks
before. A role without the ``TEMPORARY`` privilege on the database inserts row by row. When the database refuses some of the rows (a value no check foresaw, a
constraint the operator added), the statement is rolled back to a savepoint and the rows
go in by the row-by-row path, which finds the refused lines (``refusals``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

from socialcredit.ledger.refusals import refusal_reason

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

Row = tuple[Any, ...]
T = TypeVar("T")

_SAVEPOINT = "socialcredit_copy"

_STAGING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS socialcredit_subjects_in "
    "(name text, kind smallint) ON COMMIT DELETE ROWS",
    "CREATE TEMPORARY TABLE IF NOT EXISTS socialcredit_entries_in "
    "(source text, entry_id text, kind smallint, subject text, type text, "
    "occurred_at bigint, recorded_at bigint, amount double precision, evidence text, "
    "details text, related text, valid_until bigint, claimed bigint, line integer) "
    "ON COMMIT DELETE ROWS",
)

# the columns of the row layouts of ``parsing`` (records; relations and facts)
_RECORD_COLUMNS = (
    "source, entry_id, kind, subject, type, occurred_at, recorded_at, amount, evidence, "
    "details, claimed, line"
)
_RELATION_COLUMNS = (
    "source, entry_id, kind, subject, type, occurred_at, recorded_at, amount, details, "
    "related, valid_until, claimed, line"
)


def can_copy(conn: Connection) -> bool:
    """Whether this session may create the temporary staging tables (PostgreSQL grants
    ``TEMPORARY`` on a database to every role unless a site revokes it); if not, ingestion
    inserts row by row."""
    found = conn.exec_driver_sql(
        "SELECT has_database_privilege(current_database(), 'TEMPORARY')"
    ).scalar()
    conn.commit()
    return bool(found)


def _staging(conn: Connection) -> None:
    """The staging tables exist in this session, empty (they are emptied at each commit;
    a rollback removes what was copied)."""
    for statement in _STAGING:
        conn.exec_driver_sql(statement)


def _copy(conn: Connection, table: str, columns: str, rows: Sequence[Row]) -> None:
    """Stream ``rows`` into ``table`` by ``COPY``."""
    import psycopg
    from sqlalchemy import exc as sa_exc

    statement = f"COPY {table} ({columns}) FROM STDIN"
    raw: Any = conn.connection.dbapi_connection
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
    except psycopg.Error as exc:  # as SQLAlchemy raises them (retries and refusals read it)
        raise sa_exc.DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


def _fetch(conn: Connection, statement: str, params: Any = None) -> list[Any]:
    """Every row ``statement`` returns, fetched in one call on the driver's own cursor
    (SQLAlchemy's result objects cost more than the query for many rows); errors are
    raised as SQLAlchemy raises them (retries and refusals read them)."""
    import psycopg
    from sqlalchemy import exc as sa_exc

    raw: Any = conn.connection.dbapi_connection
    try:
        with raw.cursor() as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall())
    except psycopg.Error as exc:
        raise sa_exc.DBAPIError.instance(statement, params, exc, psycopg.Error) from exc


def subject_ids(conn: Connection, names: Sequence[str]) -> dict[str, int]:
    """The ids of those of ``names`` the ledger stores (one query)."""
    found = _fetch(conn, "SELECT name, id FROM subjects WHERE name = ANY(%s)", (list(names),))
    return dict(found)


_ENTRY_COLUMNS = (
    "source, entry_id, kind, subject_id, type, occurred_at, recorded_at, amount, evidence, "
    "details, related_subject_id, valid_until, claimed_recorded_at, batch_id, line"
)


def copy_entries_direct(
    conn: Connection,
    records: Sequence[Row],
    relations: Sequence[Row],
    ids: dict[str, int],
    batch: int,
    now: int,
) -> bool:
    """Store records and relations (and facts; the row layouts of ``parsing``) by one
    ``COPY`` into ``entries``, in (source, id) order, when none of them is stored yet:
    True when all were stored; False when the database refused the ``COPY`` (a (source,
    id) already stored, or a value it refuses): then nothing was stored. ``ids``: the
    subject ids of every name the rows give (False, nothing tried, if one is missing).
    An entry's ``recorded_at`` is ``now`` unless its row gives one."""
    try:
        rows: list[Row] = [
            (s, e, k, ids[n], t, o, now if r is None else r, a, ev, d, None, None, c, batch, line)
            for s, e, k, n, t, o, r, a, ev, d, c, line in records
        ]
        rows += [
            (s, e, k, ids[n], t, o, now if r is None else r, a, None, d,
             None if m is None else ids[m], u, c, batch, line)
            for s, e, k, n, t, o, r, a, d, m, u, c, line in relations
        ]  # fmt: skip
    except KeyError:  # a subject not stored: the staging way finds and reports the lines
        return False
    # (source, id) order, as the staging way's ``ORDER BY … COLLATE "C"`` (Python compares
    # strings by code point, as "C" does): concurrent ingests of the same keys take their
    # locks in one order (no deadlock)
    rows.sort(key=itemgetter(0, 1))

    def work() -> bool:
        _copy(conn, "entries", _ENTRY_COLUMNS, rows)
        return True

    return _in_savepoint(conn, work) is not None


def _in_savepoint(conn: Connection, work: Callable[[], T]) -> T | None:
    """``work()`` in a savepoint; None (rolled back) when the database refuses its data."""
    conn.exec_driver_sql(f"SAVEPOINT {_SAVEPOINT}")
    try:
        result = work()
    except Exception as exc:
        if refusal_reason(exc) is None:
            raise
        conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        conn.exec_driver_sql(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        return None
    conn.exec_driver_sql(f"RELEASE SAVEPOINT {_SAVEPOINT}")
    return result


def copy_subjects(conn: Connection, subjects: Sequence[tuple[str, int]]) -> int | None:
    """Store the subjects (name, kind) not yet in the ledger, in name order; returns how
    many were stored, or None when the database refused some (nothing stored)."""

    def work() -> int:
        _staging(conn)
        conn.exec_driver_sql("TRUNCATE socialcredit_subjects_in")
        _copy(conn, "socialcredit_subjects_in", "name, kind", subjects)
        result = conn.exec_driver_sql(
            "INSERT INTO subjects (name, kind) SELECT name, kind FROM socialcredit_subjects_in "
            'ORDER BY name COLLATE "C" ON CONFLICT (name) DO NOTHING'
        )
        return int(result.rowcount)

    return _in_savepoint(conn, work)


def copy_entries(
    conn: Connection, records: Sequence[Row], relations: Sequence[Row], batch: int, now: int
) -> set[int] | None:
    """Store records and relations (and facts; the row layouts of ``parsing``) whose
    (source, id) the ledger does not hold yet, in (source, id) order; returns the lines
    stored, or None when the database refused some (nothing stored). Subjects must be
    stored first. An entry's ``recorded_at`` is ``now`` unless its row gives one."""

    def work() -> set[int]:
        _staging(conn)
        conn.exec_driver_sql("TRUNCATE socialcredit_entries_in")
        if records:
            _copy(conn, "socialcredit_entries_in", _RECORD_COLUMNS, records)
        if relations:
            _copy(conn, "socialcredit_entries_in", _RELATION_COLUMNS, relations)
        # LEFT JOINs: a name missing from subjects leaves subject_id NULL, which the table
        # refuses (as the row-by-row path does) rather than dropping the line unseen
        found = _fetch(
            conn,
            "INSERT INTO entries (source, entry_id, kind, subject_id, type, occurred_at, "
            "recorded_at, amount, evidence, details, related_subject_id, valid_until, "
            "claimed_recorded_at, batch_id, line) "
            "SELECT i.source, i.entry_id, i.kind, s.id, i.type, i.occurred_at, "
            f"COALESCE(i.recorded_at, {int(now)}), i.amount, i.evidence, i.details, r.id, "
            f"i.valid_until, i.claimed, {int(batch)}, i.line "
            "FROM socialcredit_entries_in i LEFT JOIN subjects s ON s.name = i.subject "
            "LEFT JOIN subjects r ON r.name = i.related "
            'ORDER BY i.source COLLATE "C", i.entry_id COLLATE "C" '
            "ON CONFLICT (source, entry_id) DO NOTHING RETURNING line",
        )
        return {line for (line,) in found}

    return _in_savepoint(conn, work)
