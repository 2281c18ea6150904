"""Exemptions and eligibility: hand-computed cases, invariants on random ledgers, bulk ==
single subject, and time travel (a fact learned later does not change the past)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.columns import columns_from_entries
from socialcredit.enforcement import check, decide
from socialcredit.explain import explain
from socialcredit.policy import CompiledPolicy, compile_policy, parse_policy
from socialcredit.scoring import Prepared, bulk_standings, standing
from socialcredit.scoring.facts import fold_facts
from socialcredit.timeutil import DAY, parse_timestamp
from tests.conftest import TEST_POLICY
from tests.strategies import maybe_child_of

T0 = parse_timestamp("2025-01-01")


def ts(text: str) -> int:
    return parse_timestamp(text)


# The test policy, with attributes and eligibility: a minor may not be on the debtors list
# (persons only), and volunteering counts only for residents of rongcheng of one year.
FACTS_POLICY = (
    TEST_POLICY.replace(
        "relations:\n",
        "attributes:\n"
        "  birth_date: {type: date, subject_kinds: [person]}\n"
        "  residence: {type: text}\n"
        "  staff: {type: number, subject_kinds: [organisation]}\n"
        "relations:\n",
    )
    .replace(
        "    when: {records: {type: debt, unresolved: true}}\n    delist_after_resolution: P3D\n",
        "    when: {records: {type: debt, unresolved: true}}\n    delist_after_resolution: P3D\n"
        "    eligible: [{attribute: birth_date, age_at_least: 18}]\n",
    )
    .replace(
        "    points: 10\n    expires_after: P365D\n",
        "    points: 10\n    expires_after: P365D\n"
        "    eligible: [{attribute: residence, equals: rongcheng, held_for: P365D}]\n",
    )
    .replace(
        "  child_of: {description: subject is a child of the related subject}\n",
        "  child_of: {description: subject is a child of the related subject}\n"
        "  legal_representative_of: {from_kind: person, to_kind: organisation}\n",
    )
    .replace(
        "    reach: [{relation: child_of}]\n    reason_code: DEBTOR\n",
        "    reach: [{relation: child_of}, {relation: legal_representative_of}]\n"
        "    reason_code: DEBTOR\n",
    )
)


@pytest.fixture(scope="module")
def fpolicy() -> CompiledPolicy:
    return compile_policy(parse_policy(FACTS_POLICY, "facts-policy.yaml"))


def adult(subject: str, kind: str = "person") -> dict[str, Any]:
    return {
        "kind": "attribute",
        "id": f"born-{subject}",
        "source": "registry",
        "subject": subject,
        "subject_kind": kind,
        "attribute": "birth_date",
        "value": "1980-05-05",
        "valid_from": "1980-05-05",
        "recorded_at": "2024-01-01",
    }


def debt(subject: str, rid: str = "d1", day: str = "2025-01-10") -> dict[str, Any]:
    return {
        "id": rid,
        "source": "court",
        "subject": subject,
        "type": "debt",
        "occurred_at": day,
        "recorded_at": day,
    }


def exemption(
    subject: str, services: Any, start: str, until: str | None, recorded: str, xid: str = "x1"
) -> dict[str, Any]:
    out = {
        "kind": "exemption",
        "id": xid,
        "source": "court",
        "subject": subject,
        "services": services,
        "valid_from": start,
        "reason": "a funeral",
        "approved_by": "Intermediate Court",
        "approved_at": recorded,
        "recorded_at": recorded,
    }
    if until is not None:
        out["valid_until"] = until
    return out


def prep_of(policy: CompiledPolicy, entries: list[dict[str, Any]]) -> Prepared:
    return Prepared.build(columns_from_entries(entries), policy)


# ---------------------------------------------------------------------- exemptions


def test_an_exemption_allows_from_its_first_second_to_before_its_last(
    fpolicy: CompiledPolicy,
) -> None:
    # the funeral exemption runs [2025-03-01T00:00:00Z, 2025-03-10T00:00:00Z)
    entries = [
        adult("p"),
        debt("p"),
        exemption("p", ["air_travel"], "2025-03-01", "2025-03-10", "2025-02-20"),
    ]
    prep = prep_of(fpolicy, entries)
    answers = {
        "2025-02-28T23:59:59": "deny",
        "2025-03-01T00:00:00": "allow",
        "2025-03-09T23:59:59": "allow",
        "2025-03-10T00:00:00": "deny",
    }
    for when, expected in answers.items():
        t = ts(when)
        decision = check(prep, 0, "air_travel", t)
        assert decision.decision == expected, when
        assert decision == decide(standing(prep, 0, t), "air_travel")
        # another service the same list denies is untouched
        assert check(prep, 0, "private_school", t).decision == "deny"
    inside = standing(prep, 0, ts("2025-03-05"))
    assert [m.name for m in inside.lists] == ["debtors"]  # still listed
    assert any(m.service == "air_travel" for m in inside.measures)  # the measure stays
    assert [x.id for x in inside.exemptions] == ["x1"]
    assert inside.to_json()["exemptions"][0]["covers"] == ["air_travel"]
    decision = check(prep, 0, "air_travel", ts("2025-03-05"))
    assert decision.exempted == ["DEBTOR"]
    assert decision.exemption_text == (
        "exemption court/x1 approved by Intermediate Court on 2025-02-20 for a funeral, "
        "from 2025-03-01 until 2025-03-10"
    )
    json = decision.to_json()
    assert json["exemptions"][0]["valid_until"] == "2025-03-10T00:00:00Z"


def test_an_exemption_learned_later_does_not_change_the_past(fpolicy: CompiledPolicy) -> None:
    # approved on 2025-02-20 but received by the ledger on 2025-03-05 (mid-period)
    entries = [
        adult("p"),
        debt("p"),
        exemption("p", "air_travel", "2025-03-01", "2025-03-10", "2025-03-05"),
    ]
    entries[2]["approved_at"] = "2025-02-20"
    prep = prep_of(fpolicy, entries)
    assert check(prep, 0, "air_travel", ts("2025-03-04T23:59:59")).decision == "deny"
    assert check(prep, 0, "air_travel", ts("2025-03-05")).decision == "allow"


def test_an_annulled_exemption_stops_from_when_the_annulment_is_known(
    fpolicy: CompiledPolicy,
) -> None:
    entries = [
        adult("p"),
        debt("p"),
        exemption("p", "air_travel", "2025-03-01", None, "2025-02-20"),
        {
            "kind": "annul",
            "id": "a1",
            "source": "court",
            "target_source": "court",
            "target_id": "x1",
            "occurred_at": "2025-04-01",
            "recorded_at": "2025-04-01",
        },
    ]
    prep = prep_of(fpolicy, entries)
    assert check(prep, 0, "air_travel", ts("2025-03-31")).decision == "allow"
    assert check(prep, 0, "air_travel", ts("2025-04-01")).decision == "deny"


def test_an_exemption_releases_a_legal_representative_reached_through_the_relation(
    fpolicy: CompiledPolicy,
) -> None:
    # the company is listed; its former legal representative is released by the court
    entries = [
        {**debt("acme"), "subject_kind": "organisation"},
        {
            "kind": "relation",
            "id": "lr",
            "source": "registry",
            "subject": "wang",
            "relation": "legal_representative_of",
            "related_subject": "acme",
            "related_kind": "organisation",
            "valid_from": "2020-01-01",
            "recorded_at": "2020-01-01",
        },
        exemption("wang", ["air_travel"], "2025-06-01", None, "2025-06-01"),
    ]
    prep = prep_of(fpolicy, entries)
    wang = prep.columns.subjects.index("wang")
    before, after = ts("2025-05-31"), ts("2025-06-01")
    assert check(prep, wang, "air_travel", before).decision == "deny"
    assert check(prep, wang, "air_travel", after).decision == "allow"
    # the company itself stays denied: the exemption is wang's own
    acme = prep.columns.subjects.index("acme")
    assert check(prep, acme, "air_travel", after).decision == "deny"
    text = explain(prep, wang, "air_travel", after).text
    assert "exemption court/x1 approved by Intermediate Court" in text
    assert "you stay on every list you are on" in text
    bulk = bulk_standings(prep, after)
    flights = fpolicy.sanctions[0].index
    assert bulk.measures[flights, wang] and not bulk.denied()[flights, wang]
    assert bulk.denied()[flights, acme]
    assert list(bulk.denied_on("air_travel")) == [name == "acme" for name in prep.columns.subjects]


def test_an_exemption_for_the_wrong_service_or_a_benefit_changes_nothing(
    fpolicy: CompiledPolicy,
) -> None:
    entries = [
        adult("p"),
        debt("p"),
        exemption("p", ["rail", "bike_rental"], "2025-03-01", "2025-03-10", "2025-02-20"),
    ]
    prep = prep_of(fpolicy, entries)
    t = ts("2025-03-05")
    assert check(prep, 0, "air_travel", t).decision == "deny"
    assert check(prep, 0, "rail", t).decision == "allow"  # no measure: nothing to waive
    assert check(prep, 0, "rail", t).exemptions == ()


# ---------------------------------------------------------------------- eligibility


def born(subject: str, day: str, recorded: str = "2024-01-01", xid: str = "") -> dict[str, Any]:
    return {
        "kind": "attribute",
        "id": xid or f"born-{subject}",
        "source": "registry",
        "subject": subject,
        "attribute": "birth_date",
        "value": day,
        "valid_from": day,
        "recorded_at": ts(recorded),
    }


def test_a_minor_born_on_a_leap_day_is_listed_from_the_1st_of_march(
    fpolicy: CompiledPolicy,
) -> None:
    entries = [born("kid", "2008-02-29"), debt("kid", day="2025-06-01")]
    prep = prep_of(fpolicy, entries)
    # 18 calendar years from 2008-02-29 end when 2026-02-28 ends (as P18Y does)
    minor, of_age = ts("2026-02-28T23:59:59"), ts("2026-03-01T00:00:00")
    assert standing(prep, 0, minor).lists == []
    assert check(prep, 0, "air_travel", minor).decision == "allow"
    on = standing(prep, 0, of_age)
    assert [m.name for m in on.lists] == ["debtors"]
    assert on.lists[0].since == of_age  # listed from the day they turn 18
    assert check(prep, 0, "air_travel", of_age).decision == "deny"
    st = standing(prep, 0, minor)
    assert st.not_eligible[0].name == "debtors"
    assert st.not_eligible[0].reasons == [
        "you are under 18 (birth date 2008-02-29) until the end of 2026-02-28"
    ]
    text = explain(prep, 0, "air_travel", minor, present=False).text
    assert "You are not on the list debtors, although its condition holds for you" in text


def test_an_age_is_counted_as_the_policy_counts_calendar_years(
    fpolicy: CompiledPolicy,
) -> None:
    import numpy as np

    from socialcredit.scoring.facts import age_reached
    from socialcredit.spans import Span

    days = np.array([ts("2008-02-29"), ts("2024-01-31"), ts("2000-12-31")], dtype=np.float64)
    # worked out by hand: the 18th birthday, or the day after 28 February for a leap-day birth
    assert [int(x) for x in age_reached(fpolicy, days, 18)] == [
        ts("2026-03-01"),
        ts("2042-01-31"),
        ts("2018-12-31"),
    ]
    assert int(age_reached(fpolicy, days[:1], 20)[0]) == ts("2028-02-29")
    # one rule: an age of n is n calendar years, the same as a span of PnY
    same = fpolicy.after(days.astype(np.int64), Span(months=12 * 18))
    assert [int(x) for x in age_reached(fpolicy, days, 18)] == [int(x) for x in same]


def test_a_subject_whose_birth_date_is_unknown_is_not_listed_and_told_why(
    fpolicy: CompiledPolicy,
) -> None:
    prep = prep_of(fpolicy, [debt("p")])
    t = ts("2025-02-01")
    st = standing(prep, 0, t)
    assert st.lists == []
    assert st.not_eligible[0].reasons == [
        "no birth date is known to the ledger for you on 2025-02-01"
    ]


def test_an_organisation_is_listed_without_a_birth_date(fpolicy: CompiledPolicy) -> None:
    prep = prep_of(fpolicy, [{**debt("acme"), "subject_kind": "organisation"}])
    st = standing(prep, 0, ts("2025-02-01"))
    assert [m.name for m in st.lists] == ["debtors"]
    assert st.not_eligible == []


def test_a_birth_date_learned_later_does_not_change_the_past(fpolicy: CompiledPolicy) -> None:
    # the court listed an adult debtor; the registry's birth date arrives on 2025-03-01
    entries = [debt("p"), born("p", "1990-01-01", recorded="2025-03-01")]
    prep = prep_of(fpolicy, entries)
    assert standing(prep, 0, ts("2025-02-28")).lists == []
    on = standing(prep, 0, ts("2025-03-01"))
    assert [m.name for m in on.lists] == ["debtors"]
    # as every "since", reconstructed with what is known at the time asked: an adult then
    assert on.lists[0].since == ts("2025-01-10")


def test_a_corrected_birth_date_counts_from_when_it_is_known(fpolicy: CompiledPolicy) -> None:
    # first recorded as an adult, then annulled and corrected to a minor's date
    entries = [
        born("p", "1990-01-01"),
        debt("p"),
        {
            "kind": "annul",
            "id": "fix",
            "source": "registry",
            "target_source": "registry",
            "target_id": "born-p",
            "occurred_at": "2025-04-01",
            "recorded_at": "2025-04-01",
        },
        born("p", "2010-01-01", recorded="2025-04-01", xid="born-p-2"),
    ]
    prep = prep_of(fpolicy, entries)
    assert [m.name for m in standing(prep, 0, ts("2025-03-31")).lists] == ["debtors"]
    assert standing(prep, 0, ts("2025-04-01")).lists == []


def resident(subject: str, place: str, since: str, until: str | None = None) -> dict[str, Any]:
    out = {
        "kind": "attribute",
        "id": f"res-{subject}-{since}",
        "source": "registry",
        "subject": subject,
        "attribute": "residence",
        "value": place,
        "valid_from": since,
        "recorded_at": since,
    }
    if until:
        out["valid_until"] = until
    return out


def volunteering(subject: str, rid: str, day: str) -> dict[str, Any]:
    return {
        "id": rid,
        "source": "civic",
        "subject": subject,
        "type": "volunteering",
        "occurred_at": day,
        "recorded_at": day,
    }


def test_volunteering_counts_only_after_a_year_of_residence(fpolicy: CompiledPolicy) -> None:
    # resident of rongcheng from 2025-01-01: P365D later is 2026-01-01 (2025 has 365 days)
    entries = [resident("p", "rongcheng", "2025-01-01"), volunteering("p", "v1", "2025-06-01")]
    prep = prep_of(fpolicy, entries)
    before = standing(prep, 0, ts("2025-12-31T23:59:59"))
    assert before.score == 1000
    assert before.breakdown[0].status == (
        "not counted: the subject is not eligible for this record type"
    )
    assert before.not_eligible[0].kind == "record_type"
    assert (
        "your residence has been 'rongcheng' only since 2025-01-01"
        in (before.not_eligible[0].reasons[0])
    )
    after = standing(prep, 0, ts("2026-01-01"))
    assert after.score == 1010
    # a resident elsewhere: the value is not the one the policy names
    other = prep_of(
        fpolicy, [resident("q", "weihai", "2020-01-01"), volunteering("q", "v", "2025-06-01")]
    )
    st = standing(other, 0, ts("2025-07-01"))
    assert st.score == 1000
    assert st.not_eligible[0].reasons == [
        "your residence is 'weihai' (since 2020-01-01), not 'rongcheng'"
    ]


def test_moving_away_ends_eligibility(fpolicy: CompiledPolicy) -> None:
    entries = [
        resident("p", "rongcheng", "2020-01-01", until="2025-03-01"),
        volunteering("p", "v1", "2025-01-10"),
    ]
    prep = prep_of(fpolicy, entries)
    assert standing(prep, 0, ts("2025-02-28")).score == 1010
    assert standing(prep, 0, ts("2025-03-01")).score == 1000


# ---------------------------------------------------------------------- random ledgers

SUBJECTS = ["a", "b", "c", "d"]
SERVICES = ["air_travel", "private_school", "rail", "luxury_hotel", "bike_rental"]
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def fact_ledgers(draw: st.DrawFn, around: int | None = None) -> list[dict[str, Any]]:
    """Records, birth dates, residences, exemptions (near day ``around`` when given, so that
    some cover the time asked about) and a relation."""
    entries: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 10))):
        day = draw(st.integers(0, 600))
        entries.append(
            {
                "id": f"r{i}",
                "source": "src",
                "subject": draw(st.sampled_from(SUBJECTS)),
                "type": draw(st.sampled_from(["debt", "fine", "misconduct", "volunteering"])),
                "occurred_at": T0 + day * DAY,
                "recorded_at": T0 + (day + draw(st.integers(0, 5))) * DAY,
            }
        )
    for subject in draw(st.lists(st.sampled_from(SUBJECTS), max_size=3, unique=True)):
        entries.append(born(subject, "1980-01-01", recorded="2024-12-01", xid=f"adult-{subject}"))
    for j in range(draw(st.integers(0, 4))):
        year = draw(st.integers(1995, 2012))
        day_of = draw(st.sampled_from(["02-28", "03-01"] + (["02-29"] if year % 4 == 0 else [])))
        known = T0 + draw(st.integers(-30, 300)) * DAY
        subject = draw(st.sampled_from(SUBJECTS))
        entries.append(born(subject, f"{year}-{day_of}", xid=f"b{j}") | {"recorded_at": known})
    for j in range(draw(st.integers(0, 3))):
        start = T0 + draw(st.integers(-400, 500)) * DAY
        place = draw(st.sampled_from(["rongcheng", "weihai"]))
        entry = resident(draw(st.sampled_from(SUBJECTS)), place, "2020-01-01")
        entries.append(entry | {"id": f"res{j}", "valid_from": start, "recorded_at": start})
    # exemptions, mostly of the services the test policy denies
    denied = ["air_travel", "private_school", "air_travel", "rail", "bike_rental"]
    for j in range(draw(st.integers(0, 6))):
        middle = draw(st.integers(0, 700)) if around is None else around
        start = T0 + (middle - draw(st.integers(0, 60))) * DAY
        length = draw(st.integers(1, 200)) * DAY
        known = start + draw(st.integers(-20, 20)) * DAY
        entries.append(
            {
                "kind": "exemption",
                "id": f"x{j}",
                "source": "court",
                "subject": draw(st.sampled_from(SUBJECTS)),
                "services": draw(st.lists(st.sampled_from(denied), min_size=1, max_size=3)),
                "valid_from": start,
                "valid_until": start + length,
                "reason": "exam",
                "approved_by": "court",
                "recorded_at": known,
            }
        )
    entries += draw(maybe_child_of(SUBJECTS, T0 - 10 * DAY))
    return entries


days = st.integers(-5, 1000)
cases = days.flatmap(lambda d: st.tuples(st.just(d), fact_ledgers(d)))


def without_exemptions(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e.get("kind") != "exemption"]


@SETTINGS
@given(case=cases)
def test_bulk_agrees_with_single_subject_with_facts(
    fpolicy: CompiledPolicy, case: tuple[int, list[dict[str, Any]]]
) -> None:
    day, entries = case
    t = T0 + day * DAY
    prep = prep_of(fpolicy, entries)
    bulk = bulk_standings(prep, t)
    for i in range(prep.columns.n_subjects):
        s = standing(prep, i, t)
        assert abs(bulk.score[i] - s.score) < 1e-9
        assert {lst.name for lst in fpolicy.lists if bulk.lists[lst.index, i]} == {
            m.name for m in s.lists
        }
        assert {x.name for x in fpolicy.sanctions if bulk.measures[x.index, i]} == {
            m.name for m in s.measures
        }
        for service in SERVICES:
            decision = check(prep, i, service, t)
            assert decision == decide(s, service)
            assert bool(bulk.denied_on(service)[i]) == (decision.decision == "deny")
            own = [x for x in fpolicy.sanctions if x.service == service and x.effect == "deny"]
            waived = bool(bulk.exempt_on(service)[i])
            for x in own:
                assert bool(bulk.denied()[x.index, i]) == (bulk.measures[x.index, i] and not waived)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases, service=st.sampled_from(SERVICES))
def test_an_exemption_only_turns_a_deny_into_an_allow_for_its_services_and_period(
    fpolicy: CompiledPolicy, case: tuple[int, list[dict[str, Any]]], service: str
) -> None:
    day, entries = case
    t = T0 + day * DAY
    with_x = prep_of(fpolicy, entries)
    without = prep_of(fpolicy, without_exemptions(entries))
    for i, name in enumerate(with_x.columns.subjects):
        j = without.columns.subjects.index(name) if name in without.columns.subjects else None
        a = check(with_x, i, service, t)
        if j is None:
            continue
        b = check(without, j, service, t)
        covering = [
            e
            for e in entries
            if e.get("kind") == "exemption"
            and e["subject"] == name
            and service in e["services"]
            and e["valid_from"] <= t < e["valid_until"]
            and e["recorded_at"] <= t
        ]
        if b.decision == "allow":
            assert a.decision == "allow"  # never an allow turned into a deny
            assert a.exemptions == ()
        elif covering:
            assert a.decision == "allow"
        else:
            assert a.decision == "deny" and a.reasons == b.reasons
        # lists, score and benefits are untouched
        sa, sb = standing(with_x, i, t), standing(without, j, t)
        assert [m.name for m in sa.lists] == [m.name for m in sb.lists]
        assert sa.score == sb.score
        assert a.benefits == b.benefits


@SETTINGS
@given(entries=fact_ledgers(), day=days)
def test_an_ineligible_subject_is_never_listed(
    fpolicy: CompiledPolicy, entries: list[dict[str, Any]], day: int
) -> None:
    import numpy as np

    from socialcredit.scoring.facts import age_reached

    t = T0 + day * DAY
    prep = prep_of(fpolicy, entries)
    bulk = bulk_standings(prep, t)
    debtors = fpolicy.list_index("debtors")
    for i, name in enumerate(prep.columns.subjects):
        births = [
            e
            for e in entries
            if e.get("kind") == "attribute"
            and e["subject"] == name
            and e["attribute"] == "birth_date"
            and e["recorded_at"] <= t
            and parse_timestamp(e["valid_from"]) <= t
        ]
        if not births:
            assert not bulk.lists[debtors, i]
            continue
        latest = max(births, key=lambda e: (parse_timestamp(e["valid_from"]), entries.index(e)))
        of_age = int(age_reached(fpolicy, np.array([float(ts(latest["value"]))]), 18)[0])
        if t < of_age:
            assert not bulk.lists[debtors, i]
            assert not standing(prep, i, t).lists or all(
                m.name != "debtors" for m in standing(prep, i, t).lists
            )


@SETTINGS
@given(case=cases)
def test_facts_learned_later_do_not_change_an_earlier_answer(
    fpolicy: CompiledPolicy, case: tuple[int, list[dict[str, Any]]]
) -> None:
    day, entries = case
    t = T0 + day * DAY
    # exemptions and attributes the ledger learns after t are invisible at t: a ledger
    # without them answers alike
    known = [
        e
        for e in entries
        if e.get("kind") not in ("exemption", "attribute") or e["recorded_at"] <= t
    ]
    a, b = prep_of(fpolicy, entries), prep_of(fpolicy, known)
    for name in b.columns.subjects:
        i, j = a.columns.subjects.index(name), b.columns.subjects.index(name)
        for service in SERVICES:
            assert check(a, i, service, t) == check(b, j, service, t)
        sa, sb = standing(a, i, t), standing(b, j, t)
        assert sa.score == sb.score
        assert [(m.name, m.since) for m in sa.lists] == [(m.name, m.since) for m in sb.lists]


# ---------------------------------------------------------------------- services, hashes


@pytest.mark.parametrize(
    ("services", "expected"),
    [
        # an exemption for a seat allows that seat, not every train ticket
        (
            ["g_train_seats"],
            {"g_train_seats": "allow", "rail_tickets": "deny", "d_train_seats": "deny"},
        ),
        # one for train tickets allows every service declared under them
        (
            ["rail_tickets"],
            {"g_train_seats": "allow", "rail_tickets": "allow", "d_train_seats": "allow"},
        ),
    ],
)
def test_an_exemption_covers_the_services_under_its_own(
    services: list[str], expected: dict[str, str]
) -> None:
    from tests.policy.services.policy import structured

    policy = structured()
    entries = [
        {
            "id": "f1",
            "source": "rail",
            "subject": "fighter",
            "type": "seat_fight",
            "occurred_at": T0,
        },
        exemption("fighter", services, "2025-01-02", None, "2025-01-02"),
    ]
    prep = prep_of(policy, entries)
    t = T0 + 10 * DAY
    st = standing(prep, 0, t)
    bulk = bulk_standings(prep, t)
    for service, answer in expected.items():
        decision = check(
            prep, 0, service, t, {} if service != "d_train_seats" else {"class": "second"}
        )
        assert decision.decision == answer, service
        assert decide(st, service, decision.attributes) == decision
        assert bool(bulk.denied_on(service)[0]) == (answer == "deny")
        if answer == "allow":
            assert decision.exempted == ["RAIL-CAT1"]


def test_a_policy_that_uses_no_new_field_keeps_its_content_hash() -> None:
    # stored activations are checked against their hashes: fields added to the language
    # (attributes, eligible, and the services' parent, context, applies_to) must not change
    # the hash of a policy that does not use them (these are the hashes before they existed)
    from pathlib import Path

    from socialcredit.policy import parse_policy

    root = Path(__file__).resolve().parents[2] / "examples" / "policies"
    # both write years: since calendar spans its rules hash anew (a year is no
    # longer 365 days), and its stored activations are recognised by the hash it had
    # before (``legacy_content_hash``; see tests/ledger/test_policy_integrity.py)
    from socialcredit.policy.loader import legacy_content_hash

    def before_sources(name: str) -> str:
        # the examples have since gained a sources section (issue 8), the last block of
        # each: without it, each is the policy these hashes were taken of
        # (and its version bumped for it: 1.0 is the version these hashes were taken of);
        # carrot-rewards 2.0 moved to the wallet form (issue 11): its 1.1 is kept as a fixture
        here = Path(__file__).parent / "fixtures" / name.replace(".yaml", "-1.1.yaml")
        text = (here if here.exists() else root / name).read_text(encoding="utf-8")
        assert text.count("\nsources:\n") == 1 and text.count('\nversion: "1.1"\n') == 1
        return text.split("\nsources:\n")[0].replace('\nversion: "1.1"\n', '\nversion: "1.0"\n')

    assert legacy_content_hash(parse_policy(before_sources("fair-transit.yaml")).policy) == (
        "b6bc20c9c2f689c81cd30f7596d6e124808737302a3de3acb6b9137b0d15e33c"
    )
    assert legacy_content_hash(parse_policy(before_sources("carrot-rewards.yaml")).policy) == (
        "5ad86432c937196423e97d22ca09ebb058f07d3adbdd1da79017bc648633ace6"
    )


@settings(max_examples=80, deadline=None)
@given(
    facts=st.lists(
        st.tuples(
            st.sampled_from(["p", "q", "r"]),
            st.sampled_from(
                ["birth_date", "residence", "staff", "b", "Zeta", "ämter", "résidence"]
            ),
            st.sampled_from(["2008-02-29", "1990-01-01", "12", "3.5", "rongcheng", "x"]),
            st.integers(0, 30),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_folded_attributes_are_ordered_and_read_as_sorting_the_names_says(
    fpolicy: CompiledPolicy, facts: list[tuple[str, str, str, int]]
) -> None:
    # fold_facts sorts attribute rows by subject, name, start and ledger order, ranking
    # names by hashing rather than sorting strings, and reads each distinct value once
    entries = [
        {
            "kind": "attribute",
            "id": f"a{i}",
            "source": "registry",
            "subject": subject,
            "attribute": name,
            "value": value,
            "valid_from": T0 + day * DAY,
        }
        for i, (subject, name, value, day) in enumerate(facts)
    ]
    columns = columns_from_entries(entries)
    folded = fold_facts(columns, fpolicy).attributes
    key = [
        (int(columns.att_subject[i]), str(columns.att_name[i]), int(columns.att_valid_from[i]), i)
        for i in range(len(entries))
    ]
    assert folded.index.tolist() == sorted(range(len(entries)), key=lambda i: key[i])
    declared = fpolicy.policy.attributes
    for row, i in enumerate(folded.index.tolist()):
        kind = declared[facts[i][1]].type if facts[i][1] in declared else "text"
        text = facts[i][2]
        want: float | None = None
        if kind == "date" and "-" in text:
            want = float(parse_timestamp(text))
        elif kind == "number" and text.replace(".", "").isdigit():
            want = float(text)
        got = float(folded.number[row])
        assert (want is None and np.isnan(got)) or got == want, (facts[i], got)


@settings(max_examples=200, deadline=None)
@given(
    real=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=12),
    data=st.data(),
)
def test_breakpoints_go_to_every_stand_in_of_their_subject(real: list[int], data: Any) -> None:
    """Eligibility breakpoints found for one stand-in of a subject (counterfactual scenarios
    copy subjects) go to every stand-in of it: the vectorised expansion gives the pairs the
    straightforward loop over stand-ins gives."""
    from socialcredit.scoring.facts import _to_stand_ins

    subjects = np.asarray(real, dtype=np.int64)
    order = np.argsort(subjects, kind="stable")
    index = st.integers(min_value=0, max_value=len(real) - 1)
    pairs = data.draw(st.lists(st.tuples(index, st.integers(0, 10**9)), max_size=10))
    pos = np.array([p for p, _ in pairs], dtype=np.int64)
    times = np.array([t for _, t in pairs], dtype=np.int64)
    expected = list(pairs)
    for p, t in pairs:  # the straightforward expansion
        expected += [(q, t) for q in range(len(real)) if real[q] == real[p] and q != p]
    got_pos, got_t = _to_stand_ins(subjects, order, pos, times)
    assert got_pos.dtype == np.int64 and got_t.dtype == np.int64
    assert sorted(zip(got_pos.tolist(), got_t.tolist(), strict=True)) == sorted(expected)
