"""The event-driven evaluator agrees exactly with the reference (the live ``bulk_standings``
on every day): per-day metrics, spells and score histograms bit for bit, and every agent's
score, grade, lists and measures on sampled days, on random scenarios and seeds for every
example policy (relations, erroneous records and their corrections included)."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.examples import example_policy, example_scenario
from socialcredit.policy import CompiledPolicy, compile_policy, load_policy
from socialcredit.scoring import Prepared, bulk_standings
from socialcredit.scoring.timeline import timelines, timelines_known
from socialcredit.sim.draws import SimSpec, draw_block
from socialcredit.sim.evaluate import evaluate_draws
from socialcredit.sim.events import ChunkCache, _order_of, chunk_columns
from socialcredit.sim.fast import _grades_and_scores, evaluate_draws_events
from socialcredit.sim.metrics import PolicyMetrics
from socialcredit.sim.scenario import Scenario, load_scenario
from socialcredit.sim.standings import Standings, distinct, events_pay, standings, supported
from socialcredit.timeutil import DAY, parse_timestamp

_POLICIES: dict[str, CompiledPolicy] = {}
PAIRS = [  # (policy, scenario)
    ("china-scs", "china-scs"),
    ("fair-transit", "fair-transit"),
    ("fair-transit", "commuters"),
    ("carrot-rewards", "carrot-rewards"),
    ("fuzhou-jasmine", "china-scs"),
]


def policy(name: str) -> CompiledPolicy:
    if name not in _POLICIES:
        _POLICIES[name] = compile_policy(load_policy(example_policy(name)))
    return _POLICIES[name]


@st.composite
def worlds(draw: st.DrawFn) -> tuple[CompiledPolicy, Scenario, SimSpec]:
    """An example policy, its scenario with random error, dispute and conduct rates, and a
    random size, length, seed and start."""
    pol, scen = draw(st.sampled_from(PAIRS))
    base = load_scenario(example_scenario(scen)).scenario
    share = st.floats(0.0, 1.0)
    errors = base.data_errors.model_copy(update={"rate": draw(st.floats(0.0, 0.3)), "by_type": {}})
    disputes = base.disputes.model_copy(
        update={
            "if_wrong": draw(share),
            "if_right": draw(st.floats(0.0, 0.3)),
            "finds_error": draw(share),
            "on_time": draw(share),
            "within_days": draw(st.floats(1.0, 60.0)),
            "late_days": draw(st.floats(0.0, 40.0)),
        }
    )
    more = draw(st.sampled_from([1.0, 3.0]))
    groups = {
        name: g.model_copy(update={"rates": {t: r * more for t, r in g.rates.items()}})
        for name, g in base.groups.items()
    }
    scenario = base.model_copy(
        update={"data_errors": errors, "disputes": disputes, "groups": groups}
    )
    start = parse_timestamp("2025-01-01") + draw(st.integers(0, 500)) * DAY
    spec = SimSpec(
        draw(st.integers(200, 1300)), draw(st.integers(5, 120)), draw(st.integers(0, 2**20)), start
    )
    return policy(pol), scenario, spec


def assert_same(a: PolicyMetrics, b: PolicyMetrics) -> None:
    a.finish()
    b.finish()
    assert list(a.counts) == list(b.counts)
    for name in a.counts:
        assert np.array_equal(a.counts[name], b.counts[name]), name
    assert list(a.spells) == list(b.spells)
    assert list(a.censored) == list(b.censored)
    for name in a.spells:
        assert np.array_equal(a.spells[name], b.spells[name]), name
        assert np.array_equal(a.censored[name], b.censored[name]), name
    assert np.array_equal(a.score_keys, b.score_keys)
    assert np.array_equal(a.score_counts, b.score_counts)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(worlds())
def test_events_give_the_reference_metrics(world: tuple[CompiledPolicy, Scenario, SimSpec]) -> None:
    pol, scenario, spec = world
    draws = [draw_block(scenario, spec, b) for b in range(spec.blocks)]
    assert_same(
        evaluate_draws(scenario, spec, pol, draws),
        evaluate_draws_events(scenario, spec, pol, draws, force=True),
    )


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(worlds(), st.data())
def test_every_agent_stands_as_the_live_scorer_says(
    world: tuple[CompiledPolicy, Scenario, SimSpec], data: st.DataObject
) -> None:
    pol, scenario, spec = world
    draws = [draw_block(scenario, spec, b) for b in range(spec.blocks)]
    prep = Prepared.build(chunk_columns(draws, scenario, spec, pol), pol)
    assert supported(prep, spec)
    got = standings(prep, spec)
    days = data.draw(st.lists(st.integers(0, spec.days - 1), min_size=1, max_size=4, unique=True))
    for day in days:
        bs = bulk_standings(prep, spec.day_end(day))
        for agent in range(prep.columns.n_subjects):
            score, grade, lists, measures = got.at(agent, day)
            assert score == bs.score[agent] or (np.isnan(score) and np.isnan(bs.score[agent]))
            assert grade == bs.grade[agent]
            assert np.array_equal(lists, bs.lists[:, agent]), (agent, day)
            assert np.array_equal(measures, bs.measures[:, agent]), (agent, day)


def test_a_year_of_china_scs_with_many_errors_agrees_and_has_wrongful_sanctions() -> None:
    """A fixed case the random ones may miss: a whole year, sanctions through relations,
    wrongful sanctions, listings that end, purchases refused."""
    pol = policy("china-scs")
    base = load_scenario(example_scenario("china-scs")).scenario
    scenario = base.model_copy(
        update={"data_errors": base.data_errors.model_copy(update={"rate": 0.2, "by_type": {}})}
    )
    spec = SimSpec(1500, 365, 3, parse_timestamp("2026-01-01"))
    draws = [draw_block(scenario, spec, b) for b in range(spec.blocks)]
    ref = evaluate_draws(scenario, spec, pol, draws)
    new = evaluate_draws_events(scenario, spec, pol, draws, force=True)
    assert_same(ref, new)
    for name in ("sanctioned_wrongful", "sanctioned_via_relation", "purchases_refused:rail_travel"):
        assert new.counts[name].sum() > 0, name
    assert new.counts["list_out:dishonest_judgment_debtors"].sum() > 0
    assert new.spells["wrongful"].sum() > 0


def test_the_cheaper_evaluation_is_chosen() -> None:
    """Sparse records (china-scs): event-driven; a record most days (carrot-rewards' step
    goals): the reference."""
    spec = SimSpec(2048, 200, 1, parse_timestamp("2026-01-01"))
    for name, pays in (("china-scs", True), ("carrot-rewards", False)):
        scenario = load_scenario(example_scenario(name)).scenario
        draws = [draw_block(scenario, spec, b) for b in range(spec.blocks)]
        prep = Prepared.build(chunk_columns(draws, scenario, spec, policy(name)), policy(name))
        assert events_pay(prep, spec) is pays, name


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 5000), max_size=400), st.integers(0, 3))
def test_distinct_by_table_or_sort_is_np_unique(values: list[int], wider: int) -> None:
    """``distinct`` with a bound (a table of flags when small enough) and without (a sort)."""
    array = np.array(values, dtype=np.int64)
    below = 5001 * 10**wider
    want = np.unique(array)
    for got in (distinct(array), distinct(array, below)):
        assert got.dtype == np.int64
        assert got.tolist() == want.tolist()


@st.composite
def segments(draw: st.DrawFn) -> tuple[Standings, np.ndarray]:
    """Random agents' segments covering every day, with scores from a narrow or a wide range
    (a table of distinct values or a sort), and each agent's group."""
    days = draw(st.integers(1, 12))
    n = draw(st.integers(1, 6))
    wide = draw(st.booleans())
    value = st.integers(-(10**9), 10**9) if wide else st.integers(-3, 3)
    agent, day, end, score, grade = [], [], [], [], []
    for a in range(n):
        cuts = (
            sorted(draw(st.sets(st.integers(1, days - 1), max_size=days - 1))) if days > 1 else []
        )
        starts = [0, *cuts]
        for lo, hi in zip(starts, [*cuts, days], strict=True):
            agent.append(a)
            day.append(lo)
            end.append(hi)
            score.append(draw(value) / 4)
            grade.append(draw(st.integers(-1, 1)))
    group = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    standing = Standings(
        days,
        np.array(agent, dtype=np.int64),
        np.array(day, dtype=np.int64),
        np.array(end, dtype=np.int64),
        np.array(score, dtype=np.float64),
        np.array(grade, dtype=np.int64),
        empty,
        empty,
        empty,
        np.zeros((0, 0), dtype=bool),
        np.zeros((0, 0), dtype=bool),
        np.zeros((0, 0), dtype=bool),
    )
    return standing, group


@settings(max_examples=150, deadline=None)
@given(segments())
def test_grades_and_score_histogram_from_segments(case: tuple[Standings, np.ndarray]) -> None:
    """Per day, each agent counted once in its segment's grade and score (in cents), by group."""
    standing, group = case
    m = PolicyMetrics(standing.days, 3)
    _grades_and_scores(m, standing, group, ["a", "b"])
    m.finish()
    expected: Counter[tuple[int, int, int]] = Counter()
    grades = np.zeros((standing.days, 3, 3), dtype=np.int64)  # day, grade + 1, group
    for j in range(len(standing.agent)):
        g = int(group[standing.agent[j]])
        for d in range(int(standing.day[j]), int(standing.end[j])):
            expected[(d, g, round(float(standing.score[j]) * 100))] += 1
            grades[d, int(standing.grade[j]) + 1, g] += 1
    keys = sorted(expected)
    assert [tuple(k) for k in m.score_keys.tolist()] == keys
    assert m.score_counts.tolist() == [expected[k] for k in keys]
    assert np.array_equal(m.counts["grade:not_determinable"], grades[:, 0])
    assert np.array_equal(m.counts["grade:a"], grades[:, 1])
    assert np.array_equal(m.counts["grade:b"], grades[:, 2])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3000)), unique=True, max_size=60).flatmap(
        lambda ki: st.tuples(
            st.just(ki),
            st.lists(
                st.one_of(st.integers(-5, 5), st.integers(-(2**61), 2**61)),
                min_size=len(ki),
                max_size=len(ki),
            ),
        )
    )
)
def test_entries_ordered_as_by_lexsort(case: tuple[list[tuple[int, int]], list[int]]) -> None:
    """Ledger order (time, then kind, then index) by one key or, when too wide, by three."""
    pairs, times = case
    k = np.array([p[0] for p in pairs], dtype=np.int64)
    i = np.array([p[1] for p in pairs], dtype=np.int64)
    t = np.array(times, dtype=np.int64)
    assert _order_of(t, k, i).tolist() == np.lexsort((i, k, t)).tolist()


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(worlds(), st.data())
def test_timelines_known_at_many_times_are_each_pairs_timeline(
    world: tuple[CompiledPolicy, Scenario, SimSpec], data: st.DataObject
) -> None:
    """One evaluation of many (subject, knowledge time) pairs, a subject in several of them,
    gives each pair the timeline ``timelines`` gives it alone: the same instants, score,
    lists, triggers and pending objections."""
    pol, scenario, spec = world
    draws = [draw_block(scenario, spec, b) for b in range(spec.blocks)]
    prep = Prepared.build(chunk_columns(draws, scenario, spec, pol, cache=ChunkCache()), pol)
    n = prep.columns.n_subjects
    rows_of = np.bincount(prep.rows.subject, minlength=n)
    busy = np.flatnonzero(rows_of > 0)
    pick = st.sampled_from(busy.tolist()) if len(busy) else st.integers(0, n - 1)
    pairs = data.draw(
        st.lists(
            st.tuples(st.one_of(pick, st.integers(0, n - 1)), st.integers(0, spec.days - 1)),
            min_size=1,
            max_size=40,
        )
    )
    every = list(range(len(pol.sanctions)))
    sanctions = data.draw(st.sampled_from([None, every[: len(every) // 2 + 1]]))
    subjects = np.array([s for s, _ in pairs], dtype=np.int64)
    known = np.array([spec.day_end(d) for _, d in pairs], dtype=np.int64)
    got = timelines_known(pol, prep.rows, subjects, known, sanctions)
    assert len(got) == len(pairs)
    for tl, s, k in zip(got, subjects.tolist(), known.tolist(), strict=True):
        alone = timelines(pol, prep.rows, [s], k, sanctions)[s]
        assert tl.subject == s
        assert np.array_equal(tl.times, alone.times)
        assert np.array_equal(tl.score, alone.score, equal_nan=True)
        assert np.array_equal(tl.lists, alone.lists)
        assert np.array_equal(tl.triggers, alone.triggers)
        assert (tl.blocked is None) == (alone.blocked is None)
        if tl.blocked is not None and alone.blocked is not None:
            assert np.array_equal(tl.blocked, alone.blocked)
