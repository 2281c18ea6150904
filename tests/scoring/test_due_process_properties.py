"""Invariants of per-type due process on random ledgers (hypothesis): one subject and
everyone agree, answers depend only on what was known, and an override equal to the
policy-wide block changes nothing."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.columns import columns_from_entries
from socialcredit.enforcement import check, decide
from socialcredit.explain import explain
from socialcredit.policy import CompiledPolicy, compile_policy, parse_policy
from socialcredit.scoring import Prepared, Standing, bulk_standings, standing
from socialcredit.timeutil import DAY
from tests.scoring.test_due_process_per_type import POLICY, T0
from tests.strategies import records_and_corrections

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROCESS = compile_policy(parse_policy(POLICY, "process-test.yaml"))
TYPES = ["plain", "fcra_item", "court_listing", "flagged_item", "staged_item"]
SUBJECTS = ["a", "b", "c"]


def ledgers(types: list[str] = TYPES) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Records and chains of disputes and decisions (upholds, annuls) on them."""
    return records_and_corrections(
        start=T0,
        types=types,
        subjects=SUBJECTS,
        kinds=["dispute", "dispute", "uphold", "uphold", "annul"],
    )


def everyone(policy: CompiledPolicy, entries: list[dict[str, Any]], t: int) -> dict[str, Standing]:
    prep = Prepared.build(columns_from_entries(entries), policy)
    return {name: standing(prep, i, t) for i, name in enumerate(prep.columns.subjects)}


def answers(s: Standing) -> dict[str, Any]:
    out = s.to_json()
    out.pop("policy_hash")
    out.pop("policy_version")
    return out


days = st.integers(-2, 200)


@SETTINGS
@given(entries=ledgers(), day=days)
def test_bulk_agrees_with_one_subject(entries: list[dict[str, Any]], day: int) -> None:
    t = T0 + day * DAY
    prep = Prepared.build(columns_from_entries(entries), PROCESS)
    bulk = bulk_standings(prep, t)
    for i in range(prep.columns.n_subjects):
        s = standing(prep, i, t)
        assert abs(bulk.score[i] - s.score) < 1e-9
        assert {lst.name for lst in PROCESS.lists if bulk.lists[lst.index, i]} == {
            m.name for m in s.lists
        }
        assert {x.name for x in PROCESS.sanctions if bulk.measures[x.index, i]} == {
            m.name for m in s.measures
        }
        assert check(prep, i, "air_travel", t) == decide(s, "air_travel")
        explain(prep, i, "air_travel", t)  # every text can be written


@SETTINGS
@given(entries=ledgers(), day=days, later=ledgers())
def test_corrections_learned_later_do_not_change_earlier_answers(
    entries: list[dict[str, Any]], day: int, later: list[dict[str, Any]]
) -> None:
    t = T0 + day * DAY
    before = everyone(PROCESS, entries, t)
    records = [e for e in entries if "kind" not in e]
    future = []
    for j, e in enumerate(later):
        if "kind" in e and records:
            target = records[j % len(records)]
            when = max(e["recorded_at"], t + DAY, target["recorded_at"])
            future.append(
                {**e, "id": f"late{j}", "target_id": target["id"], "recorded_at": when,
                 "occurred_at": when}
            )  # fmt: skip
    after = everyone(PROCESS, entries + future, t)
    for name, s in before.items():
        assert answers(after[name]) == answers(s)


EQUAL = POLICY.replace(
    "    due_process: {appeal_window: P60D, reinvestigation_deadline: P30D, on_overdue: delete}",
    "    due_process: {appeal_window: P30D, reinvestigation_deadline: P30D, "
    "disputed_records_count: false, on_overdue: delete}",
)
WITHOUT = POLICY.replace(
    "    due_process: {appeal_window: P60D, reinvestigation_deadline: P30D, on_overdue: delete}\n",
    "",
)


@SETTINGS
@given(entries=ledgers(types=["plain", "fcra_item"]), day=days)
def test_an_override_equal_to_the_policy_wide_block_changes_nothing(
    entries: list[dict[str, Any]], day: int
) -> None:
    assert EQUAL != POLICY and WITHOUT != POLICY
    t = T0 + day * DAY
    equal = everyone(compile_policy(parse_policy(EQUAL, "equal.yaml")), entries, t)
    without = everyone(compile_policy(parse_policy(WITHOUT, "without.yaml")), entries, t)
    for name, s in without.items():
        assert answers(equal[name]) == answers(s)
