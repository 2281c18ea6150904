"""``socialcredit serve`` stops promptly on SIGTERM (under 2 s, with idle keep-alive
connections open and the notifier busy with its first look at a thousand debtors) and
writes the audit buffer before it exits; with several workers on one database, one of them
does the notifier's work."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import httpx
import orjson
import pytest

from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import load_policy, parse_policy
from tests.api.conftest import ENTRIES, LOADED
from tests.api.test_faults import kill, new_keys
from tests.cli.conftest import CHINA
from tests.cli.test_serve import start

DEBTORS = 1000


def many_debtors(db: str) -> None:
    """``DEBTORS`` more unpaid court judgments, each about its own subject: a notifier's
    first look writes a notice (with an explanation) to each, seconds of work."""
    judgment = ENTRIES[0]
    rows = [{**judgment, "id": f"jm{i}", "subject": f"subj-many-{i}"} for i in range(DEBTORS)]
    rules = IngestRules.from_policy(parse_policy(load_policy(CHINA).text).policy)
    with Ledger.open(db) as ledger:
        result = ledger.ingest_entries(
            [orjson.loads(orjson.dumps(r)) for r in rows], "test", rules, LOADED, backfill=True
        )
    assert result.accepted == DEBTORS, result.to_json()


@pytest.fixture
def busy_db(tmp_path: Path, sqlite_template: Path) -> str:
    """A copy of the filled SQLite ledger with ``DEBTORS`` more debtors."""
    db = tmp_path / "busy.db"
    db.write_bytes(sqlite_template.read_bytes())
    many_debtors(str(db))
    return str(db)


def audited_checks(db: str) -> int:
    with Ledger.open(db) as ledger, ledger.engine.connect() as conn:
        import sqlalchemy as sa

        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM audit_log WHERE route = 'POST /v1/checks'")
            ).scalar_one()
        )


def test_sigterm_stops_the_service_within_two_seconds_and_writes_the_audit_buffer(
    busy_db: str,
) -> None:
    (token,) = new_keys(busy_db, "enforcer:air_travel")
    base, proc = start(busy_db)
    clients = [httpx.Client(base_url=base, timeout=10) for _ in range(4)]
    try:
        for i, http in enumerate(clients):  # each leaves an idle keep-alive connection
            r = http.post(
                "/v1/checks",
                json={"subject": f"subj-many-{i}", "service": "air_travel"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 200, r.text
        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        took = time.monotonic() - started
    finally:
        for http in clients:
            http.close()
        kill(proc)
    assert took < 2.0, f"serve took {took:.2f} s to stop"
    assert audited_checks(busy_db) == len(clients)


def test_with_two_workers_one_does_the_notifiers_work(busy_db: str) -> None:
    base, proc = start(busy_db, "--workers", "2")
    try:
        time.sleep(3)  # both workers up and trying the lease at each look (every second)
        assert httpx.get(base + "/healthz").status_code == 200
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        assert proc.stderr is not None
        log = proc.stderr.read().decode(errors="replace")
    finally:
        kill(proc)
    assert len(re.findall(r"Started server process \[(\d+)\]", log)) == 2, log[-3000:]
    # a worker says when it takes the lease: one did, the other never did
    assert len(re.findall(r"lease notifier: taken by process (\d+)", log)) == 1, log[-3000:]
