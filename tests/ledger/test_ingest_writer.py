"""The SQLite ingest writer's own settings (issue 6, item 11): its write-ahead log stays
bounded however much it writes, its larger page cache is its own while it writes, and the
pipes from the parsing processes carry chunks larger than themselves intact."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from socialcredit.ledger import Ledger, parsing, workers, writing
from socialcredit.ledger import store as store_module

NOW = 1_790_000_000


def _records(path: Path, n: int) -> None:
    pad = "x" * 200  # rows of ~300 bytes: a few hundred lines fill many pages
    with path.open("w") as fh:
        for i in range(n):
            line = {
                "id": f"r{i}",
                "source": "court",
                "subject": f"p{i % 997}",
                "type": "fine",
                "occurred_at": "2025-01-01T00:00:00Z",
                "evidence": pad,
            }
            fh.write(json.dumps(line) + "\n")


def _wal_size(db: Path) -> int:
    wal = Path(f"{db}-wal")
    return wal.stat().st_size if wal.exists() else 0


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("restarts", [True, False])
def test_the_write_ahead_log_stays_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool, restarts: bool
) -> None:
    """With no background checkpoint at all (the worst case: one that never catches up),
    the writer's RESTART between chunks keeps the log file near its limit; without it the
    log would hold everything written (the control case, ``restarts`` False)."""
    path = tmp_path / "in.jsonl"
    _records(path, 6000)
    limit = 256 * 1024
    monkeypatch.setattr(parsing, "CHUNK", 300)
    monkeypatch.setattr(writing, "WAL_RESTART_BYTES", limit)
    monkeypatch.setattr(store_module, "PARALLEL_FROM_BYTES", 0 if parallel else 10**12)
    monkeypatch.setattr(writing.Checkpointer, "start", lambda self: None)
    if not restarts:
        monkeypatch.setattr(writing.Checkpointer, "bound", lambda self, conn: None)
    db = tmp_path / "l.db"
    sizes: list[int] = []
    with Ledger.open(str(db)) as ledger:
        ledger.upgrade()
        result = ledger.ingest_file(
            str(path), now=NOW, progress=lambda _: sizes.append(_wal_size(db))
        )
        assert result.accepted == 6000 and result.rejected == 0
        assert len(sizes) == 20  # one sample after each chunk
        # the largest chunk's share of the log (a chunk's pages, written once each)
        chunk_bytes = max(b - a for a, b in zip([0, *sizes], sizes, strict=False) if b > a)
        if restarts:
            assert max(sizes) <= limit + 2 * chunk_bytes
            assert max(sizes) < path.stat().st_size  # far less than what was written
        else:
            assert max(sizes) > path.stat().st_size  # the log kept everything
        assert sum(1 for _ in ledger.iter_entries()) == 6000


def _pragmas(conn: Any) -> tuple[int, int]:
    cache = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
    autocheckpoint = int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())
    return cache, autocheckpoint


def test_the_writer_has_a_larger_cache_while_it_writes_and_gives_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "in.jsonl"
    _records(path, 1000)
    monkeypatch.setattr(parsing, "CHUNK", 300)
    seen: list[tuple[int, int]] = []
    write_chunk = writing._Writer._write_chunk

    def spying(self: Any, conn: Any, chunk: Any) -> None:
        seen.append(_pragmas(conn))
        write_chunk(self, conn, chunk)

    monkeypatch.setattr(writing._Writer, "_write_chunk", spying)
    with Ledger.open(str(tmp_path / "l.db")) as ledger:
        ledger.upgrade()
        engine = ledger.engine
        with engine.connect() as conn:
            before = _pragmas(conn)
        assert before == (-256 * 1024, 1000)
        ledger.ingest_file(str(path), now=NOW)
        assert seen and set(seen) == {(-writing.writer_cache_kib(), 0)}
        with engine.connect() as conn:  # the pool's one connection, the writer's
            assert _pragmas(conn) == before


def test_the_writer_cache_is_bounded_by_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    gib = 1024**3
    for memory, kib in ((24 * gib, 1024**2), (4 * gib, 512 * 1024), (gib, 256 * 1024)):
        monkeypatch.setattr(
            os, "sysconf", lambda name, m=memory: 4096 if name == "SC_PAGE_SIZE" else m // 4096
        )
        assert writing.writer_cache_kib() == kib


def test_a_parsing_pipe_holds_a_mebibyte_and_chunks_larger_cross_intact() -> None:
    import fcntl
    import multiprocessing as mp

    receiver, sender = mp.get_context("fork").Pipe(duplex=False)
    try:
        workers._widen(receiver)
        assert fcntl.fcntl(receiver.fileno(), fcntl.F_GETPIPE_SZ) == workers.PIPE_BYTES
        # a chunk of several pipes' worth
        rows = [
            ("court", f"r{i}", 0, f"p{i}", "fine", i, None, None, "x" * 50, None, i, i)
            for i in range(40_000)
        ]
        chunk = parsing.PreparedChunk(rows=rows, lines=len(rows))
        wire = b"C" + workers._to_wire(chunk)
        assert len(wire) > 2 * workers.PIPE_BYTES
        child = mp.get_context("fork").Process(target=sender.send_bytes, args=(wire,))
        child.start()
        got = receiver.recv_bytes()
        child.join()
        assert workers._from_wire(memoryview(got)[1:]) == chunk
    finally:
        receiver.close()
        sender.close()
