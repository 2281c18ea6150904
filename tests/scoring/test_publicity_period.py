"""A measure that starts after a publicity period (``starts_after``): the railway's category
1 and aviation rules of 2018. Dates worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from socialcredit.columns import columns_from_entries
from socialcredit.enforcement import check
from socialcredit.explain import explain
from socialcredit.policy import (
    CompiledPolicy,
    LoadedPolicy,
    compile_policy,
    content_hash,
    parse_policy,
)
from socialcredit.policy.model import Policy
from socialcredit.scoring import Prepared, bulk_standings, standing
from socialcredit.timeutil import DAY, parse_timestamp, to_date

NOTICE = "P7D"

POLICY = f"""
policy: publicity-test
version: "1"
meta: {{title: Publicity periods}}
score: {{form: points, base: 0}}
grades: [{{name: A}}]
services:
  train_tickets: {{display_name: train tickets, action: buy train tickets}}
  flights: {{display_name: flights, action: board flights}}
  soft_sleepers: {{display_name: soft sleepers, action: book soft sleepers}}
record_types:
  rail_misconduct:   # NDRC 2018 No. 384, category 1: objections during the publicity period
    expires_after: P2Y
    context: transit
    category: conduct
    evidence: official_record
    due_process:
      appeal_window: {NOTICE}
      disputed_records_count: true
      reinvestigation_deadline: P30D
      on_overdue: keep
  air_misconduct:
    expires_after: P2Y
    context: transit
    category: conduct
    evidence: official_record
    due_process: {{appeal_window: {NOTICE}, reinvestigation_deadline: P30D}}
  fare_dodging:
    expires_after: P1Y
    context: transit
    category: conduct
    evidence: official_record
lists:
  rail_untrustworthy:
    kind: black
    display_name: railway list of seriously untrustworthy persons
    when: {{records: {{type: rail_misconduct}}}}
  air_untrustworthy:
    kind: black
    when: {{records: {{type: air_misconduct}}}}
sanctions:
  rail_ban:
    when: {{list: rail_untrustworthy}}
    service: train_tickets
    effect: deny
    duration: {{fixed: P180D}}
    starts_after: {{notice: {NOTICE}, objection_blocks: true}}
    reason_code: RAIL-CAT1
  air_ban:
    when: {{list: air_untrustworthy}}
    service: flights
    effect: deny
    duration: {{fixed: P365D}}
    starts_after: {{notice: {NOTICE}}}
    reason_code: AIR-2018
  sleeper_ban:       # while the records count, after a period nobody can hold back
    when: {{records: {{type: fare_dodging}}}}
    service: soft_sleepers
    effect: deny
    starts_after: {{notice: {NOTICE}, objection_blocks: false}}
due_process:
  appeal_window: P30D
  reinvestigation_deadline: P30D
  disputed_records_count: false
"""

PUBLISHED = parse_timestamp("2025-03-03")  # a Monday
OBJECTIONS_UNTIL = parse_timestamp("2025-03-10")
BAN_ENDS = parse_timestamp("2025-09-06")  # 180 days after 2025-03-10


@pytest.fixture(scope="module")
def policy() -> CompiledPolicy:
    return compile_policy(parse_policy(POLICY, "publicity-test.yaml"))


def rec(rid: str, type_: str = "rail_misconduct", at: int = PUBLISHED) -> dict[str, Any]:
    return {"id": rid, "source": "rail", "subject": "p", "type": type_, "occurred_at": at}


def fix(kind: str, rid: str, target: str, at: int) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": rid,
        "source": "rail",
        "target_source": "rail",
        "target_id": target,
        "occurred_at": at,
        "recorded_at": at,
    }


def prep(policy: CompiledPolicy, entries: list[dict[str, Any]]) -> Prepared:
    return Prepared.build(columns_from_entries(entries), policy)


def test_the_hand_computed_dates() -> None:
    assert to_date(OBJECTIONS_UNTIL - PUBLISHED + PUBLISHED) == "2025-03-10"
    assert BAN_ENDS - OBJECTIONS_UNTIL == 180 * DAY


def test_before_the_start_a_check_allows_and_the_explanation_says_why(
    policy: CompiledPolicy,
) -> None:
    p = prep(policy, [rec("r")])
    t = PUBLISHED + 2 * DAY
    assert check(p, 0, "train_tickets", t).decision == "allow"
    st = standing(p, 0, t)
    assert st.measures == [] and [m.name for m in st.lists] == ["rail_untrustworthy"]
    (u,) = st.upcoming
    assert (u.published_at, u.objections_until, u.starts, u.until) == (
        PUBLISHED,
        OBJECTIONS_UNTIL,
        OBJECTIONS_UNTIL,
        BAN_ENDS,
    )
    text = explain(p, 0, "train_tickets", t).text
    assert "You may buy train tickets: no measure in force stops you." in text
    assert (
        "A measure (reason code RAIL-CAT1) was published on 2025-03-03 because of record "
        "rail/r (rail misconduct, 2025-03-03): nothing is in force yet; you may object until "
        "2025-03-10."
    ) in text
    assert (
        "If no objection is upheld, you cannot buy train tickets from 2025-03-10 until 2025-09-06."
    ) in text
    data = explain(p, 0, "train_tickets", t).to_json()
    assert data["explanation"]["upcoming"][0]["starts"] == "2025-03-10"
    assert not bulk_standings(p, t).measures.any()


def test_the_term_runs_from_the_end_of_the_period(policy: CompiledPolicy) -> None:
    p = prep(policy, [rec("r")])
    assert check(p, 0, "train_tickets", OBJECTIONS_UNTIL - 1).decision == "allow"
    decision = check(p, 0, "train_tickets", OBJECTIONS_UNTIL)
    assert decision.decision == "deny" and decision.eligible_again_on == "2025-09-06"
    (m,) = standing(p, 0, OBJECTIONS_UNTIL).measures
    assert (m.since, m.until, m.published_at) == (OBJECTIONS_UNTIL, BAN_ENDS, PUBLISHED)
    assert check(p, 0, "train_tickets", BAN_ENDS).decision == "allow"
    text = explain(p, 0, "train_tickets", OBJECTIONS_UNTIL + DAY).text
    assert (
        "It was published on 2025-03-03; objections could be made until 2025-03-10, when it began."
    ) in text
    assert bulk_standings(p, OBJECTIONS_UNTIL).measures[0, 0]
    # the air ban: one year (365 days) from the end of the period
    air = prep(policy, [rec("a", "air_misconduct")])
    (m,) = standing(air, 0, OBJECTIONS_UNTIL).measures
    assert (m.since, m.until) == (OBJECTIONS_UNTIL, OBJECTIONS_UNTIL + 365 * DAY)


def test_an_objection_upheld_on_the_last_day_means_it_never_starts(
    policy: CompiledPolicy,
) -> None:
    last_day = OBJECTIONS_UNTIL - DAY  # 2025-03-09: the objection is upheld (annulled)
    entries = [
        rec("r"),
        fix("dispute", "o", "r", PUBLISHED + DAY),
        fix("annul", "x", "r", last_day),
    ]
    p = prep(policy, entries)
    for day in (0, 6, 7, 8, 100, 200):
        t = PUBLISHED + day * DAY
        assert check(p, 0, "train_tickets", t).decision == "allow"
        assert standing(p, 0, t).measures == []
        assert not bulk_standings(p, t).measures.any()
    # before it was upheld, the pending objection was said to hold the start back
    st = standing(p, 0, last_day - 1)
    assert st.upcoming[0].starts is None and st.upcoming[0].blocked_by == ["rail/r"]
    text = explain(p, 0, "train_tickets", last_day - 1).text
    assert (
        "An objection to record rail/r is pending: if it is upheld, the measure never starts; "
        "if the record is upheld, the measure starts then and lasts 180 days."
    ) in text


def test_a_pending_objection_holds_the_start_back_until_it_is_decided(
    policy: CompiledPolicy,
) -> None:
    decided = parse_timestamp("2025-03-20")
    entries = [
        rec("r"),
        fix("dispute", "o", "r", PUBLISHED + DAY),
        fix("uphold", "u", "r", decided),
    ]
    p = prep(policy, entries)
    assert check(p, 0, "train_tickets", OBJECTIONS_UNTIL + DAY).decision == "allow"
    (m,) = standing(p, 0, decided).measures
    assert (m.since, m.until) == (decided, decided + 180 * DAY)
    assert bulk_standings(p, decided + 170 * DAY).measures[0, 0]
    # without objection_blocks (the air ban) the pending objection does not hold it back
    air = prep(
        policy,
        [rec("a", "air_misconduct"), fix("dispute", "o", "a", PUBLISHED + DAY)],
    )
    # the air record does not count while disputed (the policy-wide rule), so the period
    # ends without the condition holding; not decided within 30 days, the record is deleted
    for day in (7, 20, 40):
        assert check(air, 0, "flights", PUBLISHED + day * DAY).decision == "allow"


def test_a_measure_while_triggered_starts_after_its_period(policy: CompiledPolicy) -> None:
    p = prep(policy, [rec("f", "fare_dodging")])
    assert check(p, 0, "soft_sleepers", OBJECTIONS_UNTIL - 1).decision == "allow"
    (m,) = standing(p, 0, OBJECTIONS_UNTIL).measures
    assert (m.since, m.until) == (OBJECTIONS_UNTIL, PUBLISHED + 365 * DAY)


def test_an_objection_learned_later_does_not_change_earlier_answers(
    policy: CompiledPolicy,
) -> None:
    upheld = parse_timestamp("2025-03-20")
    known = prep(policy, [rec("r")])
    later = prep(policy, [rec("r"), fix("annul", "x", "r", upheld)])
    for day in (0, 6, 7, 10, 16):
        t = PUBLISHED + day * DAY
        a, b = standing(known, 0, t).to_json(), standing(later, 0, t).to_json()
        assert a == b
    assert standing(later, 0, upheld).measures == []


WORKING_DAY_POLICY = (
    POLICY.replace(
        f"starts_after: {{notice: {NOTICE}, objection_blocks: true}}",
        "starts_after: {notice: 7 working days, objection_blocks: true}",
    )
    + "calendar: {holidays: prc, utc_offset: '+08:00'}\n"
)


def _unchecked(text: str) -> CompiledPolicy:
    """A policy compiled without the whole-policy checks: ``policy validate`` now refuses a
    notice longer than an appeal window, but the explanation must not depend on that check
    to stay true."""
    model = Policy.model_validate(yaml.safe_load(text))
    return compile_policy(LoadedPolicy(model, text, "p.yaml", content_hash(model)))


def test_the_objection_deadline_said_is_the_dispute_window_when_it_closes_first() -> None:
    policy = _unchecked(WORKING_DAY_POLICY)
    # published Monday 2025-03-03 (08:00 in Beijing); 7 working days after it: Tue 4 … Fri 7,
    # Mon 10, Tue 11, Wed 12: the period ends at midnight after 12 March in Beijing
    # (2025-03-12T16:00Z, said as the local date it begins, 2025-03-13); rail misconduct may
    # be disputed for 7 days only, until 2025-03-10
    p = prep(policy, [rec("r")])
    (u,) = standing(p, 0, PUBLISHED + 2 * DAY).upcoming
    assert u.objections_until == parse_timestamp("2025-03-12T16:00:00Z")
    text = explain(p, 0, "train_tickets", PUBLISHED + 2 * DAY).text
    assert "object until 2025-03-13" not in text
    assert (
        "nothing is in force yet; you may object until 2025-03-10 (the window to dispute the "
        "record behind it closes on 2025-03-10, before the publicity period ends on "
        "2025-03-13; an objection after that has no effect)."
    ) in text
    # an objection on 2025-03-11 comes after the window: the measure starts all the same,
    # and the explanation says the objection had no effect
    late = prep(policy, [rec("r"), fix("dispute", "o", "r", parse_timestamp("2025-03-11"))])
    text = explain(late, 0, "train_tickets", parse_timestamp("2025-03-11T12:00:00Z")).text
    assert "the period to object ended on 2025-03-10 (the window to dispute the record" in text
    assert (
        "An objection to record rail/r was made on 2025-03-11, after the window to dispute it "
        "closed on 2025-03-10: that objection had no effect."
    ) in text
    assert check(late, 0, "train_tickets", parse_timestamp("2025-03-13")).decision == "deny"


def test_a_past_date_leads_the_sentence_and_the_open_period_says_may(
    policy: CompiledPolicy,
) -> None:
    p = prep(policy, [rec("r")])
    text = explain(p, 0, "train_tickets", PUBLISHED + 2 * DAY, present=False).text
    assert (
        "On 2025-03-05, a measure (reason code RAIL-CAT1) was published on 2025-03-03 because "
        "of record rail/r (rail misconduct, 2025-03-03): nothing is in force yet; you may "
        "object until 2025-03-10."
    ) in text
