"""Statements about the past are made only for the time the policy used was in force.

TEST_POLICY (tests/conftest.py) is activated as v1 on 2026-01-01 (an unpaid debt lists its
subject on ``debtors``; the list is lifted 3 days after the debt is resolved; being listed
denies ``air_travel``) and as v2 on 2026-06-01 (the same, with a 10-day delisting delay).
The clock says 2026-11-25. Every date below follows from those rules by hand.

- wang: debt d1 recorded 2026-02-01, resolved 2026-03-01; debt d2 recorded 2026-05-01,
  resolved 2026-07-01. Under v1 the first ban ran 02-01 → 03-04. Under v2 the bans would run
  02-01 → 03-11 and 05-01 → 07-11; v2 came into force on 06-01, so only 06-01 → 07-11 is
  its to report.
- li: debt d3 recorded 2026-02-01, never resolved: listed and banned since 02-01 under v1;
  under v2 since 06-01, when v2 came into force.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from socialcredit.engine import Engine, PolicyNotInForceError
from socialcredit.ledger import Ledger
from socialcredit.policy import compile_policy, parse_policy
from socialcredit.timeutil import parse_timestamp, to_iso
from tests.conftest import TEST_POLICY
from tests.test_engine_time_travel import activate

V1 = TEST_POLICY
V2 = TEST_POLICY.replace('version: "1"', 'version: "2"').replace(
    "delist_after_resolution: P3D", "delist_after_resolution: P10D"
)
assert V2.count("P10D") == 1


def at(day: str) -> int:
    return parse_timestamp(day)


NOW = at("2026-11-25")


def debt(rid: str, subject: str, day: str) -> dict[str, object]:
    return {
        "id": rid,
        "source": "court",
        "subject": subject,
        "type": "debt",
        "occurred_at": day,
        "recorded_at": day,
    }


def resolve(rid: str, target: str, day: str) -> dict[str, object]:
    return {
        "kind": "resolve",
        "id": rid,
        "source": "court",
        "target_source": "court",
        "target_id": target,
        "occurred_at": day,
        "recorded_at": day,
    }


ENTRIES = [
    debt("d1", "wang", "2026-02-01"),
    resolve("r1", "d1", "2026-03-01"),
    debt("d2", "wang", "2026-05-01"),
    resolve("r2", "d2", "2026-07-01"),
    debt("d3", "li", "2026-02-01"),
]


def build(path: Path, activations: list[tuple[str, int]]) -> Ledger:
    ledger = Ledger.open(str(path))
    ledger.upgrade()
    for text, when in activations:
        activate(ledger, text, when)
    # history: each entry counts from its own recorded_at
    result = ledger.ingest_entries(ENTRIES, now=at("2026-07-01"), backfill=True)
    assert result.accepted == len(ENTRIES), result
    return ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    ledger = build(tmp_path / "period.db", [(V1, at("2026-01-01")), (V2, at("2026-06-01"))])
    yield ledger
    ledger.close()


def ended(ex: object) -> list[tuple[str | None, str | None, bool]]:
    data = ex.to_json()  # type: ignore[attr-defined]
    return [(e["since"], e["until"], e["since_policy_start"]) for e in data["explanation"]["ended"]]


def test_an_ended_ban_is_reported_under_the_policy_then_in_force(ledger: Ledger) -> None:
    engine = Engine.open(ledger, lambda: NOW)
    ex = engine.explain("wang", "air_travel", at("2026-04-01"))
    assert ex.decision.policy_version == "test-policy@1"
    assert ended(ex) == [("2026-02-01", "2026-03-04", False)]


def test_a_new_policy_does_not_rewrite_the_past(ledger: Ledger) -> None:
    engine = Engine.open(ledger, lambda: NOW)
    ex = engine.explain("wang", "air_travel")
    assert ex.decision.decision == "allow" and ex.decision.policy_version == "test-policy@2"
    # 02-01 → 03-11 ended before v2 came into force: v2 says nothing about it; the second
    # ban is v2's to report only from 06-01
    assert ended(ex) == [("2026-06-01", "2026-07-11", True)]
    assert "2026-03-11" not in ex.text and "2026-02-01" not in ex.text
    said = "from 2026-06-01, when policy test-policy@2 came into force, until 2026-07-11"
    assert said in ex.text.lower()
    # the same through explain_services
    (again,) = engine.explain_services("wang", ["air_travel"])
    assert ended(again) == ended(ex)


def test_a_measure_older_than_the_policy_applies_since_the_policy_came_into_force(
    ledger: Ledger,
) -> None:
    engine = Engine.open(ledger, lambda: NOW)
    st = engine.standing("li")
    (listed,) = st.lists
    assert (listed.since, listed.since_policy_start) == (at("2026-06-01"), True)
    flights = next(m for m in st.measures if m.service == "air_travel")
    assert (flights.since, flights.since_policy_start) == (at("2026-06-01"), True)
    data = st.to_json()
    sanction = next(s for s in data["sanctions"] if s["service"] == "air_travel")
    assert sanction["since"] == "2026-06-01T00:00:00Z" and sanction["since_policy_start"] is True
    assert data["memberships"][0]["since_policy_start"] is True

    ex = engine.explain("li", "air_travel")
    (reason,) = ex.reasons
    assert (reason.since, reason.since_policy_start) == ("2026-06-01", True)
    assert "since 2026-06-01, when policy test-policy@2 came into force" in ex.text
    assert "since 2026-02-01" not in ex.text

    # under v1 (in force from 2026-01-01) the ban started with the debt
    old = engine.standing("li", at("2026-04-01"))
    flights = next(m for m in old.measures if m.service == "air_travel")
    assert (flights.since, flights.since_policy_start) == (at("2026-02-01"), False)
    old_text = engine.explain("li", "air_travel", at("2026-04-01")).text
    assert "since 2026-02-01 (reason code DEBTOR)" in old_text
    assert "came into force" not in old_text


def test_a_policy_file_covers_every_time(ledger: Ledger) -> None:
    engine = Engine(ledger, lambda: NOW, policy=compile_policy(parse_policy(V2)))
    ex = engine.explain("wang", "air_travel")
    assert ended(ex) == [("2026-02-01", "2026-03-11", False), ("2026-05-01", "2026-07-11", False)]
    flights = next(m for m in engine.standing("li").measures if m.service == "air_travel")
    assert (flights.since, flights.since_policy_start) == (at("2026-02-01"), False)


def test_a_policy_activated_today_speaks_from_today(tmp_path: Path) -> None:
    today = parse_timestamp("2026-11-25T10:00:00Z")
    ledger = build(tmp_path / "today.db", [(V1, today)])
    try:
        engine = Engine.open(ledger, lambda: parse_timestamp("2026-11-25T12:00:00Z"))
        with pytest.raises(PolicyNotInForceError):
            engine.standing("li", at("2026-06-01"))
        flights = next(m for m in engine.standing("li").measures if m.service == "air_travel")
        assert (flights.since, flights.since_policy_start) == (today, True)
        ex = engine.explain("li", "air_travel")
        assert ex.reasons[0].since == "2026-11-25"
        assert "since 2026-11-25, when policy test-policy@1 came into force" in ex.text
        # wang's bans (02-01 → 03-04, 05-01 → 07-04) ended before v1 came into force
        assert ended(engine.explain("wang", "air_travel")) == []
        assert to_iso(today) == "2026-11-25T10:00:00Z"
    finally:
        ledger.close()


def test_a_fixed_ban_whose_listing_ended_before_the_policy_names_no_earlier_date(
    tmp_path: Path,
) -> None:
    # rail_ban lasts a fixed period from the listing on troublemakers (misconduct, counted
    # 180 days); here 300 days, so that it outlives a listing that ended before v1 came
    # into force on 2026-01-01
    from datetime import date, timedelta

    v1 = V1.replace("duration: {fixed: P30D}", "duration: {fixed: P300D}")
    ledger = Ledger.open(str(tmp_path / "fixed.db"))
    ledger.upgrade()
    activate(ledger, v1, at("2026-01-01"))
    entry = {
        "id": "m1",
        "source": "rail",
        "subject": "zhao",
        "type": "misconduct",
        "occurred_at": "2025-06-01",
        "recorded_at": "2025-06-01",
    }
    ledger.ingest_entries([entry], now=at("2025-06-01"))
    listing_ended = (date(2025, 6, 1) + timedelta(days=180)).isoformat()  # 2025-11-28
    ban_ends = (date(2025, 6, 1) + timedelta(days=300)).isoformat()  # 2026-03-28
    engine = Engine.open(ledger, lambda: at("2026-02-01"))
    ex = engine.explain("zhao", "rail")
    ledger.close()
    assert ex.decision.decision == "deny"
    assert ex.decision.eligible_again_on == ban_ends
    assert "that listing ended before policy test-policy@1 came into force" in ex.text
    assert listing_ended not in ex.text
    assert "2026-01-01, when policy test-policy@1 came into force" in ex.text
