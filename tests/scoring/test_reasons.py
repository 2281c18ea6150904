"""Measures name only the lists and conditions that hold for whom they come from (issue 5,
items 2 and 5). Expected values are worked out by hand from REASONS_POLICY."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from socialcredit.columns import columns_from_entries
from socialcredit.policy import CompiledPolicy, compile_policy, load_policy, parse_policy
from socialcredit.scoring import Prepared, standing
from socialcredit.timeutil import DAY, parse_timestamp

T0 = parse_timestamp("2025-01-01")
CHINA = Path(__file__).resolve().parents[2] / "examples" / "policies" / "china-scs.yaml"

REASONS_POLICY = """
policy: reasons
version: "1"
meta: {title: Reasons test policy}
score: {form: points, base: 1000}
grades:
  - {name: A, at_least: 950}
  - {name: C}
record_types:
  debt: {points: -100, expires_after: P1000D, context: courts, category: judicial,
         evidence: court_order, resolvable: true}
  consumption_order: {points: 0, expires_after: P365D, context: courts, category: judicial,
                      evidence: court_order}
  brawl: {points: 0, expires_after: P100D, context: transit, category: conduct,
          evidence: official_record}
relations:
  legal_representative_of: {from_kind: person, to_kind: organisation}
lists:
  debtors:
    kind: black
    display_name: Dishonest debtors
    when: {records: {type: debt, unresolved: true}}
    delist_after_resolution: P3D
  brawlers:
    kind: black
    display_name: Brawlers on trains
    when: {records: {type: brawl}}
services:
  air_travel: {display_name: air tickets, action: buy air tickets}
  rail: {display_name: rail tickets, action: buy rail tickets}
  luxury_hotel: {display_name: luxury hotels, action: stay in luxury hotels}
  loans: {display_name: bank loans, action: take out bank loans}
sanctions:
  no_flights:
    when: {any: [{list: debtors}, {records: {type: consumption_order}}]}
    service: air_travel
    effect: deny
    reach: [{relation: legal_representative_of}]
    reason_code: DEBTOR
  rail_ban:
    when: {list: brawlers}
    service: rail
    effect: deny
    duration: {fixed: P150D}
    reason_code: BRAWL
  no_loans:
    when: {list: debtors}
    service: loans
    effect: deny
    duration: {fixed: P200D}
    reason_code: DEBTOR-LOANS
  low_grade_no_hotels:
    when: {grade_in: [C]}
    service: luxury_hotel
    effect: deny
    reason_code: LOW-GRADE
due_process:
  appeal_window: P30D
  reinvestigation_deadline: P30D
  disputed_records_count: false
"""


@pytest.fixture(scope="module")
def reasons_policy() -> CompiledPolicy:
    return compile_policy(parse_policy(REASONS_POLICY, "reasons.yaml"))


def rec(rid: str, subject: str, rtype: str, day: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "source": "src",
        "subject": subject,
        "type": rtype,
        "occurred_at": T0 + day * DAY,
        **extra,
    }


def prep_of(policy: CompiledPolicy, entries: list[dict[str, Any]]) -> Prepared:
    return Prepared.build(columns_from_entries(entries), policy)


def test_a_consumption_order_alone_names_no_list(reasons_policy: CompiledPolicy) -> None:
    prep = prep_of(reasons_policy, [rec("c1", "ann", "consumption_order", 0)])
    st = standing(prep, 0, T0 + 10 * DAY)
    (m,) = st.measures
    assert m.name == "no_flights"
    # ann is on no list: the measure holds through its records branch only
    assert st.lists == [] and m.lists == []
    (cond,) = m.conditions
    assert (cond.kind, cond.name, cond.records) == ("records", "consumption_order", ["src/c1"])
    assert m.records == ["src/c1"]


def test_a_debtor_is_named_on_the_list_with_the_debt_only(reasons_policy: CompiledPolicy) -> None:
    # an unresolved debt lists her; a consumption order that expired on day 365 does not count
    prep = prep_of(
        reasons_policy, [rec("c1", "bea", "consumption_order", 0), rec("d1", "bea", "debt", 300)]
    )
    st = standing(prep, 0, T0 + 400 * DAY)
    (m,) = [m for m in st.measures if m.service == "air_travel"]
    assert m.lists == ["debtors"]
    assert [(c.kind, c.name, c.records) for c in m.conditions] == [("list", "debtors", ["src/d1"])]


def test_a_representative_is_told_the_companys_lists(reasons_policy: CompiledPolicy) -> None:
    entries = [
        rec("d1", "acme", "debt", 0, subject_kind="organisation"),
        {
            "kind": "relation",
            "id": "rel",
            "source": "registry",
            "subject": "li",
            "relation": "legal_representative_of",
            "related_subject": "acme",
            "related_kind": "organisation",
            "valid_from": T0 - DAY,
        },
        rec("c9", "li", "consumption_order", 5),
    ]
    prep = prep_of(reasons_policy, entries)
    li = prep.columns.subjects.index("li")
    st = standing(prep, li, T0 + 10 * DAY)
    own = next(m for m in st.measures if m.via_subject is None)
    via = next(m for m in st.measures if m.via_subject == "acme")
    # li is on no list; acme is, through its debt
    assert st.lists == [] and own.lists == [] and own.records == ["src/c9"]
    assert via.lists == ["debtors"] and via.records == ["src/d1"]
    assert via.via_relation == "legal_representative_of"


def test_china_representative_measure_names_the_company_listing() -> None:
    china = compile_policy(load_policy(CHINA))
    entries = [
        {
            "id": "j1",
            "source": "court",
            "subject": "acme",
            "subject_kind": "organisation",
            "type": "obstructing_enforcement",
            "occurred_at": T0,
        },
        {
            "kind": "relation",
            "id": "r1",
            "source": "registry",
            "subject": "wang",
            "relation": "legal_representative_of",
            "related_subject": "acme",
            "related_kind": "organisation",
            "valid_from": T0 - DAY,
        },
    ]
    prep = prep_of(china, entries)
    wang = prep.columns.subjects.index("wang")
    st = standing(prep, wang, T0 + 30 * DAY)
    assert st.lists == []
    air = next(m for m in st.measures if m.service == "air_travel")
    assert air.via_subject == "acme" and air.lists == ["dishonest_judgment_debtors"]
    # the list holds for acme through its obstruction record (the records branch of `any`)
    (cond,) = air.conditions
    assert cond.records == ["court/j1"]


def test_grade_measure_names_the_grade_not_a_list(reasons_policy: CompiledPolicy) -> None:
    prep = prep_of(reasons_policy, [rec("d1", "cy", "debt", 0)])
    st = standing(prep, 0, T0 + 10 * DAY)  # 1000 - 100 = 900 < 950: grade C
    hotel = next(m for m in st.measures if m.service == "luxury_hotel")
    assert hotel.lists == []
    (cond,) = hotel.conditions
    assert (cond.kind, cond.name, cond.grade_or_score) == ("grade_in", "C", True)


def test_a_fixed_ban_keeps_the_listing_that_started_it(reasons_policy: CompiledPolicy) -> None:
    # brawl on day 0: on the list until day 100 (record lifetime); banned days 0-150
    prep = prep_of(reasons_policy, [rec("b1", "dora", "brawl", 0)])
    st = standing(prep, 0, T0 + 120 * DAY)
    assert st.lists == []
    (m,) = st.measures
    assert (m.since, m.until) == (T0, T0 + 150 * DAY)
    assert m.trigger_ended == T0 + 100 * DAY
    assert m.lists == ["brawlers"] and m.records == ["src/b1"]
    (cond,) = m.conditions
    assert cond.ended == T0 + 100 * DAY
    # while the listing holds, it has not ended
    (m_early,) = standing(prep, 0, T0 + 50 * DAY).measures
    assert m_early.trigger_ended is None and m_early.conditions[0].ended is None


def test_denials_are_named_as_such(reasons_policy: CompiledPolicy) -> None:
    prep = prep_of(reasons_policy, [rec("d1", "eve", "debt", 0)])
    st = standing(prep, 0, T0 + 10 * DAY)
    denying = {"no_flights", "no_loans", "low_grade_no_hotels"}
    assert {m.name for m in st.denials} == denying
    assert not hasattr(st, "sanctions")
    # the documented JSON key keeps listing every measure
    data = st.to_json()
    assert {s["name"] for s in data["sanctions"]} == denying
    assert data["sanctions"][0]["lists"] == ["debtors"]
