"""A service over a small ledger (china-scs, in force from 2026-01-01) on SQLite and on
PostgreSQL, with a clock the tests set, called in-process through its ASGI interface."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import load_policy, parse_policy
from socialcredit.timeutil import parse_timestamp
from tests.cli.conftest import CHINA, IN_FORCE_FROM
from tests.ledger.conftest import pg_url  # noqa: F401  (the PostgreSQL fixture)

NOW = parse_timestamp("2026-06-01")
LOADED = parse_timestamp("2026-03-02")  # when ``ENTRIES`` were loaded


DEBTOR, HELPER, CHILD = "subj-debtor-1", "subj-helper-2", "subj-child-3"
SUBJECTS = (DEBTOR, HELPER, CHILD)
ENTRIES: list[dict[str, Any]] = [
    {
        "id": "j1",
        "source": "court",
        "subject": DEBTOR,
        "type": "court_judgment_unfulfilled",
        "occurred_at": "2026-01-10",
        "recorded_at": "2026-01-12",
        "amount": 80000,
    },
    {
        "id": "v1",
        "source": "civic",
        "subject": HELPER,
        "type": "volunteering",
        "occurred_at": "2026-03-01",
    },
    {
        "kind": "relation",
        "id": "h1",
        "source": "registry",
        "subject": CHILD,
        "relation": "child_of",
        "related_subject": DEBTOR,
        "valid_from": "2015-01-01",
        "recorded_at": "2015-01-02",
    },
]
"""A debtor (denied air travel), a volunteer and the debtor's child; the names are
distinctive so that a test can look for them in any response body."""


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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A filled SQLite ledger, made once and copied for each test."""
    path = tmp_path_factory.mktemp("api-template") / "api.db"
    with Ledger.open(str(path)) as ledger:
        fill(ledger)
    return path


def _database_url(base: str, name: str) -> str:
    """``base`` (a PostgreSQL URL) naming the database ``name`` instead."""
    return sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template(request: pytest.FixtureRequest) -> Iterator[str]:
    """A filled PostgreSQL database, made once: each test gets a copy (CREATE DATABASE …
    TEMPLATE, much faster than migrating a new schema per test)."""
    server: str = request.getfixturevalue("pg_url")
    name = f"sc_api_tmpl_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        with Ledger.open(_database_url(server, name)) as ledger:
            fill(ledger)
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A filled ledger's URL: a SQLite file, or a PostgreSQL database (dropped after)."""
    if request.param == "sqlite":
        url = tmp_path / "api.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), url)
        yield str(url)
        return
    base: str = request.getfixturevalue("pg_url")
    template: str = request.getfixturevalue("pg_template")
    name = f"sc_api_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _database_url(base, name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def clock() -> Clock:
    """The service's clock, at 2026-06-01 unless a test moves it."""
    return Clock(NOW)


def audit_entries(client: TestClient, subject: str | None = None) -> list[Any]:
    """The audit entries written so far (about ``subject``), once every one appended before
    this call is written (``flush`` also waits for a batch the log's thread is writing)."""
    log = client.app.state.service.audit_log  # type: ignore[attr-defined]
    log.flush()
    entries: list[Any] = []
    after = 0
    while True:
        page = log.read(after, 1000, subject)
        entries.extend(page)
        if len(page) < 1000:
            return entries
        after = page[-1].seq


ROLES = {
    "admin": "admin",
    "source": "source:court",
    "enforcer": "enforcer:air_travel",
    "subject": f"subject:{DEBTOR}",
    "other_subject": f"subject:{HELPER}",
    "reviewer": "reviewer",
    "auditor": "auditor",
}
"""One key per role (and a second subject), by a short name the tests use."""


class Keys(dict[str, str]):
    """Tokens by role name (``ROLES``), plus ``revoked``: a revoked admin key's token."""

    def auth(self, name: str) -> dict[str, str]:
        """The Authorization header of the key ``name``."""
        return {"Authorization": f"Bearer {self[name]}"}


@pytest.fixture
def keys(db_url: str) -> Keys:
    """One key per role in the ledger at ``db_url`` (made through the library)."""
    from socialcredit.keys import KeyStore

    tokens = Keys()
    with Ledger.open(db_url) as ledger:
        store = KeyStore(ledger)
        for name, role in ROLES.items():
            tokens[name] = store.create(role, f"test {name}", NOW)[1]
        gone, tokens["revoked"] = store.create("admin", "revoked", NOW)
        store.revoke(gone.key_id, NOW)
    return tokens


@pytest.fixture
def client(db_url: str, clock: Clock, keys: Keys) -> Iterator[TestClient]:
    """The service over ``db_url`` (with ``keys``), started (and stopped after the test)."""
    with TestClient(create_app(db_url, clock)) as c:
        yield c
