"""Named scores with components (caps, weights, a clean-year reward) and unpublished
cut-offs: values worked out by hand, time travel, properties, bulk == single subject."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialcredit.columns import columns_from_entries
from socialcredit.policy import CompiledPolicy, compile_policy, parse_policy
from socialcredit.policy.compiled import NOT_DETERMINABLE
from socialcredit.scoring import Prepared, bulk_standings, standing
from socialcredit.scoring.results import ScoreValue, Standing
from socialcredit.timeutil import DAY, parse_timestamp
from tests.conftest import TEST_POLICY
from tests.scoring.composite_policy import composite_policy
from tests.scoring.test_properties import SETTINGS, T0, days, ledgers, summary

COMPOSITE = composite_policy()


def ts(text: str) -> int:
    return parse_timestamp(text)


def rec(rid: str, subject: str, type_: str, when: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "source": "s",
        "subject": subject,
        "type": type_,
        "occurred_at": ts(when),
        **extra,
    }


def prep(entries: list[dict[str, Any]], policy: CompiledPolicy = COMPOSITE) -> Prepared:
    return Prepared.build(columns_from_entries(entries), policy)


def named(st_: Standing, name: str) -> ScoreValue:
    return next(sc for sc in st_.scores if sc.name == name)


def component(sc: ScoreValue, name: str) -> Any:
    return next(c for c in sc.components if c.name == name)


# --- hand-computed -------------------------------------------------------------------------


def test_a_capped_component_counts_at_most_its_cap() -> None:
    # three volunteering records of 10 points: 30 earned, the component is capped at 25
    entries = [rec(f"v{i}", "ann", "volunteering", f"2024-0{i + 2}-01") for i in range(3)]
    s = standing(prep(entries), 0, ts("2024-06-01"))
    civic = named(s, "civic")
    vol = component(civic, "volunteering")
    assert (vol.earned, vol.value, vol.contribution) == (30.0, 25.0, 25.0)
    assert vol.capped and vol.records == ["s/v0", "s/v1", "s/v2"]
    # 1000 + 25 (no debts, no clean year yet: 2024 is not over)
    assert civic.value == 1025.0
    # the unnamed score knows no components: 1000 + 30
    assert s.score == 1030.0 and s.grade == "A"


def test_a_lower_bound_holds_a_component_up() -> None:
    entries = [rec(f"d{i}", "bob", "debt", "2024-02-01") for i in range(2)]
    civic = named(standing(prep(entries), 0, ts("2024-06-01")), "civic")
    debts = component(civic, "debts")
    assert (debts.earned, debts.value) == (-200.0, -150.0)  # min -150
    assert civic.value == 850.0


def test_weights_multiply_each_component_within_its_bounds() -> None:
    entries = [
        rec("v", "ann", "volunteering", "2024-02-01"),
        rec("d", "ann", "debt", "2024-03-01"),
        rec("f", "ann", "fine", "2024-05-01"),
    ]
    s = standing(prep(entries), 0, ts("2024-05-01"))
    w = named(s, "weighted")
    # conduct (category conduct: the fine, -60, no decay yet): 300 - 60 = 240, × 0.35 = 84
    # civic (volunteering and debt): 300 + 10 - 100 = 210, × 0.65 = 136.5
    assert [c.value for c in w.components] == [240.0, 210.0]
    assert [c.contribution for c in w.components] == pytest.approx([84.0, 136.5])
    assert w.value == pytest.approx(350 + 84 + 136.5)  # 570.5: below 600
    assert w.grade == "poor"


def test_weighted_score_is_clamped_to_its_bounds() -> None:
    # ten fines (-600) take conduct to 0 (its min); ten debts civic to 0: 350 + 0 + 0
    entries = [rec(f"f{i}", "c", "fine", "2024-05-01") for i in range(10)]
    entries += [rec(f"d{i}", "c", "debt", "2024-05-01") for i in range(10)]
    w = named(standing(prep(entries), 0, ts("2024-05-01")), "weighted")
    assert [c.value for c in w.components] == [0.0, 0.0]
    assert w.value == 350.0 and w.grade == "poor"


def test_the_clean_year_reward_appears_on_the_day_a_year_ends() -> None:
    # first_year 2024; a debt on 2024-05-01 spoils 2024; 2025 is clean
    entries = [rec("d", "ann", "debt", "2024-05-01")]
    p = prep(entries)
    before = component(named(standing(p, 0, ts("2025-12-31T23:59:59Z")), "civic"), "clean_years")
    assert (before.value, before.clean_years) == (0.0, [])
    at = component(named(standing(p, 0, ts("2026-01-01T00:00:00Z")), "civic"), "clean_years")
    assert (at.value, at.clean_years) == (5.0, [2025])
    # four clean years would earn 20; the cap is 20, and five earn no more
    late = component(named(standing(p, 0, ts("2031-01-01")), "civic"), "clean_years")
    assert late.clean_years == [2025, 2026, 2027, 2028, 2029, 2030]
    assert (late.earned, late.value) == (30.0, 20.0)


def test_an_expired_record_still_spoils_its_year_and_an_annulled_one_does_not() -> None:
    entries = [
        rec("d", "ann", "debt", "2024-05-01"),  # expires after 1000 days, in 2027
        rec("e", "bob", "debt", "2024-05-01"),
        {
            "kind": "annul",
            "id": "x",
            "source": "s",
            "target_source": "s",
            "target_id": "e",
            "occurred_at": ts("2024-06-01"),
        },
    ]
    p = prep(entries)
    ann = component(named(standing(p, 0, ts("2028-01-01")), "civic"), "clean_years")
    bob = component(named(standing(p, 1, ts("2028-01-01")), "civic"), "clean_years")
    assert ann.clean_years == [2025, 2026, 2027]
    assert bob.clean_years == [2024, 2025, 2026, 2027]


def test_a_measure_started_by_a_clean_year_begins_on_1_january() -> None:
    # bob has no debt: 2024 and 2025 are clean, civic 1010 from 2026-01-01: the perk starts
    p = prep([rec("f", "bob", "volunteering", "2023-01-01")])
    s = standing(p, 0, ts("2026-06-01"))
    perk = next(m for m in s.measures if m.name == "clean_perk")
    assert perk.since == ts("2026-01-01") and perk.until is None
    assert not any(m.name == "clean_perk" for m in standing(p, 0, ts("2025-12-31")).measures)


def test_a_record_learned_later_does_not_change_the_past_reward() -> None:
    # a 2025 debt recorded only in March 2026: in February 2026, 2025 looked clean
    entries = [
        rec("v", "ann", "volunteering", "2023-01-01"),
        rec("d", "ann", "debt", "2025-06-01", recorded_at=ts("2026-03-01")),
    ]
    p = prep(entries)
    feb = component(named(standing(p, 0, ts("2026-02-01")), "civic"), "clean_years")
    apr = component(named(standing(p, 0, ts("2026-04-01")), "civic"), "clean_years")
    assert feb.clean_years == [2024, 2025] and feb.value == 10.0
    assert apr.clean_years == [2024] and apr.value == 5.0


def test_unpublished_cut_offs_are_never_guessed() -> None:
    # civic bands: A ≥ 1100, B unpublished, C ≥ 900, D
    # 1000 + 25: C's floor is reached, but B's unknown floor might be too: not determinable
    entries = [rec(f"v{i}", "ann", "volunteering", "2024-02-01") for i in range(3)]
    entries += [rec("d", "bob", "debt", "2024-02-01"), rec("d2", "bob", "debt", "2024-02-02")]
    p = prep(entries)
    ann = named(standing(p, 0, ts("2024-06-01")), "civic")
    assert ann.value == 1025 and ann.grade is None and ann.grade_note == NOT_DETERMINABLE
    # 1000 - 150 (debts at their min): below C's floor, and C's floor is published: D
    bob = standing(p, 1, ts("2024-06-01"))
    assert named(bob, "civic").grade == "D"
    # grade D starts a 30-day measure for bob (from his second debt); never for ann, whose
    # grade is not known
    hotels = next(
        m for m in standing(p, 1, ts("2024-02-10")).measures if m.name == "civic_low_hotels"
    )
    assert (hotels.since, hotels.until) == (ts("2024-02-02"), ts("2024-03-03"))
    assert not any(m.name == "civic_low_hotels" for m in standing(p, 0, ts("2024-02-10")).measures)


def test_the_json_keeps_its_keys_and_adds_the_scores() -> None:
    entries = [rec(f"v{i}", "ann", "volunteering", "2024-02-01") for i in range(3)]
    out = standing(prep(entries), 0, ts("2024-06-01")).to_json()
    assert out["score"] == 1030 and out["grade"] == "A" and "breakdown" in out
    assert [s["name"] for s in out["scores"]] == ["score", "civic", "weighted"]
    civic = out["scores"][1]
    assert civic["grade"] is None and civic["grade_note"] == NOT_DETERMINABLE
    vol = next(c for c in civic["components"] if c["name"] == "volunteering")
    assert vol["capped"] and vol["earned"] == 30 and vol["value"] == 25 and vol["max"] == 25


def test_the_explanation_names_the_score_and_component_that_moved() -> None:
    from socialcredit.explain import explain

    entries = [rec(f"v{i}", "ann", "volunteering", "2024-02-01") for i in range(3)]
    entries.append(rec("f", "ann", "fine", "2024-05-01"))
    text = explain(prep(entries), 0, "rail", ts("2024-05-01")).text
    assert "Civic points: 1,025 (grade not determinable: the cut-offs are unpublished)" in text
    assert "volunteering +25 (3 records; 30 earned, held at 25)" in text
    assert "clean-year reward 0 (0 clean years)" in text
    # weighted: conduct 240 × 0.35, civic 330 × 0.65 = 350 + 84 + 214.5
    assert "conduct +240 × 0.35 = +84" in text
    assert "Weighted score: 648.5 (grade good)" in text


# --- old style and new style ---------------------------------------------------------------

NEW_STYLE = TEST_POLICY.replace(
    """score: {form: points, base: 1000, min: 0, max: 2000}
grades:
  - {name: A, at_least: 1000}
  - {name: B, at_least: 900}
  - {name: C}
""",
    """scores:
  main:
    form: points
    base: 1000
    min: 0
    max: 2000
    grades:
      - {name: A, at_least: 1000}
      - {name: B, at_least: 900}
      - {name: C}
""",
)
NEW = compile_policy(parse_policy(NEW_STYLE, "new.yaml"))


def test_new_style_really_is_new_style() -> None:
    assert NEW.policy.score is None and list(NEW.policy.scores) == ["main"]


def detail(s: Standing) -> tuple[Any, ...]:
    lines = sorted((ln.source, ln.id, ln.status, round(ln.contribution, 9)) for ln in s.breakdown)
    return (*summary(s), lines, [m.conditions for m in s.measures])


@SETTINGS
@given(entries=ledgers(), day=days)
def test_a_single_score_written_old_or_new_style_gives_identical_standings(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int
) -> None:
    t = T0 + day * DAY
    old, new = prep(entries, policy), prep(entries, NEW)
    for i in range(old.columns.n_subjects):
        a, b = standing(old, i, t), standing(new, i, t)
        assert detail(a) == detail(b)
        assert a.scores[0].value == b.scores[0].value and a.scores[0].grade == b.scores[0].grade


# --- properties ----------------------------------------------------------------------------


@SETTINGS
@given(entries=ledgers(), day=days)
def test_components_stay_within_their_bounds_and_add_up_to_the_score(
    entries: list[dict[str, Any]], day: int
) -> None:
    t = T0 + day * DAY
    p = prep(entries)
    for i in range(p.columns.n_subjects):
        for sc in standing(p, i, t).scores[1:]:
            compiled = COMPOSITE.scores[COMPOSITE.score_index(sc.name)]
            for c in sc.components:
                assert c.min is None or c.value >= c.min
                assert c.max is None or c.value <= c.max
                assert c.contribution == pytest.approx(c.weight * c.value)
            summed = sc.base + sum(c.contribution for c in sc.components)
            assert sc.value == pytest.approx(np.clip(summed, compiled.low, compiled.high))


@SETTINGS
@given(entries=ledgers(), day=days)
def test_bulk_agrees_with_single_subject_on_every_score(
    entries: list[dict[str, Any]], day: int
) -> None:
    t = T0 + day * DAY
    p = prep(entries)
    bulk = bulk_standings(p, t)
    for i in range(p.columns.n_subjects):
        s = standing(p, i, t)
        for k, sc in enumerate(s.scores):
            assert bulk.scores[k][i] == pytest.approx(sc.value)
            assert bulk.grade_name(i, k) == sc.grade
        assert {x.name for x in COMPOSITE.sanctions if bulk.measures[x.index, i]} == {
            m.name for m in s.measures
        }


@SETTINGS
@given(
    points=st.lists(st.integers(-50, 50), min_size=1, max_size=8),
    cap=st.integers(0, 100),
    weight=st.sampled_from([0.05, 0.2, 0.25, 0.35, 1.0]),
)
def test_a_component_never_exceeds_its_cap(points: list[int], cap: int, weight: float) -> None:
    types = "\n".join(
        f"  t{i}: {{points: {p}, expires_after: P10Y, context: civic, category: prosocial, "
        "evidence: official_record}"
        for i, p in enumerate(points)
    )
    text = f"""\
policy: capped
version: "1"
meta: {{title: capped}}
scores:
  s:
    base: 0
    components:
      part: {{category: prosocial, max: {cap}, weight: {weight}}}
    grades: [{{name: all}}]
record_types:
{types}
due_process: {{appeal_window: P30D, reinvestigation_deadline: P30D, disputed_records_count: true}}
"""
    policy = compile_policy(parse_policy(text, "capped.yaml"))
    entries = [rec(f"r{i}", "x", f"t{i}", "2024-01-01") for i in range(len(points))]
    s = standing(prep(entries, policy), 0, ts("2024-06-01"))
    part = s.scores[0].components[0]
    assert part.earned == sum(points)
    assert part.value == min(sum(points), cap) <= cap
    assert s.score == pytest.approx(weight * part.value)


def test_a_denial_on_a_named_score_says_which_score_and_offers_its_records() -> None:
    from socialcredit.explain import explain

    entries = [
        rec("d1", "ann", "debt", "2024-02-01"),
        rec("d2", "ann", "debt", "2024-02-01"),
        rec("f", "ann", "fine", "2024-02-01"),
        rec("v", "ann", "volunteering", "2024-02-01"),
    ]
    p = prep(entries)
    e = explain(p, 0, "rail", ts("2024-02-10"))
    assert e.decision.decision == "deny"
    # weighted: conduct 300 - 60 × (1 - 9/100) = 245.4; civic 300 - 200 + 10 = 110
    assert "Weighted score: 507.39 (grade poor)" in e.text
    assert "Your weighted score is below 540." in e.text
    # the records that lower the weighted score are the ones offered
    assert {s.record for a in e.actions for s in a.steps} == {"s/d1", "s/d2", "s/f"}
    hotel = explain(p, 0, "luxury_hotel", ts("2024-02-10")).text
    assert "Your grade on civic points is D." in hotel


SESAME_WEIGHTS = {"history": 0.35, "behaviour": 0.20, "capacity": 0.25, "identity": 0.15, "relations": 0.05}  # fmt: skip
SESAME = compile_policy(
    parse_policy(
        f"""\
policy: sesame-like
version: "1"
meta: {{title: a Sesame-style weighted score}}
scores:
  sesame:
    base: 350
    components:
{chr(10).join(f"      {n}: {{types: [{n}_up, {n}_down], base: 300, min: 0, max: 600, weight: {w}}}" for n, w in SESAME_WEIGHTS.items())}
    grades:
      - {{name: extremely good, at_least: 700}}
      - {{name: excellent, at_least: 650}}
      - {{name: good, at_least: 600}}
      - {{name: fair, at_least: 550}}
      - {{name: poor}}
record_types:
{chr(10).join(f"  {n}_{d}: {{points: {p}, expires_after: P5Y, context: finance, category: financial, evidence: third_party_report}}" for n in SESAME_WEIGHTS for d, p in (("up", 90), ("down", -120)))}
due_process: {{appeal_window: P30D, reinvestigation_deadline: P30D, disputed_records_count: true}}
""",
        "sesame.yaml",
    )
)


@SETTINGS
@given(
    picks=st.lists(
        st.tuples(st.sampled_from(sorted(SESAME_WEIGHTS)), st.sampled_from(["up", "down"])),
        min_size=1,
        max_size=30,
    )
)
def test_five_weights_summing_to_one_keep_a_sesame_style_score_within_350_to_950(
    picks: list[tuple[str, str]],
) -> None:
    # no bound on the score itself: the weights (summing to 1) and the 0-600 dimensions
    # alone keep it within 350-950
    assert sum(SESAME_WEIGHTS.values()) == pytest.approx(1.0)
    entries = [rec(f"r{i}", "x", f"{n}_{d}", "2024-01-01") for i, (n, d) in enumerate(picks)]
    s = standing(prep(entries, SESAME), 0, ts("2024-02-01"))
    (sesame,) = s.scores
    assert 350 <= s.score <= 950
    assert s.score == pytest.approx(
        350 + sum(SESAME_WEIGHTS[c.name] * c.value for c in sesame.components)
    )
    for c in sesame.components:
        ups = sum(1 for n, d in picks if n == c.name and d == "up")
        downs = sum(1 for n, d in picks if n == c.name and d == "down")
        assert c.earned == 300 + 90 * ups - 120 * downs
        assert c.value == min(max(c.earned, 0), 600)
