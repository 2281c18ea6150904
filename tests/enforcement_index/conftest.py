"""Ledgers for the index tests: a fresh SQLite file or PostgreSQL schema per draw."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from socialcredit.ledger import Ledger
from tests.ledger.conftest import pg_url  # noqa: F401  (the fixture, for these tests too)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite ledger at the newest schema (copied for each draw: faster than
    migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "ledger.db"
    with Ledger.open(str(path)) as ledger:
        ledger.upgrade()
    return path


@contextmanager
def sqlite_ledger_from(template: Path, directory: Path) -> Iterator[Ledger]:
    """A new SQLite ledger copied from ``template`` into ``directory``."""
    path = directory / f"{uuid.uuid4().hex[:8]}.db"
    shutil.copy(template, path)
    ledger = Ledger.open(str(path))
    try:
        yield ledger
    finally:
        ledger.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


@contextmanager
def pg_ledger_in_new_schema(url: str) -> Iterator[Ledger]:
    """A ledger in a fresh PostgreSQL schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    ledger = Ledger.open(schema_url(url, schema))
    try:
        ledger.upgrade()
        yield ledger
    finally:
        ledger.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def schema_url(url: str, schema: str) -> str:
    """``url`` with ``schema`` as the search path."""
    return f"{url}?options=-csearch_path%3D{schema}"
