"""Opening the ledger's database: URLs, SQLite settings, schema migrations and the schema check.

SQLAlchemy is imported only where an engine is made or used (writes, migrations,
PostgreSQL): reads of a SQLite file go through ``SqliteConnections`` (the standard library's
``sqlite3`` with the same settings), so a read-only command does not pay for importing it.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialcredit.errors import StorageError

CACHE_KIB = 256 * 1024
"""Every SQLite connection's page cache, in KiB (256 MiB): indexes stay in memory while
ingesting. An ingest's writer takes more (``ledger.writing.writer_cache_kib``)."""

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DEFAULT_URL = "sqlite:///socialcredit.db"
MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_MAGIC = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file (an empty file is a new database)."""

log = logging.getLogger("socialcredit.ledger")


class LedgerError(StorageError, RuntimeError):
    """The database cannot be opened or is not a ledger; the message says what to do."""


def normalise_url(url: str | None) -> str:
    """A SQLAlchemy URL from a URL, a file path, or ``SOCIALCREDIT_DB`` / the default.

    An empty ``url`` (as opposed to None) raises ``LedgerError``: it names no database.
    """
    if url is not None and not url.strip():
        raise LedgerError("the database is empty: give a SQLite file path or a database URL")
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


@functools.cache
def schema_versions() -> tuple[str, ...]:
    """The schema versions (Alembic revisions) this program knows, oldest first; the last is
    the newest, which ``upgrade`` migrates to.

    Read from the names of the migration scripts (``0004_….py`` is revision ``0004``; a test
    checks every script's revision against its name), so checking a database's version
    imports neither Alembic nor SQLAlchemy.
    """
    names = os.listdir(MIGRATIONS / "versions")
    return tuple(sorted(n.split("_", 1)[0] for n in names if n.endswith(".py") and n[:4].isdigit()))


def version_problem(versions: Sequence[str], shown: str) -> str | None:
    """What is wrong with a database whose ``alembic_version`` table holds ``versions``, for
    a command that uses it as it is (None: it is at this program's newest schema).

    A version after this program's newest is a newer socialcredit's; any other version
    this program does not know (``zzz``) is unrecognised, not called newer."""
    known = schema_versions()
    unknown = [v for v in versions if v not in known]
    odd = [v for v in unknown if not (v.isdigit() and len(v) == 4 and v > known[-1])]
    if odd:
        return (
            f"{shown} has an unrecognised schema version {odd[0]!r} (this socialcredit knows "
            f"{known[0]} to {known[-1]}): it was not made by `socialcredit init`; "
            "nothing was changed"
        )
    if unknown:
        return (
            f"this database ({shown}) was created by a newer socialcredit "
            f"(schema {', '.join(unknown)}); upgrade socialcredit"
        )
    if not versions:
        return f"{shown} is not an initialised ledger (it has no schema version); {_init(shown)}"
    if list(versions) != [known[-1]]:
        return (
            f"{shown} has schema {', '.join(versions)}, older than this socialcredit's "
            f"({known[-1]}); `socialcredit init --db {shown}` upgrades it"
        )
    return None


def unversioned_problem(
    present: Sequence[str], has_rows: Callable[[str], bool], shown: str, remade: bool
) -> str | None:
    """What is wrong with a database without a schema version that holds the ledger's
    tables named in ``present`` (``has_rows`` tells whether a table holds a row), the same
    for ``init`` and every other command; None: nothing there stops ``init``.

    Tables with rows are never touched. Empty ones are what an older version's interrupted
    ``init`` left in a SQLite file, which ``init`` makes again (``remade``); elsewhere they
    are refused too."""
    from socialcredit.ledger.schema import metadata

    ours = [t.name for t in metadata.sorted_tables if t.name in set(present)]
    if not ours:
        return None
    full = [name for name in ours if has_rows(name)]
    if full:
        return (
            f"{shown} holds ledger tables with rows ({', '.join(full)}) but no schema "
            "version: it was not made by `socialcredit init`; nothing was changed"
        )
    if remade:
        return None
    return (
        f"{shown} holds ledger tables ({', '.join(ours)}) but no schema version: it was not "
        "made by `socialcredit init`; nothing was changed"
    )


def _init(shown: str) -> str:
    return f"`socialcredit init --db {shown}` creates a ledger there"


def sqlite_file_problem(path: str, create: bool) -> str | None:
    """What stops ``path`` from being used as a SQLite ledger file, or None.

    A directory, a file that is not an SQLite database (checked by its first bytes: a CSV,
    a text file), and, unless ``create``, a file that does not exist (a read never creates
    one: a mistyped path is reported, not made); with ``create``, a missing directory.
    """
    file = Path(path)
    if file.is_dir():
        return f"{path} is a directory, not a socialcredit database"
    if not file.exists():
        parent = file.absolute().parent
        if not parent.is_dir():
            if not create:  # a read would not have created it: say only what is missing
                return f"{path} does not exist: the directory {parent} does not exist"
            return f"cannot create the database {path}: the directory {parent} does not exist"
        if not create:
            return f"{path} does not exist: there is no database there; {_init(path)}"
        return None
    if not os.access(path, os.R_OK):
        return f"cannot read the database {path}: Permission denied"
    # SQLite reads the first bytes itself (an empty file is a new database), not open():
    # closing any descriptor of a file drops every POSIX lock this process holds on it, so
    # a connection already open here (in WAL mode each holds a shared lock on the file for
    # its lifetime) would lose its lock, and another process closing its last connection
    # would then checkpoint and delete the write-ahead log under this one's feet, losing
    # what it writes next. SQLite keeps its own descriptors of a file open until the
    # process's last connection to it closes.
    uri = file.absolute().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=10, isolation_level=None)
    try:
        conn.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        name = getattr(exc, "sqlite_errorname", "")
        if name == "SQLITE_NOTADB":
            return f"{path} is not a socialcredit database (not an SQLite file)"
        if name.startswith("SQLITE_CANTOPEN"):
            return f"cannot read the database {path}: {exc}"
        # anything else (another process's lock held too long, a recovery) is met again,
        # and reported, by the connection that reads the ledger
    finally:
        conn.close()
    return None


def _one_line(reason: object) -> str:
    """A driver's message on one line (psycopg's span several, with tabs)."""
    return " ".join(str(reason).split())


_TRANSIENT = {"SQLITE_IOERR_SHORT_READ", "SQLITE_BUSY", "SQLITE_BUSY_RECOVERY"}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Settings of every new connection. The busy timeout comes first, so that a connection
    opened while another process writes the same file waits for its locks. Reading the
    journal mode of a file that another process is writing and checkpointing at that moment
    can fail with a short read (SQLite's SQLITE_IOERR_SHORT_READ, "disk I/O error"): it is
    tried again, for up to about ten seconds, before the error is let through."""
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA busy_timeout=10000")
    for attempt in range(200):
        try:
            mode = str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            if mode != "wal":
                cur.execute("PRAGMA page_size=16384")  # only takes effect on a new database
                cur.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if attempt == 199 or getattr(exc, "sqlite_errorname", "") not in _TRANSIENT:
                raise
            time.sleep(0.05)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def open_engine(url: str | None) -> Engine:
    """An engine for ``url`` (see ``normalise_url``); SQLite gets the ledger's settings.

    Raises ``LedgerError`` when the URL cannot be used (bad form, missing driver).
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    full = normalise_url(url)
    try:
        shown = make_url(full).render_as_string(hide_password=True)
    except ArgumentError:
        raise LedgerError(
            f"cannot use {url!r} as a database: give a SQLite file path or a URL such as "
            "sqlite:///ledger.db or postgresql://host/dbname"
        ) from None
    try:
        engine = create_engine(full)
    except NoSuchModuleError:
        scheme = full.split("://", 1)[0]
        raise LedgerError(
            f"cannot use database URL {shown!r}: unknown kind of database {scheme!r} (give a "
            "SQLite file path, sqlite:///PATH or postgresql://HOST/DBNAME)"
        ) from None
    except ImportError as exc:
        if full.startswith("postgresql"):
            raise LedgerError(
                f"cannot use database URL {shown!r}: PostgreSQL needs the postgres extra "
                f"(pip install 'socialcredit[postgres]'); its driver is missing ({exc})"
            ) from None
        raise LedgerError(f"cannot use database URL {shown!r}: {exc}") from None
    except ArgumentError as exc:
        raise LedgerError(f"cannot use database URL {shown!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def upgrade(engine: Engine, shown_url: str) -> None:
    """Create the schema or migrate it to the newest version (idempotent), all or nothing.

    Every migration step runs in one transaction (DDL is transactional in SQLite and
    PostgreSQL), so an ``init`` that is killed half-way leaves the database as it was; a
    second ``init`` at the same time waits for the first. A SQLite file left half-made by an
    older version's interrupted ``init`` (ledger tables, all empty, and no schema version)
    is made again. Raises ``LedgerError`` for a database of a newer socialcredit, a file
    that is not an SQLite database, or a database that cannot be reached (saying what
    failed). A database already at the newest schema is only read (no lock, no Alembic).
    """
    from sqlalchemy.exc import DatabaseError

    shown_url = _usable_file(engine, shown_url, create=True)
    with _connect(engine, shown_url) as conn:
        current = _read_versions(conn, shown_url)
        if current == [schema_versions()[-1]]:
            log.debug("schema of %s is current (%s)", shown_url, current[0])
            return
        try:
            with _migration_transaction(conn):
                before, after = _migrate(conn, shown_url, _sqlite_file(engine) is not None)
        except DatabaseError as exc:  # incl. OperationalError (a locked file, a full disk)
            reason = _one_line(exc.orig)
            raise LedgerError(f"cannot migrate the database {shown_url}: {reason}") from None
    was, now = ",".join(before) or "(none)", ",".join(after)
    if before != after:
        log.info("migrated %s from schema %s to %s", shown_url, was, now)


def _migrate(conn: Any, shown_url: str, is_file: bool) -> tuple[list[str], list[str]]:
    """Run the migrations on ``conn`` (in a transaction); the versions before and after."""
    from alembic import command  # only migrating needs alembic
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    # read again under the transaction's lock: another init may have just finished
    before = list(MigrationContext.configure(conn).get_current_heads())
    if any(v not in schema_versions() for v in before):
        raise LedgerError(str(version_problem(before, shown_url)))
    if not before:
        _remake_half_made(conn, shown_url, is_file)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")
    return before, list(MigrationContext.configure(conn).get_current_heads())


def _read_versions(conn: Any, shown_url: str) -> list[str]:
    """The schema versions recorded in the database (none: no ledger there yet); a newer
    one raises ``LedgerError``."""
    from sqlalchemy.exc import DatabaseError

    try:
        with conn.begin():
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
    except DatabaseError as exc:  # incl. OperationalError
        if not _no_such_table(exc.orig):
            reason = _one_line(exc.orig)
            raise LedgerError(f"cannot read the database {shown_url}: {reason}") from None
        return []
    versions = [r[0] for r in rows]
    if any(v not in schema_versions() for v in versions):
        raise LedgerError(str(version_problem(versions, shown_url)))
    return versions


def _sqlite_file(engine: Engine) -> str | None:
    """The file of a SQLite engine's database (None: another database, or in memory)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # a SQLite URI filename: let SQLite read it
        return None
    return database


@contextmanager
def _connect(engine: Engine, shown_url: str) -> Iterator[Any]:
    """A connection of ``engine``; one that cannot be made raises ``LedgerError`` saying
    where it tried (host and port) and the driver's reason, not advice to run ``init``."""
    from sqlalchemy.exc import DBAPIError

    try:
        conn = engine.connect()
    except DBAPIError as exc:
        raise LedgerError(_connection_failure(engine, shown_url, exc.orig)) from None
    with conn:
        yield conn


def _connection_failure(engine: Engine, shown_url: str, reason: object) -> str:
    url = engine.url
    if engine.dialect.name == "sqlite":
        return f"cannot open the database {shown_url}: {_one_line(reason)}"
    kind = {"postgresql": "PostgreSQL"}.get(engine.dialect.name, engine.dialect.name)
    where = f"{url.host or 'the local socket'}:{url.port or 'default port'}"
    name = f", database {url.database}" if url.database else ""
    return (
        f"cannot connect to the database {shown_url} ({kind} at {where}{name}): {_one_line(reason)}"
    )


@contextmanager
def _migration_transaction(conn: Any) -> Iterator[None]:
    """One transaction around a whole migration, DDL included.

    pysqlite opens a transaction only before INSERT/UPDATE/DELETE, so by default every
    CREATE TABLE would commit on its own: a killed ``init`` would leave tables without a
    schema version. Here the driver's own transaction handling is off and ``BEGIN
    IMMEDIATE`` (which also makes a second ``init`` wait for this one) opens the
    transaction that SQLAlchemy commits or rolls back. On PostgreSQL, a transaction-scoped
    advisory lock on the schema's name serialises concurrent migrations.
    """
    if conn.dialect.name != "sqlite":
        with conn.begin():
            # one migration at a time per schema (a second waits, then finds it current)
            conn.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(hashtext(coalesce(current_schema(), '')))"
            )
            yield
        return
    dbapi = conn.connection.dbapi_connection
    saved = dbapi.isolation_level
    dbapi.isolation_level = None
    try:
        with conn.begin():
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield
    finally:
        dbapi.isolation_level = saved


def _remake_half_made(conn: Any, shown_url: str, is_file: bool) -> None:
    """In a database without a schema version: refuse ledger tables that hold a row (or,
    outside a SQLite file, any); in a SQLite file, drop the ledger's tables if an
    interrupted ``init`` of an older version left them there empty."""
    from sqlalchemy import inspect

    present = inspect(conn).get_table_names()
    problem = unversioned_problem(present, _has_rows(conn), shown_url, remade=is_file)
    if problem:
        raise LedgerError(problem)
    from socialcredit.ledger.schema import metadata

    ours = [t for t in metadata.sorted_tables if t.name in set(present)]
    if not ours:
        return
    log.warning(
        "%s holds empty ledger tables but no schema version (an interrupted init): making them again",
        shown_url,
    )
    for table in reversed(ours):
        conn.exec_driver_sql(f'DROP TABLE "{table.name}"')


def _has_rows(conn: Any) -> Callable[[str], bool]:
    def has_rows(name: str) -> bool:
        return conn.exec_driver_sql(f'SELECT 1 FROM "{name}" LIMIT 1').first() is not None

    return has_rows


def _usable_file(engine: Engine, shown_url: str, create: bool) -> str:
    """How to name the database in messages (an SQLite file by its path); raises
    ``LedgerError`` for an SQLite path that is not a usable ledger file (see
    ``sqlite_file_problem``; ``create``: a missing file may be made)."""
    path = _sqlite_file(engine)
    if path is None:
        return shown_url
    problem = sqlite_file_problem(path, create=create)
    if problem:
        raise LedgerError(problem)
    return path


def check_schema(engine: Engine, shown_url: str) -> None:
    """Raise ``LedgerError`` unless the database holds a ledger at this program's schema
    version (see ``version_problem``; a newer one is refused: upgrade socialcredit)."""
    shown_url = _usable_file(engine, shown_url, create=False)
    with _connect(engine, shown_url) as conn:
        versions = _read_versions(conn, shown_url)
        if not versions:
            from sqlalchemy import inspect

            with conn.begin():
                present = inspect(conn).get_table_names()
                problem = unversioned_problem(
                    present, _has_rows(conn), shown_url, remade=_sqlite_file(engine) is not None
                )
            if problem:
                raise LedgerError(problem)
    problem = version_problem(versions, shown_url)
    if problem:
        raise LedgerError(problem)


def _no_such_table(exc: object) -> bool:
    """Whether a driver's error says a table is missing (SQLite, PostgreSQL)."""
    text = str(exc)
    return "no such table" in text or ("does not exist" in text and "relation" in text)


class SqliteConnections:
    """DBAPI connections to one SQLite file for reading, without SQLAlchemy.

    A file that does not exist is not created (the schema check reports it). Each has the
    ledger's settings (``_sqlite_pragmas``, as the engine's connections) and runs
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

    def check_schema(self) -> None:
        """Raise ``LedgerError`` unless the file holds a ledger at this program's schema
        version (see ``check_schema``): a missing file, a directory, a file that is not an
        SQLite database, a database of a newer socialcredit are each refused, saying so."""
        problem = sqlite_file_problem(self.path, create=False)
        if problem:
            raise LedgerError(problem)
        try:
            with self.connection() as conn:
                rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.DatabaseError as exc:  # incl. OperationalError
            if not _no_such_table(exc):
                raise LedgerError(f"cannot read the database {self.path}: {exc}") from None
            rows = []
        if not rows:
            with self.connection() as conn:
                present = [
                    n
                    for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                ]

                def has_rows(name: str) -> bool:
                    return conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() is not None

                problem = unversioned_problem(present, has_rows, self.path, remade=True)
            if problem:
                raise LedgerError(problem)
        problem = version_problem([r[0] for r in rows], self.path)
        if problem:
            raise LedgerError(problem)

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
