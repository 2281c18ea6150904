"""A search of the audit log by subject is indexed: its own entries by ``subject``, the
batch checks that list it by ``audit_subjects`` up to its watermark (filled in bulk by the
writer's thread; migration 0012 indexes the batch entries written before it), and only the
batch entries above the watermark are read one by one."""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from socialcredit.audit import AuditLog
from socialcredit.audit.log import BATCH_ROUTE
from socialcredit.audit.subjects import watermark
from socialcredit.ledger import Ledger
from socialcredit.ledger.database import MIGRATIONS
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


def written(ledger: Ledger, index: bool = True) -> AuditLog:  # noqa: F811
    """Own entries of alice (seq 1, 5), batches listing her (3, 6; 6 twice), batches that
    list 'alic' and 'xalice' only (2, 4), all in two transactions; indexed if ``index``."""
    audit = AuditLog(ledger, start=False, batch=3)
    audit.append(event(1, subject="alice"))
    audit.append_row(batch_row(2, ["bob", "alic", "xalice"]))
    audit.append_row(batch_row(3, ["bob", "alice"]))
    audit.append_row(batch_row(4, ['"alice"', "carol"]))
    audit.append(event(5, subject="alice"))
    audit.append_row(batch_row(6, ["alice", "dave", "alice"]))
    audit.flush()
    if index:
        assert audit.index_subjects() == 4  # the four batch entries
    return audit


def mark(ledger: Ledger) -> int:  # noqa: F811
    with ledger.reading() as conn:
        cur = conn.cursor()
        try:
            return watermark(cur, ledger.is_sqlite)
        finally:
            cur.close()


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


def test_batches_above_the_watermark_are_found_too(ledger: Ledger) -> None:  # noqa: F811
    audit = written(ledger, index=False)
    assert mark(ledger) == 0
    assert [e.seq for e in audit.read(subject="alice")] == [1, 3, 5, 6]
    assert [e.seq for e in audit.read(after=3, limit=1, subject="alice")] == [5]
    audit.index_subjects()
    assert mark(ledger) == 6
    audit.append_row(batch_row(7, ["alice"]))
    audit.append(event(8, subject="bob"))
    audit.flush()  # 7 is above the watermark: read from the entry itself
    assert [e.seq for e in audit.read(after=1, subject="alice")] == [3, 5, 6, 7]
    assert [e.seq for e in audit.read(after=6, subject="alice")] == [7]
    assert audit.index_subjects() == 1
    assert mark(ledger) == 8
    assert [e.seq for e in audit.read(after=1, subject="alice")] == [3, 5, 6, 7]
    assert audit.index_subjects() == 0  # nothing new: no step


def test_the_writer_thread_indexes_in_the_background(ledger: Ledger) -> None:  # noqa: F811
    from tests.audit.conftest import wait_until

    audit = AuditLog(ledger, interval=0.002, index_interval=0.05)
    try:
        for i in range(30):
            audit.append_row(batch_row(i, [f"S{i}", "alice"]))
        assert wait_until(lambda: mark(ledger) >= 30)
    finally:
        audit.close()
    assert len(audit.read(subject="alice")) == 30


def test_the_migration_indexes_batches_written_before_it(ledger: Ledger) -> None:  # noqa: F811
    written(ledger, index=False).close()  # the migration indexes them
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with ledger.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0011")
    with ledger.engine.connect() as conn:
        assert "audit_subjects" not in sa.inspect(conn).get_table_names()
    ledger.upgrade()
    audit = AuditLog(ledger, start=False)
    assert mark(ledger) == 6
    assert [e.seq for e in audit.read(subject="alice")] == [1, 3, 5, 6]
    audit.append_row(batch_row(7, ["alice"]))
    audit.flush()
    assert [e.seq for e in audit.read(after=6, subject="alice")] == [7]
    audit.close()


def test_indexing_ends_while_checks_keep_arriving(ledger: Ledger) -> None:  # noqa: F811
    """Single checks written all the while (the head moving every few ms): one call indexes
    what is there and returns, one step and one watermark row — it does not chase the head
    (it did, a write transaction after another, as long as checks arrived)."""
    import threading
    import time

    audit = written(ledger, index=False)
    before = _marks(ledger)
    stop = threading.Event()

    def checks() -> None:  # a check every ~2 ms for 3 s (so that a chase ends too)
        i, until = 100, time.monotonic() + 3.0
        while not stop.is_set() and time.monotonic() < until:
            audit.append(event(i, subject=f"s{i}"))
            audit.flush()
            i += 1
            time.sleep(0.002)

    writer = threading.Thread(target=checks)
    writer.start()
    try:
        time.sleep(0.2)
        started = time.monotonic()
        assert audit.index_subjects() == 4  # batches 2, 3, 4 and 6: one short step
        assert time.monotonic() - started < 2.0  # a chase lasts until the checks stop
    finally:
        stop.set()
        writer.join()
    assert _marks(ledger) == before + 1


def _marks(ledger: Ledger) -> int:  # noqa: F811
    """How many watermark rows the subject index has."""
    with ledger.engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT COUNT(*) FROM audit_subjects WHERE subject = ''")
        return int(found.scalar() or 0)
