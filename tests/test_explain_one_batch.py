"""The appeals searched in one batch give the explanation the two searches gave.

When the person can do nothing about the records behind a denial themselves (every record
resolved or not resolvable, disputed already or its window closed) and only appeals remain,
``explain`` searches the single appeals and the sets of appeals in one batch. With
``one_batch=False`` it searches as it did before: the singles, then the sets only when no
single ends the denial on an earlier day. When the person can take steps of their own and
several appeals are possible, the first batch of the search among sets of appeals (needed
when neither their own steps nor a single appeal end the denial sooner) is evaluated with
the search among their own steps. Both must give the same explanation, word for word.

TEST_POLICY (tests/conftest.py), here with disputed records counting (so a dispute changes
nothing and is not offered; an appeal is, while the 30-day window is open): misconduct lists
its subject (rail banned 30 days from when the list began); a debt lists while unresolved.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.columns import columns_from_entries
from socialcredit.explain import explain
from socialcredit.policy import CompiledPolicy, compile_policy, parse_policy
from socialcredit.scoring import Prepared, counterfactual
from socialcredit.timeutil import DAY, parse_timestamp
from tests.conftest import TEST_POLICY
from tests.strategies import records_and_corrections

T0 = parse_timestamp("2025-01-01")
SERVICES = ["air_travel", "private_school", "luxury_hotel", "rail"]


@pytest.fixture(scope="module")
def counting() -> CompiledPolicy:
    """TEST_POLICY with disputed records counting."""
    text = TEST_POLICY.replace("disputed_records_count: false", "disputed_records_count: true")
    assert text != TEST_POLICY
    return compile_policy(parse_policy(text, "test-policy.yaml"))


@pytest.fixture(scope="module", params=["disputes count", "disputes suspend"])
def any_policy(
    request: pytest.FixtureRequest, policy: CompiledPolicy, counting: CompiledPolicy
) -> CompiledPolicy:
    """TEST_POLICY with disputed records counting, and as it is."""
    return counting if request.param == "disputes count" else policy


def _misconduct(rid: str, day: int) -> dict[str, Any]:
    return {
        "id": rid,
        "source": "src",
        "subject": "bob",
        "type": "misconduct",
        "occurred_at": T0 + day * DAY,
        "recorded_at": T0 + day * DAY,
    }


def _dispute(rid: str, target: str, day: int) -> dict[str, Any]:
    return {
        "kind": "dispute",
        "id": rid,
        "source": "src",
        "target_source": "src",
        "target_id": target,
        "occurred_at": T0 + day * DAY,
        "recorded_at": T0 + day * DAY,
    }


def _both(policy: CompiledPolicy, entries: list[dict[str, Any]], service: str, t: int) -> None:
    prep = Prepared.build(columns_from_entries(entries), policy)
    for subject in range(prep.columns.n_subjects):
        merged = explain(prep, subject, service, t)
        separate = explain(prep, subject, service, t, one_batch=False)
        assert merged.to_json() == separate.to_json()


def test_only_appeals_left_gives_the_same_sets(counting: CompiledPolicy) -> None:
    policy = counting
    # three misconducts in their appeal windows: a dispute changes nothing, nothing can be
    # resolved; only appeals remain
    entries = [_misconduct(f"m{i}", 10 * i) for i in range(3)]
    t = T0 + 25 * DAY
    prep = Prepared.build(columns_from_entries(entries), policy)
    ex = explain(prep, 0, "rail", t)
    assert ex.decision.decision == "deny"
    kinds = {s.kind for a in ex.actions for s in a.steps}
    assert kinds == {"appeal"}
    # banned 30 days from day 0 (day 30); annulling m0 alone moves the start to day 10
    # (day 40), m1 or m2 alone changes nothing; all three: nothing lists, allowed at once
    singles = {a.record: a.eligible_again_on for a in ex.actions if len(a.steps) == 1}
    assert singles == {"src/m0": "2025-02-10", "src/m1": "2025-01-31", "src/m2": "2025-01-31"}
    assert ex.best_action is not None
    assert ex.best_action.record == "src/m0 + src/m1 + src/m2"
    assert ex.best_action.eligible_again_on == "2025-01-26"
    _both(policy, entries, "rail", t)


def test_own_steps_and_appeals_in_one_batch(
    policy: CompiledPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # disputes suspend (TEST_POLICY as it is): the person may dispute each misconduct, but a
    # dispute only suspends from now on, and the fixed 30-day ban runs from day 0 whatever
    # the list does after: no set of disputes ends it sooner, nor does one appeal (annulling
    # m0 moves the start to day 10); annulling all three does (never listed)
    entries = [_misconduct(f"m{i}", 10 * i) for i in range(3)]
    t = T0 + 25 * DAY
    prep = Prepared.build(columns_from_entries(entries), policy)
    batches = []
    evaluate = counterfactual.counterfactual_ends

    def counted(*args: Any, **kwargs: Any) -> list[int | None]:
        batches.append(len(args[4]))
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(counterfactual, "counterfactual_ends", counted)
    ex = explain(prep, 0, "rail", t)
    assert len(batches) == 1  # the appeals' sets were evaluated with the disputes
    singles = {
        (a.steps[0].kind, a.record): a.eligible_again_on for a in ex.actions if len(a.steps) == 1
    }
    assert singles == {
        ("dispute", "src/m0"): "2025-01-31",
        ("dispute", "src/m1"): "2025-01-31",
        ("dispute", "src/m2"): "2025-01-31",
        ("appeal", "src/m0"): "2025-02-10",
        ("appeal", "src/m1"): "2025-01-31",
        ("appeal", "src/m2"): "2025-01-31",
    }
    assert ex.best_action is not None
    assert [s.kind for s in ex.best_action.steps] == ["appeal"] * 3
    assert ex.best_action.record == "src/m0 + src/m1 + src/m2"
    assert ex.best_action.eligible_again_on == "2025-01-26"
    batches.clear()
    separate = explain(prep, 0, "rail", t, one_batch=False)
    assert len(batches) == 2  # the disputes (with single appeals), then the appeals' sets
    assert separate.to_json() == ex.to_json()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=records_and_corrections(
        start=T0,
        types=["debt", "fine", "misconduct", "misconduct"],
        subjects=["bob", "bob", "ann"],
        kinds=["resolve", "dispute", "dispute", "uphold"],
        records=(1, 9),
        days=120,
        lag=2,
        corrections=(0, 10),
        after=40,
    ),
    day=st.integers(0, 200),
    service=st.sampled_from(SERVICES),
)
def test_one_batch_equals_two_searches(
    any_policy: CompiledPolicy, entries: list[dict[str, Any]], day: int, service: str
) -> None:
    _both(any_policy, entries, service, T0 + day * DAY)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=records_and_corrections(
        start=T0,
        types=["misconduct", "misconduct", "debt", "fine"],
        subjects=["bob"],
        kinds=["resolve", "dispute", "uphold"],
        records=(2, 7),
        days=40,
        lag=2,
        corrections=(0, 3),
        after=20,
    ),
    day=st.integers(0, 70),
    service=st.sampled_from(SERVICES),
)
def test_own_steps_and_appeals_equal_two_searches(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int, service: str
) -> None:
    # several records in their appeal windows, disputes suspending: the person's own steps
    # and several appeals, often with neither their own sets nor one appeal ending it sooner
    _both(policy, entries, service, T0 + day * DAY)
