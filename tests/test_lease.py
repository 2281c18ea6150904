"""``Lease``: at most one holder at a time per database (and per PostgreSQL schema),
released when the holder lets go or its process (SQLite) or connection (PostgreSQL) dies."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa

from socialcredit.lease import Lease
from socialcredit.ledger import Ledger
from tests.ledger.conftest import ledger, pg_ledger, pg_url, sqlite_ledger  # noqa: F401


def test_one_holder_at_a_time_and_the_next_takes_over(ledger: Ledger) -> None:  # noqa: F811
    one, two = Lease(ledger, "work"), Lease(ledger, "work")
    assert one.try_hold()
    assert not two.try_hold()
    assert one.try_hold()  # still held
    assert Lease(ledger, "other work").try_hold()  # another name is another lease
    one.release()
    assert two.try_hold()
    assert not one.try_hold()
    two.release()


def test_a_killed_holder_process_lets_another_take_it(sqlite_ledger: Ledger) -> None:  # noqa: F811
    code = textwrap.dedent(
        f"""
        import sys, time
        from socialcredit.lease import Lease
        from socialcredit.ledger import Ledger
        lease = Lease(Ledger.open({sqlite_ledger.url!r}), "work")
        print(lease.try_hold(), flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"True"
        mine = Lease(sqlite_ledger, "work")
        assert not mine.try_hold()
    finally:
        proc.kill()
        proc.wait()
    assert mine.try_hold()
    mine.release()


@pytest.mark.postgres
def test_a_holder_whose_connection_dies_loses_it(pg_ledger: Ledger) -> None:  # noqa: F811
    one, two = Lease(pg_ledger, "work"), Lease(pg_ledger, "work")
    assert one.try_hold()
    assert not two.try_hold()
    pid = one._conn.info.backend_pid
    with pg_ledger.engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()
    assert two.try_hold()
    assert not one.try_hold()  # finds its connection gone and the lease taken
    two.release()
