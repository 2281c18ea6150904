"""Nothing lost under faults (issue 8, item 8a and 8b), against a real ``socialcredit serve``
process on SQLite and on PostgreSQL:

(a) a client streams batches of entries while the server is killed with SIGKILL at random
    (seeded) moments, several times; after each kill, before the restart, every batch is in
    the ledger whole or not at all; after the restarts and the client's retries (idempotent
    on (source, id)), every acknowledged entry is stored exactly once;
(b) several sources ingest at once while enforcers check: every answer is a 200, and every
    entry a source was told was stored is stored.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from socialcredit.keys import KeyStore
from socialcredit.ledger import Ledger
from tests.api.conftest import NOW
from tests.cli.test_serve import free_port, start

BATCH = 25
"""Entries per request: far below the ledger's chunk (one transaction per request)."""
KILLS, BATCHES = 3, 45
"""How often the server is killed while one client streams how many batches."""


def serve(db: str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    """``socialcredit serve`` on ``port`` in its own process group, once healthy."""
    return start(db, "--workers", str(workers), port=port, within=60)[1]


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the server's whole process group (no shutdown code runs) and reap it."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()


def new_keys(db: str, *roles: str) -> list[str]:
    """A token for each role, made through the library."""
    with Ledger.open(db) as ledger:
        store = KeyStore(ledger)
        return [store.create(role, "fault test", NOW)[1] for role in roles]


def batch(source: str, record_type: str, n: int) -> list[dict[str, Any]]:
    """Batch ``n`` of ``source``: ``BATCH`` records about five subjects."""
    return [
        {
            "id": f"{source}-{n}-{i}",
            "source": source,
            "subject": f"subj-fault-{n % 7}-{i % 5}",
            "type": record_type,
            "occurred_at": "2026-05-01",
        }
        for i in range(BATCH)
    ]


def stored(db: str, source: str) -> dict[str, int]:
    """How many times each entry id of ``source`` is stored (read past the service)."""
    engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT entry_id, count(*) FROM entries WHERE source = :s GROUP BY entry_id"
                ),
                {"s": source},
            ).all()
    finally:
        engine.dispose()
    return {str(entry_id): int(n) for entry_id, n in rows}


class Streamer(threading.Thread):
    """A source's client: sends batches 0, 1, 2 … in order, and retries a batch (the same
    body) until it is acknowledged with a 200, whatever happens to the server."""

    def __init__(self, base: str, token: str, batches: int) -> None:
        super().__init__(daemon=True)
        self.base, self.batches = base, batches
        self.headers = {"Authorization": f"Bearer {token}"}
        self.acknowledged: list[int] = []
        self.sent: set[int] = set()
        self.answers: list[dict[str, Any]] = []
        self.stop_by = time.monotonic() + 120
        self.lock = threading.Lock()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._stream()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _stream(self) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as http:
            for n in range(self.batches):
                body = batch("court", "court_judgment_unfulfilled", n)
                while time.monotonic() < self.stop_by:
                    with self.lock:
                        self.sent.add(n)
                    try:
                        r = http.post("/v1/entries", json=body, headers=self.headers)
                    except httpx.HTTPError:
                        time.sleep(0.05)  # the server is down: retry the same batch
                        continue
                    assert r.status_code == 200, r.text
                    answer = r.json()
                    assert answer["accepted"] + answer["duplicates"] == BATCH, answer
                    with self.lock:
                        self.answers.append(answer)
                        self.acknowledged.append(n)
                    break


@pytest.mark.slow
def test_sigkill_during_ingestion_loses_no_acknowledged_entry_and_shows_no_half_batch(
    db_url: str,
) -> None:
    rng = random.Random(8)
    port = free_port()
    (token,) = new_keys(db_url, "source:court")
    proc = serve(db_url, port)
    client = Streamer(f"http://127.0.0.1:{port}", token, batches=BATCHES)
    kills = 0
    try:
        client.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.05, 0.8))
            kill(proc)
            kills += 1
            # the server is dead: whatever it stored is visible, and every batch is whole
            # or absent (one request, one transaction)
            counts = stored(db_url, "court")
            with client.lock:
                sent, acknowledged = sorted(client.sent), list(client.acknowledged)
            for n in sent:
                present = sum(counts.get(f"court-{n}-{i}", 0) for i in range(BATCH))
                assert present in (0, BATCH), f"batch {n}: {present} of {BATCH} stored"
            for n in acknowledged:
                assert counts.get(f"court-{n}-0") == 1, f"acknowledged batch {n} lost"
            proc = serve(db_url, port)
        client.join(timeout=120)
        assert not client.is_alive(), "the client did not finish"
        assert client.error is None, repr(client.error)
    finally:
        kill(proc)
    assert kills == KILLS
    assert client.acknowledged == list(range(BATCHES))
    counts = stored(db_url, "court")
    wanted = {f"court-{n}-{i}" for n in range(BATCHES) for i in range(BATCH)}
    assert wanted <= counts.keys()
    assert all(counts[e] == 1 for e in wanted)
    assert {e for e in counts if e.startswith("court-")} == wanted  # nothing else was stored


SOURCES = {
    "court": "court_judgment_unfulfilled",
    "railway": "fare_evasion",
    "tax-bureau": "major_tax_violation",
}


@pytest.mark.slow
def test_sources_ingest_concurrently_while_checks_run(db_url: str) -> None:
    port = free_port()
    workers = 2
    tokens = new_keys(db_url, *(f"source:{s}" for s in SOURCES), "enforcer:air_travel")
    proc = serve(db_url, port, workers=workers)
    base = f"http://127.0.0.1:{port}"
    errors: list[str] = []
    told_stored: dict[str, set[str]] = {s: set() for s in SOURCES}
    done = threading.Event()
    checks = [0]

    def source(name: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, timeout=30) as http:
            for n in range(12):
                body = batch(name, SOURCES[name], n)
                r = http.post("/v1/entries", json=body, headers=headers)
                if r.status_code != 200 or r.json()["accepted"] != BATCH:
                    errors.append(f"{name} batch {n}: {r.status_code} {r.text[:300]}")
                    continue
                told_stored[name].update(e["id"] for e in body)

    def checker(token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, timeout=30) as http:
            n = 0
            while not done.is_set():
                subject = f"subj-fault-{n % 7}-{n % 5}"
                r = http.post(
                    "/v1/checks",
                    json={"subject": subject, "service": "air_travel"},
                    headers=headers,
                )
                if r.status_code != 200 or r.json()["decision"] not in ("allow", "deny"):
                    errors.append(f"check {subject}: {r.status_code} {r.text[:300]}")
                n += 1
                checks[0] += 1

    threads = [
        threading.Thread(target=source, args=(name, token), daemon=True)
        for name, token in zip(SOURCES, tokens, strict=False)
    ]
    check_threads = [
        threading.Thread(target=checker, args=(tokens[-1],), daemon=True) for _ in range(2)
    ]
    try:
        for t in check_threads + threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
        done.set()
        for t in check_threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads + check_threads)
    finally:
        done.set()
        kill(proc)
    assert errors == []
    assert checks[0] > 0
    for name in SOURCES:
        counts = stored(db_url, name)
        assert told_stored[name] == {f"{name}-{n}-{i}" for n in range(12) for i in range(BATCH)}
        assert all(counts.get(e) == 1 for e in told_stored[name]), name
