"""Publicity periods on random ledgers (hypothesis): one subject and everyone agree, a
measure whose objection is upheld never starts, and later knowledge leaves the past alone."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.columns import columns_from_entries
from socialcredit.enforcement import check, decide
from socialcredit.explain import explain
from socialcredit.policy import compile_policy, parse_policy
from socialcredit.scoring import Prepared, Standing, bulk_standings, standing
from socialcredit.timeutil import DAY
from tests.scoring.test_publicity_period import POLICY, PUBLISHED
from tests.strategies import records_and_corrections

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PUBLICITY = compile_policy(parse_policy(POLICY, "publicity-test.yaml"))
TYPES = ["rail_misconduct", "air_misconduct", "fare_dodging"]
SERVICES = ["train_tickets", "flights", "soft_sleepers"]
SUBJECTS = ["a", "b", "c"]


def ledgers() -> st.SearchStrategy[list[dict[str, Any]]]:
    """Records and disputes and decisions on them, from the day the policy was published."""
    return records_and_corrections(
        start=PUBLISHED,
        types=TYPES,
        subjects=SUBJECTS,
        kinds=["dispute", "dispute", "uphold", "annul"],
        records=(1, 5),
        days=60,
        lag=2,
        corrections=(0, 6),
        after=40,
    )


def everyone(entries: list[dict[str, Any]], t: int) -> dict[str, Standing]:
    prep = Prepared.build(columns_from_entries(entries), PUBLICITY)
    return {name: standing(prep, i, t) for i, name in enumerate(prep.columns.subjects)}


days = st.integers(-2, 450)


@SETTINGS
@given(entries=ledgers(), day=days)
def test_bulk_agrees_with_one_subject(entries: list[dict[str, Any]], day: int) -> None:
    t = PUBLISHED + day * DAY
    prep = Prepared.build(columns_from_entries(entries), PUBLICITY)
    bulk = bulk_standings(prep, t)
    for i in range(prep.columns.n_subjects):
        s = standing(prep, i, t)
        assert {x.name for x in PUBLICITY.sanctions if bulk.measures[x.index, i]} == {
            m.name for m in s.measures
        }
        for service in SERVICES:
            assert check(prep, i, service, t) == decide(s, service)
            explain(prep, i, service, t)  # every text can be written
        for u in s.upcoming:  # published, not yet in force
            assert u.published_at <= t and (u.starts is None or u.starts > t)
            assert u.name not in {m.name for m in s.measures}


@SETTINGS
@given(
    entries=ledgers(),
    objected=st.integers(0, 7),
    upheld=st.integers(0, 60),
    day=days,
)
def test_a_published_measure_whose_objection_is_upheld_never_starts(
    entries: list[dict[str, Any]], objected: int, upheld: int, day: int
) -> None:
    # someone else's ledger, and one rail record of "p", objected to within the period
    # (7 days) and annulled (the objection upheld) at any time after, nothing decided between
    target = {
        "id": "mine",
        "source": "src",
        "subject": "p",
        "type": "rail_misconduct",
        "occurred_at": PUBLISHED,
        "recorded_at": PUBLISHED,
    }

    def fix(kind: str, rid: str, at: int) -> dict[str, Any]:
        return {
            "kind": kind,
            "id": rid,
            "source": "src",
            "target_source": "src",
            "target_id": "mine",
            "occurred_at": at,
            "recorded_at": at,
        }

    objection = PUBLISHED + objected * DAY
    ledger = [
        *entries,
        target,
        fix("dispute", "objection", objection),
        fix("annul", "upheld", objection + upheld * DAY),
    ]
    prep = Prepared.build(columns_from_entries(ledger), PUBLICITY)
    p = prep.columns.subjects.index("p")
    t = PUBLISHED + day * DAY
    assert standing(prep, p, t).measures == []
    assert check(prep, p, "train_tickets", t).decision == "allow"
    assert not bulk_standings(prep, t).measures[:, p].any()


@SETTINGS
@given(entries=ledgers(), day=days, later=ledgers())
def test_objections_learned_later_do_not_change_earlier_answers(
    entries: list[dict[str, Any]], day: int, later: list[dict[str, Any]]
) -> None:
    t = PUBLISHED + day * DAY
    before = everyone(entries, t)
    records = [e for e in entries if "kind" not in e]
    future = []
    for j, e in enumerate(later):
        if "kind" in e:
            target = records[j % len(records)]
            when = max(e["recorded_at"], t + 1, target["recorded_at"])
            future.append(
                {**e, "id": f"late{j}", "target_id": target["id"], "recorded_at": when,
                 "occurred_at": when}
            )  # fmt: skip
    after = everyone(entries + future, t)
    for name, s in before.items():
        assert after[name].to_json() == s.to_json()
