"""The audit log's subject index (table ``audit_subjects``, schemas 0012 and 0013).

A search by subject ("who looked at me", an auditor's question) must find every entry about
a subject without reading the log: the entries whose ``subject`` is that subject (a check,
a read of a standing …) and the batch checks that list it (a batch entry's own ``subject``
is empty; the subjects it checked are in its ``details``). ``audit_subjects`` holds a
(subject, seq) row for each, and one row ('', W) per indexing step: every entry numbered W
or below is indexed (the highest such W is the *watermark*; subject ids are never empty).

The index is filled in bulk, not in the transaction that writes the entries. A b-tree
index on ``audit_log.subject`` (``ix_audit_log_subject``, dropped by 0013) made every group
commit of single checks write one 16 KB page per check — the subjects arrive in random
order — and sync it: most of the audit writer's CPU. (subject, seq) rows sorted together,
thousands at a time, cost a fraction of that. So ``index_step`` indexes the entries above
the watermark, up to ``PAIRS`` rows per transaction, and is run by the audit log's indexer
thread every few seconds (``AuditLog(index_interval=…)``) or by ``AuditLog.index_subjects()``:
steps are idempotent (a pair already there is skipped), so several processes may run them
at once. A search reads the index up to the watermark and only the entries above it (those
written since the last step, a few seconds' worth while a service runs, read in ``seq``
order through the primary key), so it is complete whatever the index's lag.

The index is not hashed (the entries it points at are, and ``verify`` reads those); like
the log it is append-only in the database (triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import orjson

BATCH_ROUTE = "POST /v1/checks/batch"
"""The route whose entries list many subjects in ``details`` (one entry a batch of checks)."""
PAIRS = 50_000
"""(subject, seq) rows an indexing step gathers before it writes them in one transaction
(a step ends after the entry that reaches it: a batch entry adds up to 10,000)."""
_FETCH = 2000
"""Entries read at a time by a step."""


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


def index_step(conn: Any, is_sqlite: bool, pairs_max: int = PAIRS) -> tuple[int, bool]:
    """Index the entries above the watermark, up to about ``pairs_max`` (subject, seq) rows,
    in one transaction on the DBAPI connection ``conn`` (SQLite: in autocommit mode;
    PostgreSQL: not). Returns how many entries about a subject were indexed, and whether
    the index reached the head of the log as it was when the step began."""
    mark = "?" if is_sqlite else "%s"
    cur = conn.cursor()
    read = conn.cursor()
    try:
        if is_sqlite:
            begin_immediate(cur)
        done = watermark(cur, is_sqlite)
        cur.execute("SELECT seq FROM audit_head WHERE id = 1")
        head = cur.fetchone()
        top = 0 if head is None else int(head[0])
        if top <= done:
            _end(conn, cur, is_sqlite)
            return 0, True
        # a batch entry's details only (another entry's are not needed, and may be long)
        read.execute(
            f"SELECT seq, subject, CASE WHEN route = {mark} AND subject IS NULL THEN details "
            f"END FROM audit_log WHERE seq > {mark} AND seq <= {mark} ORDER BY seq",
            (BATCH_ROUTE, done, top),
        )
        pairs: list[tuple[str, int]] = []
        entries = 0
        upto = top
        complete = True
        while True:
            rows = read.fetchmany(_FETCH)
            for seq, subject, details in rows:
                before = len(pairs)
                if subject:
                    pairs.append((subject, int(seq)))
                elif details is not None:
                    pairs.extend((name, int(seq)) for name in batch_subjects(details))
                entries += len(pairs) > before
                if len(pairs) >= pairs_max:
                    upto = int(seq)
                    break
            if len(pairs) >= pairs_max or len(rows) < _FETCH:
                break
        if len(pairs) >= pairs_max and upto < top:
            complete = False
        read.close()
        pairs.sort()
        pairs.append(("", upto))
        ignore = "INSERT OR IGNORE" if is_sqlite else "INSERT"
        tail = "" if is_sqlite else " ON CONFLICT DO NOTHING"
        cur.executemany(
            f"{ignore} INTO audit_subjects (subject, seq) VALUES ({mark}, {mark}){tail}", pairs
        )
        _end(conn, cur, is_sqlite)
        return entries, complete
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
        read.close()
        cur.close()


def _end(conn: Any, cur: Any, is_sqlite: bool) -> None:
    if is_sqlite:
        cur.execute("COMMIT")
    else:
        conn.commit()


def subject_seqs(cur: Any, is_sqlite: bool, subject: str, after: int, limit: int) -> list[int]:
    """The first ``limit`` seq numbers above ``after`` of the entries about ``subject``:
    those the index lists (up to the watermark), then those above the watermark whose
    ``subject`` is it or, for a batch check, whose list holds it (read in seq order)."""
    mark = "?" if is_sqlite else "%s"
    limit = int(limit)
    found: list[int] = []
    done = watermark(cur, is_sqlite) if subject else 0  # '' is the watermark's own key
    if after < done:
        cur.execute(
            f"SELECT seq FROM audit_subjects WHERE subject = {mark} AND seq > {mark} "
            f"AND seq <= {mark} ORDER BY seq LIMIT {limit}",
            (subject, after, done),
        )
        found = [int(r[0]) for r in cur.fetchall()]
        if len(found) == limit:  # every entry above the watermark comes after these
            return found
    # above the watermark: the entries of the subject, and the batch entries whose list
    # holds it (its JSON text in the details first, then the list itself: the text may be
    # inside another name)
    contains = "instr(details, ?) > 0" if is_sqlite else "strpos(details, %s) > 0"
    quoted = orjson.dumps(subject).decode()
    start = max(after, done)
    while len(found) < limit:
        cur.execute(
            f"SELECT seq, subject, details FROM audit_log WHERE seq > {mark} AND "
            f"(subject = {mark} OR (route = {mark} AND subject IS NULL AND {contains})) "
            f"ORDER BY seq LIMIT {limit}",
            (start, subject, BATCH_ROUTE, quoted),
        )
        rows = cur.fetchall()
        found += [
            int(seq)
            for seq, own, details in rows
            if own is not None or subject in batch_subjects(details)
        ]
        if len(rows) < limit:
            break
        start = int(rows[-1][0])
    return found[:limit]
