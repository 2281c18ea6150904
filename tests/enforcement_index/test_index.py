"""The index's promises one by one: answers by hand, unknown services and subjects, the
switch to a new policy at its activation time, catching up through relations, the feed
asking again for numbers committed late, and the background refresher."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from socialcredit.enforcement_index import EnforcementIndex, Refresher
from socialcredit.enforcement_index.feed import ChangeFeed
from socialcredit.engine import Engine, UnknownServiceError
from socialcredit.errors import RequestAttributeError
from socialcredit.ledger import IngestRules, Ledger
from socialcredit.policy import parse_policy
from socialcredit.timeutil import DAY, parse_timestamp
from tests.enforcement_index.conftest import pg_ledger_in_new_schema, sqlite_ledger_from
from tests.enforcement_index.policies import EVERY_PERIOD

T0 = parse_timestamp("2025-01-01")
NO_DECAY = EVERY_PERIOD.replace("    decay: linear\n", "")
# version 2: debtors may fly (no_flights gone), everything else the same
V2 = NO_DECAY.replace('version: "1"', 'version: "2"').replace(
    "  no_flights:\n    when: {list: debtors}\n    service: air_travel\n    effect: deny\n"
    "    reach: [{relation: child_of}]\n    reason_code: DEBTOR\n",
    "",
)
assert "no_flights" not in V2


def activate(ledger: Ledger, body: str, at: int, now: int) -> None:
    loaded = parse_policy(body, "index-test.yaml")
    ledger.activate_policy(
        loaded.text, loaded.policy.policy, loaded.policy.version, loaded.content_hash, at, now=now
    )


def debt(i: str, subject: str, day: int) -> dict[str, Any]:
    return {
        "id": i,
        "source": "court",
        "subject": subject,
        "subject_kind": "person",
        "type": "debt",
        "occurred_at": T0 + day * DAY,
    }


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        with sqlite_ledger_from(sqlite_template, tmp_path) as found:
            yield found
    else:
        with pg_ledger_in_new_schema(request.getfixturevalue("pg_url")) as found:
            yield found


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def setup(ledger: Ledger, entries: list[dict[str, Any]]) -> tuple[Clock, Engine, IngestRules]:
    clock = Clock(T0)
    activate(ledger, NO_DECAY, T0, T0)
    rules = IngestRules.from_policy(parse_policy(NO_DECAY, "x").policy)
    clock.now = T0 + DAY
    ledger.ingest_entries(entries, rules=rules, now=clock.now)
    return clock, Engine.open(ledger, clock), rules


def test_answers_worked_out_by_hand(ledger: Ledger) -> None:
    # a debt of 1 January 2025 (its record counts 400 days) lists P1 from day 1, when the
    # ledger learns it (a debtor: no flights, no first class on D trains, no school fees
    # paid by the debtor for at most 200 days); P2 is P1's child
    clock, engine, rules = setup(
        ledger,
        [
            debt("d1", "P1", 0),
            {
                "kind": "relation",
                "id": "rel1",
                "source": "registry",
                "subject": "P2",
                "subject_kind": "person",
                "relation": "child_of",
                "related_subject": "P1",
                "valid_from": T0 - 100 * DAY,
            },
        ],
    )
    index = EnforcementIndex.build(engine)
    at = T0 + 2 * DAY
    a = index.check("P1", "air_travel", at)
    assert (a.decision, a.reasons, a.eligible_again_on, a.indefinite) == (
        "deny",
        ("DEBTOR",),
        "2026-02-05",
        False,
    )
    assert a.holds_until == T0 + 400 * DAY and a.known and not a.from_engine
    assert a.policy_version == "index-test@1"
    # through the relation, on the child
    assert index.check("P2", "air_travel", at).reasons == ("DEBTOR",)
    # limited to some requests: the attribute decides, a missing one is an error
    # (a ticket's price too: a measure on train tickets, the parent, is limited by price)
    first, second = {"class": "first", "price": 50}, {"class": "second", "price": 50}
    assert index.check("P1", "d_train_seats", at, first).decision == "deny"
    assert index.check("P1", "d_train_seats", at, second).decision == "allow"
    with pytest.raises(RequestAttributeError, match="price"):
        index.check("P1", "d_train_seats", at, {"class": "first"})
    school = index.check("P1", "private_school", at, {"payer": "debtor"})
    # the maximum duration: 200 days from the listing (recorded on day 1)
    assert school.eligible_again_on == "2025-07-21"
    assert school.holds_until == T0 + DAY + 200 * DAY
    with pytest.raises(RequestAttributeError, match="payer"):
        index.check("P1", "private_school", at)
    with pytest.raises(RequestAttributeError, match="payer"):
        index.check("nobody", "private_school", at)
    with pytest.raises(UnknownServiceError, match="spaceflight"):
        index.check("P1", "spaceflight", at)
    with pytest.raises(UnknownServiceError):
        index.check("nobody", "spaceflight", at)
    # after the school ban's 200 days, still no flights
    later = T0 + 300 * DAY
    assert index.check("P1", "private_school", later, {"payer": "debtor"}).decision == "allow"
    assert index.check("P1", "air_travel", later).decision == "deny"
    # someone the ledger never heard of, and a clean subject
    nobody = index.check("nobody", "air_travel", at)
    assert (nobody.decision, nobody.known) == ("allow", False)
    # a resolution lifts the listing 3 days after the ledger learns it
    clock.now = T0 + 10 * DAY
    ledger.ingest_entries(
        [
            {
                "kind": "resolve",
                "id": "d1r",
                "source": "court",
                "target_source": "court",
                "target_id": "d1",
                "occurred_at": clock.now,
            }
        ],
        rules=rules,
        now=clock.now,
    )
    assert index.catch_up() == 1
    now = index.check("P1", "air_travel", clock.now)
    assert now.decision == "deny" and now.eligible_again_on == "2025-01-14"
    assert now.holds_until == T0 + 13 * DAY
    assert index.check("P1", "air_travel", T0 + 13 * DAY).decision == "allow"
    # the child follows its parent (a subject related to the one touched)
    assert index.check("P2", "air_travel", T0 + 13 * DAY).decision == "allow"
    assert index.check("P2", "air_travel", clock.now).reasons == ("DEBTOR",)
    # a time before what the index knows: the engine answers
    past = index.check("P1", "air_travel", T0 + 5 * DAY)
    assert past.from_engine and past.decision == "deny"


def test_a_new_policy_switches_at_its_activation_time(ledger: Ledger) -> None:
    clock, engine, _ = setup(ledger, [debt("d1", "P1", 0)])
    index = EnforcementIndex.build(engine)
    clock.now = T0 + 2 * DAY
    switch = T0 + 30 * DAY  # activated in advance
    activate(ledger, V2, switch, clock.now)
    index.catch_up()
    assert [p[0] for p in index.policies()] == ["index-test@1", "index-test@2"]
    before = index.check("P1", "air_travel", switch - 1)
    assert (before.decision, before.policy_version) == ("deny", "index-test@1")
    assert before.holds_until == switch  # the policy ends then
    after = index.check("P1", "air_travel", switch)
    assert (after.decision, after.policy_version, after.from_engine) == (
        "allow",
        "index-test@2",
        False,
    )
    fresh = Engine.open(ledger, clock)
    for at in (switch - 1, switch, switch + 5 * DAY):
        assert (
            index.check("P1", "air_travel", at).decision
            == fresh.check("P1", "air_travel", at).decision
        )
    clock.now = switch + 1
    index.refresh()
    assert index.check("P1", "air_travel").policy_version == "index-test@2"


def test_checks_at_a_time_no_policy_covers_are_the_engines(ledger: Ledger) -> None:
    _, engine, _ = setup(ledger, [debt("d1", "P1", 0)])
    index = EnforcementIndex.build(engine)
    with pytest.raises(Exception, match="no policy was in force"):
        index.check("P1", "air_travel", T0 - 10 * DAY)


def test_a_batch_checks_many_subjects_at_once(ledger: Ledger) -> None:
    _, engine, _ = setup(ledger, [debt("d1", "P1", 0), debt("d2", "P3", 0)])
    index = EnforcementIndex.build(engine)
    at = T0 + 2 * DAY
    got = index.check_batch(["P1", "P2", "P3", "nobody"], "air_travel", at)
    assert [a.decision for a in got] == ["deny", "allow", "deny", "allow"]
    assert [a.known for a in got] == [True, False, True, False]
    first = index.check_batch(
        ["P1", "nobody"], "d_train_seats", at, {"class": "first", "price": 50}
    )
    assert [a.decision for a in first] == ["deny", "allow"]
    with pytest.raises(UnknownServiceError):
        index.check_batch(["P1"], "spaceflight", at)


@pytest.mark.postgres
def test_the_feed_asks_again_for_an_entry_committed_after_a_later_one(pg_url: str) -> None:
    with pg_ledger_in_new_schema(pg_url) as ledger:
        ledger.ingest_entries([debt("d0", "P0", 0)], now=T0)
        feed = ChangeFeed(ledger, ledger.high_water().seq)
        insert = sa.text(
            "INSERT INTO entries (source, entry_id, kind, subject_id, type, occurred_at, "
            "recorded_at) VALUES ('court', :id, 0, (SELECT id FROM subjects LIMIT 1), 'debt', "
            ":t, :t) RETURNING seq"
        )
        slow = ledger.engine.connect()
        tx = slow.begin()
        early = slow.execute(insert, {"id": "slow", "t": T0}).scalar_one()
        with ledger.engine.begin() as conn:
            late = conn.execute(insert, {"id": "fast", "t": T0}).scalar_one()
        assert early < late
        assert [c.seq for c in feed.poll()] == [late]  # the earlier number is still open
        tx.commit()
        slow.close()
        assert [c.seq for c in feed.poll()] == [early]  # asked for again, found
        assert feed.poll() == []


def test_the_refresher_keeps_the_index_current(ledger: Ledger) -> None:
    clock, engine, rules = setup(ledger, [debt("d1", "P1", 0)])
    index = EnforcementIndex.build(engine)
    with Refresher(index, interval=0.05):
        clock.now = T0 + 3 * DAY
        ledger.ingest_entries([debt("d9", "P9", 2)], rules=rules, now=clock.now)
        deadline = time.monotonic() + 10
        while index.check("P9", "air_travel", clock.now).decision != "deny":
            assert time.monotonic() < deadline, "the refresher did not catch up"
            time.sleep(0.02)
    assert threading.active_count() >= 1
