"""Shared set-up for the benchmarks: the demo population as a JSON Lines file and a database."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import orjson

from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import load_policy
from socialcredit.sim.population import PopulationSpec, generate

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SOCIALCREDIT_BENCH_DIR", ROOT / "benchmarks" / ".data"))
POLICY = ROOT / "examples" / "policies" / "china-scs.yaml"
SPEC = PopulationSpec()  # 100,000 subjects, two years, seed 2026


def machine() -> str:
    """One line describing where the numbers were taken."""
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def population_file(spec: PopulationSpec = SPEC) -> Path:
    """The population of ``spec`` (the demo's by default) as JSON Lines (generated once,
    then reused)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"population-{spec.subjects}-{spec.seed}.jsonl"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            for entry in generate(spec):
                fh.write(orjson.dumps(entry) + b"\n")
        tmp.rename(path)
    return path


def fresh_db(name: str) -> Path:
    """A path for a new SQLite database, removing any old one."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def demo_db() -> Path:
    """The demo database under china-scs (built once, then reused)."""
    path = DATA / "demo.db"
    if path.exists():
        return path
    source = population_file()
    fresh_db("demo.db")
    loaded = load_policy(POLICY)
    with Ledger.open(str(path)) as ledger:
        ledger.upgrade()
        ledger.activate_policy(
            loaded.text,
            loaded.policy.policy,
            loaded.policy.version,
            loaded.content_hash,
            SPEC.end,
            now=SPEC.end,
        )
        result = ledger.ingest_file(
            str(source), rules=IngestRules.from_policy(loaded.policy), now=SPEC.end
        )
        assert result.rejected == 0, result.problems[:3]
    return path


def timed(fn: object) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start
