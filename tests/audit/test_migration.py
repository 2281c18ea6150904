"""The audit log's migration: down and up again on both databases, head row and triggers
included (tests/ledger/test_migrations.py checks the tables against schema.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from socialcredit.audit import GENESIS
from socialcredit.ledger import Ledger
from socialcredit.ledger.database import MIGRATIONS
from tests.audit.conftest import fill


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _before_audit() -> str:
    """The revision the audit log's migration follows (whatever number it has now)."""
    scripts = ScriptDirectory.from_config(_config())
    (ours,) = [s for s in scripts.walk_revisions() if s.path and s.path.endswith("_audit_log.py")]
    assert isinstance(ours.down_revision, str)
    return ours.down_revision


def test_down_and_up_again(ledger: Ledger) -> None:
    fill(ledger, 3).close()
    config = _config()
    with ledger.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, _before_audit())
    with ledger.engine.connect() as conn:
        assert "audit_log" not in sa.inspect(conn).get_table_names()
    ledger.upgrade()
    with ledger.engine.connect() as conn:  # the first write makes the head row
        assert conn.exec_driver_sql("SELECT * FROM audit_head").all() == []
    audit = fill(ledger, 0)
    assert audit.verify().ok and audit.head() == (0, GENESIS)
    audit = fill(ledger, 2)
    with ledger.engine.connect() as conn:
        head = conn.exec_driver_sql("SELECT id, seq FROM audit_head").all()
    assert [tuple(r) for r in head] == [(1, 2)]
    assert audit.verify().ok
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), ledger.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_log")
