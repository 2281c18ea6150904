"""Counterfactuals that point the right way, and records shown as they stand (issue 5, item 6).

TEST_POLICY (tests/conftest.py): a debt lists its subject while unresolved, lifted 3 days
after resolution; a debt expires after 1000 days; appeal window 30 days; disputed records do
not count."""

from __future__ import annotations

from typing import Any

from socialcredit.columns import columns_from_entries
from socialcredit.explain import explain
from socialcredit.policy import CompiledPolicy
from socialcredit.scoring import Prepared, standing
from socialcredit.timeutil import DAY, parse_timestamp, to_date

T0 = parse_timestamp("2025-01-01")


def debt(rid: str, day: int, recorded: int | None = None) -> dict[str, Any]:
    return {
        "id": rid,
        "source": "court",
        "subject": "bob",
        "type": "debt",
        "occurred_at": T0 + day * DAY,
        "recorded_at": T0 + (day if recorded is None else recorded) * DAY,
    }


def correction(kind: str, rid: str, target: str, day: int, **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": rid,
        "source": "court",
        "target_source": "court",
        "target_id": target,
        "occurred_at": T0 + day * DAY,
        "recorded_at": T0 + day * DAY,
        **extra,
    }


def prep(policy: CompiledPolicy, entries: list[dict[str, Any]]) -> Prepared:
    return Prepared.build(columns_from_entries(entries), policy)


def test_two_debts_need_resolving_together(policy: CompiledPolicy) -> None:
    ex = explain(prep(policy, [debt("d1", 0), debt("d2", 1)]), 0, "air_travel", T0 + 40 * DAY)
    # if nothing changes: listed until d2 expires, day 1 + 1000
    assert ex.decision.eligible_again_on == to_date(T0 + 1001 * DAY)
    singles = {(a.kind, a.record): a.eligible_again_on for a in ex.actions if len(a.steps) == 1}
    # resolving d1 alone leaves d2 listing her until it expires (day 1001): no better;
    # resolving d2 alone leaves d1 until day 1000
    assert singles[("resolve", "court/d1")] == to_date(T0 + 1001 * DAY)
    assert singles[("resolve", "court/d2")] == to_date(T0 + 1000 * DAY)
    best = ex.best_action
    assert best is not None
    # resolving both: lifted 3 days after (day 43)
    assert [(s.kind, s.record) for s in best.steps] == [
        ("resolve", "court/d1"),
        ("resolve", "court/d2"),
    ]
    assert best.eligible_again_on == to_date(T0 + 43 * DAY)
    assert best.to_json()["kind"] == "resolve+resolve"
    assert f"You could then use air travel again on {to_date(T0 + 43 * DAY)}." in ex.text


def test_a_resolved_record_shows_the_delay_still_to_run(policy: CompiledPolicy) -> None:
    entries = [debt("d1", 0), correction("resolve", "p1", "d1", 39)]
    ex = explain(prep(policy, entries), 0, "air_travel", T0 + 40 * DAY)
    assert ex.decision.eligible_again_on == to_date(T0 + 42 * DAY)
    assert (
        f"The resolution of record court/d1 was recorded on {to_date(T0 + 39 * DAY)}; under "
        "the policy's 3-day delisting delay the record counts for the list debtors until "
        f"{to_date(T0 + 42 * DAY)}."
    ) in ex.text
    # resolving again is not offered; nothing the person does ends it sooner but an appeal
    assert all(s.kind != "resolve" for a in ex.actions for s in a.steps)


def test_a_rectified_record_is_shown_once_with_its_corrected_values(
    policy: CompiledPolicy,
) -> None:
    entries = [
        debt("d1", 0),
        correction("rectify", "fix", "d1", 2, corrected_occurred_at=T0 + 5 * DAY),
    ]
    ex = explain(prep(policy, entries), 0, "air_travel", T0 + 40 * DAY)
    (reason,) = ex.reasons
    assert reason.records == ["court/d1"]
    assert f"court/d1 (debt, {to_date(T0)})" not in ex.text
    assert f"court/d1 (debt, {to_date(T0 + 5 * DAY)}, as corrected)" in ex.text
    assert len([a for a in ex.actions if a.kind == "resolve"]) == 1


def test_the_dispute_sentence_is_per_record(policy: CompiledPolicy) -> None:
    # d1 recorded day 0: window closed day 30; d2 recorded day 20: open until day 50
    entries = [debt("d1", 0), debt("d2", 20)]
    ex = explain(prep(policy, entries), 0, "air_travel", T0 + 40 * DAY)
    assert f"The window to dispute record court/d1 closed on {to_date(T0 + 30 * DAY)}." in ex.text
    assert f"Record court/d2 may be disputed until {to_date(T0 + 50 * DAY)}." in ex.text
    assert "You may dispute a record within" not in ex.text
    dispute = [a for a in ex.actions if a.kind == "dispute"]
    assert [a.record for a in dispute] == ["court/d2"]


def test_a_late_dispute_is_shown_as_having_no_effect(policy: CompiledPolicy) -> None:
    entries = [debt("d1", 0), correction("dispute", "obj", "d1", 35)]
    p = prep(policy, entries)
    t = T0 + 40 * DAY
    (line,) = standing(p, 0, t).breakdown
    assert line.dispute_late_at == T0 + 35 * DAY and line.disputed_at is None
    assert line.status == "counts"
    assert standing(p, 0, t).to_json()["breakdown"]["records"][0]["dispute_late_at"] == (
        "2025-02-05T00:00:00Z"
    )
    ex = explain(p, 0, "air_travel", t)
    assert (
        f"Record court/d1 was disputed on {to_date(T0 + 35 * DAY)}, after its dispute window "
        f"closed on {to_date(T0 + 30 * DAY)}: that dispute had no effect."
    ) in ex.text


def test_no_delisting_delay_is_claimed_where_the_list_ignores_resolution() -> None:
    from socialcredit.policy import compile_policy, parse_policy
    from tests.conftest import TEST_POLICY

    # the debtors list counts a debt whether resolved or not: resolving lifts nothing (a
    # delisting delay on such a list is a validation error, so the delay goes too)
    text = TEST_POLICY.replace(
        "when: {records: {type: debt, unresolved: true}}\n    delist_after_resolution: P3D\n",
        "when: {records: {type: debt}}\n",
    )
    assert text != TEST_POLICY
    ignoring = compile_policy(parse_policy(text, "ignoring.yaml"))
    entries = [debt("d1", 0), correction("resolve", "p1", "d1", 39)]
    ex = explain(prep(ignoring, entries), 0, "air_travel", T0 + 40 * DAY)
    assert ex.decision.eligible_again_on == to_date(T0 + 1000 * DAY)  # the debt's expiry
    assert "delisting delay" not in ex.text


def test_a_denial_beyond_the_search_says_the_search_stopped() -> None:
    """Four consumption restriction orders each keep the air-travel ban (china-scs): no set
    of up to three resolutions ends it, all four would. The explanation has no "Sooner"
    line, and says how far it looked instead of leaving the reader to think nothing can."""
    from pathlib import Path

    from socialcredit.policy import compile_policy, parse_policy
    from socialcredit.scoring.counterfactual import MAX_SET_SIZE

    china = Path(__file__).parents[1] / "examples" / "policies" / "china-scs.yaml"
    policy = compile_policy(parse_policy(china.read_text(), str(china)))
    n = MAX_SET_SIZE + 1
    orders = [
        {
            "id": f"o{i}",
            "source": "court",
            "subject": "wang",
            "subject_kind": "person",
            "type": "consumption_restriction_order",
            "occurred_at": f"2026-0{i + 1}-10T00:00:00Z",
            "recorded_at": f"2026-0{i + 1}-11T00:00:00Z",
            "evidence": f"case {i}",
        }
        for i in range(n)
    ]
    ex = explain(prep(policy, orders), 0, "air_travel", parse_timestamp("2026-09-01"))
    assert ex.decision.decision == "deny" and ex.decision.indefinite
    assert ex.best_action is None
    assert "Sooner" not in ex.text
    assert f"tried changes to up to {MAX_SET_SIZE} of the {n} records behind this" in ex.text

    # with three orders a set of three resolutions ends it, and the text says so instead
    ex3 = explain(
        prep(policy, orders[:MAX_SET_SIZE]), 0, "air_travel", parse_timestamp("2026-09-01")
    )
    assert ex3.best_action is not None and "Sooner" in ex3.text
    assert "tried changes" not in ex3.text
