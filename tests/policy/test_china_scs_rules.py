"""examples/policies/china-scs.yaml says what the published rules say (../shared/facts.md,
"The published rules in detail"), on a small ledger whose dates are worked out by hand.

Times: the policy counts days in Beijing time (+08:00); a date without a time is 00:00 UTC,
i.e. 08:00 in Beijing, the same calendar day. Working days follow the PRC calendar.

- Ground (2), listed 2024-01-15 for 2 years: the term ends 2026-01-15 (P2Y, same time of
  day). An 18-month extension, known from 2025-06-01: + P1Y6M = 2027-07-15.
- Ground (1), paid on Friday 2026-02-13 (10:00 Beijing, 02:00 UTC): 3 working days, not
  counting that day: Sat 14 (a declared working day before the Spring Festival, 1), Sun 15
  to Mon 23 off, Tue 24 (2), Wed 25 (3). Deleted when Wed 25 ends in Beijing: 2026-02-26
  00:00+08:00 = 2026-02-25T16:00Z.
- Railway category 1: published Mon 2026-03-02 (10:00 Beijing); 7 working days of publicity,
  not counting that day: Tue 3, Wed 4, Thu 5, Fri 6, Mon 9, Tue 10, Wed 11 (no holiday in
  March): the period ends 2026-03-12 00:00+08:00 = 2026-03-11T16:00Z. 180 days from then:
  Apr 11 is 31 days on, May 11 61, Jun 11 92, Jul 11 122, Aug 11 153, Sep 11 184, so 180
  days is Sep 7: the ban ends 2026-09-07T16:00Z.
- Fare evasion: the first paid on 2026-01-20; three more (2026-03-01, 05-01, 08-01) within
  the year after that payment; the last paid 2026-08-03; 90 days later: Sep 3 is 31 days
  on, Oct 3 61, Nov 3 92, so 90 days is 2026-11-01.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from socialcredit.columns import columns_from_entries
from socialcredit.enforcement import check
from socialcredit.examples import example_policy
from socialcredit.explain import explain
from socialcredit.policy import compile_policy, load_policy
from socialcredit.scoring import Prepared, bulk_standings, standing
from socialcredit.timeutil import parse_timestamp

T = parse_timestamp
PATH = example_policy("china-scs")
POLICY = compile_policy(load_policy(PATH))
DEBTORS = "dishonest_judgment_debtors"


def record(eid: str, subject: str, typ: str, occurred: str, **extra: Any) -> dict[str, Any]:
    kind = extra.pop("subject_kind", "person")
    return {
        "id": eid,
        "source": "src",
        "subject": subject,
        "subject_kind": kind,
        "type": typ,
        "occurred_at": occurred,
        "recorded_at": extra.pop("recorded_at", occurred),
        **extra,
    }


def fix(kind: str, eid: str, target: str, at: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": eid,
        "source": "src",
        "target_source": "src",
        "target_id": target,
        "occurred_at": at,
        "recorded_at": at,
        **extra,
    }


def attribute(eid: str, subject: str, name: str, value: str, since: str) -> dict[str, Any]:
    return {
        "kind": "attribute",
        "id": eid,
        "source": "registry",
        "subject": subject,
        "subject_kind": "person",
        "attribute": name,
        "value": value,
        "valid_from": since,
        "recorded_at": since,
    }


def relation(eid: str, subject: str, name: str, org: str) -> dict[str, Any]:
    return {
        "kind": "relation",
        "id": eid,
        "source": "registry",
        "subject": subject,
        "subject_kind": "person",
        "relation": name,
        "related_subject": org,
        "related_kind": "organisation",
        "valid_from": "2020-01-01",
        "recorded_at": "2020-01-01",
    }


ENTRIES: list[dict[str, Any]] = [
    # ground (2): listed 2024-01-15 for the default 2 years; extended by 18 months
    record("g2", "violent", "obstructing_enforcement", "2024-01-15"),
    fix("extend", "g2x", "g2", "2025-06-01", by="18 months", reason="threats against staff"),
    # ground (1), listed 2026-01-10; paid on the Friday before the Spring Festival
    record("g1", "payer", "court_judgment_unfulfilled", "2026-01-10"),
    fix("resolve", "g1r", "g1", "2026-02-13T02:00:00Z", reason="obligation performed"),
    # ground (1), never paid
    record("g1b", "refuser", "court_judgment_unfulfilled", "2026-01-10"),
    # railway category 1: published on the first working day of March, no objection
    record(
        "r1", "smoker", "rail_serious_misconduct", "2026-02-20", recorded_at="2026-03-02T02:00:00Z"
    ),
    # the same, but the objection is upheld (the record annulled)
    record(
        "r2",
        "objector",
        "rail_serious_misconduct",
        "2026-02-20",
        recorded_at="2026-03-02T02:00:00Z",
    ),
    fix("dispute", "r2d", "r2", "2026-03-05", reason="I was not on that train"),
    fix("annul", "r2a", "r2", "2026-03-20", reason="objection upheld"),
    # fare evasion and its escalation
    record("f1", "evader", "fare_evasion", "2026-01-05"),
    fix("resolve", "f1r", "f1", "2026-01-20", reason="fare paid"),
    record("f2", "evader", "fare_evasion", "2026-03-01"),
    fix("resolve", "f2r", "f2", "2026-03-02", reason="fare paid"),
    record("f3", "evader", "fare_evasion", "2026-05-01"),
    fix("resolve", "f3r", "f3", "2026-05-02", reason="fare paid"),
    record("f4", "evader", "fare_evasion", "2026-08-01"),
    fix("resolve", "f4r", "f4", "2026-08-03", reason="fare paid"),
    # a minor with an unfulfilled judgment: born 2010-05-01, 15 at the judgment
    attribute("b1", "minor", "birth_date", "2010-05-01", "2010-05-01"),
    record("m1", "minor", "court_judgment_unfulfilled", "2026-03-01"),
    # an ill debtor: the court approves a flight for treatment, 2026-04-01 to 2026-04-05
    record("i1", "ill", "court_judgment_unfulfilled", "2026-01-10"),
    {
        "kind": "exemption",
        "id": "x1",
        "source": "court",
        "subject": "ill",
        "subject_kind": "person",
        "services": ["air_travel"],
        "valid_from": "2026-04-01",
        "valid_until": "2026-04-05",
        "reason": "medical treatment in Beijing",
        "approved_by": "Intermediate People's Court of Weihai",
        "approved_at": "2026-03-25",
        "recorded_at": "2026-03-25",
    },
    # a defaulting company and its actual controller
    record("c1", "acme", "court_judgment_unfulfilled", "2026-01-10", subject_kind="organisation"),
    relation("rel1", "controller", "actual_controller_of", "acme"),
    # a consumption-restriction order without listing
    record("o1", "ordered", "consumption_restriction_order", "2026-02-01"),
    # a correction request of a listing, not decided: the listing stays
    record("g1c", "asker", "court_judgment_unfulfilled", "2026-01-10"),
    fix("dispute", "g1cd", "g1c", "2026-02-01", reason="wrongly listed"),
]

PREP = Prepared.build(columns_from_entries(ENTRIES), POLICY)


def who(name: str) -> int:
    return list(PREP.columns.subjects).index(name)


def listed(name: str, at: str) -> bool:
    return DEBTORS in [m.name for m in standing(PREP, who(name), T(at)).lists]


def decision(name: str, service: str, at: str, **attrs: Any) -> tuple[str, list[str]]:
    d = check(PREP, who(name), service, T(at), attrs)
    return d.decision, d.reasons


def test_ground_2_lists_for_two_years_and_an_extension_of_18_months_lengthens_it() -> None:
    assert listed("violent", "2024-01-15T00:00:00Z")
    # asked on 2025-05-31 (before the extension was known): the 2-year term
    st = standing(PREP, who("violent"), T("2025-05-31"))
    assert [m.until for m in st.lists] == [T("2026-01-15")]
    # known from 2025-06-01: 2026-01-15 + 18 months
    assert listed("violent", "2026-01-15T00:00:00Z")
    assert listed("violent", "2027-07-14T23:59:59Z")
    assert not listed("violent", "2027-07-15T00:00:00Z")


def test_ground_1_has_no_term_while_unfulfilled() -> None:
    assert listed("refuser", "2036-01-10")


def test_payment_on_the_friday_before_the_spring_festival_delists_by_the_third_working_day() -> (
    None
):
    assert listed("payer", "2026-02-25T15:59:59Z")
    assert not listed("payer", "2026-02-25T16:00:00Z")
    text = explain(PREP, who("payer"), "air_travel", T("2026-02-14")).text
    assert "2026-02-25" in text


def test_a_listed_debtor_is_refused_the_whole_list_of_high_consumption() -> None:
    at = "2026-03-01"
    for service, attrs in [
        ("air_travel", {}),
        ("soft_sleeper", {}),
        ("high_speed_rail", {}),
        ("emu_seats", {"class": "first"}),
        ("ship_cabins", {"class": "second"}),
        ("luxury_hotel", {}),
        ("real_estate", {}),
        ("office_rental", {"grade": "high_end"}),
        ("vehicle_purchase", {"necessity": "non_essential"}),
        ("holidays", {}),
        ("private_school", {"payer": "debtor"}),
        ("insurance", {"premium": "high"}),
    ]:
        assert decision("refuser", service, at, **attrs)[0] == "deny", service
    # and only that: second class, ordinary offices, necessary vehicles, fees paid by others
    for service, attrs in [
        ("emu_seats", {"class": "second"}),
        ("ship_cabins", {"class": "third"}),
        ("office_rental", {"grade": "ordinary"}),
        ("vehicle_purchase", {"necessity": "necessary"}),
        ("private_school", {"payer": "other"}),
        ("insurance", {"premium": "ordinary"}),
        ("rail_travel", {}),
    ]:
        assert decision("refuser", service, at, **attrs) == ("allow", []), service


def test_a_consumption_order_restricts_without_listing() -> None:
    assert not listed("ordered", "2026-03-01")
    assert decision("ordered", "air_travel", "2026-03-01") == ("deny", ["SPC-DEBTOR"])


def test_category_1_rail_ban_runs_180_days_from_the_end_of_the_publicity_period() -> None:
    assert decision("smoker", "rail_travel", "2026-03-11T15:59:59Z") == ("allow", [])
    assert decision("smoker", "rail_travel", "2026-03-11T16:00:00Z") == ("deny", ["RAIL-180"])
    assert decision("smoker", "high_speed_rail", "2026-06-01") == ("deny", ["RAIL-180"])
    assert decision("smoker", "rail_travel", "2026-09-07T15:59:59Z") == ("deny", ["RAIL-180"])
    assert decision("smoker", "rail_travel", "2026-09-07T16:00:00Z") == ("allow", [])


def test_an_upheld_objection_means_the_rail_ban_never_starts() -> None:
    for at in ("2026-03-12", "2026-03-19", "2026-03-21", "2026-06-01"):
        assert decision("objector", "rail_travel", at) == ("allow", []), at


def test_fare_evasion_until_paid_then_escalation_until_90_days_after_paying() -> None:
    assert decision("evader", "rail_travel", "2026-01-10") == ("deny", ["RAIL-FARE"])
    assert decision("evader", "rail_travel", "2026-01-21") == ("allow", [])
    assert decision("evader", "rail_travel", "2026-05-03") == ("allow", [])  # two more only
    assert decision("evader", "rail_travel", "2026-08-02") == (
        "deny",
        ["RAIL-FARE", "RAIL-FARE-REPEAT"],
    )
    assert decision("evader", "rail_travel", "2026-08-04") == ("deny", ["RAIL-FARE-REPEAT"])
    assert decision("evader", "rail_travel", "2026-10-31T23:59:59Z") == (
        "deny",
        ["RAIL-FARE-REPEAT"],
    )
    assert decision("evader", "rail_travel", "2026-11-01") == ("allow", [])


def test_a_minor_is_not_listed() -> None:
    assert not listed("minor", "2026-06-01")
    assert decision("minor", "air_travel", "2026-06-01") == ("allow", [])


def test_a_court_approved_exemption_lets_an_ill_debtor_fly_on_those_dates_only() -> None:
    assert decision("ill", "air_travel", "2026-03-31") == ("deny", ["SPC-DEBTOR"])
    assert decision("ill", "air_travel", "2026-04-02")[0] == "allow"
    assert decision("ill", "high_speed_rail", "2026-04-02") == ("deny", ["SPC-DEBTOR"])
    assert decision("ill", "air_travel", "2026-04-05") == ("deny", ["SPC-DEBTOR"])
    assert listed("ill", "2026-04-02")  # the exemption lifts a measure, not the listing


def test_a_companys_actual_controller_is_restricted() -> None:
    assert decision("controller", "air_travel", "2026-03-01") == ("deny", ["SPC-DEBTOR"])
    assert not listed("controller", "2026-03-01")
    st = standing(PREP, who("controller"), T("2026-03-01"))
    assert {m.via_relation for m in st.denials} == {"actual_controller_of"}


def test_the_listing_stays_while_a_correction_request_is_under_review() -> None:
    # requested 2026-02-01; 15 days to decide; not decided: the listing stays
    assert listed("asker", "2026-02-20")
    assert listed("asker", "2026-06-01")


def test_bulk_agrees_with_each_subject() -> None:
    for at in ("2026-02-25T16:00:00Z", "2026-03-12", "2026-04-02", "2026-08-04", "2027-07-15"):
        bulk = bulk_standings(PREP, T(at))
        for i, name in enumerate(bulk.subjects):
            st = standing(PREP, i, T(at))
            assert sorted(m.name for m in st.lists) == sorted(
                lst.name for lst in POLICY.lists if bulk.lists[lst.index][i]
            ), (name, at)


# [RC] Personal Credit Assessment Standards, Attachment 1, as the facts file gives it
RONGCHENG = {
    "rc_contract_nonperformance": -20,
    "rc_sued_in_breach": -50,
    "rc_bank_loan_arrears": -10,
    "rc_private_lending_breach": -20,
    "rc_illegal_fundraising": -40,
    "rc_guarantee_breach": -20,
    "rc_debt_judgment": -30,
    "rc_pyramid_selling_or_fraud": -30,
    "rc_counterfeit_goods": -30,
    "rc_other_commercial_breach": -5,  # -5 to -50: the least
    "rc_late_public_service_fees": -20,
    "rc_adjudged_fee_arrears": -50,
    "rc_heating_tampering": -50,
    "rc_utility_theft": -60,
    "rc_destroying_public_equipment": -100,
    "traffic_offence": -5,
}


def test_rongcheng_point_table_and_unpublished_cut_offs() -> None:
    body = yaml.safe_load(PATH.read_text(encoding="utf-8"))
    types = body["record_types"]
    assert {t: types[t]["points"] for t in RONGCHENG} == RONGCHENG
    assert body["score"]["base"] == 1000
    assert [g.get("at_least") for g in body["grades"]] == ["unpublished"] * 5 + [None]
    # the court, rail and aviation lists are lists, not points
    lists_only = [
        "court_judgment_unfulfilled",
        "obstructing_enforcement",
        "evading_enforcement",
        "asset_reporting_breach",
        "consumption_order_breach",
        "settlement_refusal",
        "consumption_restriction_order",
        "rail_serious_misconduct",
        "fare_evasion",
        "aviation_serious_misconduct",
    ]
    assert all(types[t]["points"] == 0 for t in lists_only)


@pytest.mark.parametrize("age_known", [True, False])
def test_only_adults_resident_for_a_year_are_scored(age_known: bool) -> None:
    entries = [
        attribute("res", "p", "residence", "rongcheng", "2025-03-01"),
        record("t1", "p", "traffic_offence", "2026-03-10"),
    ]
    if age_known:
        entries.append(attribute("born", "p", "birth_date", "1990-01-01", "1990-01-01"))
    prep = Prepared.build(columns_from_entries(entries), POLICY)
    # resident since 2025-03-01: a year on 2026-03-01; the ticket of 2026-03-10 counts
    # only for an adult whose birth date is known
    assert standing(prep, 0, T("2026-03-11")).score == (995.0 if age_known else 1000.0)
