"""Invariants of scoring, checked on random ledgers (hypothesis)."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.columns import COLUMN_DTYPES, LedgerColumns, columns_from_entries
from socialcredit.policy import CompiledPolicy
from socialcredit.scoring import Prepared, Standing, bulk_standings, standing
from socialcredit.scoring.timeline import timelines, triggered_ever
from socialcredit.timeutil import DAY, parse_timestamp
from tests.strategies import maybe_child_of, records_and_corrections

T0 = parse_timestamp("2025-01-01")
SUBJECTS = ["a", "b", "c", "d"]
TYPES = ["debt", "fine", "misconduct", "volunteering"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def ledgers(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Records, corrections and relations in a valid ledger order."""
    entries = draw(
        records_and_corrections(
            start=T0,
            types=TYPES,
            subjects=SUBJECTS,
            kinds=["resolve", "dispute", "uphold", "annul"],
            records=(1, 12),
            days=600,
            lag=5,
            corrections=(0, 4),
            after=200,
        )
    )
    entries += draw(maybe_child_of(SUBJECTS, T0 - 10 * DAY))
    return entries


def everyone(policy: CompiledPolicy, entries: list[dict[str, Any]], t: int) -> dict[str, Standing]:
    prep = Prepared.build(columns_from_entries(entries), policy)
    return {name: standing(prep, i, t) for i, name in enumerate(prep.columns.subjects)}


def summary(s: Standing) -> tuple[Any, ...]:
    return (
        round(s.score, 9),
        s.grade,
        sorted((m.name, m.since, m.until) for m in s.lists),
        sorted((m.name, m.since, m.until, m.via_subject or "") for m in s.measures),
    )


days = st.integers(-5, 1300)


@SETTINGS
@given(entries=ledgers(), day=days)
def test_expired_records_contribute_nothing(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int
) -> None:
    t = T0 + day * DAY
    before = everyone(policy, entries, t)
    for s in before.values():
        assert all(line.contribution == 0 for line in s.breakdown if line.status == "expired")
    expired = {
        e["id"]
        for e in entries
        if "type" in e
        and "kind" not in e
        and policy.expiry_one(e["occurred_at"], policy.type_code[e["type"]]) <= t
    }
    kept = [e for e in entries if e["id"] not in expired and e.get("target_id") not in expired]
    after = everyone(policy, kept, t)
    for name, s in after.items():
        assert abs(s.score - before[name].score) < 1e-9


@SETTINGS
@given(entries=ledgers(), day=days, when=st.integers(0, 600), who=st.sampled_from(SUBJECTS))
def test_a_positive_record_never_lowers_the_score(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int, when: int, who: str
) -> None:
    t = T0 + day * DAY
    before = everyone(policy, entries, t)
    extra = {
        "id": "extra",
        "source": "src",
        "subject": who,
        "type": "volunteering",
        "occurred_at": T0 + when * DAY,
    }
    after = everyone(policy, [extra, *entries], t)
    for name, s in before.items():
        assert after[name].score >= s.score - 1e-9


@SETTINGS
@given(entries=ledgers(), day=days, seed=st.integers(0, 2**32 - 1))
def test_scoring_is_deterministic_and_independent_of_record_order(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int, seed: int
) -> None:
    t = T0 + day * DAY
    records = [e for e in entries if "kind" not in e]
    others = [e for e in entries if "kind" in e]
    shuffled = records[:]
    random.Random(seed).shuffle(shuffled)
    first = everyone(policy, entries, t)
    again = everyone(policy, entries, t)
    reordered = everyone(policy, shuffled + others, t)
    for name, s in first.items():
        assert s.to_json() == again[name].to_json()
        assert summary(s) == summary(reordered[name])


@SETTINGS
@given(entries=ledgers(), day=days, later=ledgers())
def test_standing_depends_only_on_what_was_known(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int, later: list[dict[str, Any]]
) -> None:
    t = T0 + day * DAY
    before = everyone(policy, entries, t)
    # entries the ledger learns after t: new records and corrections of existing ones
    future: list[dict[str, Any]] = []
    for e in later:
        e = {**e, "id": "late-" + e["id"]}
        if "target_id" in e:
            e["target_id"] = "late-" + e["target_id"]
        for key in ("recorded_at",):
            if key in e:
                e[key] = max(e[key], t + DAY)
        if e.get("kind") == "relation":
            e["recorded_at"] = t + DAY
        future.append(e)
    for i, e in enumerate(entries):
        if "kind" not in e:
            future.append(
                {
                    "kind": "annul" if i % 2 else "resolve",
                    "id": f"late-fix-{i}",
                    "source": "src",
                    "target_source": "src",
                    "target_id": e["id"],
                    "occurred_at": max(t + DAY, e["recorded_at"]),
                    "recorded_at": max(t + DAY, e["recorded_at"]),
                }
            )
    after = everyone(policy, entries + future, t)
    for name, s in before.items():
        assert after[name].to_json() == s.to_json()


@SETTINGS
@given(entries=ledgers(), day=st.integers(0, 700))
def test_resolving_the_listing_record_lifts_its_sanctions(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int
) -> None:
    t = T0 + day * DAY
    # only what is known by t, so nothing new can list anyone during the delisting delay
    entries = [e for e in entries if e.get("recorded_at", t) <= t]
    before = everyone(policy, entries, t)
    fixes = []
    for s in before.values():
        if any(m.name == "debtors" for m in s.lists):
            for line in s.breakdown:
                if line.type == "debt" and line.resolved_at is None:
                    fixes.append(
                        {
                            "kind": "resolve",
                            "id": f"pay-{line.id}",
                            "source": "src",
                            "target_source": "src",
                            "target_id": line.id,
                            "occurred_at": t,
                            "recorded_at": t,
                        }
                    )
    delay = policy.lists[policy.list_index("debtors")].delist_delay
    after = everyone(policy, entries + fixes, policy.after_one(t, delay))
    for name, s in before.items():
        if any(m.name == "debtors" for m in s.lists):
            assert not any(m.name == "debtors" for m in after[name].lists)
            caused = {"no_flights", "no_school"}
            assert not any(m.name in caused and m.via_subject is None for m in after[name].measures)


@SETTINGS
@given(entries=ledgers(), day=days)
def test_bulk_recompute_agrees_with_single_subject_scoring(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int
) -> None:
    t = T0 + day * DAY
    prep = Prepared.build(columns_from_entries(entries), policy)
    bulk = bulk_standings(prep, t)
    for i in range(prep.columns.n_subjects):
        s = standing(prep, i, t)
        assert abs(bulk.score[i] - s.score) < 1e-9
        assert policy.grade_names[bulk.grade[i]] == s.grade
        assert {lst.name for lst in policy.lists if bulk.lists[lst.index, i]} == {
            m.name for m in s.lists
        }
        assert {x.name for x in policy.sanctions if bulk.measures[x.index, i]} == {
            m.name for m in s.measures
        }


@SETTINGS
@given(entries=ledgers(), day=days, service=st.sampled_from(["air_travel", "rail", "luxury_hotel"]))
def test_batched_counterfactuals_agree_with_one_at_a_time(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int, service: str
) -> None:
    from socialcredit.enforcement import eligible_again
    from socialcredit.scoring.counterfactual import counterfactual_ends
    from socialcredit.scoring.measures import measures_for_service

    t = T0 + day * DAY
    prep = Prepared.build(columns_from_entries(entries), policy)
    fields = {"resolve": "resolved", "dispute": "disputed", "appeal": "hidden_from"}
    for subject in range(prep.columns.n_subjects):
        changes = [(kind, row) for row in range(len(prep.rows)) for kind in fields]
        # every single change, and sets of two changes on different records
        scenarios = [[c] for c in changes] + [
            [a, b] for a in changes for b in changes if a[1] < b[1] and (a[1] + b[1]) % 3 == 0
        ]
        batched = counterfactual_ends(prep, subject, service, t, scenarios)
        for scenario, end in zip(scenarios, batched, strict=True):
            rows = prep.rows
            for kind, row in scenario:
                rows = rows.with_changes(row, **{fields[kind]: t})
            one = measures_for_service(prep.with_rows(rows), subject, service, t)
            assert end == eligible_again([m for m in one if m.effect == "deny"])


@SETTINGS
@given(
    entries=ledgers(),
    day=days,
    service=st.sampled_from(
        ["air_travel", "private_school", "rail", "luxury_hotel", "bike_rental"]
    ),
)
def test_check_decides_as_the_full_standing(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int, service: str
) -> None:
    from socialcredit.enforcement import check, decide

    t = T0 + day * DAY
    prep = Prepared.build(columns_from_entries(entries), policy)
    for subject in range(prep.columns.n_subjects):
        assert check(prep, subject, service, t) == decide(standing(prep, subject, t), service)


@SETTINGS
@given(entries=ledgers(), day=days)
def test_record_lines_from_timelines_equal_the_standings_breakdown(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int
) -> None:
    from socialcredit.scoring.breakdown import record_lines
    from socialcredit.scoring.standing import standing_and_timelines

    t = T0 + day * DAY
    prep = Prepared.build(columns_from_entries(entries), policy)
    for subject in range(prep.columns.n_subjects):
        _, tls = standing_and_timelines(prep, subject, t)
        for other in tls:
            expected = standing(prep, other, t).breakdown
            assert record_lines(prep, other, t, tls) == expected
            assert record_lines(prep, other, t) == expected


@SETTINGS
@given(entries=ledgers(), day=days)
def test_a_measure_names_only_lists_and_records_of_whom_it_comes_from(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int
) -> None:
    t = T0 + day * DAY
    people = everyone(policy, entries, t)
    for s in people.values():
        for m in s.measures:
            owner = people[m.via_subject] if m.via_subject else s
            counting = {f"{x.source}/{x.id}" for x in owner.breakdown if x.status == "counts"}
            current = {
                f"{x.source}/{x.id}" for x in owner.breakdown if x.status != "annulled or rectified"
            }
            if m.trigger_ended is None:
                # the trigger holds now: every list and record it names holds or counts now
                assert set(m.lists) <= {x.name for x in owner.lists}
                assert set(m.records) <= counting
            else:
                # a fixed term that outlived its trigger: named from when the trigger held
                assert m.trigger_ended <= t and set(m.records) <= current


@SETTINGS
@given(
    entries=ledgers(),
    day=days,
    service=st.sampled_from(["air_travel", "private_school", "rail", "luxury_hotel"]),
)
def test_the_best_action_ends_the_denial_sooner_and_no_smaller_set_does_as_well(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int, service: str
) -> None:
    from socialcredit.explain import explain
    from socialcredit.timeutil import to_date

    t = T0 + day * DAY
    prep = Prepared.build(columns_from_entries(entries), policy)
    for subject in range(prep.columns.n_subjects):
        ex = explain(prep, subject, service, t)
        if ex.decision.decision == "allow":
            assert ex.best_action is None and ex.actions == []
            continue
        best = ex.best_action
        if best is None:
            continue
        current = ex.decision.eligible_again_on
        assert best.eligible_again_on is not None
        assert ex.decision.indefinite or best.eligible_again_on < str(current)
        assert best.eligible_again_on >= str(to_date(t))
        own = best.steps[0].kind != "appeal"
        for a in ex.actions:
            same_family = (a.steps[0].kind != "appeal") == own
            if same_family and len(a.steps) < len(best.steps) and not a.indefinite:
                assert str(a.eligible_again_on) > best.eligible_again_on
        assert not best.indefinite


@SETTINGS
@given(entries=ledgers(), day=days, start_day=st.integers(-20, 800))
def test_a_policy_period_only_trims_what_is_said_about_the_past(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int, start_day: int
) -> None:
    """With the policy in force from ``start`` (<= t), every start reported is the true one
    or, flagged, ``start`` when the true one is earlier; ends, scores and decisions are
    unchanged; ended measures are the ones that ended after ``start``, trimmed to it."""
    from socialcredit.scoring.measures import ended_measures

    t = T0 + day * DAY
    start = min(T0 + start_day * DAY, t)
    columns = columns_from_entries(entries)
    free, bound = Prepared.build(columns, policy), Prepared.build(columns, policy, start)

    def trimmed(since: int | None) -> tuple[int | None, bool]:
        return (start, True) if since is None or since < start else (since, False)

    for subject in range(free.columns.n_subjects):
        a, b = standing(free, subject, t), standing(bound, subject, t)
        assert (a.score, a.grade, b.breakdown) == (b.score, b.grade, a.breakdown)
        assert [(m.name, m.until, m.records) for m in a.lists] == [
            (m.name, m.until, m.records) for m in b.lists
        ]
        assert [trimmed(m.since) for m in a.lists] == [
            (m.since, m.since_policy_start) for m in b.lists
        ]
        assert [(m.name, m.until, m.conditions) for m in a.measures] == [
            (m.name, m.until, m.conditions) for m in b.measures
        ]
        assert [trimmed(m.since) for m in a.measures] == [
            (m.since, m.since_policy_start) for m in b.measures
        ]
        for service in ("air_travel", "rail"):
            old = ended_measures(free, subject, service, t)
            new = ended_measures(bound, subject, service, t)
            expected = [
                (m.name, *trimmed(m.since), m.until)
                for m in old
                if m.until is not None and m.until > start
            ]
            assert [(m.name, m.since, m.since_policy_start, m.until) for m in new] == expected


@SETTINGS
@given(entries=ledgers(), day=days, seed=st.integers(0, 2**32 - 1))
def test_triggered_ever_is_each_timelines_own_answer(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int, seed: int
) -> None:
    # bulk scoring skips, per bounded measure, subjects whose trigger never held, read in
    # one reduction over the shared evaluation: it must be each timeline's own answer, in
    # the order the timelines were asked for and in any other order or subset
    t = T0 + day * DAY
    prep = Prepared.build(columns_from_entries(entries), policy)
    subjects = list(range(prep.columns.n_subjects))
    tls = timelines(policy, prep.rows, subjects, t)
    others = random.Random(seed).sample(subjects, random.Random(seed).randint(0, len(subjects)))
    for asked in (subjects, others):
        for s in policy.sanctions:
            got = triggered_ever(tls, asked, s.index).tolist()
            assert got == [bool(tls[x].triggers[s.index].any()) for x in asked]


@SETTINGS
@given(entries=ledgers(), day=days, seed=st.integers(0, 2**32 - 1), unknown=st.booleans())
def test_record_types_given_as_codes_score_as_names(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int, seed: int, unknown: bool
) -> None:
    # the bulk loader gives record types as integer codes into their distinct names, and
    # folding maps each name once: the rows and standings must be those of the names
    rng = random.Random(seed)
    records = [e for e in entries if "type" in e and "kind" not in e]
    if unknown:  # a type the policy does not know
        rng.choice(records)["type"] = "no_such_type"
    plain = columns_from_entries(entries)
    names = [*sorted(set(plain.rec_type.tolist())), "never_used"]
    rng.shuffle(names)
    codes = [names.index(n) for n in plain.rec_type.tolist()]
    named = {c: getattr(plain, c) for c in COLUMN_DTYPES if c != "rec_type"}
    coded = LedgerColumns.from_named(
        plain.subjects, plain.subject_kind, named, rec_type_codes=(codes, names)
    )
    assert coded.rec_type.tolist() == plain.rec_type.tolist()
    t = T0 + day * DAY
    a, b = Prepared.build(plain, policy), Prepared.build(coded, policy)
    assert a.rows.type_code.tolist() == b.rows.type_code.tolist()
    assert (-1 in a.rows.type_code.tolist()) == unknown
    x, y = bulk_standings(a, t), bulk_standings(b, t)
    assert x.score.tolist() == y.score.tolist() and (x.measures == y.measures).all()
