"""Notices written in the background (``socialcredit.notifier``): after entries arrive (own
measures and those reaching a relative), when a publicity period ends or a dispute deadline
passes with no new entry, and again when a new policy version changes a measure; once per
event whatever runs, on SQLite and PostgreSQL. Dates from tests/appeals_policy.py."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from socialcredit.appeals import file_dispute
from socialcredit.engine import Engine
from socialcredit.ledger import Ledger
from socialcredit.notifier import Notifier
from tests.api.conftest import Clock
from tests.appeals_policy import PARSED, child, ingest, record, ts, with_debtor
from tests.ledger.conftest import ledger, pg_ledger, pg_url, sqlite_ledger  # noqa: F401


@pytest.fixture
def told(ledger: Ledger) -> Ledger:  # noqa: F811
    """A debtor P1 and their child C1 (received 2025-02-03)."""
    return with_debtor(ledger)


def notifier(led: Ledger, clock: Clock) -> Notifier:
    """A notifier over ``ledger`` at ``clock`` (not started: the test ticks it)."""
    return Notifier(lambda: Engine.open(led, clock), clock)


def kinds(led: Ledger) -> list[tuple[str, str, str]]:
    """Every notice stored: (subject, kind, reason code), in the order written."""
    with led.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT subject, kind, reason_code FROM notices ORDER BY id"))
        return [(str(a), str(b), str(c)) for a, b, c in rows]


def test_the_first_look_tells_everyone_once_whatever_runs(told: Ledger) -> None:
    clock = Clock(ts("2025-02-10"))
    one = notifier(told, clock)
    assert one.tick() == 2
    assert one.tick() == 0
    # another process's notifier finds every event told
    assert notifier(told, clock).tick() == 0
    assert sorted(kinds(told)) == [
        ("C1", "measure_started", "DEBTOR"),
        ("P1", "measure_started", "DEBTOR"),
    ]


def test_entries_that_start_a_measure_are_told_to_the_subject_and_relatives(
    told: Ledger,
) -> None:
    clock = Clock(ts("2025-02-10"))
    n = notifier(told, clock)
    n.tick()
    ingest(told, [record("d2", "court", "P2", "debt", "2025-02-09")], "2025-02-10")
    clock.now = ts("2025-02-11")
    assert n.tick() == 1
    # a relation alone: the measure of an existing debtor now reaches a new child
    ingest(told, [child("c3", "C3", "P2")], "2025-02-11")
    assert n.tick() == 1
    # a record about nobody's measure tells nobody
    ingest(told, [record("v2", "civic", "P2", "volunteering", "2025-02-10")], "2025-02-11")
    assert n.tick() == 0
    assert kinds(told)[2:] == [
        ("P2", "measure_started", "DEBTOR"),
        ("C3", "measure_started", "DEBTOR"),
    ]


def test_the_end_of_a_publicity_period_is_told_without_a_new_entry(
    told: Ledger,
) -> None:
    clock = Clock(ts("2025-02-10"))
    n = notifier(told, clock)
    n.tick()
    ingest(told, [record("r1", "railway", "R1", "rail_misconduct", "2025-02-10")], "2025-02-10")
    assert n.tick() == 1
    assert kinds(told)[-1] == ("R1", "measure_published", "RAIL-CAT1")
    clock.now = ts("2025-02-15")  # still published
    assert n.tick() == 0
    clock.now = ts("2025-02-20")  # seven days' notice over: in force
    assert n.tick() == 1
    assert kinds(told)[-1] == ("R1", "measure_started", "RAIL-CAT1")
    assert n.tick() == 0


def test_a_missed_dispute_deadline_is_told_without_a_new_entry(
    told: Ledger,
) -> None:
    clock = Clock(ts("2025-02-10"))
    n = notifier(told, clock)
    ingest(told, [record("a1", "bank", "A1", "card_arrears", "2025-02-01")], "2025-02-03")
    n.tick()
    file_dispute(told, "A1", "bank", "a1", "never had that card", ts("2025-02-10"))
    assert n.tick() == 0  # a dispute within its deadline is nothing to tell yet
    clock.now = ts("2025-03-12")  # 30 days for the review passed on 2025-03-12 00:00
    assert n.tick() == 1
    assert kinds(told)[-1][:2] == ("A1", "dispute_overdue")
    with told.engine.connect() as conn:
        body = conn.execute(sa.text("SELECT body FROM notices ORDER BY id DESC")).scalars().first()
    assert "It does not count from 2025-03-12 on." in str(body)


def test_a_new_policy_version_tells_the_measures_in_force_again_once(told: Ledger) -> None:
    clock = Clock(ts("2025-02-10"))
    n = notifier(told, clock)
    assert n.tick() == 2
    v2 = PARSED.text.replace('version: "1"', 'version: "2"', 1)
    activate_text(told, v2, "2025-02-20")  # activated now, in force from 2025-02-20
    assert n.tick() == 0  # not in force yet
    clock.now = ts("2025-02-21")
    assert n.tick() == 2
    with told.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT subject, policy_version, title FROM notices ORDER BY id")
        ).all()
    assert [(s, v) for s, v, _ in rows[2:]] == [
        ("C1", "appeals-test@2"),
        ("P1", "appeals-test@2"),
    ]
    assert all("when policy appeals-test@2 came into force" in t for _, _, t in rows[2:])
    assert n.tick() == 0
    assert notifier(told, clock).tick() == 0  # once, whatever runs


def activate_text(led: Ledger, text: str, at: str) -> None:
    """Activate the policy ``text`` from ``at`` (activated on 2025-02-10)."""
    from socialcredit.policy import parse_policy

    parsed = parse_policy(text, "appeals-test.yaml")
    led.activate_policy(
        parsed.text,
        parsed.policy.policy,
        parsed.policy.version,
        parsed.content_hash,
        ts(at),
        now=ts("2025-02-10"),
    )


def test_of_two_notifiers_with_the_lease_one_looks_and_the_other_takes_over(
    told: Ledger,
) -> None:
    from socialcredit.lease import Lease

    clock = Clock(ts("2025-02-10"))
    one = Notifier(lambda: Engine.open(told, clock), clock, lease=Lease(told, "notifier"))
    two = Notifier(lambda: Engine.open(told, clock), clock, lease=Lease(told, "notifier"))
    assert one.tick() == 2
    for _ in range(3):
        assert two.tick() == 0
        one.tick()
    assert (one.looks, two.looks) == (4, 0)  # the other never read the ledger
    # the holder goes (here: stops; a dead process's lock goes with it): the other takes
    # over at its next look, with a look at everyone (nothing new to tell)
    assert one.stop()
    ingest(told, [record("d2", "court", "P2", "debt", "2025-02-09")], "2025-02-10")
    assert two.tick() == 1
    assert two.looks == 1
    assert one.tick() == 0 and one.looks == 4  # taken: the first one now waits its turn
    assert sorted(kinds(told))[-1] == ("P2", "measure_started", "DEBTOR")


@pytest.mark.postgres
def test_an_entry_whose_lower_seq_commits_after_the_first_look_is_told(
    pg_ledger: Ledger,  # noqa: F811
) -> None:
    from tests.enforcement_index.test_feed import held_ingest

    led = with_debtor(pg_ledger)
    clock = Clock(ts("2025-02-10"))
    n = notifier(led, clock)
    with held_ingest(led, [record("slow1", "court", "PA", "debt", "2025-02-09")], "2025-02-10"):
        ingest(led, [record("b1", "court", "PB", "debt", "2025-02-09")], "2025-02-10")
        assert n.tick() == 3  # P1, C1 and PB: PA's entry is not committed yet
    clock.now = ts("2025-02-11")
    assert n.tick() == 1
    assert kinds(led)[-1] == ("PA", "measure_started", "DEBTOR")
