"""A search of the audit log by subject is indexed: its own entries and the batch checks
that list it, by ``audit_subjects`` up to its watermark (filled in bulk by the indexer
thread; migrations 0012 and 0013 index the entries written before them), and only the
entries above the watermark are read one by one."""

from __future__ import annotations

import dataclasses

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.audit import AuditLog
from socialcredit.audit.log import BATCH_ROUTE
from socialcredit.audit.subjects import watermark
from socialcredit.ledger import Ledger
from socialcredit.ledger.database import MIGRATIONS
from tests.audit.conftest import event, ledger, pg_ledger, pg_url, rows, sqlite_ledger  # noqa: F401


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
        assert audit.index_subjects() == 6  # every entry is about a subject
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
    assert [tuple(p) for p in pairs] == [("alice", 1), ("alice", 3), ("alice", 5), ("alice", 6)]


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
    assert [e.seq for e in audit.read(subject="bob")] == [2, 3, 8]
    assert audit.index_subjects() == 2
    assert mark(ledger) == 8
    assert [e.seq for e in audit.read(subject="bob")] == [2, 3, 8]
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


def _indexes(ledger: Ledger) -> set[str]:  # noqa: F811
    with ledger.engine.connect() as conn:
        return {i["name"] or "" for i in sa.inspect(conn).get_indexes("audit_log")}


def test_the_migration_indexes_batches_written_before_it(ledger: Ledger) -> None:  # noqa: F811
    written(ledger, index=False).close()  # the migrations index them
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
    assert "ix_audit_log_subject" not in _indexes(ledger)


def test_0013_indexes_own_entries_and_drops_the_subject_index(ledger: Ledger) -> None:  # noqa: F811
    """From 0012 (batches indexed up to its watermark, own entries through
    ``ix_audit_log_subject``) to 0013: every entry is in ``audit_subjects``, the b-tree
    index on ``audit_log.subject`` is gone, and a search finds the same entries."""
    audit = written(ledger, index=False)
    audit.close()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with ledger.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0012")
    assert "ix_audit_log_subject" in _indexes(ledger)
    assert mark(ledger) == 0  # nothing indexed yet: the migration indexes 1 to 6
    ledger.upgrade()
    assert "ix_audit_log_subject" not in _indexes(ledger)
    assert mark(ledger) == 6
    with ledger.engine.connect() as conn:
        pairs = conn.exec_driver_sql(
            "SELECT subject, seq FROM audit_subjects WHERE subject <> '' ORDER BY seq, subject"
        ).all()
    assert [tuple(p) for p in pairs] == [
        ("alice", 1),
        ("alic", 2),
        ("bob", 2),
        ("xalice", 2),
        ("alice", 3),
        ("bob", 3),
        ('"alice"', 4),
        ("carol", 4),
        ("alice", 5),
        ("alice", 6),
        ("dave", 6),
    ]
    audit = AuditLog(ledger, start=False)
    assert [e.seq for e in audit.read(subject="alice")] == [1, 3, 5, 6]
    assert audit.verify().ok
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
        assert audit.index_subjects() >= 6  # 1 to 6 and the checks so far: one step
        assert time.monotonic() - started < 2.0  # a chase lasts until the checks stop
    finally:
        stop.set()
        writer.join()
    assert _marks(ledger) == before + 1


def test_a_step_stops_at_its_size_and_the_next_goes_on(ledger: Ledger) -> None:  # noqa: F811
    """Steps of about two index rows: six steps (one per entry or two), and a search is
    right after each of them."""
    from socialcredit.audit.subjects import index_step

    audit = written(ledger, index=False)
    writer = ledger.engine.raw_connection()
    conn = writer.driver_connection
    if ledger.is_sqlite:
        conn.isolation_level = None  # autocommit: the step issues BEGIN IMMEDIATE
    try:
        marks = []
        while True:
            _, complete = index_step(conn, ledger.is_sqlite, pairs_max=2)
            marks.append(mark(ledger))
            assert [e.seq for e in audit.read(subject="alice")] == [1, 3, 5, 6]
            assert [e.seq for e in audit.read(subject="dave")] == [6]
            if complete:
                break
    finally:
        writer.close()
    assert marks == [2, 3, 4, 6]  # (alice 1, 3 names on 2), (2 on 3), (2 on 4), (5, 6)
    audit.close()


def _marks(ledger: Ledger) -> int:  # noqa: F811
    """How many watermark rows the subject index has."""
    with ledger.engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT COUNT(*) FROM audit_subjects WHERE subject = ''")
        return int(found.scalar() or 0)


NAMES = st.sampled_from(["a", "ab", "b", '"a"', 'a"b', "é", "a b", ""])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("own"), NAMES),
        # the service refuses a batch listing an empty id
        st.tuples(st.just("batch"), st.lists(NAMES.filter(bool), min_size=1, max_size=5)),
        st.tuples(st.just("none"), st.none()),
        st.tuples(st.just("index"), st.integers(1, 6)),
    ),
    max_size=25,
)


def _about(row: tuple[object, ...], name: str) -> bool:
    """Whether a stored row (``rows``' columns) is about ``name``: the brute-force answer."""
    subject, route, details = row[5], row[4], row[11]
    if subject is not None:
        return subject == name
    if route != BATCH_ROUTE or not isinstance(details, str):
        return False
    return name in orjson.loads(details)["subjects"]


def _subject_property(
    ledger: Ledger,  # noqa: F811
    ops: list[tuple[str, object]],
    after: int,
    limit: int,
) -> None:
    from socialcredit.audit.subjects import index_step

    audit = AuditLog(ledger, start=False)
    writer = ledger.engine.raw_connection()
    conn = writer.driver_connection
    if ledger.is_sqlite:
        conn.isolation_level = None
    try:
        for i, (kind, arg) in enumerate(ops):
            if kind == "own":
                audit.append(event(i, subject=str(arg)))
            elif kind == "batch":
                audit.append_row(batch_row(i, list(arg)))  # type: ignore[call-overload]
            elif kind == "none":
                audit.append(dataclasses.replace(event(i, route="GET /v1/audit"), subject=None))
            else:
                audit.flush()
                index_step(conn, ledger.is_sqlite, pairs_max=int(arg))  # type: ignore[call-overload]
        audit.flush()
    finally:
        writer.close()
    stored = rows(ledger)
    for name in ["a", "ab", "b", '"a"', 'a"b', "é", "a b", "", "nobody"]:
        expected = [int(r[0]) for r in stored if _about(r, name) and int(r[0]) > after]  # type: ignore[call-overload]
        got = [e.seq for e in audit.read(after=after, limit=limit, subject=name)]
        assert got == expected[:limit], name
    audit.close()


SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(ops=OPS, after=st.integers(0, 30), limit=st.integers(1, 8))
def test_a_search_by_subject_is_what_a_scan_finds_on_sqlite(
    sqlite_ledger: Ledger,  # noqa: F811
    ops: list[tuple[str, object]],
    after: int,
    limit: int,
) -> None:
    """Whatever the entries and wherever the watermark (steps of random sizes between
    them), a search by subject answers what reading every stored entry answers."""
    _subject_property(sqlite_ledger, ops, after, limit)


@SETTINGS
@given(ops=OPS, after=st.integers(0, 30), limit=st.integers(1, 8))
def test_a_search_by_subject_is_what_a_scan_finds_on_postgresql(
    pg_ledger: Ledger,  # noqa: F811
    ops: list[tuple[str, object]],
    after: int,
    limit: int,
) -> None:
    """As on SQLite."""
    _subject_property(pg_ledger, ops, after, limit)
