"""Opening the ledger's database: URLs, SQLite settings, schema migrations and the schema check."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DatabaseError

from socialcredit.errors import StorageError

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
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1 FROM entries LIMIT 1"))
    except DatabaseError as exc:  # incl. OperationalError; also a file that is no database
        raise LedgerError(
            f"{shown_url} is not an initialised ledger ({exc.orig}); run `socialcredit init`"
        ) from None


def placeholders(is_sqlite: bool, n: int) -> str:
    """``n`` DBAPI parameter marks for the driver (``?`` for SQLite, ``%s`` for psycopg)."""
    mark = "?" if is_sqlite else "%s"
    return ",".join([mark] * n)
