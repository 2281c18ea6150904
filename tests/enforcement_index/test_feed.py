"""``ChangeFeed`` on PostgreSQL, where an ingest holding a lower ``seq`` can commit after one
holding a higher: the feed asks for the lower number again until that writer has ended,
however long it runs, and a feed started while it runs asks for it too."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from socialcredit.enforcement_index.feed import ChangeFeed
from socialcredit.ledger import Ledger
from tests.appeals_policy import ingest, record, with_debtor
from tests.ledger.conftest import pg_ledger, pg_url  # noqa: F401

pytestmark = pytest.mark.postgres

HOLD = 734_001
"""The advisory lock a held ingest waits for, after drawing its numbers, before it commits."""


@contextmanager
def held_ingest(ledger: Ledger, entries: list[dict[str, object]], at: str) -> Iterator[None]:
    """Inside the block an ingest of ``entries`` (ids starting with ``slow``) is running: it
    has drawn its ``seq`` numbers and inserted its rows, and waits to commit (a trigger makes
    it wait for an advisory lock the block holds). It commits when the block ends."""
    with ledger.engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE OR REPLACE FUNCTION wait_to_commit() RETURNS trigger LANGUAGE plpgsql "
                f"AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared({HOLD}); RETURN NEW; END $$"
            )
        )
        conn.execute(
            sa.text(
                "CREATE TRIGGER wait_to_commit AFTER INSERT ON entries FOR EACH ROW "
                "WHEN (NEW.entry_id LIKE 'slow%') EXECUTE FUNCTION wait_to_commit()"
            )
        )
    holder = ledger.engine.connect()
    holder.execute(sa.text(f"SELECT pg_advisory_lock({HOLD})"))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            ingest(ledger, entries, at)
        except BaseException as exc:  # reported by the test
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while True:  # until the ingest waits for the lock
            waiting = holder.execute(
                sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar_one()
            if waiting:
                break
            assert time.monotonic() < deadline and not failure, failure
            time.sleep(0.02)
        yield
    finally:
        holder.execute(sa.text(f"SELECT pg_advisory_unlock({HOLD})"))
        holder.close()
        thread.join(30)
    assert not failure, failure


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_lower_seq_committed_last_is_not_missed_however_long_it_runs(
    pg_ledger: Ledger,  # noqa: F811
) -> None:
    led = with_debtor(pg_ledger)
    clock = Clock()
    feed = ChangeFeed(led, led.high_water().seq, wait=5.0, clock=clock)
    with held_ingest(led, [record("slow1", "court", "PA", "debt", "2025-02-09")], "2025-02-10"):
        ingest(led, [record("b1", "court", "PB", "debt", "2025-02-09")], "2025-02-10")
        assert [c.subject for c in feed.poll()] == ["PB"]
        clock.now = 1000.0  # far past the feed's wait: the writer is still running
        assert feed.poll() == []
        assert feed.poll() == []
    assert [c.subject for c in feed.poll()] == ["PA"]
    clock.now = 2000.0
    assert feed.poll() == []
    feed.poll()
    assert feed.gaps == []  # every writer ended: nothing is asked for again


def test_a_feed_started_while_a_lower_seq_is_in_flight_gets_it(
    pg_ledger: Ledger,  # noqa: F811
) -> None:
    led = with_debtor(pg_ledger)
    with held_ingest(led, [record("slow1", "court", "PA", "debt", "2025-02-09")], "2025-02-10"):
        ingest(led, [record("b1", "court", "PB", "debt", "2025-02-09")], "2025-02-10")
        feed = ChangeFeed.at_head(led)
        assert feed.poll() == []
    assert [c.subject for c in feed.poll()] == ["PA"]
