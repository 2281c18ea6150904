"""A service over a small ledger (china-scs, in force from 2026-01-01) on SQLite and on
PostgreSQL, with a clock the tests set, called in-process through its ASGI interface."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import load_policy, parse_policy
from socialcredit.timeutil import parse_timestamp
from tests.cli.conftest import CHINA, ENTRIES, IN_FORCE_FROM
from tests.ledger.conftest import pg_url  # noqa: F401  (the PostgreSQL fixture)

NOW = parse_timestamp("2026-06-01")
LOADED = parse_timestamp("2026-03-02")  # when ``ENTRIES`` were loaded


class Clock:
    """A clock the test moves: ``clock.now = …``."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def fill(ledger: Ledger) -> None:
    """china-scs in force from 2026-01-01 and ``ENTRIES`` (a debtor, a volunteer, the
    debtor's child), loaded as history."""
    ledger.upgrade()
    loaded = load_policy(CHINA)
    ledger.activate_policy(
        loaded.text,
        loaded.policy.policy,
        loaded.policy.version,
        loaded.content_hash,
        IN_FORCE_FROM,
        now=IN_FORCE_FROM,
    )
    rules = IngestRules.from_policy(parse_policy(loaded.text).policy)
    result = ledger.ingest_entries(
        [orjson.loads(orjson.dumps(e)) for e in ENTRIES], "test", rules, LOADED, backfill=True
    )
    assert result.accepted == len(ENTRIES), result.to_json()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A filled ledger's URL: a SQLite file, or a fresh PostgreSQL schema (dropped after)."""
    if request.param == "sqlite":
        url = str(tmp_path / "api.db")
        with Ledger.open(url) as ledger:
            fill(ledger)
        yield url
        return
    base: str = request.getfixturevalue("pg_url")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}?options=-csearch_path%3D{schema}"
    with Ledger.open(url) as ledger:
        fill(ledger)
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def clock() -> Clock:
    """The service's clock, at 2026-06-01 unless a test moves it."""
    return Clock(NOW)


@pytest.fixture
def client(db_url: str, clock: Clock) -> Iterator[TestClient]:
    """The service over ``db_url``, started (and stopped after the test)."""
    with TestClient(create_app(db_url, clock)) as c:
        yield c
