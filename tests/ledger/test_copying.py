"""PostgreSQL ingestion by COPY (``socialcredit.ledger.copying``) stores exactly what the
row-by-row path stores on SQLite, and sorts repeats the same way."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa

from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import load_policy
from socialcredit.sim.population import PopulationSpec, generate
from socialcredit.timeutil import parse_timestamp

pytestmark = pytest.mark.postgres

NOW = parse_timestamp("2026-11-01")
POLICY = "examples/policies/china-scs.yaml"


def stored(ledger: Ledger) -> tuple[list[Any], list[Any], list[Any]]:
    """Every subject, entry and batch, with subjects and targets by name, in key order."""
    with ledger.reading() as conn:
        cursor = conn.cursor()
        cursor.execute("SELECT name, kind FROM subjects ORDER BY name")
        subjects = [tuple(r) for r in cursor.fetchall()]
        cursor.execute(
            "SELECT e.source, e.entry_id, e.kind, s.name, e.type, e.occurred_at, "
            "e.recorded_at, e.amount, e.evidence, t.source, t.entry_id, r.name, "
            "e.valid_until, e.details, e.claimed_recorded_at, e.batch_id, e.line "
            "FROM entries e JOIN subjects s ON s.id = e.subject_id "
            "LEFT JOIN subjects r ON r.id = e.related_subject_id "
            "LEFT JOIN entries t ON t.seq = e.target_seq ORDER BY e.source, e.entry_id"
        )
        entries = [tuple(r) for r in cursor.fetchall()]
        cursor.execute(
            "SELECT origin, lines, accepted, duplicates, rejected, conflicts, skipped, backfill "
            "FROM ingest_batches ORDER BY id"
        )
        batches = [tuple(r) for r in cursor.fetchall()]
    return subjects, entries, batches


def test_copy_stores_what_the_row_by_row_path_stores(
    sqlite_ledger: Ledger, pg_ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from socialcredit.ledger import parsing

    monkeypatch.setattr(parsing, "CHUNK", 700)  # several chunks, corrections across them
    spec = replace(PopulationSpec(), subjects=400)
    lines = list(generate(spec))
    kinds = {str(e.get("kind", "record")) for e in lines}
    assert {"record", "relation", "attribute", "dispute", "resolve"} <= kinds
    # repeats: the same content again (duplicates) and changed content (conflicts), in
    # the same input and in a second one
    at = [i for i, e in enumerate(lines) if "kind" not in e]  # records
    lines += [lines[at[5]], {**lines[at[90]], "amount": 1.5}, {**lines[at[100]], "subject": "Q1"}]
    rules = IngestRules.from_policy(load_policy(POLICY).policy)
    results = []
    for ledger in (sqlite_ledger, pg_ledger):
        first = ledger.ingest_entries(lines, "demo", rules, NOW, backfill=True)
        again = ledger.ingest_entries(lines[::-1], "again", rules, NOW + 60)
        results.append((first, again))
    (lite_first, lite_again), (pg_first, pg_again) = results
    assert pg_first == lite_first
    assert pg_again == lite_again
    assert pg_first.rejected == 0 and pg_first.conflicts == 2 and pg_first.duplicates == 1
    assert pg_again.accepted == 0
    assert stored(pg_ledger) == stored(sqlite_ledger)


def test_a_role_without_temporary_tables_ingests_row_by_row(pg_url: str) -> None:
    # COPY goes through temporary staging tables; a site may revoke TEMPORARY (PostgreSQL
    # grants it to every role by default): ingestion then inserts row by row
    tag = uuid.uuid4().hex[:8]
    database, role = f"sc_notemp_{tag}", f"sc_notemp_{tag}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    url = sa.engine.make_url(pg_url).set(username=role, database=database).render_as_string()
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
            conn.exec_driver_sql(f"CREATE DATABASE {database} OWNER {role}")
            conn.exec_driver_sql(f"REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC, {role}")
        with Ledger.open(url) as ledger:
            ledger.upgrade()
            with ledger.engine.connect() as conn:
                allowed = conn.exec_driver_sql(
                    "SELECT has_database_privilege(current_database(), 'TEMPORARY')"
                ).scalar()
            assert allowed is False
            spec = replace(PopulationSpec(), subjects=60)
            lines = list(generate(spec))
            result = ledger.ingest_entries(lines, "demo", None, NOW, backfill=True)
            assert (result.accepted, result.rejected) == (len(lines), 0)
            again = ledger.ingest_entries(lines, "again", None, NOW)
            assert (again.accepted, again.duplicates) == (0, len(lines))
            assert ledger.count_entries() == len(lines)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()
