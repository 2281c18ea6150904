"""A stored policy body is checked against its content hash whenever it is read: a body
edited in the database (a -50 made -500, the append-only trigger disabled first) is refused
by every command that reads it, naming the version, and nothing is scored under it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from socialcredit.cli import run
from socialcredit.ledger import Ledger
from socialcredit.ledger.policies import PolicyIntegrityError
from socialcredit.policy import load_policy
from socialcredit.timeutil import parse_timestamp

ROOT = Path(__file__).resolve().parents[2]
LOADED = load_policy(ROOT / "examples" / "policies" / "china-scs.yaml")
NOW = parse_timestamp("2026-01-01")
ALTERED = re.escape(
    f"policy version 1 ({LOADED.policy.policy} {LOADED.policy.version}) has been altered in "
    f"the database: its body no longer matches its content hash sha256:{LOADED.content_hash}; "
    "refusing to use it"
)


def _activate(ledger: Ledger) -> None:
    ledger.activate_policy(
        LOADED.text,
        LOADED.policy.policy,
        LOADED.policy.version,
        LOADED.content_hash,
        NOW,
        backfill=True,
    )
    ledger.ingest_entries(
        [
            {
                "id": "1",
                "source": "court",
                "subject": "alice",
                "type": "court_judgment_unfulfilled",
                "occurred_at": "2025-06-01",
            }
        ],
        now=NOW,
    )


def _alter(ledger: Ledger) -> None:
    """Edit the stored body behind the trigger's back, as someone with DDL rights could."""
    assert "points: -50 " in LOADED.text
    with ledger.engine.begin() as conn:
        if ledger.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER policies_no_update")
        else:
            conn.exec_driver_sql("ALTER TABLE policies DISABLE TRIGGER policies_append_only")
        conn.exec_driver_sql(
            "UPDATE policies SET body = replace(body, 'points: -50 ', 'points: -500 ')"
        )
        if not ledger.is_sqlite:
            conn.exec_driver_sql("ALTER TABLE policies ENABLE TRIGGER policies_append_only")


def test_an_altered_body_is_refused_when_read(ledger: Ledger) -> None:
    _activate(ledger)
    assert [pv.content_hash for pv in ledger.policy_history()] == [LOADED.content_hash]
    _alter(ledger)
    fresh = Ledger.open(ledger.url if not ledger.is_sqlite else ledger.engine.url.database)
    try:
        for read in (fresh.policy_history, fresh.active_policy):
            with pytest.raises(PolicyIntegrityError, match=ALTERED):
                read()
    finally:
        fresh.close()


def test_a_body_that_no_longer_reads_as_a_policy_is_refused(sqlite_ledger: Ledger) -> None:
    _activate(sqlite_ledger)
    with sqlite_ledger.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER policies_no_update")
        conn.exec_driver_sql("UPDATE policies SET body = 'policy: [unclosed'")
    with pytest.raises(PolicyIntegrityError, match=r"policy version 1 .* cannot be checked"):
        sqlite_ledger.policy_history()


READS = [
    ["score", "alice"],
    ["check", "alice", "air_travel"],
    ["explain", "alice"],
    ["subjects"],
    ["policy", "show"],
    ["policy", "history"],
    ["export", "standings", "-o", "-"],
]


def test_every_command_refuses_an_altered_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "ledger.db")
    with Ledger.open(db) as ledger:
        ledger.upgrade()
        _activate(ledger)
    for args in READS:  # all fine before
        assert run([*args, "--db", db]) == 0, args
    capsys.readouterr()
    with Ledger.open(db) as ledger:
        _alter(ledger)
    new = tmp_path / "more.jsonl"
    new.write_text('{"id": "2", "source": "court", "subject": "bob", "type": "x"}\n')
    for args in [*READS, ["ingest", str(new)]]:
        assert run([*args, "--db", db]) == 2, args
        _, err = capsys.readouterr()
        assert re.search(ALTERED, err.replace("\n", " ")), (args, err)
        assert "Traceback" not in err


def test_a_policy_stored_before_calendar_spans_still_reads_and_reactivates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A body activated when a year was 365 days carries the hash it had then (its P2Y as
    63,072,000 seconds): it is the same unaltered body, read under today's meaning, and
    activating the same file again is the same policy, not a changed one."""
    from socialcredit.policy.loader import legacy_content_hash

    old_hash = legacy_content_hash(LOADED.policy)
    assert old_hash != LOADED.content_hash  # the seed policy writes years
    db = str(tmp_path / "ledger.db")
    with Ledger.open(db) as ledger:
        ledger.upgrade()
        ledger.activate_policy(
            LOADED.text, LOADED.policy.policy, LOADED.policy.version, old_hash, NOW, backfill=True
        )
        (pv,) = ledger.policy_history()
        assert pv.content_hash == old_hash
    assert run(["policy", "show", "--db", db]) == 0
    assert (
        run(
            [
                "policy",
                "activate",
                str(ROOT / "examples/policies/china-scs.yaml"),
                "--db",
                db,
                "--override",
                "the seed system, linted: errors expected",
            ]
        )
        == 0
    )
    capsys.readouterr()
    with Ledger.open(db) as ledger:
        assert [v.content_hash for v in ledger.policy_history()] == [old_hash]
