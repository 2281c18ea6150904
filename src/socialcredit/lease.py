"""``Lease``: one process at a time does a piece of background work for a database.

With ``serve --workers N`` (or several machines on one PostgreSQL database) every process
runs the same background threads; some work needs doing once, not N times (the notifier's
look at everyone when it starts is minutes of CPU on a large register). A lease names that
work; at most one process holds it at a time, and it is held by something the operating
system or the database server releases when the holder dies, so another process takes
over at its next try without waiting for an expiry:

- SQLite: an exclusive ``flock`` on a file next to the database (``<db>.<name>.lock``);
  the kernel releases it when the holding process exits or is killed.
- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``, keyed by the name
  and the ledger's schema) on a connection of the lease's own; the server releases it when that connection ends (the process died, or
  the network dropped it: the holder then finds the connection broken and stops).

``try_hold()`` is cheap enough to call before every look (SQLite: nothing once held;
PostgreSQL: one query checking that the connection is alive and still holds the lock).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialcredit.ledger import Ledger

log = logging.getLogger("socialcredit.lease")

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: every process holds it
    fcntl = None  # type: ignore[assignment]


def _key(name: str, schema: str) -> int:
    """The advisory lock key of lease ``name`` of the ledger in ``schema`` (advisory locks
    are per database; two ledgers in two schemas have two leases): a signed 64-bit number
    from a SHA-256."""
    digest = hashlib.sha256(f"socialcredit:{schema}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Lease:
    """The lease ``name`` on ``ledger``'s database (see the module). Thread-safe."""

    def __init__(self, ledger: Ledger, name: str) -> None:
        self.ledger = ledger
        self.name = name
        self.held = False
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._proxy: Any = None  # PostgreSQL: the pooled connection holding the lock
        self._conn: Any = None
        self._key = 0

    def try_hold(self) -> bool:
        """Whether this process holds the lease now: take it if nobody does; keep it if held
        (False if it was lost, e.g. the connection that held it broke)."""
        with self._lock:
            try:
                held = self._try_sqlite() if self.ledger.is_sqlite else self._try_postgres()
            except Exception as exc:  # the database away: not held; tried again next time
                log.warning("lease %s: cannot be taken now (%s)", self.name, exc)
                self._drop()
                held = False
            if held != self.held:
                log.info(
                    "lease %s: %s by process %d",
                    self.name,
                    "taken" if held else "lost",
                    os.getpid(),
                )
            self.held = held
            return held

    def _try_sqlite(self) -> bool:
        from socialcredit.ledger.database import sqlite_path

        if self._fd is not None:
            return True
        if fcntl is None:  # pragma: no cover
            return True
        path = sqlite_path(self.ledger.url)
        if path is None:  # an in-memory database: one process only
            return True
        fd = os.open(f"{path}.{self.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def _try_postgres(self) -> bool:
        if self._conn is not None:
            key = self._key
            cur = self._conn.cursor()
            try:
                cur.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND classid = %s AND objid = %s",
                    ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
                )
                row = cur.fetchone()
            finally:
                cur.close()
            if row is not None and int(row[0]) > 0:
                return True
            self._drop()
        self._proxy = self.ledger.engine.raw_connection()
        self._conn = self._proxy.driver_connection
        self._conn.autocommit = True
        cur = self._conn.cursor()
        try:
            cur.execute("SELECT current_schema()")
            schema = cur.fetchone()
            self._key = _key(self.name, str(schema[0] if schema else ""))
            cur.execute("SELECT pg_try_advisory_lock(%s)", (self._key,))
            row = cur.fetchone()
        finally:
            cur.close()
        if row is not None and bool(row[0]):
            return True
        self._drop()
        return False

    def _drop(self) -> None:
        """Let go of whatever holds (or tried to hold) the lease."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # releases the flock
            self._fd = None
        if self._proxy is not None:
            # never back to the pool: closing the connection releases the advisory lock
            with contextlib.suppress(Exception):
                self._proxy.invalidate()
            with contextlib.suppress(Exception):
                self._proxy.close()
            self._proxy = self._conn = None

    def release(self) -> None:
        """Give the lease up (another process may take it at its next try)."""
        with self._lock:
            self._drop()
            self.held = False
