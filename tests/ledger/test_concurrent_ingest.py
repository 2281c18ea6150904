"""Two ``socialcredit ingest`` runs into one SQLite file at once (issue 6 trial): both finish.

Files over ``PARALLEL_FROM_BYTES`` take the large-file path (forked parsing workers, the
background WAL checkpointer); small chunks and a small WAL restart limit make the two
processes checkpoint and open connections while the other writes.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

WRAPPER = (
    "import sys; from socialcredit.ledger import parsing, writing; "
    "parsing.CHUNK = 2000; writing.WAL_RESTART_BYTES = 1 << 20; "
    "from socialcredit.cli import main; sys.argv[0] = 'socialcredit'; main()"
)


def _write(path: Path, prefix: str, n: int) -> str:
    pad = "x" * 120
    with path.open("w") as fh:
        for i in range(n):
            line = {
                "id": f"{prefix}{i}",
                "source": "court",
                "subject": f"p{i % 997}",
                "type": "fine",
                "occurred_at": "2025-01-01T00:00:00Z",
                "amount": i % 500 + 1,
                "evidence": pad,
            }
            fh.write(json.dumps(line) + "\n")
    return str(path)


@pytest.mark.slow
@pytest.mark.parametrize("lines", [3_000, 40_000], ids=["small files", "large-file path"])
def test_two_ingests_into_one_sqlite_file_both_finish(tmp_path: Path, lines: int) -> None:
    db = str(tmp_path / "cc.db")
    subprocess.run(
        [sys.executable, "-m", "socialcredit", "init", "--db", db], check=True, capture_output=True
    )
    files = [_write(tmp_path / f"n{k}.jsonl", f"n{k}-", lines) for k in (1, 2)]
    for round_ in range(3):  # then again: every line a duplicate
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", WRAPPER, "ingest", f, "--db", db, "--json"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for f in files
        ]
        for run in runs:
            out, err = run.communicate(timeout=300)
            assert run.returncode == 0 and "Traceback" not in err, err
            assert json.loads(out)["accepted"] == (lines if round_ == 0 else 0)
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM entries").fetchone() == (2 * lines,)
            assert conn.execute(
                "SELECT count(*) FROM ingest_batches WHERE finished_at IS NULL"
            ).fetchone() == (0,)
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            # every batch row counts exactly the entries that carry its id
            assert (
                conn.execute(
                    "SELECT b.id FROM ingest_batches b WHERE b.accepted != "
                    "(SELECT count(*) FROM entries e WHERE e.batch_id = b.id)"
                ).fetchall()
                == []
            )
        conn.close()


def test_checking_the_file_keeps_the_locks_of_open_connections(tmp_path: Path) -> None:
    """The cause of the [small files] case's intermittent failures: the schema check read the
    file's first bytes with ``open()``, and closing that descriptor dropped the POSIX locks
    of the connection the ingest then wrote on; another process closing its last connection
    then checkpointed and deleted the write-ahead log under it, and what it wrote next (the
    batch's ``finished_at``, or chunks) was lost or failed with "disk I/O error"."""
    from socialcredit.ledger import Ledger

    db = str(tmp_path / "locks.db")
    other = _write(tmp_path / "other.jsonl", "o-", 50)
    own = Path(_write(tmp_path / "own.jsonl", "s-", 50)).read_text().splitlines()
    lines = [json.loads(line) for line in own]
    with Ledger.open(db) as ledger:
        ledger.upgrade()  # its connection stays open: in WAL mode, a shared lock on the file
        ledger.active_policy()  # checks the file, then reads
        subprocess.run(
            [sys.executable, "-m", "socialcredit", "ingest", other, "--db", db],
            check=True,
            capture_output=True,
        )  # opens, writes and closes its last connection to the file
        assert ledger.ingest_entries(lines, now=int(time.time())).accepted == 50
        # another process sees all of it, finished, while this one is still open
        seen = subprocess.run(
            [sys.executable, "-c", COUNT, db], check=True, capture_output=True, text=True
        )
        assert json.loads(seen.stdout) == [100, 0], seen.stderr


COUNT = (
    "import json, sqlite3, sys; conn = sqlite3.connect(sys.argv[1]); print(json.dumps(["
    "conn.execute('SELECT count(*) FROM entries').fetchone()[0], "
    "conn.execute('SELECT count(*) FROM ingest_batches WHERE finished_at IS NULL')"
    ".fetchone()[0]]))"
)


def test_an_ingest_waits_for_another_writer_longer_than_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After each chunk's commit another connection takes the write lock and holds it for
    # far longer than SQLite's busy timeout (made 20 ms here, 10 s in use): the ingest's
    # next chunk and its closing count wait for it instead of failing "database is locked"
    # (what made concurrent ingests on a loaded machine fail now and then).
    from sqlalchemy import event

    from socialcredit.ledger import Ledger, parsing
    from socialcredit.ledger.database import open_engine

    monkeypatch.setattr(parsing, "CHUNK", 40)
    path = tmp_path / "ledger.db"
    with Ledger.open(str(path)) as ledger:
        ledger.upgrade()
    engine = open_engine(str(path))
    event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout=20"))
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holds = []

    def hold_the_lock(_lines: int) -> None:
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.4, other.execute, ("COMMIT",))
        release.start()
        holds.append(release)

    entries = [
        {
            "id": f"e{i}",
            "source": "court",
            "subject": f"p{i % 7}",
            "type": "fine",
            "occurred_at": "2025-01-01T00:00:00Z",
        }
        for i in range(100)
    ]
    with Ledger(engine) as ledger:
        result = ledger.ingest_entries(entries, now=1_767_225_600, progress=hold_the_lock)
    for release in holds:
        release.join()
    other.close()
    assert len(holds) == 3  # three chunks, each followed by a lock held 0.4 s
    assert (result.accepted, result.rejected) == (100, 0)
    check = sqlite3.connect(path)
    assert check.execute("SELECT COUNT(*) FROM entries").fetchone() == (100,)
    assert check.execute("SELECT lines, accepted FROM ingest_batches").fetchall() == [(100, 100)]
    assert check.execute("SELECT finished_at IS NOT NULL FROM ingest_batches").fetchone() == (1,)
    check.close()
