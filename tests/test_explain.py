"""Explanations and counterfactuals, checked against TEST_POLICY by hand."""

from __future__ import annotations

from socialcredit.columns import columns_from_entries
from socialcredit.explain import explain
from socialcredit.policy import CompiledPolicy
from socialcredit.scoring import Prepared
from socialcredit.timeutil import DAY, parse_timestamp, to_date

T0 = parse_timestamp("2025-01-01")


def _prep(policy: CompiledPolicy, entries: list[dict[str, object]]) -> Prepared:
    return Prepared.build(columns_from_entries(entries), policy)


DEBT = {"id": "d1", "source": "court", "subject": "bob", "type": "debt", "occurred_at": T0}


def test_denied_debtor_is_told_why_until_when_and_how_to_end_it(policy: CompiledPolicy) -> None:
    ex = explain(_prep(policy, [DEBT]), 0, "air_travel", T0 + 40 * DAY)
    assert ex.decision.decision == "deny"
    assert ex.decision.reasons == ["DEBTOR"]
    # the debt expires after 1000 days; nothing else would end the listing
    assert ex.decision.eligible_again_on == to_date(T0 + 1000 * DAY)
    (reason,) = ex.reasons
    assert (reason.lists, reason.records) == (["debtors"], ["court/d1"])
    kinds = {a.kind for a in ex.actions}
    # 40 days after it was recorded the 30-day appeal window is closed: no dispute offered,
    # and no annulment on appeal either (no stage of the policy's due process is open)
    assert kinds == {"resolve"}
    assert ex.best_action is not None and ex.best_action.kind == "resolve"
    # resolving now lifts the listing after the 3-day delay
    assert ex.best_action.eligible_again_on == to_date(T0 + 43 * DAY)
    assert "court/d1" in ex.text and str(to_date(T0 + 43 * DAY)) in ex.text


def test_dispute_is_offered_inside_the_appeal_window(policy: CompiledPolicy) -> None:
    ex = explain(_prep(policy, [DEBT]), 0, "air_travel", T0 + 10 * DAY)
    dispute = next(a for a in ex.actions if a.kind == "dispute")
    # disputed records do not count under TEST_POLICY: the ban lifts at once
    assert dispute.eligible_again_on == to_date(T0 + 10 * DAY)


def test_allowed_service_explains_itself(policy: CompiledPolicy) -> None:
    ex = explain(_prep(policy, [DEBT]), 0, "bike_rental", T0 + 10 * DAY)
    assert ex.decision.decision == "allow" and ex.actions == [] and ex.best_action is None
    assert "You may use bike rental" in ex.text
    data = ex.to_json()
    assert data["decision"] == "allow" and data["eligible_again_on"] is None


def test_child_is_told_the_ban_comes_through_a_relation(policy: CompiledPolicy) -> None:
    entries = [
        DEBT,
        {
            "kind": "relation",
            "id": "r",
            "source": "registry",
            "subject": "kid",
            "relation": "child_of",
            "related_subject": "bob",
            "valid_from": T0 - DAY,
        },
    ]
    prep = _prep(policy, entries)
    ex = explain(prep, prep.columns.subjects.index("kid"), "air_travel", T0 + 40 * DAY)
    assert ex.decision.decision == "deny"
    assert ex.reasons[0].via_subject == "bob" and ex.reasons[0].via_relation == "child_of"
    assert ex.best_action is not None and ex.best_action.subject == "bob"
    assert "child of bob" in ex.text


def test_an_ended_ban_is_explained(policy: CompiledPolicy) -> None:
    misconduct = {
        "id": "m",
        "source": "rail",
        "subject": "dan",
        "type": "misconduct",
        "occurred_at": T0,
    }
    ex = explain(_prep(policy, [misconduct]), 0, "rail", T0 + 60 * DAY)
    assert ex.decision.decision == "allow"
    (ended,) = ex.ended
    # the fixed 30-day ban of TEST_POLICY, from the day the record was known
    assert (ended.since, ended.until) == (T0, T0 + 30 * DAY)
    assert (
        "A measure (reason code RAIL_BAN) under which you could not use rail from "
        f"{to_date(T0)} until {to_date(T0 + 30 * DAY)} has ended." in ex.text
    )
