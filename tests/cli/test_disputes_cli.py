"""``socialcredit notices`` and ``socialcredit disputes list|file|decide``: thin shells over
``socialcredit.notices`` and ``socialcredit.appeals``; the clock is the CLI's (``now``),
set by each test. Dates from tests/appeals_policy.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from socialcredit.cli import common
from tests.appeals_policy import child, ingest, record, sqlite_ledger, ts
from tests.cli.conftest import call


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "due.db"
    with sqlite_ledger(path) as ledger:
        ingest(
            ledger,
            [record("d1", "court", "P1", "debt", "2025-02-01"), child("c1", "C1", "P1")],
            "2025-02-03",
        )
    return str(path)


def at(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    monkeypatch.setattr(common, "now", lambda: ts(when))


def test_notices_dispute_and_decision(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    at(monkeypatch, "2025-02-10")
    code, out, _ = call(capsys, "notices", "--db", db)
    assert code == 0
    assert out == (
        "2 notice(s) written for 2 subject(s) looked at on 2025-02-10T00:00:00Z; 0 event(s) "
        "had been told already\n"
    )
    code, out, _ = call(capsys, "notices", "P1", "--db", db, "--dispute-url", "https://x/d")
    assert code == 0
    # C1 was looked at first (subjects in order): P1's notice is the second
    assert out.startswith(
        "#2 2025-02-10T00:00:00Z measure_started: Since 2025-02-03, you cannot board flights "
        "(reason code DEBTOR).\n    The measure (DEBTOR) blocks flights.\n"
    )
    assert (
        "    To dispute record court/d1 (id d1 from source court), file a dispute at https://x/d"
        not in out
    )
    code, out, _ = call(capsys, "notices", "C1", "--db", db, "--json")
    [notice] = json.loads(out)
    assert (notice["subject"], notice["kind"], notice["event_at"]) == (
        "C1",
        "measure_started",
        "2025-02-03T00:00:00Z",
    )

    at(monkeypatch, "2025-02-20")
    code, out, err = call(
        capsys, "disputes", "file", "C1", "court", "d1", "--reason", "x", "--db", db
    )
    assert (code, out) == (2, "")
    assert err == "error: 'C1' has no record court/d1 (as of 2025-02-20T00:00:00Z)\n"
    code, out, _ = call(
        capsys, "disputes", "file", "P1", "court", "d1", "--reason", "I paid", "--db", db
    )
    assert (code, out) == (
        0,
        "Filed: review of record court/d1 (subject/review:court/d1); it must be decided by "
        "2025-03-07.\n",
    )
    code, out, _ = call(capsys, "disputes", "list", "--db", db, "--json")
    [queued] = json.loads(out)
    assert (queued["record"], queued["stage"], queued["due_date"]) == (
        "court/d1",
        "review",
        "2025-03-07",
    )
    code, out, _ = call(capsys, "disputes", "list", "--db", db)
    assert out == (
        "due 2025-03-07 review of record court/d1 (debt) about P1, filed 2025-02-20T00:00:00Z "
        "by subject/review:court/d1: I paid\n"
    )

    at(monkeypatch, "2025-03-01")
    args = ["disputes", "decide", "court", "d1", "--reviewer", "Li Wei", "--db", db]
    code, _, err = call(capsys, *args, "--outcome", "uphold", "--reason", " ")
    assert code == 2 and "reason for the decision is required" in err
    code, out, _ = call(capsys, *args, "--outcome", "annul", "--reason", "paid in full")
    assert (code, out) == (
        0,
        "Decided: the review of record court/d1: annul by Li Wei "
        "(review/review-decision:court/d1).\n",
    )
    code, out, _ = call(capsys, "disputes", "list", "--db", db)
    assert out == "No open disputes on 2025-03-01T00:00:00Z.\n"
    code, out, _ = call(capsys, "check", "P1", "air_travel", "--db", db, "--at", "2025-03-01")
    assert out.startswith("ALLOW P1 air_travel")
    # nothing new to tell; the old notices stay
    code, out, _ = call(capsys, "notices", "--db", db)
    assert "0 notice(s) written" in out
    code, out, err = call(capsys, "notices", "nobody", "--db", db)
    assert code == 2 and "'nobody'" in err
