"""The simulator: reproducible whatever the chunking, equal to the live scorer, and honest
about sanctions (none without adverse records, none wrongful without data errors)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.columns import columns_from_entries
from socialcredit.examples import example_policy, example_scenario
from socialcredit.policy import CompiledPolicy, compile_policy, load_policy
from socialcredit.scoring import Prepared, bulk_standings, standing
from socialcredit.sim.draws import SimSpec, draw_block
from socialcredit.sim.evaluate import evaluate_draws
from socialcredit.sim.events import block_entries, chunk_columns
from socialcredit.sim.metrics import PolicyMetrics, gini_of
from socialcredit.sim.report import write_report
from socialcredit.sim.run import SimResult, simulate
from socialcredit.sim.scenario import LoadedScenario, load_scenario, parse_scenario
from socialcredit.timeutil import parse_timestamp

START = parse_timestamp("2026-01-01")
_POLICIES: dict[str, CompiledPolicy] = {}


def policy(name: str) -> CompiledPolicy:
    if name not in _POLICIES:
        _POLICIES[name] = compile_policy(load_policy(example_policy(name)))
    return _POLICIES[name]


def scenario(name: str) -> LoadedScenario:
    return load_scenario(example_scenario(name))


def same(a: SimResult, b: SimResult) -> None:
    for x, y in zip(a.metrics, b.metrics, strict=True):
        assert x.counts.keys() == y.counts.keys()
        for name in x.counts:
            assert np.array_equal(x.counts[name], y.counts[name]), name
        assert np.array_equal(x.score_keys, y.score_keys)
        assert np.array_equal(x.score_counts, y.score_counts)
        for name in x.spells:
            assert np.array_equal(x.spells[name], y.spells[name]), name
            assert np.array_equal(x.censored[name], y.censored[name]), name


def test_same_seed_same_results_whatever_the_chunk_size() -> None:
    pols = [policy("fair-transit"), policy("carrot-rewards")]
    spec = SimSpec(2500, 40, 11, START)
    one = simulate(pols, scenario("commuters"), spec, chunk_size=1024)
    other = simulate(pols, scenario("commuters"), spec, chunk_size=3000)
    same(one, other)
    assert one.metrics[0].counts["purchases:rail_travel"].sum() > 0
    different = simulate(pols, scenario("commuters"), SimSpec(2500, 40, 12, START), 4096)
    assert not np.array_equal(
        one.metrics[1].counts["records"], different.metrics[1].counts["records"]
    )


def test_conservation_each_day() -> None:
    spec = SimSpec(2048, 90, 5, START)
    (m,) = simulate([policy("china-scs")], scenario("china-scs"), spec).metrics
    subjects = m.counts["subjects"]
    grades = sum(m.counts[k] for k in m.counts if k.startswith("grade:"))
    assert np.array_equal(grades, subjects)  # everyone in exactly one grade (or none known)
    assert subjects.sum(axis=1).tolist() == [2048] * 90
    for lst in policy("china-scs").lists:
        size = m.counts[f"list:{lst.name}"]
        flow = np.cumsum(m.counts[f"list_in:{lst.name}"] - m.counts[f"list_out:{lst.name}"], 0)
        assert np.array_equal(size, flow), lst.name
    assert m.counts["list:dishonest_judgment_debtors"][-1].sum() > 0
    assert m.counts["sanctioned_via_relation"].sum() > 0  # children, company officers
    for service in ("air_travel", "rail_travel", "high_speed_rail"):
        refused = m.counts[f"purchases_refused:{service}"]
        assert (refused <= m.counts[f"purchases:{service}"]).all()
    assert m.counts["purchases_refused:rail_travel"].sum() > 0
    # spells: every listing ever made ended or is still running
    name = "list:dishonest_judgment_debtors"
    started = m.counts[f"list_in:{lst.name}"].sum() if False else None
    del started
    total_in = m.counts[f"list_in:{name.removeprefix('list:')}"].sum()
    assert m.spells[name].sum() + m.censored[name].sum() == total_in


def test_zero_data_errors_means_no_wrongful_sanctions() -> None:
    loaded = scenario("china-scs")
    text = loaded.text.replace("rate: 0.015", "rate: 0.0")
    clean = parse_scenario(text, "clean.yaml")
    spec = SimSpec(2048, 60, 3, START)
    (m,) = simulate([policy("china-scs")], clean, spec).metrics
    assert m.counts["wrong_records"].sum() == 0
    assert m.counts["sanctioned_wrongful"].sum() == 0
    assert m.counts["sanctioned"].sum() > 0
    assert any(draw_block(loaded.scenario, spec, b).wrong.any() for b in range(spec.blocks))


def test_reward_only_policy_sanctions_nobody() -> None:
    spec = SimSpec(1500, 60, 2, START)
    (m,) = simulate([policy("carrot-rewards")], scenario("carrot-rewards"), spec).metrics
    assert m.counts["sanctioned"].sum() == 0
    assert m.counts["rewarded"][-1].sum() > 0


def test_all_rates_zero_leaves_everyone_at_the_base_score() -> None:
    text = scenario("fair-transit").text
    text = text.replace("fare_evasion: 0.4", "fare_evasion: 0").replace(
        "fare_evasion: 0.1", "fare_evasion: 0"
    )
    text = text.replace("staff_assault: 0.0005", "staff_assault: 0").replace(
        "staff_assault: 0.0002", "staff_assault: 0"
    )
    spec = SimSpec(1100, 30, 4, START)
    (m,) = simulate([policy("fair-transit")], parse_scenario(text, "zero.yaml"), spec).metrics
    assert m.counts["records"].sum() == 0
    assert set(m.score_keys[:, 2].tolist()) == {100 * 100}  # base 100, in cents
    assert m.counts["sanctioned"].sum() == 0
    mean, gini = m.score_summary()
    assert mean.tolist() == [100.0] * 30
    assert gini.tolist() == [0.0] * 30


@settings(
    max_examples=6,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    seed=st.integers(0, 2**32),
    name=st.sampled_from(["china-scs", "fair-transit", "carrot-rewards"]),
    error_rate=st.sampled_from([0.0, 0.05, 0.3]),
    data=st.data(),
)
def test_equivalence_with_the_live_scorer(
    seed: int, name: str, error_rate: float, data: st.DataObject
) -> None:
    """Sampled agents' entries, replayed through columns_from_entries and ``standing``, give
    the simulator's score, grade, lists and measures on sampled days."""
    pol = policy(name)
    loaded = scenario(name)
    text = loaded.text
    # more disputes and errors than the defaults, so that corrections are exercised
    sc = parse_scenario(text, "s.yaml").scenario.model_copy(
        update={
            "data_errors": loaded.scenario.data_errors.model_copy(
                update={"rate": error_rate, "by_type": {}}
            ),
            "disputes": loaded.scenario.disputes.model_copy(
                update={"if_wrong": 0.8, "if_right": 0.3, "on_time": 0.5}
            ),
        }
    )
    spec = SimSpec(600, 200, seed, START)
    draws = draw_block(sc, spec, 0)
    prep = Prepared.build(chunk_columns([draws], sc, spec, pol), pol)
    days = data.draw(st.lists(st.integers(0, spec.days - 1), min_size=1, max_size=3, unique=True))
    bulks = {day: bulk_standings(prep, spec.day_end(day)) for day in days}
    # agents with something to compare (a list or a measure) first, and any agent
    busy = sorted(
        {int(i) for b in bulks.values() for i in np.flatnonzero(b.lists.any(0) | b.measures.any(0))}
    )
    pool = st.sampled_from(busy) if busy else st.integers(0, draws.n - 1)
    agents = data.draw(
        st.lists(st.one_of(pool, st.integers(0, draws.n - 1)), min_size=1, max_size=4, unique=True)
    )
    compared = 0
    for a in agents:
        related = draws.rel_related[draws.rel_subject == a].tolist()
        entries = block_entries(draws, sc, spec, pol, np.array([a, *related]))
        replay = Prepared.build(columns_from_entries(entries), pol)
        index = replay.columns.subject_index()
        name_a = draws.names()[a]
        for day, bulk in bulks.items():
            on = {pol.lists[i].name for i in np.flatnonzero(bulk.lists[:, a]).tolist()}
            want = {pol.sanctions[i].name for i in np.flatnonzero(bulk.measures[:, a]).tolist()}
            if name_a not in index:  # no entries at all: the base score, nothing in force
                assert bulk.score[a] == pol.base and not on and not want
                continue
            live = standing(replay, index[name_a], spec.day_end(day))
            assert live.score == pytest.approx(float(bulk.score[a]), abs=1e-9)
            assert live.grade == bulk.grade_name(a)
            assert {m.name for m in live.lists} == on
            assert {m.name for m in live.measures} == want
            compared += bool(on or want)
    if busy:
        assert compared or not set(agents) & set(busy)


def test_gini() -> None:
    assert gini_of(np.array([5.0]), np.array([10])) == 0.0
    assert gini_of(np.array([0.0, 1.0]), np.array([1, 1])) == pytest.approx(0.5)
    m = PolicyMetrics(1, 1)
    m.add_scores(0, np.zeros(4, np.int64), np.array([1.0, 1.0, 1.0, 1.0]))
    assert m.score_summary()[1][0] == 0.0


def test_report_files(tmp_path: Path) -> None:
    pols = [policy("fair-transit"), policy("carrot-rewards")]
    result = simulate(pols, scenario("commuters"), SimSpec(1100, 20, 1, START))
    written = write_report(result, tmp_path / "out")
    assert [p.name for p in written] == ["days.parquet", "summary.json", "report.html"]
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "out/days.parquet").to_pydict()
    assert set(table["policy"]) == {"fair-transit@1.1", "carrot-rewards@2.0"}
    assert set(table["group"]) == {"all", "commuters", "occasional"}
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert summary["parameters"]["population"] == 1100
    assert summary["scenario"]["content_hash"] == result.scenario.content_hash
    assert summary["cost"]["agent_days"] == 1100 * 20 * 2
    page = (tmp_path / "out/report.html").read_text()
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<script" not in page
    # shared like any new file (the umask's mode), not the 0600 of a temporary file
    import os
    import stat

    mask = os.umask(0)
    os.umask(mask)
    for p in written:
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask, p


def test_wrongful_sanctions_equal_a_full_evaluation_without_errors() -> None:
    """The evaluator reads the world without errors only for the subjects errors can reach;
    reading it for everyone gives the same wrongful sanctions, day by day."""
    pol = policy("china-scs")
    loaded = scenario("china-scs")
    sc = loaded.scenario.model_copy(
        update={
            "data_errors": loaded.scenario.data_errors.model_copy(update={"rate": 0.5}),
        }
    )
    spec = SimSpec(1024, 60, 8, START)
    draws = [draw_block(sc, spec, 0)]
    m = evaluate_draws(sc, spec, pol, draws)
    full = Prepared.build(chunk_columns(draws, sc, spec, pol), pol)
    clean = Prepared.build(chunk_columns(draws, sc, spec, pol, with_errors=False), pol)
    deny = np.array([s.effect == "deny" for s in pol.sanctions])
    expected = []
    for day in range(spec.days):
        a = bulk_standings(full, spec.day_end(day)).denied()[deny]
        b = bulk_standings(clean, spec.day_end(day)).denied()[deny]
        expected.append(int((a & ~b).any(axis=0).sum()))
    assert m.counts["sanctioned_wrongful"].sum(axis=1).tolist() == expected
    assert sum(expected) > 0


def test_behaviour_response_and_exit_feed_back_and_stay_consistent() -> None:
    """Conduct avoided while sanctioned and exits happen; the standings the evaluator read on
    each day are those of the final ledger it generated (later records change no earlier
    day), and list sizes still add up."""
    pol = policy("fair-transit")
    loaded = scenario("fair-transit")
    sc = loaded.scenario.model_copy(
        update={
            "groups": {
                name: g.model_copy(update={"rates": {"fare_evasion": 12.0, "staff_assault": 0.05}})
                for name, g in loaded.scenario.groups.items()
            },
            "behaviour": loaded.scenario.behaviour.model_copy(
                update={"while_sanctioned": 0.2, "types": ["fare_evasion"]}
            ),
            "exit": loaded.scenario.exit.model_copy(update={"yearly_while_sanctioned": 0.9}),
        }
    )
    spec = SimSpec(1024, 50, 6, START)
    draws = [draw_block(sc, spec, 0)]
    gone: list[np.ndarray] = []  # type: ignore[type-arg]
    m = evaluate_draws(sc, spec, pol, draws, suppressed=gone)
    assert m.counts["conduct_avoided"].sum() > 0
    assert m.counts["exits"].sum() > 0
    assert m.counts["exited"][-1].sum() == m.counts["exits"].sum()
    final = Prepared.build(chunk_columns(draws, sc, spec, pol, suppressed=gone), pol)
    deny = np.array([s.effect == "deny" for s in pol.sanctions])
    for day in (5, 30, 49):
        bulk = bulk_standings(final, spec.day_end(day))
        assert int(bulk.denied()[deny].any(axis=0).sum()) == m.counts["sanctioned"][day].sum()
        for i, lst in enumerate(pol.lists):
            assert int(bulk.lists[i].sum()) == m.counts[f"list:{lst.name}"][day].sum()
    # the same draws without the response: more conduct
    plain = sc.model_copy(
        update={"behaviour": loaded.scenario.behaviour, "exit": loaded.scenario.exit}
    )
    unchanged = evaluate_draws(plain, spec, pol, draws)
    assert unchanged.counts["records"].sum() > m.counts["records"].sum()
    assert "exits" not in unchanged.counts


def test_a_block_without_corrections_drops_only_its_wrong_records() -> None:
    """Data errors that nobody disputes and no debt paid: a block has erroneous records and
    no correction at all. The world without errors is the same ledger less exactly those
    records (the evaluation crashed on such a block before)."""
    pol = policy("china-scs")
    loaded = scenario("china-scs")
    sc = loaded.scenario.model_copy(
        update={
            "disputes": loaded.scenario.disputes.model_copy(
                update={"if_wrong": 0.0, "if_right": 0.0}
            ),
            "resolution": {},
        }
    )
    spec = SimSpec(1024, 365, 3, START)
    draws = [draw_block(sc, spec, 0)]
    wrong = int(draws[0].wrong.sum())
    assert wrong > 0
    full = chunk_columns(draws, sc, spec, pol)
    clean = chunk_columns(draws, sc, spec, pol, with_errors=False)
    assert len(full.rec_seq) - len(clean.rec_seq) == wrong
    evaluate_draws(sc, spec, pol, draws)  # and the day-by-day evaluation runs through


def test_axis_numbers_fit_the_margin() -> None:
    from socialcredit.sim.report import axis_number

    assert [axis_number(x) for x in (3150.0, 0.00175307, 1.0, 0.0, 98.904, 1005.17)] == [
        "3,150",
        "0.00175",
        "1",
        "0",
        "98.9",
        "1,005",
    ]


def test_the_summary_says_how_each_policys_agents_were_read(tmp_path: Path) -> None:
    """``summary.json`` names the evaluator asked for and, per policy, how many agents each
    evaluation read: every agent once; all by the reference when it is asked for, and when
    the scenario feeds sanctions back into conduct (which the event-driven one cannot)."""
    pols = [policy("fair-transit")]
    loaded = scenario("fair-transit")
    spec = SimSpec(3000, 20, 2, START)
    for evaluator in ("events", "reference"):
        result = simulate(pols, loaded, spec, chunk_size=1024, evaluator=evaluator)
        write_report(result, tmp_path / evaluator)
        summary = json.loads((tmp_path / evaluator / "summary.json").read_text())
        assert summary["parameters"]["evaluator"] == evaluator
        (read,) = [p["agents_read_by"] for p in summary["policies"]]
        assert sum(read.values()) == 3000
        assert set(read) <= {"events", "reference"}
        if evaluator == "reference":
            assert read == {"reference": 3000}
    sc = loaded.scenario.model_copy(
        update={
            "behaviour": loaded.scenario.behaviour.model_copy(
                update={"while_sanctioned": 0.2, "types": ["fare_evasion"]}
            )
        }
    )
    feedback = dataclasses.replace(loaded, scenario=sc)
    result = simulate(pols, feedback, spec, chunk_size=1024, evaluator="events")
    assert result.metrics[0].read_by == {"reference": 3000}
