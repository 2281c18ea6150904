"""Bulk writing on PostgreSQL: a chunk's subjects and entries go in by ``COPY``.

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
    """Stream ``rows`` into a staging table by ``COPY``."""
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
        raise sa_exc.DBAPIError(statement, None, exc) from exc


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
            "ORDER BY name ON CONFLICT (name) DO NOTHING"
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
        found = conn.exec_driver_sql(
            "INSERT INTO entries (source, entry_id, kind, subject_id, type, occurred_at, "
            "recorded_at, amount, evidence, details, related_subject_id, valid_until, "
            "claimed_recorded_at, batch_id, line) "
            "SELECT i.source, i.entry_id, i.kind, s.id, i.type, i.occurred_at, "
            f"COALESCE(i.recorded_at, {int(now)}), i.amount, i.evidence, i.details, r.id, "
            f"i.valid_until, i.claimed, {int(batch)}, i.line "
            "FROM socialcredit_entries_in i LEFT JOIN subjects s ON s.name = i.subject "
            "LEFT JOIN subjects r ON r.name = i.related "
            "ORDER BY i.source, i.entry_id "
            "ON CONFLICT (source, entry_id) DO NOTHING RETURNING line"
        )
        return {int(line) for (line,) in found}

    return _in_savepoint(conn, work)
