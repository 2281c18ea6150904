"""What a person reads: reasons true of them, in plain English (issue 5, items 2, 5 and 13).

Dates are worked out by hand from REASONS_POLICY (tests/scoring/test_reasons.py)."""

from __future__ import annotations

import re
from typing import Any

from socialcredit.explain import explain
from socialcredit.policy import CompiledPolicy
from socialcredit.timeutil import DAY, parse_timestamp, to_date
from tests.scoring.test_reasons import T0, prep_of, reasons_policy, rec

__all__ = ["reasons_policy"]  # the fixture

REP = {
    "kind": "relation",
    "id": "rel",
    "source": "registry",
    "subject": "li",
    "relation": "legal_representative_of",
    "related_subject": "acme",
    "related_kind": "organisation",
    "valid_from": T0 - DAY,
}


def no_ids_in_sentences(text: str) -> None:
    """No snake_case id outside record references (source/id) and reason codes."""
    for line in text.splitlines():
        line = re.sub(r"\(reason codes? [^)]*\)", "", line)
        line = re.sub(r"\S+/\S+", "", line)
        assert not re.search(r"[A-Za-z]+_[A-Za-z]+", line), line
        assert "record(s)" not in line


def test_consumption_order_alone_names_no_list(reasons_policy: CompiledPolicy) -> None:
    prep = prep_of(reasons_policy, [rec("c1", "ann", "consumption_order", 0)])
    ex = explain(prep, 0, "air_travel", T0 + 10 * DAY)
    (reason,) = ex.reasons
    assert reason.lists == [] and reason.records == ["src/c1"]
    assert "list" not in ex.text
    assert "You cannot buy air tickets." in ex.text
    assert (
        "- You have a consumption order record: "
        f"src/c1 (consumption order, {to_date(T0)}). That record keeps" in ex.text
    )
    no_ids_in_sentences(ex.text)


def test_representative_is_told_it_is_the_company_that_is_listed(
    reasons_policy: CompiledPolicy,
) -> None:
    prep = prep_of(reasons_policy, [rec("d1", "acme", "debt", 0, subject_kind="organisation"), REP])
    li = prep.columns.subjects.index("li")
    ex = explain(prep, li, "air_travel", T0 + 40 * DAY)
    (reason,) = ex.reasons
    assert (reason.via_subject, reason.via_kind, reason.lists) == (
        "acme",
        "organisation",
        ["debtors"],
    )
    assert "You are on" not in ex.text and "you are on" not in ex.text
    assert (
        "- You are recorded as legal representative of acme; acme is on the list Dishonest "
        f"debtors because of record src/d1 (debt, {to_date(T0)})." in ex.text
    )
    # the remedy is acme's: resolve its debt; lifted 3 days later (day 43)
    assert ex.best_action is not None and ex.best_action.subject == "acme"
    assert ex.best_action.eligible_again_on == to_date(T0 + 43 * DAY)
    assert (
        f"Sooner, with records about acme: resolve record src/d1 (debt, {to_date(T0)})" in ex.text
    )
    no_ids_in_sentences(ex.text)


def test_a_fixed_ban_after_its_listing_ended(reasons_policy: CompiledPolicy) -> None:
    # brawl on day 0: listed until day 100; the 150-day ban runs to day 150
    prep = prep_of(reasons_policy, [rec("b1", "dora", "brawl", 0)])
    t = T0 + 120 * DAY
    ex = explain(prep, 0, "rail", t)
    assert ex.decision.decision == "deny"
    assert ex.decision.eligible_again_on == to_date(T0 + 150 * DAY)
    (reason,) = ex.reasons
    assert reason.records == ["src/b1"] and reason.trigger_ended == to_date(T0 + 100 * DAY)
    assert "You are on" not in ex.text
    assert (
        "- A fixed-term measure began while you were on the list Brawlers on trains "
        f"because of record src/b1 (brawl, {to_date(T0)}); that listing "
        f"ended on {to_date(T0 + 100 * DAY)}" in ex.text
    )
    # a brawl is not resolvable and its dispute window closed on day 30: only an annulment
    # would lift the ban, and no stage of the due process to obtain one is open any more, so
    # nothing is offered (an action the person cannot take would be a false statement)
    assert ex.actions == [] and ex.best_action is None
    assert "Sooner" not in ex.text and "annulled on appeal" not in ex.text
    assert f"The window to dispute record src/b1 closed on {to_date(T0 + 30 * DAY)}." in ex.text
    no_ids_in_sentences(ex.text)


def test_resolving_does_not_end_a_fixed_ban_but_an_annulment_does(
    reasons_policy: CompiledPolicy,
) -> None:
    # debt on day 0 lists her; no_loans runs 200 days from day 0 whatever happens to the list
    prep = prep_of(reasons_policy, [rec("d1", "fay", "debt", 0)])
    t = T0 + 40 * DAY
    ex = explain(prep, 0, "loans", t)
    by_kind = {a.kind: a.eligible_again_on for a in ex.actions}
    # the 30-day dispute window closed on day 30: an annulment is no longer to be had
    assert by_kind == {"resolve": to_date(T0 + 200 * DAY)}
    assert ex.best_action is None and "Sooner" not in ex.text
    # inside the window the annulment is offered, and lifts the ban at once
    ex = explain(prep, 0, "loans", T0 + 10 * DAY)
    by_kind = {a.kind: a.eligible_again_on for a in ex.actions}
    assert by_kind["appeal"] == to_date(T0 + 10 * DAY)


def test_allowed_in_plain_english(reasons_policy: CompiledPolicy) -> None:
    prep = prep_of(reasons_policy, [rec("c1", "gus", "consumption_order", 0)])
    ex = explain(prep, 0, "rail", T0 + 10 * DAY)
    assert "You may buy rail tickets: no measure in force stops you." in ex.text
    no_ids_in_sentences(ex.text)


def test_json_carries_hash_reasons_and_action_sets(reasons_policy: CompiledPolicy) -> None:
    prep = prep_of(reasons_policy, [rec("d1", "hal", "debt", 0)])
    data: dict[str, Any] = explain(prep, 0, "air_travel", T0 + 40 * DAY).to_json()
    assert data["policy_version"] == "reasons@1"
    assert data["policy_hash"] == reasons_policy.loaded.content_hash
    e = data["explanation"]
    assert e["reasons"][0]["lists"] == ["debtors"]
    assert e["reasons"][0]["conditions"][0]["records"] == ["src/d1"]
    assert e["best_action"]["steps"][0]["kind"] == "resolve"
    assert {"ended", "due_process", "text", "actions"} <= set(e)


def test_china_debtor_in_plain_english() -> None:
    from pathlib import Path

    from socialcredit.policy import compile_policy, load_policy

    china = compile_policy(
        load_policy(Path(__file__).resolve().parents[1] / "examples/policies/china-scs.yaml")
    )
    entries = [
        {
            "id": "j1",
            "source": "court",
            "subject": "wang",
            "type": "court_judgment_unfulfilled",
            "occurred_at": T0,
            "recorded_at": T0 + 2 * DAY,
        },
    ]
    ex = explain(prep_of(china, entries), 0, "high_speed_rail", T0 + 40 * DAY)
    assert "You cannot buy seats on G-series high-speed trains." in ex.text
    assert "You are refused" not in ex.text
    # the policy's display name already says "list": not "the list list of …"
    assert "- You are on the list of dishonest judgment debtors because of record court/j1" in (
        ex.text
    )
    no_ids_in_sentences(ex.text)
    # deposit-free bikes are a perk (granted): a debtor is never told they may have them
    perk = explain(prep_of(china, entries), 0, "bike_rental", T0 + 40 * DAY)
    assert (perk.decision.decision, perk.decision.reasons) == ("deny", ["NOT-GRANTED"])
    assert "No measure gives you deposit-free public bikes now" in perk.text
    assert "You may rent public bikes" not in perk.text


def test_a_benefit_says_why_and_until_when() -> None:
    """A perk is a decision too: the explanation names the list behind it, the records that
    keep it, and the day it ends if nothing changes (by hand: china-scs's volunteer redlist
    holds with at least 5 volunteering records within one year; the first of five, on
    2025-01-01, leaves that year on 2026-01-01, and the list and its perks end then)."""
    from pathlib import Path

    from socialcredit.policy import compile_policy, load_policy

    china = compile_policy(
        load_policy(Path(__file__).resolve().parents[1] / "examples/policies/china-scs.yaml")
    )
    entries = [
        {**rec(f"v{k}", "mei", "volunteering", 10 * k), "source": "civic-volunteer-office"}
        for k in range(5)
    ]
    ex = explain(prep_of(china, entries), 0, "bike_rental", T0 + 60 * DAY)
    assert ex.decision.decision == "allow" and ex.decision.benefits == ["REDLIST"]
    assert "You may rent public bikes without a deposit: a measure gives it to you" in ex.text
    assert "- You are on the redlist of volunteers and blood donors because of records" in ex.text
    assert "civic-volunteer-office/v0 (volunteering, 2025-01-01)" in ex.text
    assert "If nothing changes, that benefit (reason code REDLIST) ends on 2026-01-01." in ex.text
    (benefit,) = ex.to_json()["explanation"]["benefits"]
    assert (benefit["reason_code"], benefit["lists"], benefit["until"]) == (
        "REDLIST",
        ["redlist_volunteers"],
        "2026-01-01",
    )
    assert benefit["records"] == [f"civic-volunteer-office/v{k}" for k in range(5)]
    # a day after, the perk has ended and nothing claims it is given
    after = explain(prep_of(china, entries), 0, "bike_rental", parse_timestamp("2026-01-02"))
    assert after.decision.reasons == ["NOT-GRANTED"]
    assert "that benefit" not in after.text
