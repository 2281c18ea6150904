"""Two processes on one database: an entry accepted by one is reflected in the checks of
the other within one second (its index catches up on a 0.1 s timer)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import parse_policy
from tests.enforcement_index.conftest import pg_ledger_in_new_schema, schema_url
from tests.enforcement_index.policies import EVERY_PERIOD

NO_DECAY = EVERY_PERIOD.replace("    decay: linear\n", "")
WATCHER = Path(__file__).with_name("watcher.py")


def delays(ledger: Ledger, url: str, rounds: int = 3) -> list[float]:
    """Seconds from each ingest's return to the other process's changed answer."""
    now = int(time.time())
    loaded = parse_policy(NO_DECAY, "index-test.yaml")
    ledger.activate_policy(
        loaded.text, loaded.policy.policy, loaded.policy.version, loaded.content_hash, now, now=now
    )
    rules = IngestRules.from_policy(loaded.policy)
    other = subprocess.Popen(
        [sys.executable, str(WATCHER), url, "0.1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert other.stdin is not None and other.stdout is not None
    try:
        assert other.stdout.readline().strip() == "ready"
        found = []
        for i in range(rounds):
            subject = f"P{i}"
            other.stdin.write(subject + "\n")
            other.stdin.flush()
            time.sleep(0.3)  # the other process is checking, answering allow
            entry = {
                "id": f"d{i}",
                "source": "court",
                "subject": subject,
                "type": "debt",
                "occurred_at": int(time.time()) - 86_400,
            }
            result = ledger.ingest_entries([entry], rules=rules, now=int(time.time()))
            accepted = time.time()
            assert result.accepted == 1
            line = other.stdout.readline().split()
            assert line[0] == "changed", line
            found.append(float(line[1]) - accepted)
        other.stdin.write("\n")
        other.stdin.flush()
        other.wait(30)
    finally:
        if other.poll() is None:
            other.kill()
    return found


@pytest.mark.postgres
def test_an_entry_reaches_the_other_process_within_a_second_on_postgresql(
    pg_url: str,
) -> None:
    with pg_ledger_in_new_schema(pg_url) as ledger:
        schema = ledger.url.split("search_path%3D")[-1] if "%3D" in ledger.url else None
        url = schema_url(pg_url, schema) if schema else ledger.url
        found = delays(ledger, url)
    print("delays (s):", [round(d, 3) for d in found])
    assert max(found) < 1.0, found


def test_an_entry_reaches_the_other_process_within_a_second_on_sqlite(
    sqlite_template: Path, tmp_path: Path
) -> None:
    from tests.enforcement_index.conftest import sqlite_ledger_from

    with sqlite_ledger_from(sqlite_template, tmp_path) as ledger:
        found = delays(ledger, ledger.url)
    print("delays (s):", [round(d, 3) for d in found])
    assert max(found) < 1.0, found
