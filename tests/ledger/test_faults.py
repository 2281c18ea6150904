"""Faults, with real processes on SQLite and PostgreSQL: ``socialcredit ingest`` killed at
random moments (SIGKILL and SIGTERM) and ingests of overlapping files running at once.

After a kill no parsing process survives, the database is consistent (SQLite's integrity
check; every batch row counts exactly the entries that carry its id; an interrupted batch
has no ``finished_at``) and ingesting the file again gives exactly the expected entries.
Two ingests of the same keys at once both finish, and together they store what one would.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from socialcredit.ledger import Ledger
from socialcredit.timeutil import parse_timestamp

NOW = parse_timestamp("2026-01-01")

# ``socialcredit ingest`` with smaller chunks (parsing.CHUNK, read when chunks are cut), so
# that a file of a few megabytes takes several transactions and a kill can fall anywhere
CLI = (
    "import sys; from socialcredit.ledger import parsing; parsing.CHUNK = int(sys.argv.pop(1)); "
    "from socialcredit.cli import main; sys.argv[0] = 'socialcredit'; main()"
)


class Db:
    """A fresh ledger (SQLite file or PostgreSQL schema): its URL and reading helpers."""

    def __init__(self, url: str, sqlite_path: Path | None) -> None:
        self.url = url
        self.sqlite_path = sqlite_path
        self.engine = sa.create_engine(url if sqlite_path is None else f"sqlite:///{sqlite_path}")

    def rows(self, sql: str) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.exec_driver_sql(sql).all())


@contextmanager
def _fresh(kind: str, where: Path, pg_url: str | None) -> Iterator[Db]:
    """A new, initialised ledger of ``kind`` (a file under ``where``, or a schema)."""
    if kind == "sqlite":
        path = where / f"ledger-{uuid.uuid4().hex[:8]}.db"
        with Ledger.open(str(path)) as ledger:
            ledger.upgrade()
        found = Db(str(path), path)
        yield found
        found.engine.dispose()
        return
    assert pg_url is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = f"{pg_url}?options=-csearch_path%3D{schema}"
    with Ledger.open(url) as ledger:
        ledger.upgrade()
    found = Db(url, None)
    try:
        yield found
    finally:
        found.engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def pg(kind: str, request: pytest.FixtureRequest) -> str | None:
    return str(request.getfixturevalue("pg_url")) if kind == "postgres" else None


@pytest.fixture
def db(kind: str, pg: str | None, tmp_path: Path) -> Iterator[Db]:
    with _fresh(kind, tmp_path, pg) as found:
        yield found


def _entry(i: int, pad: str, subjects: int = 997) -> dict[str, Any]:
    if i % 10 == 9:  # some relations too
        return {
            "kind": "relation",
            "id": f"r{i}",
            "source": "registry",
            "subject": f"p{i % subjects}",
            "relation": "child_of",
            "related_subject": f"p{(i + 1) % subjects}",
            "valid_from": "2020-01-01",
        }
    return {
        "id": str(i),
        "source": "court",
        "subject": f"p{i % subjects}",
        "type": "fine",
        "occurred_at": "2025-01-01T00:00:00Z",
        "amount": i,
        "evidence": pad,
    }


def _write(path: Path, numbers: list[int], pad: str = "", subjects: int = 997) -> str:
    with path.open("w") as fh:
        for i in numbers:
            fh.write(json.dumps(_entry(i, pad, subjects)) + "\n")
    return str(path)


def _start(db: Db, file: str, chunk: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", CLI, str(chunk), "ingest", file, "--db", db.url, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )


def _ingest(url: str, file: str, ready: Any, outcomes: Any) -> None:
    """In a process of its own: ingest ``file`` once every such process is ready."""
    try:
        with Ledger.open(url) as ledger:
            ledger.count_entries()  # connected, schema checked
            ready.wait()
            outcomes.put({"result": ledger.ingest_file(file, now=NOW).to_json()})
    except BaseException:
        outcomes.put({"error": traceback.format_exc()})


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _check_consistent(db: Db) -> None:
    if db.sqlite_path is not None:
        with sqlite3.connect(db.sqlite_path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    batches = db.rows("SELECT id, accepted, finished_at FROM ingest_batches ORDER BY id")
    stored = dict(db.rows("SELECT batch_id, COUNT(*) FROM entries GROUP BY batch_id"))
    for batch, accepted, _ in batches:
        assert stored.get(batch, 0) == accepted, f"batch {batch}"
    assert sum(stored.values()) == sum(b[1] for b in batches)
    assert set(stored) <= {b[0] for b in batches}


@pytest.mark.slow
def test_killed_ingests_leave_no_process_and_a_consistent_ledger(
    db: Db, kind: str, pg: str | None, tmp_path: Path
) -> None:
    n = 24_000
    file = _write(tmp_path / "big.jsonl", list(range(n)), pad="x" * 120)
    assert os.path.getsize(file) > 4 * 1024 * 1024  # parsed in child processes
    rng = random.Random(6)
    # how long a whole ingest takes here, in a ledger of its own
    with _fresh(kind, tmp_path, pg) as probe:
        started = time.monotonic()
        assert _start(probe, file, 3000).wait() == 0
        whole = time.monotonic() - started
    interrupted = killed_with_workers = 0
    # the last kill waits for the parsing processes to be running, so that at least one kill
    # hits them whatever the machine's load; the others come at random moments
    plan = [signal.SIGKILL, signal.SIGKILL, signal.SIGTERM, signal.SIGKILL]
    for attempt, how in enumerate(plan):
        before = db.rows("SELECT COUNT(*) FROM ingest_batches")[0][0]
        proc = _start(db, file, 3000)
        wait_for_workers = attempt == len(plan) - 1
        deadline = time.monotonic() + (
            whole * 5 if wait_for_workers else rng.uniform(whole * 0.2, whole * 0.95)
        )
        workers: set[int] = set()
        while time.monotonic() < deadline and proc.poll() is None:
            workers |= _children(proc.pid)
            if wait_for_workers and workers:
                break
            time.sleep(0.02)
        proc.send_signal(how)
        code = proc.wait()
        until = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < until:
            time.sleep(0.05)
        survivors = [w for w in workers if _alive(w)]
        for pid in survivors:  # so that a failure here does not leave them behind
            os.kill(pid, signal.SIGKILL)
        assert survivors == [], f"attempt {attempt}: parsing processes survive {how!r}"
        _check_consistent(db)
        killed_with_workers += bool(workers) and code != 0
        if code != 0:
            # killed before its batch began, while it ran (the batch has no finish time),
            # or after it finished its work (the batch accounts for every line)
            new = db.rows(
                f"SELECT finished_at, lines FROM ingest_batches ORDER BY id LIMIT 9 OFFSET {before}"
            )
            assert new == [] or len(new) == 1, new
            assert not new or new[0][0] is None or new[0][1] == n, new
            interrupted += not new or new[0][0] is None
    assert interrupted >= 2
    assert killed_with_workers >= 1  # the kills hit parsing processes that were running
    final = _start(db, file, 3000)
    out, err = final.communicate()
    assert final.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["accepted"] + result["duplicates"] == n
    assert db.rows("SELECT COUNT(*) FROM entries") == [(n,)]
    assert db.rows("SELECT COUNT(DISTINCT source || '/' || entry_id) FROM entries") == [(n,)]
    _check_consistent(db)
    assert db.rows("SELECT finished_at IS NOT NULL FROM ingest_batches ORDER BY id DESC LIMIT 1")[
        0
    ][0]


def test_ingests_of_the_same_keys_at_once_both_finish(db: Db, tmp_path: Path) -> None:
    # the same file twice, in opposite orders, and an overlapping one, all at the same time;
    # few subjects, so that each one's entries take a while to insert
    n, few = 30_000, 3
    files = [
        _write(tmp_path / "a.jsonl", list(range(n)), subjects=few),
        _write(tmp_path / "b.jsonl", list(reversed(range(n))), subjects=few),
        _write(tmp_path / "c.jsonl", list(range(n // 2, n + n // 2)), subjects=few),
    ]
    # the subjects are known already, so the ingests meet at the entries' keys at once
    seed = tmp_path / "subjects.jsonl"
    seed.write_text(
        "".join(
            json.dumps({**_entry(i, "", few), "source": "seed", "amount": None}) + "\n"
            for i in range(few)
        )
    )
    assert _start(db, str(seed), 100_000).wait() == 0
    # one process per file, each starting to ingest when all are ready
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Barrier(len(files))
    outcomes = ctx.Queue()
    procs = [ctx.Process(target=_ingest, args=(db.url, f, ready, outcomes)) for f in files]
    for proc in procs:
        proc.start()
    found = [outcomes.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join()
    errors = [f["error"] for f in found if "error" in f]
    assert [[line[:200] for line in e.splitlines() if "Error" in line][-1:] for e in errors] == []
    results = [f["result"] for f in found]
    union = n + n // 2
    assert sum(r["accepted"] for r in results) == union
    assert sum(r["duplicates"] for r in results) == sum(r["lines"] for r in results) - union
    assert all(r["rejected"] == 0 and r["conflicts"] == 0 for r in results)
    assert db.rows("SELECT COUNT(*) FROM entries") == [(union + few,)]
    assert db.rows("SELECT COUNT(*) FROM subjects") == [(few,)]
    stored = {
        (s, e, name, amount)
        for s, e, name, amount in db.rows(
            "SELECT e.source, e.entry_id, s.name, e.amount FROM entries e "
            "JOIN subjects s ON s.id = e.subject_id WHERE e.source != 'seed'"
        )
    }
    expected = {
        (x["source"], x["id"], x["subject"], x.get("amount"))
        for x in (_entry(i, "", few) for i in range(union))
    }
    assert stored == expected
    _check_consistent(db)
    assert [r[0] is not None for r in db.rows("SELECT finished_at FROM ingest_batches")] == [
        True
    ] * 4
