"""The demo records when it was really loaded (issue 6, item 6): its policy activation and
its batch carry the real clock's time, its entries their own (simulated) recorded_at, so an
answer about a time between the simulated period's end and the load says that it counts
history loaded later; the report says so once."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

from socialcredit.demo import DemoError, print_report, run_demo
from socialcredit.ledger import Ledger
from socialcredit.sim.population import PopulationSpec
from socialcredit.timeutil import parse_timestamp, to_iso
from tests.cli.conftest import call

END = PopulationSpec().end  # the simulated period's end (2026-11-01)
LOADED = parse_timestamp("2026-11-20T12:34:56Z")  # the controlled "real" clock


def test_the_demo_records_the_real_load_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = tmp_path / "demo"
    with Progress(disable=True) as progress:
        report = run_demo(where, 40, 3, None, progress, clock=lambda: LOADED)
    db = str(where / "demo.db")
    with sqlite3.connect(db) as conn:
        batches = conn.execute("SELECT started_at, backfill FROM ingest_batches").fetchall()
        latest = conn.execute("SELECT MAX(recorded_at) FROM entries").fetchone()[0]
    conn.close()
    assert batches == [(LOADED, 1)]
    assert latest <= END  # the entries keep their own recorded_at (backfill)
    with Ledger.open(db) as ledger:
        [pv] = ledger.policy_history()
        subject = ledger.subject_names("person")[0]  # every person has entries (a birth date)
    assert (pv.recorded_at, pv.backfill, pv.activated_at) == (LOADED, True, PopulationSpec().start)

    # the report: about END, before the load; the note once, naming the load time
    assert report.at == END and report.note is not None
    assert f"loaded on {to_iso(LOADED)}" in report.note
    console = Console(file=io.StringIO(), width=200)
    print_report(report, console)
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert printed.count("history loaded later") == 1
    assert not any(" now" in ex.text for _, ex in report.examples)

    code, out, err = call(capsys, "policy", "history", "--db", db)
    assert code == 0 and to_iso(LOADED) in out, err
    # between the simulated end and the load, an answer counts history loaded later
    code, out, err = call(capsys, "check", subject, "air_travel", "--db", db, "--at", "2026-11-10")
    assert code == 0, err
    assert f"backfill batch 1, loaded on {to_iso(LOADED)}" in out
    code, out, err = call(capsys, "check", subject, "air_travel", "--db", db, "--at", "2026-11-21")
    assert code == 0 and "history loaded later" not in out, err


def test_a_clock_before_the_simulated_end_is_refused(tmp_path: Path) -> None:
    with Progress(disable=True) as progress, pytest.raises(DemoError, match="ledger's future"):
        run_demo(tmp_path / "d", 10, 1, None, progress, clock=lambda: END - 1)
    assert not (tmp_path / "d").exists()
