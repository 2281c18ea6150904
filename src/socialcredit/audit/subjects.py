"""The audit log's subject index for batch checks (table ``audit_subjects``, schema 0012).

A batch-check entry's own ``subject`` is empty; the subjects it checked are listed in its
``details``. A search by subject must find those entries without reading every batch
entry's list. ``audit_subjects`` holds a (subject, seq) row for every subject a batch entry
lists, and one row ('', W) per indexing step: every batch entry numbered W or below is
indexed (the highest such W is the *watermark*; subject ids are never empty).

The index is filled in bulk, not in the transaction that writes the entries: (subject,
seq) rows inserted 1,000 at a time in the subjects' random order cost more CPU than the
checks they index (each lands on its own page of the b-tree), while thousands sorted
together cost a third of that. So ``index_batches`` indexes the batch entries above the
watermark, a step at a time (``STEP`` entries per transaction, sorted), and is run by the
audit log's writer thread every few seconds (``AuditLog(index_interval=…)``) or by
``AuditLog.index_subjects()``: steps are idempotent (a pair already there is skipped), so
several processes may run them at once. A search reads the index up to the
watermark and only the batch entries above it (those written since the last step, a few
seconds' worth while a service runs), so it is complete whatever the index's lag.

The index is not hashed (the lists in the entries are, and ``verify`` reads those);
like the log it is append-only in the database (triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import orjson

BATCH_ROUTE = "POST /v1/checks/batch"
"""The route whose entries list many subjects in ``details`` (one entry a batch of checks)."""
STEP = 20
"""Batch entries indexed per transaction (up to 20 × 10,000 subjects)."""


def batch_subjects(details: Any) -> list[str]:
    """The subjects a batch-check entry's ``details`` (a JSON object's text, or the object)
    lists, each once, in order ([] for anything else)."""
    if isinstance(details, str):
        try:
            details = orjson.loads(details)
        except orjson.JSONDecodeError:
            return []
    names = details.get("subjects") if isinstance(details, dict) else None
    if not isinstance(names, list):
        return []
    return list(dict.fromkeys(n for n in names if type(n) is str and n))


def watermark(cur: Any, is_sqlite: bool) -> int:
    """Every batch entry numbered at or below this is in the index (0: none yet)."""
    cur.execute("SELECT MAX(seq) FROM audit_subjects WHERE subject = ''")
    row = cur.fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


LOCK_POLL = 0.0005
"""Seconds between two attempts at SQLite's write lock (``begin_immediate``)."""
LOCK_TIMEOUT = 10.0
"""Seconds ``begin_immediate`` tries for (the ledger's busy timeout)."""


def begin_immediate(cur: Any, timeout: float = LOCK_TIMEOUT) -> None:
    """``BEGIN IMMEDIATE`` on the SQLite cursor ``cur`` of a connection whose busy timeout
    is 0 (``log._sqlite_writer``), tried every ``LOCK_POLL`` seconds while another
    connection holds the write lock, for up to ``timeout`` seconds (then SQLite's "database
    is locked" is raised). SQLite's own busy handler sleeps 1, 2, 5 … 25, 50, then 100 ms
    between attempts: against another process's audit writer, which takes the lock every
    few milliseconds, such widely spaced attempts kept missing the gaps between its
    transactions, and one process's log waited for the other's whole stream of writes
    (hundreds of milliseconds, its durability window with it). Attempts this close
    together take the lock in the first gap."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cur.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_BUSY"):
                raise
            if time.monotonic() >= deadline:
                raise
        time.sleep(LOCK_POLL)


def index_step(conn: Any, is_sqlite: bool) -> int:
    """Index up to ``STEP`` batch entries above the watermark in one transaction on the
    DBAPI connection ``conn`` (SQLite: in autocommit mode; PostgreSQL: not); return how
    many batch entries were indexed: fewer than ``STEP`` means the index was complete up to
    the head of the log when the step began."""
    mark = "?" if is_sqlite else "%s"
    cur = conn.cursor()
    try:
        if is_sqlite:
            begin_immediate(cur)
        done = watermark(cur, is_sqlite)
        cur.execute("SELECT seq FROM audit_head WHERE id = 1")
        head = cur.fetchone()
        top = 0 if head is None else int(head[0])
        if top <= done:
            _end(conn, cur, is_sqlite)
            return 0
        cur.execute(
            f"SELECT seq, details FROM audit_log WHERE seq > {mark} AND seq <= {mark} "
            f"AND route = {mark} AND subject IS NULL ORDER BY seq LIMIT {STEP}",
            (done, top, BATCH_ROUTE),
        )
        rows = cur.fetchall()
        # all batch entries up to ``top`` when fewer than a step, else up to the last read
        upto = top if len(rows) < STEP else int(rows[-1][0])
        pairs = sorted(
            (name, int(seq)) for seq, details in rows for name in batch_subjects(details)
        )
        pairs.append(("", upto))
        ignore = "INSERT OR IGNORE" if is_sqlite else "INSERT"
        tail = "" if is_sqlite else " ON CONFLICT DO NOTHING"
        cur.executemany(
            f"{ignore} INTO audit_subjects (subject, seq) VALUES ({mark}, {mark}){tail}", pairs
        )
        _end(conn, cur, is_sqlite)
        return len(rows)
    except BaseException:
        try:
            if is_sqlite:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            else:
                conn.rollback()
        except Exception:
            pass
        raise
    finally:
        cur.close()


def _end(conn: Any, cur: Any, is_sqlite: bool) -> None:
    if is_sqlite:
        cur.execute("COMMIT")
    else:
        conn.commit()


def subject_seqs(cur: Any, is_sqlite: bool, subject: str, after: int, limit: int) -> list[int]:
    """The first ``limit`` seq numbers above ``after`` of the entries about ``subject``: its
    own (``ix_audit_log_subject``), the batch entries the index lists it in (up to the
    watermark), and those above the watermark whose list holds it (read one by one)."""
    mark = "?" if is_sqlite else "%s"
    limit = int(limit)
    cur.execute(
        f"SELECT seq FROM audit_log WHERE subject = {mark} AND seq > {mark} "
        f"ORDER BY seq LIMIT {limit}",
        (subject, after),
    )
    found = [int(r[0]) for r in cur.fetchall()]
    done = watermark(cur, is_sqlite)
    if after < done:
        cur.execute(
            f"SELECT seq FROM audit_subjects WHERE subject = {mark} AND seq > {mark} "
            f"AND seq <= {mark} ORDER BY seq LIMIT {limit}",
            (subject, after, done),
        )
        found += [int(r[0]) for r in cur.fetchall()]
    # above the watermark: the batch entries whose list holds the subject (its JSON text
    # in the details first, then the list itself: the text may be inside another name)
    contains = "instr(details, ?) > 0" if is_sqlite else "strpos(details, %s) > 0"
    quoted = orjson.dumps(subject).decode()
    start = max(after, done)
    while True:
        cur.execute(
            f"SELECT seq, details FROM audit_log WHERE seq > {mark} AND route = {mark} "
            f"AND subject IS NULL AND {contains} ORDER BY seq LIMIT {limit}",
            (start, BATCH_ROUTE, quoted),
        )
        rows = cur.fetchall()
        found += [int(seq) for seq, details in rows if subject in batch_subjects(details)]
        if len(rows) < limit:
            break
        start = int(rows[-1][0])
    return sorted(set(found))[:limit]
