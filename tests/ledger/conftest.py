"""Ledgers to test against: an embedded SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from socialcredit.ledger import Ledger

PG_URL = os.environ.get("SOCIALCREDIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means "no server"
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL URL; a missing server fails under CI and skips elsewhere."""
    problem = _pg_available()
    if problem:
        message = f"PostgreSQL at {PG_URL} is not reachable ({problem})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI requires it")
        pytest.skip(message)
    return PG_URL


@pytest.fixture
def pg_ledger(pg_url: str) -> Iterator[Ledger]:
    """A ledger in a fresh PostgreSQL schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    ledger = Ledger.open(f"{pg_url}?options=-csearch_path%3D{schema}")
    ledger.upgrade()
    try:
        yield ledger
    finally:
        ledger.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A ledger in a new SQLite file."""
    ledger = Ledger.open(str(tmp_path / "ledger.db"))
    ledger.upgrade()
    yield ledger
    ledger.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest) -> Ledger:
    """The same tests on both databases."""
    name = "sqlite_ledger" if request.param == "sqlite" else "pg_ledger"
    result: Ledger = request.getfixturevalue(name)
    return result


def policy_body(version: str) -> tuple[str, str]:
    """A real policy body declaring ``version`` and its content hash: stored bodies are
    checked against their hashes when read."""
    from socialcredit.policy import parse_policy

    path = Path(__file__).resolve().parents[2] / "examples" / "policies" / "fair-transit.yaml"
    body = path.read_text().replace('version: "1.1"', f'version: "{version}"', 1)
    return body, parse_policy(body, "test").content_hash


def expected_fact_row(e: Any, now: int, line: int) -> tuple[Any, ...]:
    """The row the fast attribute path must give for the entry ``e`` the general validator
    accepted (``validate_entry``), written out field by field: the ingest time as None."""
    return (
        e.source,
        e.entry_id,
        e.kind,
        e.subject,
        e.type,
        e.occurred_at,
        None if e.recorded_at == now else e.recorded_at,
        None,
        e.details,
        None,
        e.valid_until,
        e.claimed_recorded_at,
        line,
    )
