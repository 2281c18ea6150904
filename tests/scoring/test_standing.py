"""Standing of one subject, with expected values worked out by hand from TEST_POLICY."""

from __future__ import annotations

from socialcredit.columns import columns_from_entries
from socialcredit.enforcement import decide
from socialcredit.policy import CompiledPolicy
from socialcredit.scoring import Prepared, bulk_standings, standing
from socialcredit.timeutil import DAY, parse_timestamp

T0 = parse_timestamp("2025-01-01")


def rec(rid: str, subject: str, type_: str, day: int, **extra: object) -> dict[str, object]:
    return {
        "id": rid,
        "source": "s",
        "subject": subject,
        "type": type_,
        "occurred_at": T0 + day * DAY,
        **extra,
    }


def fix(kind: str, rid: str, target: str, day: int) -> dict[str, object]:
    return {
        "kind": kind,
        "id": rid,
        "source": "s",
        "target_source": "s",
        "target_id": target,
        "occurred_at": T0 + day * DAY,
    }


def prep(policy: CompiledPolicy, entries: list[dict[str, object]]) -> Prepared:
    return Prepared.build(columns_from_entries(entries), policy)


def test_base_score_and_grade_without_records(policy: CompiledPolicy) -> None:
    p = prep(policy, [rec("v", "ann", "volunteering", 0)])
    st = standing(p, 0, T0 - DAY)  # before the record was known
    assert st.score == 1000 and st.grade == "A" and st.measures == []


def test_debt_lists_and_denies_until_resolved_plus_delay(policy: CompiledPolicy) -> None:
    p = prep(policy, [rec("d", "bob", "debt", 0), fix("resolve", "r", "d", 50)])
    st = standing(p, 0, T0 + 10 * DAY)
    assert st.score == 900 and st.grade == "B"
    assert [m.name for m in st.lists] == ["debtors"]
    assert st.lists[0].records == ["s/d"]
    flights = next(m for m in st.measures if m.name == "no_flights")
    assert flights.since == T0
    # at day 10 the resolution on day 50 is not yet known: the projection runs to expiry
    assert flights.until == T0 + 1000 * DAY
    school = next(m for m in st.measures if m.name == "no_school")
    assert school.until == T0 + 500 * DAY  # capped by max_duration
    # once the resolution is known, the listing ends 3 days after it
    st = standing(p, 0, T0 + 51 * DAY)
    assert next(m for m in st.measures if m.name == "no_flights").until == T0 + 53 * DAY
    st = standing(p, 0, T0 + 53 * DAY)
    assert st.lists == [] and st.measures == []
    assert st.score == 900  # a resolved debt still counts its points until it expires


def test_relation_extends_sanction_to_child(policy: CompiledPolicy) -> None:
    entries = [
        rec("d", "parent", "debt", 0),
        {
            "kind": "relation",
            "id": "rel",
            "source": "registry",
            "subject": "kid",
            "relation": "child_of",
            "related_subject": "parent",
            "valid_from": T0 - 400 * DAY,
            "valid_until": T0 + 20 * DAY,
        },
    ]
    p = prep(policy, entries)
    kid = p.columns.subjects.index("kid")
    st = standing(p, kid, T0 + 5 * DAY)
    (m,) = st.measures
    assert (m.name, m.via_subject, m.via_relation) == ("no_flights", "parent", "child_of")
    assert m.until == T0 + 20 * DAY  # the relation ends before the debt does
    assert decide(st, "air_travel").decision == "deny"
    assert decide(st, "private_school").decision == "allow"  # no reach declared there
    assert standing(p, kid, T0 + 21 * DAY).measures == []


def test_linear_decay_and_grade_sanction_end_date(policy: CompiledPolicy) -> None:
    # two fines (-60 each, decaying over 100 days): 1000-120 = 880 -> C
    entries = [rec("f1", "cat", "fine", 0), rec("f2", "cat", "fine", 0)]
    p = prep(policy, entries)
    st = standing(p, 0, T0)
    assert st.score == 880 and st.grade == "C"
    hotel = next(m for m in st.measures if m.name == "low_grade_no_hotels")
    # the score climbs back to 900 (grade B) when the fines are worth -100 in total:
    # 120 * (1 - d/100) = 100  =>  d = 16.67 days
    assert abs(hotel.until - (T0 + 16.6667 * DAY)) < 0.05 * DAY  # type: ignore[operator]
    st = standing(p, 0, T0 + 50 * DAY)
    assert st.score == 1000 - 60 and st.grade == "B"
    assert [b.contribution for b in st.breakdown if b.type == "fine"] == [-30.0, -30.0]


def test_fixed_duration_outlasts_trigger(policy: CompiledPolicy) -> None:
    p = prep(policy, [rec("m", "dan", "misconduct", 0)])
    st = standing(p, 0, T0 + 10 * DAY)
    ban = next(m for m in st.measures if m.name == "rail_ban")
    assert (ban.since, ban.until) == (T0, T0 + 30 * DAY)
    # the list lasts 180 days, the fixed ban only 30
    assert standing(p, 0, T0 + 31 * DAY).measures == []
    assert [m.name for m in standing(p, 0, T0 + 31 * DAY).lists] == ["troublemakers"]


def test_dispute_suspends_and_overdue_dispute_deletes(policy: CompiledPolicy) -> None:
    p = prep(policy, [rec("d", "eve", "debt", 0), fix("dispute", "x", "d", 5)])
    assert standing(p, 0, T0 + 4 * DAY).lists != []
    st = standing(p, 0, T0 + 6 * DAY)
    assert st.lists == [] and st.score == 1000
    assert st.breakdown[0].status == "suspended while disputed"
    st = standing(p, 0, T0 + 40 * DAY)  # nobody decided within 30 days
    assert st.breakdown[0].status.startswith("deleted")
    # upheld in time: it counts again from the decision
    p = prep(
        policy,
        [rec("d", "eve", "debt", 0), fix("dispute", "x", "d", 5), fix("uphold", "u", "d", 20)],
    )
    assert standing(p, 0, T0 + 21 * DAY).score == 900
    assert standing(p, 0, T0 + 40 * DAY).score == 900


def test_late_dispute_does_not_suspend(policy: CompiledPolicy) -> None:
    p = prep(policy, [rec("d", "eve", "debt", 0), fix("dispute", "x", "d", 45)])
    assert standing(p, 0, T0 + 46 * DAY).score == 900


def test_annul_is_retroactive_but_not_before_it_was_known(policy: CompiledPolicy) -> None:
    p = prep(policy, [rec("d", "fay", "debt", 0), fix("annul", "a", "d", 10)])
    assert standing(p, 0, T0 + 5 * DAY).score == 900  # not yet annulled as of day 5
    st = standing(p, 0, T0 + 11 * DAY)
    assert st.score == 1000 and st.lists == []


def test_rectify_replaces_type(policy: CompiledPolicy) -> None:
    entries = [
        rec("d", "gus", "debt", 0),
        {**fix("rectify", "r", "d", 10), "type": "fine"},
    ]
    p = prep(policy, entries)
    assert standing(p, 0, T0 + 5 * DAY).score == 900
    st = standing(p, 0, T0 + 10 * DAY)
    # now a fine that occurred on day 0: -60 decayed by 10/100
    assert abs(st.score - (1000 - 54)) < 1e-9
    assert [b.type for b in st.breakdown if b.status == "counts"] == ["fine"]


def test_red_list_and_benefit(policy: CompiledPolicy) -> None:
    p = prep(policy, [rec("v1", "hal", "volunteering", 0), rec("v2", "hal", "volunteering", 100)])
    st = standing(p, 0, T0 + 101 * DAY)
    assert [m.name for m in st.lists] == ["volunteers"] and st.score == 1020
    perk = st.rewards[0]
    assert (
        perk.service == "bike_rental" and perk.until == T0 + 365 * DAY
    )  # first one leaves the window
    assert decide(st, "bike_rental").benefits == ["BIKE_PERK"]


def test_bulk_agrees_with_single(policy: CompiledPolicy) -> None:
    entries = [
        rec("d", "a", "debt", 0),
        rec("f", "b", "fine", 3),
        rec("m", "c", "misconduct", 1),
        rec("v1", "d", "volunteering", 0),
        rec("v2", "d", "volunteering", 2),
    ]
    p = prep(policy, entries)
    for day in (0, 2, 20, 40, 400):
        t = T0 + day * DAY
        bulk = bulk_standings(p, t)
        for i in range(p.columns.n_subjects):
            st = standing(p, i, t)
            assert bulk.score[i] == st.score
            assert {m.name for m in st.measures} == {
                s.name for s in policy.sanctions if bulk.measures[s.index, i]
            }
