"""``init`` is all or nothing (issue 6, item 10): the real ``socialcredit init`` runs in a
child process and is SIGKILLed right after its 1st, 2nd, … SQL statement, until one run
finishes; after each kill the database holds none of the ledger's tables, and a later
``init`` makes the whole schema. On SQLite and PostgreSQL.

The runs are made by ``kill_init.py``: the CLI as installed, plus a SQLAlchemy event
listener (the test's code, not the program's) that kills the process.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from socialcredit.ledger import Ledger
from socialcredit.ledger.database import schema_versions
from socialcredit.ledger.schema import metadata
from tests.cli.conftest import call
from tests.ledger.test_migrations import _differences

KILLER = Path(__file__).with_name("kill_init.py")
LEDGER_TABLES = {*metadata.tables, "alembic_version"}


def _kill_at_every_step(
    db: str, tables: Callable[[], set[str]], capsys: pytest.CaptureFixture[str]
) -> int:
    """Kill ``init`` after each statement in turn; return how many runs were killed."""
    with subprocess.Popen(
        [sys.executable, str(KILLER), "init", "--db", db],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as runs:
        assert runs.stdin is not None and runs.stdout is not None
        killed = 0
        for line in runs.stdout:
            what, n, *code = line.split()
            if what == "finished":  # it ran fewer than n statements
                assert code == ["0"]
                break
            assert what == "killed" and int(n) == killed + 1
            killed += 1
            # all or nothing: the killed init left no table behind
            assert tables() == set(), f"after statement {n}"
            runs.stdin.write("next\n")
            runs.stdin.flush()
        assert runs.wait(timeout=60) == 0
    # and an init after them finishes too (here: it finds the schema complete)
    code, out, err = call(capsys, "init", "--db", db)
    assert code == 0 and "database ready" in out, err
    with Ledger.open(db) as ledger:
        assert _differences(ledger) == []
        assert ledger.count_entries() == 0
    return killed


@pytest.mark.slow
def test_sqlite_init_killed_at_every_statement_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ledger.db"

    def tables() -> set[str]:
        if not path.exists():
            return set()
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            names = {r[0] for r in rows}
        conn.close()
        return names

    killed = _kill_at_every_step(str(path), tables, capsys)
    assert killed >= 30  # every CREATE, ALTER, trigger and version update was a kill point
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (schema_versions()[-1],)
        ]
    conn.close()


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[tuple[str, str]]:
    """(URL, schema name): the URL's tables live in a fresh schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{pg_url}?options=-csearch_path%3D{schema}", schema
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_postgresql_init_killed_at_every_statement_leaves_nothing(
    pg_url: str, pg_schema: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url, schema = pg_schema
    admin = sa.create_engine(pg_url)

    def tables() -> set[str]:
        with admin.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
            )
            return {r[0] for r in rows}

    try:
        killed = _kill_at_every_step(url, tables, capsys)
    finally:
        admin.dispose()
    assert killed >= 20


def _half_made(path: Path, with_row: bool) -> None:
    """What an interrupted ``init`` of an older socialcredit left: some of the ledger's
    tables, made one statement at a time, and no schema version."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        metadata.tables["subjects"].create(conn)
        metadata.tables["policies"].create(conn)
        if with_row:
            conn.execute(metadata.tables["subjects"].insert().values(name="P1", kind=0))
    engine.dispose()


def test_an_older_interrupted_init_is_made_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ledger.db"
    _half_made(path, with_row=False)
    # the old failure: "table subjects already exists", at every later init
    code, out, err = call(capsys, "init", "--db", str(path))
    assert code == 0 and "database ready" in out, err
    with Ledger.open(str(path)) as ledger:
        assert _differences(ledger) == []


def test_tables_with_rows_but_no_version_are_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ledger.db"
    _half_made(path, with_row=True)
    code, out, err = call(capsys, "init", "--db", str(path))
    assert code == 2 and out == ""
    assert "holds ledger tables with rows (subjects) but no schema version" in err
    assert "nothing was changed" in err
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM subjects").fetchall() == [("P1",)]
    conn.close()


def _concurrent_inits(db: str, n: int = 4) -> None:
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "socialcredit", "init", "--db", db],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0 and "database ready" in out, err
    with Ledger.open(db) as ledger:
        assert _differences(ledger) == []
        assert ledger.count_entries() == 0


def test_concurrent_inits_of_a_new_sqlite_file_all_succeed(tmp_path: Path) -> None:
    # each waits for the one migrating (BEGIN IMMEDIATE), then finds the schema current
    _concurrent_inits(str(tmp_path / "ledger.db"))


@pytest.mark.postgres
def test_concurrent_inits_of_a_new_postgresql_schema_all_succeed(
    pg_schema: tuple[str, str],
) -> None:
    # each waits for the one migrating (an advisory lock), then finds the schema current
    _concurrent_inits(pg_schema[0])
