"""The Alembic migrations produce exactly the tables of ``schema.py`` (indexes included)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from socialcredit.ledger import Ledger
from socialcredit.ledger.schema import metadata


def _differences(ledger: Ledger) -> list[object]:
    with ledger.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        found = compare_metadata(context, metadata)
    # alembic's own bookkeeping table is not part of the ledger's schema
    return [d for d in found if "alembic_version" not in repr(d)]


def test_migrations_give_the_schema_on_sqlite(sqlite_ledger: Ledger) -> None:
    assert _differences(sqlite_ledger) == []


def test_migrations_give_the_schema_on_postgresql(pg_ledger: Ledger) -> None:
    assert _differences(pg_ledger) == []


def test_the_comparison_sees_a_missing_index(sqlite_ledger: Ledger) -> None:
    # the check is not vacuous: dropping an index the schema declares is a difference
    with sqlite_ledger.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_entries_related_subject_id")
    assert any("ix_entries_related_subject_id" in repr(d) for d in _differences(sqlite_ledger))


def test_schema_versions_are_the_scripts_revisions_in_order() -> None:
    # the version check reads revisions from script names (no Alembic on the read path):
    # every script's revision is its name's prefix, and the newest is Alembic's head
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from socialcredit.ledger.database import MIGRATIONS, schema_versions

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    revisions = {s.revision: s for s in scripts.walk_revisions()}
    assert sorted(revisions) == list(schema_versions())
    for revision, script in revisions.items():
        assert script.path is not None
        assert Path(script.path).name.split("_", 1)[0] == revision
    assert scripts.get_heads() == [schema_versions()[-1]]
