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
    [queued] = json.loads(out)["disputes"]
    assert (queued["record"], queued["stage"], queued["due_date"]) == (
        "court/d1",
        "review",
        "2025-03-07",
    )
    code, out, _ = call(capsys, "disputes", "list", "--db", db)
    # the dispute's entry is named as such: "by subject/review:…" read as who filed it
    assert out == (
        "1 open dispute on 2025-02-20T00:00:00Z under appeals-test@1 (showing 1-1)\n"
        "due 2025-03-07 review of record court/d1 (debt) about P1, filed 2025-02-20 "
        "(2025-02-20T00:00:00Z, entry subject/review:court/d1): I paid\n"
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


def test_disputes_list_pages_like_subjects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # three debts received on 2025-02-03, disputed on 2025-02-10, -11 and -12: each review
    # is due 15 days later (2025-02-25, -26, -27), the queue in that order
    path = str(tmp_path / "three.db")
    with sqlite_ledger(tmp_path / "three.db") as ledger:
        ingest(
            ledger,
            [record(f"d{i}", "court", f"P{i}", "debt", "2025-02-01") for i in (1, 2, 3)],
            "2025-02-03",
        )
    for i in (1, 2, 3):
        at(monkeypatch, f"2025-02-1{i - 1}")
        args = ("disputes", "file", f"P{i}", "court", f"d{i}", "--reason", "paid", "--db", path)
        assert call(capsys, *args)[0] == 0
    at(monkeypatch, "2025-02-20")

    def listed(*args: str) -> tuple[str, list[str]]:
        code, out, err = call(capsys, "disputes", "list", "--db", path, *args)
        assert code == 0, err
        head, *rows = out.splitlines()
        return head, [row.split()[1] for row in rows]

    head, rows = listed("--limit", "2")
    assert head == "3 open disputes on 2025-02-20T00:00:00Z under appeals-test@1 (showing 1-2)"
    assert rows == ["2025-02-25", "2025-02-26"]
    assert listed("--offset", "2") == (
        "3 open disputes on 2025-02-20T00:00:00Z under appeals-test@1 (showing 3-3)",
        ["2025-02-27"],
    )
    assert listed("--limit", "0")[1] == ["2025-02-25", "2025-02-26", "2025-02-27"]
    assert listed("--offset", "5")[0].endswith("(showing none)")
    code, out, _ = call(
        capsys, "disputes", "list", "--db", path, "--json", "--limit", "1", "--offset", "1"
    )
    assert code == 0
    data = json.loads(out)
    assert (data["matching"], data["offset"], data["limit"]) == (3, 1, 1)
    assert [d["due_date"] for d in data["disputes"]] == ["2025-02-26"]
    # a negative limit is refused as subjects refuses it
    bad = call(capsys, "disputes", "list", "--db", path, "--limit", "-1")
    same = call(capsys, "subjects", "--db", path, "--limit", "-1")
    assert bad[0] == same[0] == 2
    assert bad[2].replace("disputes list", "subjects") == same[2]


def test_the_queue_about_the_past_says_it_counts_history_loaded_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a debt loaded on 2025-03-01 as history (recorded 2025-02-03) and disputed in it on
    # 2025-02-10: the queue as of 2025-02-20 holds that dispute, which the ledger did not
    # have then; the queue said so nowhere
    path = tmp_path / "history.db"
    with sqlite_ledger(path) as ledger:
        ingest(ledger, [record("d1", "court", "P1", "debt", "2025-02-01")], "2025-02-03")
    dispute = {
        "kind": "dispute", "id": "x1", "source": "subject", "target_source": "court",
        "target_id": "d1", "occurred_at": "2025-02-10", "recorded_at": "2025-02-10",
        "reason": "paid",
    }  # fmt: skip
    data = tmp_path / "history.jsonl"
    data.write_text(json.dumps(dispute) + "\n")
    at(monkeypatch, "2025-03-01")
    code, out, err = call(capsys, "ingest", str(data), "--db", str(path), "--backfill")
    assert code == 0, err
    code, out, _ = call(capsys, "disputes", "list", "--db", str(path), "--at", "2025-02-20")
    assert code == 0
    first, second, *_ = out.splitlines()
    assert first.startswith(
        "Note: this answer about 2025-02-20T00:00:00Z counts history loaded later: 1 entry of "
        "backfill batch "
    )
    assert second == "1 open dispute on 2025-02-20T00:00:00Z under appeals-test@1 (showing 1-1)"
    code, out, _ = call(
        capsys, "disputes", "list", "--db", str(path), "--at", "2025-02-20", "--json"
    )
    answer = json.loads(out)
    assert answer["policy_version"] == "appeals-test@1"
    assert [b["entries"] for b in answer["backfilled"] if "batch" in b] == [1]
    # about now, nothing was loaded later
    code, out, _ = call(capsys, "disputes", "list", "--db", str(path))
    assert not out.startswith("Note")


def test_the_queue_says_when_a_dispute_was_filed_in_the_date_its_due_date_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under a policy on UTC+8, a dispute filed at 16:15 UTC on 24 September was filed on
    25 September there; the due date (30 days) is that place's date too, so the queue says
    both in it (and the instant in UTC), never a UTC date beside a local one."""
    from socialcredit.ledger import IngestRules, Ledger
    from socialcredit.policy import parse_policy
    from tests.appeals_policy import POLICY

    body = POLICY.replace("meta: {", 'calendar: {utc_offset: "+08:00"}\nmeta: {', 1)
    parsed = parse_policy(body, "appeals-plus8.yaml")
    path = tmp_path / "plus8.db"
    with Ledger.open(str(path)) as ledger:
        ledger.upgrade()
        ledger.activate_policy(
            parsed.text,
            parsed.policy.policy,
            parsed.policy.version,
            parsed.content_hash,
            ts("2025-01-01"),
            now=ts("2025-01-01"),
        )
        result = ledger.ingest_entries(
            [record("d1", "court", "P1", "debt", "2025-09-01")],
            rules=IngestRules.from_policy(parsed.policy),
            now=ts("2025-09-02"),
        )
        assert result.accepted == 1
    db = str(path)
    at(monkeypatch, "2025-09-24T16:15:00Z")
    code, _, err = call(
        capsys, "disputes", "file", "P1", "court", "d1", "--reason", "paid", "--db", db
    )
    assert code == 0, err
    code, out, _ = call(capsys, "disputes", "list", "--db", db)
    [line] = [x for x in out.splitlines() if x.startswith("due ")]
    assert line.startswith("due 2025-10-10 review of record court/d1"), line
    assert "filed 2025-09-25 (2025-09-24T16:15:00Z, entry subject/review:court/d1)" in line
