"""``--db`` that names no usable ledger: every command says what is wrong, in one line, changes
nothing, and creates no file (issue 6, items 12 and 15).

A non-database file (text, CSV), a directory, a missing file (a read never creates one), an
empty value, an unknown URL scheme, a PostgreSQL server that refuses the connection, and a
database made by a newer socialcredit (schema 0099), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from socialcredit.ledger.database import schema_versions
from tests.cli.conftest import CHINA, LINT_OVERRIDE, call, init_china
from tests.ledger.conftest import pg_url  # noqa: F401  (a fixture)

READS: list[list[str]] = [
    ["score", "debtor"],
    ["check", "debtor", "air_travel"],
    ["explain", "debtor"],
    ["subjects"],
    ["policy", "history"],
    ["policy", "show"],
    ["export", "records", "-o", "{tmp}/records.jsonl"],
    ["export", "standings", "-o", "{tmp}/standings.jsonl"],
    ["keys", "list"],
    ["keys", "revoke", "0123456789abcdef"],  # writes only to a ledger that exists
]
WRITES: list[list[str]] = [
    ["init"],
    ["ingest", "{tmp}/in.jsonl"],
    ["policy", "activate", CHINA, "--override", LINT_OVERRIDE],
    ["keys", "create", "--role", "admin"],
]
EVERY = READS + WRITES
NAMES = [" ".join(a[:2]) for a in EVERY]


def _args(args: list[str], tmp: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in args]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "in.jsonl").write_text(
        '{"id": "a", "source": "s", "subject": "x", "type": "volunteering", '
        '"occurred_at": "2026-01-01"}\n'
    )
    return tmp_path


def _refused(capsys: pytest.CaptureFixture[str], work: Path, args: list[str], db: str) -> str:
    """Run the command; it must exit 2 with one error line and no output; return it."""
    before = sorted(p.name for p in work.iterdir())
    code, out, err = call(capsys, *_args(args, work), "--db", db)
    assert code == 2, err
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert sorted(p.name for p in work.iterdir()) == before  # nothing created
    return " ".join(err.split())


@pytest.mark.parametrize("args", EVERY, ids=NAMES)
@pytest.mark.parametrize(
    "content",
    [b"some notes, not a database\n", b"id,source,subject\n1,court,P1\n", b"x" * 5000],
    ids=["text", "csv", "long"],
)
def test_a_file_that_is_no_database_is_refused(
    capsys: pytest.CaptureFixture[str], work: Path, args: list[str], content: bytes
) -> None:
    path = work / "notes.txt"
    path.write_bytes(content)
    err = _refused(capsys, work, args, str(path))
    assert f"{path} is not a socialcredit database (not an SQLite file)" in err
    assert "init" not in err  # advice to initialise it would be wrong
    assert path.read_bytes() == content


@pytest.mark.parametrize("args", READS, ids=NAMES[: len(READS)])
def test_a_read_of_a_missing_file_creates_nothing(
    capsys: pytest.CaptureFixture[str], work: Path, args: list[str]
) -> None:
    path = work / "mistyped.db"
    err = _refused(capsys, work, args, str(path))
    assert f"{path} does not exist" in err
    assert f"`socialcredit init --db {path}` creates a ledger there" in err
    assert not path.exists()


@pytest.mark.parametrize("args", EVERY, ids=NAMES)
def test_a_missing_directory_is_named(
    capsys: pytest.CaptureFixture[str], work: Path, args: list[str]
) -> None:
    path = work / "nodir" / "ledger.db"
    err = _refused(capsys, work, args, str(path))
    assert f"the directory {work / 'nodir'} does not exist" in err
    # a read never creates a database: it does not say it could not create one
    assert ("cannot create" in err) == (args not in READS), err


@pytest.mark.parametrize("args", EVERY, ids=NAMES)
def test_a_directory_is_refused(
    capsys: pytest.CaptureFixture[str], work: Path, args: list[str]
) -> None:
    folder = work / "folder"
    folder.mkdir()
    err = _refused(capsys, work, args, str(folder))
    assert f"{folder} is a directory, not a socialcredit database" in err
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("args", EVERY, ids=NAMES)
def test_an_empty_db_is_refused(
    capsys: pytest.CaptureFixture[str],
    work: Path,
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # not the default socialcredit.db in the working directory, silently
    monkeypatch.chdir(work)
    err = _refused(capsys, work, args, "")
    assert "the database is empty: give a SQLite file path or a database URL" in err


@pytest.mark.parametrize("args", EVERY, ids=NAMES)
def test_an_unknown_url_scheme_is_refused(
    capsys: pytest.CaptureFixture[str], work: Path, args: list[str]
) -> None:
    err = _refused(capsys, work, args, "ledgr://host/db")
    assert "cannot use database URL 'ledgr://host/db': unknown kind of database 'ledgr'" in err


@pytest.mark.parametrize("args", EVERY, ids=NAMES)
def test_a_refused_postgresql_connection_says_what_failed(
    capsys: pytest.CaptureFixture[str], work: Path, args: list[str]
) -> None:
    # nothing listens on port 1 of this machine; the password is never shown
    err = _refused(capsys, work, args, "postgresql://someone:s3cret@127.0.0.1:1/ledger")
    assert "cannot connect to the database" in err
    assert "(PostgreSQL at 127.0.0.1:1, database ledger)" in err
    assert "Connection refused" in err  # the driver's reason
    assert "s3cret" not in err and "init" not in err


def _sqlite_ledger(work: Path, capsys: pytest.CaptureFixture[str], version: str) -> Path:
    path = work / "ledger.db"
    code, _, err = init_china(capsys, str(path))
    assert code == 0, err
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (version,))
    conn.close()
    return path


def _sqlite_state(path: Path) -> list[object]:
    with sqlite3.connect(path) as conn:
        tables = conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = [conn.execute(f'SELECT * FROM "{name}"').fetchall() for name in names]
    conn.close()
    return [tables, rows]


@pytest.mark.parametrize("args", EVERY, ids=NAMES)
def test_a_database_of_a_newer_version_is_refused(
    capsys: pytest.CaptureFixture[str], work: Path, args: list[str]
) -> None:
    path = _sqlite_ledger(work, capsys, "0099")
    state = _sqlite_state(path)
    err = _refused(capsys, work, args, str(path))
    assert (
        f"this database ({path}) was created by a newer socialcredit (schema 0099); "
        "upgrade socialcredit"
    ) in err
    assert _sqlite_state(path) == state


@pytest.mark.parametrize("args", READS, ids=NAMES[: len(READS)])
def test_a_read_of_an_older_schema_says_to_upgrade(
    capsys: pytest.CaptureFixture[str], work: Path, args: list[str]
) -> None:
    # (the file is at the newest schema but says 0001: a read would use what is not there)
    path = _sqlite_ledger(work, capsys, "0001")
    err = _refused(capsys, work, args, str(path))
    assert (
        f"{path} has schema 0001, older than this socialcredit's ({schema_versions()[-1]})" in err
    )
    assert f"`socialcredit init --db {path}` upgrades it" in err


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:  # noqa: F811
    """A URL whose tables live in a fresh PostgreSQL schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{pg_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.mark.postgres
def test_a_postgresql_database_of_a_newer_version_is_refused_by_every_command(
    capsys: pytest.CaptureFixture[str], work: Path, pg_schema: str
) -> None:
    code, _, err = init_china(capsys, pg_schema)
    assert code == 0, err
    engine = sa.create_engine(pg_schema)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    for args in EVERY:
        err = _refused(capsys, work, args, pg_schema)
        assert "was created by a newer socialcredit (schema 0099); upgrade socialcredit" in err
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").all() == [("0099",)]
        assert conn.exec_driver_sql("SELECT count(*) FROM entries").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM policies").scalar() == 1
    engine.dispose()


@pytest.mark.postgres
def test_a_postgresql_database_without_a_ledger_says_init(
    capsys: pytest.CaptureFixture[str], work: Path, pg_schema: str
) -> None:
    for args in READS:
        err = _refused(capsys, work, args, pg_schema)
        assert "is not an initialised ledger (it has no schema version)" in err


@pytest.mark.parametrize("args", EVERY, ids=NAMES)
def test_an_unknown_non_numeric_version_is_unrecognised_not_newer(
    capsys: pytest.CaptureFixture[str], work: Path, args: list[str]
) -> None:
    path = _sqlite_ledger(work, capsys, "zzz")
    state = _sqlite_state(path)
    err = _refused(capsys, work, args, str(path))
    assert f"{path} has an unrecognised schema version 'zzz'" in err
    assert "newer" not in err
    assert _sqlite_state(path) == state


@pytest.mark.parametrize("args", EVERY, ids=NAMES)
def test_a_ledger_without_its_version_row_gets_inits_message_from_every_command(
    capsys: pytest.CaptureFixture[str], work: Path, args: list[str]
) -> None:
    # the ledger's tables, with a policy in them, but its alembic_version row is gone:
    # init refuses it, so no command may advise init
    path = _sqlite_ledger(work, capsys, schema_versions()[-1])
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM alembic_version")
    conn.close()
    state = _sqlite_state(path)
    err = _refused(capsys, work, args, str(path))
    # the tables with rows: the policy's, and the audit subject index's watermark row
    assert (
        f"{path} holds ledger tables with rows (audit_subjects, policies) but no schema "
        "version: it was not made by `socialcredit init`; nothing was changed"
    ) in err
    assert "creates a ledger" not in err
    assert _sqlite_state(path) == state


@pytest.mark.postgres
def test_a_postgresql_ledger_without_its_version_row_gets_inits_message(
    capsys: pytest.CaptureFixture[str], work: Path, pg_schema: str
) -> None:
    code, _, err = init_china(capsys, pg_schema)
    assert code == 0, err
    engine = sa.create_engine(pg_schema)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM alembic_version")
    for args in EVERY:
        err = _refused(capsys, work, args, pg_schema)
        assert (
            "holds ledger tables with rows (audit_subjects, policies) but no schema version" in err
        ), args
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'zzz'")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('zzz')")
    for args in EVERY:
        err = _refused(capsys, work, args, pg_schema)
        assert "has an unrecognised schema version 'zzz'" in err, args
    engine.dispose()


def test_postgresql_without_the_driver_names_the_extra(tmp_path: Path) -> None:
    # as an installed wheel without the postgres extra: psycopg cannot be imported
    run = (
        "import runpy, sys; sys.modules['psycopg'] = None; "
        "sys.argv = ['socialcredit', 'score', 'P1', '--db', 'postgresql://u@127.0.0.1/test']; "
        "runpy.run_module('socialcredit', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", run], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "PostgreSQL needs the postgres extra (pip install 'socialcredit[postgres]')" in (
        result.stderr
    )
