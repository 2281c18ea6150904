"""Due process per record type or list: appeal windows, suspension, what a missed deadline
does (delete / keep / flag) and the reconsideration stage. Dates worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from socialcredit.columns import columns_from_entries
from socialcredit.explain import explain
from socialcredit.policy import CompiledPolicy, compile_policy, parse_policy
from socialcredit.scoring import Prepared, RecordLine, bulk_standings, standing
from socialcredit.timeutil import DAY, parse_timestamp

T0 = parse_timestamp("2025-01-01")  # day 0

POLICY = """
policy: process-test
version: "1"
meta: {title: Due process per record type}
score: {form: points, base: 1000}
grades:
  - {name: A, at_least: 1000}
  - {name: B}
record_types:
  plain:            # the policy-wide block: 30 days, deleted when late, suspended
    points: -10
    expires_after: P1000D
    context: courts
    category: judicial
    evidence: court_order
  fcra_item:        # FCRA §611: reinvestigated within 30 days, else deleted
    points: -10
    expires_after: P1000D
    context: finance
    category: financial
    evidence: third_party_report
    due_process: {appeal_window: P60D, reinvestigation_deadline: P30D, on_overdue: delete}
  court_listing:    # SPC Arts. 9, 12: reviewed within 15 days, the listing stays meanwhile
    points: -10
    expires_after: P1000D
    context: courts
    category: judicial
    evidence: court_order
    due_process:
      disputed_records_count: true
      reinvestigation_deadline: P15D
      on_overdue: keep
      reconsideration: {file_within: P10D, decide_within: P15D}
  flagged_item:
    points: -10
    expires_after: P1000D
    context: tax
    category: financial
    evidence: official_record
    due_process: {disputed_records_count: true, reinvestigation_deadline: P15D, on_overdue: flag}
  staged_item:      # suspended while either stage is open; a late decision deletes it
    points: -10
    expires_after: P1000D
    context: tax
    category: financial
    evidence: official_record
    due_process:
      reinvestigation_deadline: P15D
      reconsideration: {file_within: P10D, decide_within: P15D}
lists:
  listed:
    kind: black
    when: {records: {types: [plain, fcra_item, court_listing, flagged_item, staged_item]}}
sanctions:
  no_flights:
    when: {list: listed}
    service: air_travel
    effect: deny
    reason_code: LISTED
due_process:
  appeal_window: P30D
  reinvestigation_deadline: P30D
  disputed_records_count: false
"""


@pytest.fixture(scope="module")
def policy() -> CompiledPolicy:
    return compile_policy(parse_policy(POLICY, "process-test.yaml"))


def rec(rid: str, type_: str, day: int = 0, subject: str = "p") -> dict[str, Any]:
    at = T0 + day * DAY
    return {"id": rid, "source": "s", "subject": subject, "type": type_, "occurred_at": at}


def fix(kind: str, rid: str, target: str, day: int) -> dict[str, Any]:
    at = T0 + day * DAY
    return {
        "kind": kind,
        "id": rid,
        "source": "s",
        "target_source": "s",
        "target_id": target,
        "occurred_at": at,
        "recorded_at": at,
    }


def line(policy: CompiledPolicy, entries: list[dict[str, Any]], day: int) -> RecordLine:
    st = standing(Prepared.build(columns_from_entries(entries), policy), 0, T0 + day * DAY)
    (current,) = [x for x in st.breakdown if x.status != "annulled or rectified"]
    return current


def day_of(ts: int | None) -> int | None:
    return None if ts is None else (ts - T0) // DAY


def test_fcra_item_is_deleted_when_the_reinvestigation_is_late(policy: CompiledPolicy) -> None:
    # disputed on day 40 (inside its own 60-day window; the policy-wide one is 30 days)
    entries = [rec("r", "fcra_item"), fix("dispute", "d", "r", 40)]
    assert line(policy, entries, 39).status == "counts"
    assert line(policy, entries, 40).status == "suspended while disputed"
    assert line(policy, entries, 69).status == "suspended while disputed"
    assert line(policy, entries, 70).status == "deleted: dispute not decided in time"
    # an uphold after the deadline does not bring it back
    late = [*entries, fix("uphold", "u", "r", 75)]
    assert line(policy, late, 80).status == "deleted: dispute not decided in time"


def test_the_policy_wide_window_still_applies_to_other_types(policy: CompiledPolicy) -> None:
    entries = [rec("r", "plain"), fix("dispute", "d", "r", 40)]
    got = line(policy, entries, 41)
    assert got.status == "counts" and day_of(got.dispute_late_at) == 40


def test_court_review_late_keeps_the_listing(policy: CompiledPolicy) -> None:
    entries = [rec("r", "court_listing"), fix("dispute", "d", "r", 5)]
    for day in (5, 19, 20, 200):
        got = line(policy, entries, day)
        assert got.status == "counts"  # counted while disputed, and kept after day 20
        assert got.overdue_since is None  # keep: not reported as overdue
    assert day_of(line(policy, entries, 30).review_due) == 20
    prep = Prepared.build(columns_from_entries(entries), policy)
    assert bulk_standings(prep, T0 + 30 * DAY).measures[0, 0]
    text = explain(prep, 0, "air_travel", T0 + 30 * DAY).text
    assert (
        "Record s/r has been disputed since 2025-01-06; the dispute was to be decided by "
        "2025-01-21 and has not been: under the policy the record stays until it is decided."
    ) in text


def test_flag_keeps_counting_and_reports_the_missed_deadline(policy: CompiledPolicy) -> None:
    entries = [rec("r", "flagged_item"), fix("dispute", "d", "r", 5)]
    assert line(policy, entries, 19).overdue_since is None
    got = line(policy, entries, 30)
    assert got.status == "counts" and day_of(got.overdue_since) == 20
    decided = line(policy, [*entries, fix("uphold", "u", "r", 25)], 30)
    assert decided.overdue_since is None and day_of(decided.decided_at) == 25
    prep = Prepared.build(columns_from_entries(entries), policy)
    assert (
        standing(prep, 0, T0 + 30 * DAY)
        .to_json()["breakdown"]["records"][0]["overdue_since"]
        .startswith("2025-01-21")
    )


def test_reconsideration_filed_on_day_10_counts_and_on_day_11_does_not(
    policy: CompiledPolicy,
) -> None:
    # disputed on day 5, the review upholds it on day 12 (within 15 days)
    base = [rec("r", "staged_item"), fix("dispute", "d", "r", 5), fix("uphold", "u", "r", 12)]
    assert line(policy, base, 12).status == "counts"
    on_time = [*base, fix("dispute", "d2", "r", 22)]  # 10 days after the decision
    got = line(policy, on_time, 22)
    assert got.status == "suspended while disputed" and day_of(got.reconsidered_at) == 22
    assert day_of(got.review_due) == 37  # decided within 15 days of the application
    assert line(policy, on_time, 36).status == "suspended while disputed"
    assert line(policy, on_time, 37).status == "deleted: dispute not decided in time"
    upheld = line(policy, [*on_time, fix("uphold", "u2", "r", 30)], 40)
    assert upheld.status == "counts" and day_of(upheld.reconsideration_decided_at) == 30
    late = line(policy, [*base, fix("dispute", "d2", "r", 23)], 23)  # day 11: too late
    assert late.status == "counts"
    assert late.reconsidered_at is None and day_of(late.dispute_late_at) == 23


def test_reconsideration_texts(policy: CompiledPolicy) -> None:
    base = [rec("r", "staged_item"), fix("dispute", "d", "r", 5), fix("uphold", "u", "r", 12)]
    prep = Prepared.build(columns_from_entries(base), policy)
    text = explain(prep, 0, "air_travel", T0 + 15 * DAY).text
    assert "Record s/r was disputed on 2025-01-06; the review upheld it on 2025-01-13." in text
    assert "Reconsideration of record s/r may be applied for until 2025-01-23." in text
    late = Prepared.build(columns_from_entries([*base, fix("dispute", "d2", "r", 23)]), policy)
    text = explain(late, 0, "air_travel", T0 + 30 * DAY).text
    assert (
        "Reconsideration of record s/r was applied for on 2025-01-24, after the period to "
        "apply ended on 2025-01-23: it had no effect."
    ) in text


def test_a_second_dispute_without_a_reconsideration_stage_changes_nothing(
    policy: CompiledPolicy,
) -> None:
    entries = [
        rec("r", "plain"),
        fix("dispute", "d", "r", 5),
        fix("uphold", "u", "r", 10),
        fix("dispute", "d2", "r", 12),  # in the appeal window, but the review is decided
    ]
    got = line(policy, entries, 13)
    assert got.status == "counts" and got.reconsidered_at is None


def test_an_override_equal_to_the_policy_wide_block_is_the_policy_wide_process() -> None:
    same = POLICY.replace(
        "    due_process: {appeal_window: P60D, reinvestigation_deadline: P30D, on_overdue: delete}",
        "    due_process: {appeal_window: P30D, reinvestigation_deadline: P30D, "
        "disputed_records_count: false}",
    )
    cp = compile_policy(parse_policy(same, "same.yaml"))
    assert cp.process_of("fcra_item").index == 0


LIST_POLICY = """
policy: list-process
version: "1"
meta: {title: Due process per list}
score: {form: points, base: 0}
grades: [{name: A}]
record_types:
  listing: {expires_after: never, context: courts, category: judicial, evidence: court_order}
  other: {expires_after: never, context: courts, category: conduct, evidence: court_order}
lists:
  debtors:
    kind: black
    when: {records: {type: listing}}
    due_process: {disputed_records_count: true, on_overdue: keep}
due_process:
  appeal_window: P30D
  reinvestigation_deadline: P30D
  disputed_records_count: false
"""


def test_a_list_gives_its_due_process_to_the_record_types_it_counts() -> None:
    cp = compile_policy(parse_policy(LIST_POLICY, "list.yaml"))
    assert cp.process_of("listing").on_overdue == "keep"
    assert cp.process_of("listing").origin == "list debtors"
    assert cp.process_of("other").index == 0


def test_an_annulment_is_offered_only_while_a_stage_of_the_process_is_open(
    policy: CompiledPolicy,
) -> None:
    # disputed on day 5, upheld on day 12; reconsideration may be applied for until day 22
    base = [rec("r", "staged_item"), fix("dispute", "d", "r", 5), fix("uphold", "u", "r", 12)]
    prep = Prepared.build(columns_from_entries(base), policy)
    open_ = explain(prep, 0, "air_travel", T0 + 15 * DAY)
    assert [a.kind for a in open_.actions] == ["appeal"]
    assert "annulled on appeal" in open_.text
    closed = explain(prep, 0, "air_travel", T0 + 25 * DAY)
    assert closed.decision.decision == "deny"
    assert "The period to apply for reconsideration of record s/r ended on 2025-01-23." in (
        closed.text
    )
    assert closed.actions == [] and closed.best_action is None
    assert "Sooner" not in closed.text and "annulled on appeal" not in closed.text


def test_no_annulment_is_offered_after_a_review_upheld_a_record_without_reconsideration(
    policy: CompiledPolicy,
) -> None:
    # 'plain' has no reconsideration stage: once the review upheld it (day 10) nothing of the
    # policy's due process is left, although its 30-day dispute window is still open (day 13)
    entries = [rec("r", "plain"), fix("dispute", "d", "r", 5), fix("uphold", "u", "r", 10)]
    prep = Prepared.build(columns_from_entries(entries), policy)
    ex = explain(prep, 0, "air_travel", T0 + 13 * DAY)
    assert ex.decision.decision == "deny"
    assert "the review upheld it on 2025-01-11" in ex.text
    assert ex.actions == [] and "Sooner" not in ex.text
