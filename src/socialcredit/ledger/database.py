"""Opening the ledger's database: URLs, SQLite settings, schema migrations and the schema check.

SQLAlchemy is imported only where an engine is made or used (writes, migrations,
PostgreSQL): reads of a SQLite file go through ``SqliteConnections`` (the standard library's
``sqlite3`` with the same settings), so a read-only command does not pay for importing it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialcredit.errors import StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DEFAULT_URL = "sqlite:///socialcredit.db"
MIGRATIONS = Path(__file__).parent / "migrations"

log = logging.getLogger("socialcredit.ledger")


class LedgerError(StorageError, RuntimeError):
    """The database cannot be opened or is not a ledger; the message says what to do."""


def normalise_url(url: str | None) -> str:
    """A SQLAlchemy URL from a URL, a file path, or ``SOCIALCREDIT_DB`` / the default."""
    url = url or os.environ.get("SOCIALCREDIT_DB") or DEFAULT_URL
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sqlite_path(url: str) -> str | None:
    """The file of a plain SQLite URL (``sqlite:///path``, as ``normalise_url`` makes), else None.

    None for every other URL: other databases, in-memory SQLite (one connection's own
    database), URLs with query options or another driver; those are opened by SQLAlchemy.
    """
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = url[len(prefix) :]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return path


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA page_size=16384")  # only takes effect on a new, empty database
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-262144")  # 256 MiB: indexes stay in memory while ingesting
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def open_engine(url: str | None) -> Engine:
    """An engine for ``url`` (see ``normalise_url``); SQLite gets the ledger's settings.

    Raises ``LedgerError`` when the URL cannot be used (bad form, missing driver).
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import ArgumentError

    full = normalise_url(url)
    try:
        engine = create_engine(full)
    except (ArgumentError, ImportError) as exc:
        raise LedgerError(f"cannot use database URL {full!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def upgrade(engine: Engine, shown_url: str) -> None:
    """Create the schema or migrate it to the newest version (idempotent)."""
    from alembic import command  # only migrating needs alembic
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.exc import DatabaseError

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            before = MigrationContext.configure(conn).get_current_revision()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            after = MigrationContext.configure(conn).get_current_revision()
    except DatabaseError as exc:  # incl. OperationalError; also a file that is no database
        raise LedgerError(f"cannot open the database {shown_url}: {exc.orig}") from None
    if before != after:
        log.info("migrated %s from schema %s to %s", shown_url, before or "(none)", after)
    else:
        log.debug("schema of %s is current (%s)", shown_url, after)


def check_schema(engine: Engine, shown_url: str) -> None:
    """Raise ``LedgerError`` unless the database holds a ledger's tables."""
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1 FROM entries LIMIT 1"))
    except DatabaseError as exc:  # incl. OperationalError; also a file that is no database
        raise LedgerError(
            f"{shown_url} is not an initialised ledger ({exc.orig}); run `socialcredit init`"
        ) from None


class SqliteConnections:
    """DBAPI connections to one SQLite file for reading, without SQLAlchemy.

    A file that does not exist is not created (the schema check reports it). Each has the ledger's settings (``_sqlite_pragmas``, as the engine's connections) and runs
    in autocommit mode: a read sees everything committed when it starts. Connections are
    reused (any thread may take an idle one) until ``close``.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        # mode=rw: a read never creates a file (a mistyped path is reported, not made)
        uri = Path(self.path).absolute().as_uri() + "?mode=rw"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        try:
            _sqlite_pragmas(conn, None)
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A connection for the ``with`` block (closed, not reused, if the block fails)."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        except BaseException:
            conn.close()
            raise
        if conn.in_transaction:  # a read never starts one; never hand one on open
            conn.rollback()
        with self._lock:
            self._idle.append(conn)

    def check_schema(self, shown_url: str) -> None:
        """Raise ``LedgerError`` unless the file holds a ledger's tables (see ``check_schema``)."""
        try:
            with self.connection() as conn:
                conn.execute("SELECT 1 FROM entries LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:  # incl. OperationalError; a file that is no database
            raise LedgerError(
                f"{shown_url} is not an initialised ledger ({exc}); run `socialcredit init`"
            ) from None

    def close(self) -> None:
        """Close the idle connections (one in use is closed when given back, not reused)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def placeholders(is_sqlite: bool, n: int) -> str:
    """``n`` DBAPI parameter marks for the driver (``?`` for SQLite, ``%s`` for psycopg)."""
    mark = "?" if is_sqlite else "%s"
    return ",".join([mark] * n)
