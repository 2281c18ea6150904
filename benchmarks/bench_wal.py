"""Large ingests into SQLite: rate, peak write-ahead log and peak memory, at 1x, 3x and 10x
the demo population, each next to a bare ``executemany`` baseline of the same records in
the same run (targets: peak WAL under 1 GB at every size; rate at least the baseline's).

    .venv/bin/python benchmarks/bench_wal.py 1 3 10     # sizes as multiples of the demo
    .venv/bin/python benchmarks/bench_wal.py 20000s     # or as a number of subjects (quick)

Each measurement runs in a process of its own (peak memory is then its own, and its
parsing processes'); a thread samples the WAL file's size and the memory of the process
tree every 50 ms. The baseline inserts the file's records (parsed beforehand, chunk by
chunk, outside the timed part) with SQLite's default automatic checkpoints, as a bare
program would; the ingest checks and stores every line (records, relations,
corrections) as ``socialcredit ingest`` does, with the demo's policy.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from _common import POLICY, SPEC, fresh_db, machine, population_file
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.ledger.parsing import CHUNK
from socialcredit.policy import load_policy


def population(size: str) -> Path:
    """The demo population with ``size`` times its subjects (``"3"``), or with ``size``
    subjects (``"20000s"``), as JSON Lines (made once)."""
    subjects = int(size[:-1]) if size.endswith("s") else SPEC.subjects * int(size)
    return population_file(replace(SPEC, subjects=subjects))


def _tree_rss(pid: int) -> int:
    """Resident memory of ``pid`` and its children, in bytes."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(stat[1]) == pid:
            total += int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
    return total


class Sampler:
    """Peak WAL file size and peak memory of this process tree while running."""

    def __init__(self, db: Path) -> None:
        self.wal = Path(f"{db}-wal")
        self.peak_wal = 0
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        pid = os.getpid()
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                self.peak_wal = max(self.peak_wal, self.wal.stat().st_size)
            self.peak_rss = max(self.peak_rss, _tree_rss(pid))
            self._stop.wait(0.05)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure_ingest(scale: str) -> dict[str, Any]:
    path = population(scale)
    rules = IngestRules.from_policy(load_policy(POLICY).policy)
    db = fresh_db(f"wal-ingest-{scale}.db")
    with Ledger.open(str(db)) as ledger:
        ledger.upgrade()
        with Sampler(db) as sampler:
            start, own, children = time.perf_counter(), _cpu(), _cpu(resource.RUSAGE_CHILDREN)
            result = ledger.ingest_file(str(path), rules=rules, now=SPEC.end, backfill=True)
            seconds, own = time.perf_counter() - start, _cpu() - own
            children = _cpu(resource.RUSAGE_CHILDREN) - children
    assert result.rejected == 0 and result.accepted == result.lines, result.problems[:3]
    records = sum(1 for line in path.open("rb") if b'"kind"' not in line)
    fresh_db(f"wal-ingest-{scale}.db")
    return {
        "lines": result.lines,
        "records": records,
        "seconds": seconds,
        "cpu": own,
        "parsing_cpu": children,
        "peak_wal": sampler.peak_wal,
        "peak_rss": sampler.peak_rss,
    }


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    """CPU seconds of this process (all its threads), or of its children that ended."""
    used = resource.getrusage(who)
    return used.ru_utime + used.ru_stime


def measure_baseline(scale: str) -> dict[str, Any]:
    path = population(scale)
    db = fresh_db(f"wal-baseline-{scale}.db")
    with Ledger.open(str(db)) as ledger:
        ledger.upgrade()
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-262144"):
        conn.execute(f"PRAGMA {pragma}")
    ids: dict[str, int] = {}
    seconds = cpu = 0.0
    rows = 0
    with Sampler(db) as sampler, path.open("rb") as fh:
        while True:
            chunk = []
            for line in fh:
                e = orjson.loads(line)
                if "kind" not in e:
                    sid = ids.setdefault(e["subject"], len(ids) + 1)
                    chunk.append(
                        (e["source"], e["id"], 0, sid, e["type"], 0, 0, e.get("amount"), None)
                    )
                if len(chunk) >= CHUNK:
                    break
            if not chunk:
                break
            start, started_cpu = time.perf_counter(), _cpu()
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO entries (source, entry_id, kind, subject_id, type, occurred_at, "
                "recorded_at, amount, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                chunk,
            )
            conn.execute("COMMIT")
            seconds += time.perf_counter() - start
            cpu += _cpu() - started_cpu
            rows += len(chunk)
    conn.close()
    fresh_db(f"wal-baseline-{scale}.db")
    return {
        "rows": rows,
        "seconds": seconds,
        "cpu": cpu,
        "peak_wal": sampler.peak_wal,
        "peak_rss": sampler.peak_rss,
    }


def _in_process(what: str, scale: str) -> dict[str, Any]:
    here = Path(__file__).resolve()
    out = subprocess.run(
        [sys.executable, str(here), "--one", what, scale],
        check=True,
        stdout=subprocess.PIPE,
        cwd=here.parent,
    ).stdout
    found: dict[str, Any] = json.loads(out.splitlines()[-1])
    return found


def main(scales: list[str]) -> None:
    print(f"machine: {machine()}")
    gb = 1024**3
    for scale in scales:
        population(scale)  # generated before anything is timed
        ingest = _in_process("ingest", scale)
        base = _in_process("baseline", scale)
        rate = ingest["records"] / ingest["seconds"]
        base_rate = base["rows"] / base["seconds"]
        label = f"{scale[:-1]} subjects" if scale.endswith("s") else f"{scale}x"
        # CPU seconds per million records: on an idle machine the writer and the parsing
        # processes run side by side on two cores, so the ingest's rate is bounded by the
        # larger of the writer's CPU and half the total; the baseline's by its own CPU
        writer = ingest["cpu"] / ingest["records"] * 1e6
        whole = (ingest["cpu"] + ingest["parsing_cpu"]) / ingest["records"] * 1e6
        bare = base["cpu"] / base["rows"] * 1e6
        print(
            f"{label}: {ingest['lines']:,} lines ({ingest['records']:,} records) in "
            f"{ingest['seconds']:.1f}s = {ingest['lines'] / ingest['seconds']:,.0f} lines/s, "
            f"{rate:,.0f} records/s; peak WAL {ingest['peak_wal'] / gb:.2f} GB, peak RSS "
            f"{ingest['peak_rss'] / gb:.2f} GB (with its parsing processes); CPU "
            f"{ingest['cpu']:.1f}s writing (with its checkpoint thread), "
            f"{ingest['parsing_cpu']:.1f}s parsing"
        )
        print(
            f"{label} baseline: {base['rows']:,} records by bare executemany in "
            f"{base['seconds']:.1f}s = {base_rate:,.0f} rows/s; peak WAL "
            f"{base['peak_wal'] / gb:.2f} GB, peak RSS {base['peak_rss'] / gb:.2f} GB; CPU "
            f"{base['cpu']:.1f}s; ingest/baseline = {rate / base_rate:.0%}; load average "
            f"{os.getloadavg()[0]:.1f}"
        )
        print(
            f"{label} CPU per million records: writer {writer:.1f}s, writer and parsing "
            f"{whole:.1f}s, baseline {bare:.1f}s; baseline/writer = {bare / writer:.0%}, "
            f"baseline/(half of writer and parsing) = {bare / max(writer, whole / 2):.0%} "
            "(what the ratio comes to on an idle machine)"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        what, scale = sys.argv[2], sys.argv[3]
        measure = measure_ingest if what == "ingest" else measure_baseline
        print(json.dumps(measure(scale)))
    else:
        main(sys.argv[1:] or ["1"])
