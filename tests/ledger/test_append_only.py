"""Append-only in the database itself (migration 0004's triggers), the least-privilege
PostgreSQL role of docs/postgresql.md, and stored policy bodies checked against their hash."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from socialcredit.cli import run
from socialcredit.ledger import Ledger
from socialcredit.ledger.database import MIGRATIONS
from socialcredit.policy import load_policy
from socialcredit.timeutil import parse_timestamp

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "policies" / "china-scs.yaml"
NOW = parse_timestamp("2026-01-01")
ENTRIES = [
    {
        "id": "1",
        "source": "court",
        "subject": "alice",
        "type": "court_judgment_unfulfilled",
        "occurred_at": "2025-01-01",
    },
    {
        "kind": "relation",
        "id": "r1",
        "source": "registry",
        "subject": "kid",
        "relation": "child_of",
        "related_subject": "alice",
        "valid_from": "2010-01-01",
    },
]


def _fill(ledger: Ledger) -> None:
    loaded = load_policy(POLICY)
    ledger.activate_policy(
        loaded.text,
        loaded.policy.policy,
        loaded.policy.version,
        loaded.content_hash,
        NOW,
        backfill=True,
    )
    result = ledger.ingest_entries(ENTRIES, now=NOW)
    assert result.accepted == 2, result.problems


CHANGES = [
    "UPDATE entries SET amount = 1",
    "DELETE FROM entries",
    "UPDATE subjects SET name = 'mallory'",
    "DELETE FROM subjects",
    "UPDATE policies SET body = 'x'",
    "DELETE FROM policies",
]


@pytest.mark.parametrize("sql", CHANGES)
def test_raw_updates_and_deletes_are_refused(ledger: Ledger, sql: str) -> None:
    _fill(ledger)
    before = _snapshot(ledger)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), ledger.engine.begin() as conn:
        conn.exec_driver_sql(sql)
    assert _snapshot(ledger) == before


@pytest.mark.parametrize("table", ["entries", "subjects", "policies"])
def test_truncate_is_refused_on_postgresql(pg_ledger: Ledger, table: str) -> None:
    _fill(pg_ledger)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), pg_ledger.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {table} CASCADE")
    assert pg_ledger.count_entries() == 2


def _snapshot(ledger: Ledger) -> list[object]:
    with ledger.engine.connect() as conn:
        return [
            conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1").all()
            for table in ("entries", "subjects", "policies")
        ]


def test_normal_use_and_migrations_down_and_up_still_work(ledger: Ledger) -> None:
    _fill(ledger)
    again = ledger.ingest_entries(ENTRIES, now=NOW)  # repeats are no updates
    assert (again.accepted, again.duplicates) == (0, 2)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with ledger.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0003")
    with ledger.engine.begin() as conn:  # without the triggers, history could be changed
        conn.exec_driver_sql("UPDATE entries SET amount = amount")
    ledger.upgrade()
    assert ledger.count_entries() == 2
    assert [pv.version for pv in ledger.policy_history()] == [1]
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), ledger.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM entries")
    ledger.ingest_entries([{**ENTRIES[0], "id": "2"}], now=NOW)
    assert ledger.count_entries() == 3


def _doc_sql(owner: str, app: str, schema: str) -> list[str]:
    """The SQL blocks of docs/postgresql.md, with the test's role and schema names."""
    text = (ROOT / "docs" / "postgresql.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", text, re.S)
    assert len(blocks) == 2
    named = [
        b.replace("socialcredit_owner", owner)
        .replace("socialcredit_app", app)
        .replace("socialcredit.", f"{schema}.")
        .replace("SCHEMA socialcredit", f"SCHEMA {schema}")
        for b in blocks
    ]
    return named


@pytest.mark.postgres
def test_the_documented_application_role_can_append_and_read_only(
    pg_url: str, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    owner, app, schema = f"sc_owner_{tag}", f"sc_app_{tag}", f"sc_{tag}"
    create, grants = _doc_sql(owner, app, schema)
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    base = sa.engine.make_url(pg_url)

    def url(role: str) -> str:
        return f"{base.set(username=role).render_as_string()}?options=-csearch_path%3D{schema}"

    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(create)
        with Ledger.open(url(owner)) as ledger:  # the owner runs the migrations
            ledger.upgrade()
        owner_engine = sa.create_engine(url(owner))
        with owner_engine.begin() as conn:
            conn.exec_driver_sql(grants)
        owner_engine.dispose()
        with Ledger.open(url(app)) as ledger:
            _fill(ledger)  # activate a policy and ingest
            assert ledger.count_entries() == 2
            assert [pv.version for pv in ledger.policy_history()] == [1]
            assert ledger.has_subject("kid")
            with ledger.engine.connect() as conn:
                batches = conn.exec_driver_sql(
                    "SELECT accepted, finished_at IS NOT NULL FROM ingest_batches"
                ).all()
            assert batches == [(2, True)]
            # the command line too: ingest (which checks the schema is current) and reads
            more = tmp_path / "more.jsonl"
            more.write_text(json.dumps({**ENTRIES[0], "id": "9"}) + "\n")
            assert run(["ingest", str(more), "--db", url(app)]) == 0
            assert run(["policy", "history", "--db", url(app)]) == 0
            assert run(["score", "alice", "--db", url(app)]) == 0
            assert ledger.count_entries() == 3
            for sql in [*CHANGES, "TRUNCATE entries", "DROP TABLE entries"]:
                with (
                    pytest.raises(sa.exc.DatabaseError, match=r"permission denied|must be owner"),
                    ledger.engine.begin() as conn,
                ):
                    conn.exec_driver_sql(sql)
            # keys: made and revoked, nothing else changed; notices: written and marked
            # read, never rewritten or deleted
            from socialcredit.engine import Engine
            from socialcredit.keys import KeyStore
            from socialcredit.notices import generate_notices, mark_read

            store = KeyStore(ledger)
            made, token = store.create("admin", "ops", NOW)
            store.revoke(made.key_id, NOW + 1)
            assert store.authenticate(token) is None
            later = NOW + 86_400
            told = generate_notices(Engine.open(ledger, lambda: later), ["alice"], later)
            assert told.written
            assert mark_read(ledger, "alice", [n.id for n in told.written], later) == len(
                told.written
            )
            for sql in [
                "UPDATE api_keys SET role = 'admin'",
                "DELETE FROM api_keys",
                "UPDATE notices SET body = 'nothing'",
                "DELETE FROM notices",
            ]:
                with (
                    pytest.raises(sa.exc.DatabaseError, match=r"permission denied"),
                    ledger.engine.begin() as conn,
                ):
                    conn.exec_driver_sql(sql)
            # the application cannot migrate: only the owner can
            with (
                pytest.raises(sa.exc.DatabaseError, match="permission denied"),
                ledger.engine.begin() as conn,
            ):
                conn.exec_driver_sql("CREATE TABLE sneaky (x int)")
            assert ledger.count_entries() == 3
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            for role in (app, owner):
                conn.exec_driver_sql(f"DROP OWNED BY {role}")
                conn.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()


def test_the_documented_grants_name_every_table_the_migrations_create(tmp_path: Path) -> None:
    # a migration that adds a table must add its grant to docs/postgresql.md (else the
    # least-privilege role cannot use it), and the doc names no table that does not exist
    _, grants = _doc_sql("o", "a", "s")
    granted = set(re.findall(r"\bs\.([a-z_]+)", grants))
    with Ledger.open(str(tmp_path / "t.db")) as ledger:
        ledger.upgrade()
        with ledger.engine.connect() as conn:
            made = {
                str(r[0])
                for r in conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            }
    assert "notices" in made and "api_keys" in made and "audit_log" in made
    assert granted == made
