"""A search of the audit log by subject is indexed: its own entries by ``subject``, the
batch checks that list it by ``audit_subjects`` (written with the entry, in the same
transaction; migration 0012 indexes the batch entries written before it)."""

from __future__ import annotations

import sqlite3

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from socialcredit.audit import AuditLog
from socialcredit.audit.log import BATCH_ROUTE, subject_sql
from socialcredit.ledger import Ledger
from socialcredit.ledger.database import MIGRATIONS, sqlite_path
from tests.audit.conftest import event, ledger, pg_ledger, pg_url, sqlite_ledger  # noqa: F401


def batch_row(i: int, subjects: list[str]) -> tuple[object, ...]:
    """A batch check's row as the service appends it (subject empty, the list in details)."""
    details = orjson.dumps({"decisions": ["allow"] * len(subjects), "subjects": subjects}).decode()
    return (
        1_780_000_000 + i,
        "k1",
        "enforcer:air_travel",
        BATCH_ROUTE,
        None,
        "air_travel",
        None,
        "china-scs 1.0",
        200,
        f"b{i}",
        details,
    )


def written(ledger: Ledger) -> AuditLog:  # noqa: F811
    """Own entries of alice (seq 1, 5), batches listing her (3, 6; 6 twice), batches that
    list 'alic' and 'xalice' only (2, 4), all in two transactions."""
    audit = AuditLog(ledger, start=False, batch=3)
    audit.append(event(1, subject="alice"))
    audit.append_row(batch_row(2, ["bob", "alic", "xalice"]))
    audit.append_row(batch_row(3, ["bob", "alice"]))
    audit.append_row(batch_row(4, ['"alice"', "carol"]))
    audit.append(event(5, subject="alice"))
    audit.append_row(batch_row(6, ["alice", "dave", "alice"]))
    audit.flush()
    return audit


def test_a_search_finds_own_entries_and_the_batches_that_list_the_subject(
    ledger: Ledger,  # noqa: F811
) -> None:
    audit = written(ledger)
    assert [e.seq for e in audit.read(subject="alice")] == [1, 3, 5, 6]
    assert [e.seq for e in audit.read(after=1, limit=2, subject="alice")] == [3, 5]
    assert [e.seq for e in audit.read(after=5, subject="alice")] == [6]
    assert [e.seq for e in audit.read(subject="alic")] == [2]
    assert [e.seq for e in audit.read(subject='"alice"')] == [4]
    assert audit.read(subject="nobody") == []
    assert audit.verify().ok  # the index is beside the chain, not in it
    with ledger.engine.connect() as conn:
        pairs = conn.exec_driver_sql(
            "SELECT subject, seq FROM audit_subjects WHERE subject = 'alice' ORDER BY seq"
        ).all()
    assert [tuple(p) for p in pairs] == [("alice", 3), ("alice", 6)]


def test_the_search_reads_indexes_not_the_log(sqlite_ledger: Ledger) -> None:  # noqa: F811
    written(sqlite_ledger)
    path = sqlite_path(sqlite_ledger.url)
    assert path is not None
    with sqlite3.connect(path) as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN " + subject_sql("?", 100), ("alice", 0, "alice", 0)
        ).fetchall()
    steps = [str(row[-1]) for row in plan]
    assert not [s for s in steps if s.startswith("SCAN audit_log")], steps
    assert any("audit_subjects" in s and s.startswith("SEARCH") for s in steps), steps


def test_the_migration_indexes_batches_written_before_it(ledger: Ledger) -> None:  # noqa: F811
    written(ledger).close()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with ledger.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0011")
    with ledger.engine.connect() as conn:
        assert "audit_subjects" not in sa.inspect(conn).get_table_names()
    ledger.upgrade()
    audit = AuditLog(ledger, start=False)
    assert [e.seq for e in audit.read(subject="alice")] == [1, 3, 5, 6]
    audit.append_row(batch_row(7, ["alice"]))
    audit.flush()
    assert [e.seq for e in audit.read(after=6, subject="alice")] == [7]
    audit.close()
