"""When the database refuses some rows of a chunk: find them, keep the others.

Ingestion validates every value against what the database can store before writing
(``entries``), so a refusal is rare: a value no check foresaw, or a constraint or trigger
the operator added. Then one bad line must not cost the chunk's good ones: the rows of the
refused statement are tried again in halves, each half in its own savepoint, down to the
single rows the database refuses (``insert_keeping``). The writer then writes the chunk
again without those lines and reports each as rejected with the database's reason.

Only refusals about the data count (``refusal_reason``): integrity and data errors, and
values the driver cannot convert. Anything else (a lost connection, a full disk, a lock
held by another writer) stops the chunk as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from socialcredit.columns import RELATION

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from socialcredit.ledger.parsing import PreparedChunk

log = logging.getLogger("socialcredit.ledger")

Row = tuple[Any, ...]
_SAVEPOINT = "socialcredit_rows"
# Python-side errors a driver raises for a value it cannot convert (e.g. sqlite3's
# "Python int too large to convert to SQLite INTEGER")
_VALUE_ERRORS = (OverflowError, ValueError, TypeError, UnicodeError)


def refusal_reason(exc: BaseException) -> str | None:
    """The database's reason when ``exc`` says it refused the data of a statement (an
    integrity or data error, or a value the driver cannot convert), else None."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.DBAPIError):
        if isinstance(exc, sa_exc.DataError | sa_exc.IntegrityError):
            return _first_line(exc.orig)
        return None
    if isinstance(exc, sa_exc.StatementError):
        return _first_line(exc.orig) if isinstance(exc.orig, _VALUE_ERRORS) else None
    if isinstance(exc, _VALUE_ERRORS):
        return _first_line(exc)
    return None


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def insert_keeping(
    conn: Connection,
    sql: str,
    rows: Sequence[Row],
    refused: Callable[[Row, str], None],
) -> tuple[int, list[Row]]:
    """Execute ``sql`` for every row; rows the database refuses (see ``refusal_reason``)
    are found by bisection, each reported to ``refused`` with the database's reason, and
    left out. Returns the rows the statements reported as inserted (their rowcount) and the
    rows not refused, in order. Needs an open transaction (it uses savepoints)."""
    count = _attempt(conn, sql, rows)
    if isinstance(count, int):
        return count, list(rows)
    log.info("the database refused a chunk's rows (%s); finding the lines it refuses", count)
    kept: list[Row] = []
    total = 0

    def bisect(part: Sequence[Row], reason: str) -> None:
        nonlocal total
        if len(part) == 1:
            refused(part[0], reason)
            return
        middle = len(part) // 2
        for half in (part[:middle], part[middle:]):
            outcome = _attempt(conn, sql, half)
            if isinstance(outcome, int):
                total += outcome
                kept.extend(half)
            else:
                bisect(half, outcome)

    bisect(rows, count)
    return total, kept


def _attempt(conn: Connection, sql: str, rows: Sequence[Row]) -> int | str:
    """Execute in a savepoint: the rowcount, or the reason of a refusal (rolled back)."""
    _ensure_transaction(conn)
    conn.exec_driver_sql(f"SAVEPOINT {_SAVEPOINT}")
    try:
        count = int(conn.exec_driver_sql(sql, list(rows)).rowcount)
    except Exception as exc:
        reason = refusal_reason(exc)
        if reason is None:
            raise
        conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        conn.exec_driver_sql(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        return reason
    conn.exec_driver_sql(f"RELEASE SAVEPOINT {_SAVEPOINT}")
    return count


def _ensure_transaction(conn: Connection) -> None:
    # SQLite: releasing a savepoint that opened the transaction commits it, which would
    # commit half a chunk; so a transaction is opened first when none is
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            conn.exec_driver_sql("BEGIN")


def without_lines(
    chunk: PreparedChunk, lines: Collection[int]
) -> tuple[PreparedChunk, dict[str, int]]:
    """The chunk as if ``lines`` had not been given (their entries, repeats and kind
    claims left out), and the subjects it no longer names (name -> kind) among those it
    listed as new."""
    rows = [r for r in chunk.rows if r[-1] not in lines]
    relations = [r for r in chunk.relations if r[-1] not in lines]
    used = {r[3] for r in rows} | {r[3] for r in relations} | {r[9] for r in relations}
    dropped = {name: kind for name, kind in chunk.subjects if name not in used}
    claims = {
        claim: kept
        for claim, claimed in chunk.claims.items()
        if (kept := [line for line in claimed if line not in lines])
    }
    return replace(
        chunk,
        rows=rows,
        relations=relations,
        subjects=[s for s in chunk.subjects if s[0] in used],
        corrections=[c for c in chunk.corrections if c[0] not in lines],
        repeats=[r for r in chunk.repeats if r[-1] not in lines],
        kind_exceptions={k: v for k, v in chunk.kind_exceptions.items() if k not in lines},
        claims=claims,
    ), dropped


def names_in(row: Row) -> tuple[str, ...]:
    """The subject names an entry row (a record or relation) names."""
    return (row[3], row[9]) if row[2] == RELATION else (row[3],)
