"""Invariants of terms, extensions, early ends and anchored windows, on random ledgers."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.columns import columns_from_entries
from socialcredit.enforcement import check, decide
from socialcredit.scoring import Prepared, bulk_standings, standing
from socialcredit.timeutil import DAY, parse_timestamp

from .terms_policy import terms_policy

T0 = parse_timestamp("2024-01-01")
SUBJECTS = ["a", "b", "c"]
TYPES = ["listing", "refuses", "fare_evasion", "smoking"]
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
POLICY = terms_policy()
SPANS = ["P100D", "P365D", "P400D", "P730D", "P1Y6M", "18 months", "P1095D", "P2000D"]


@st.composite
def ledgers(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Records (some with their own term), resolutions, extensions, ends, annulments and
    disputes, in a valid ledger order."""
    entries: list[dict[str, Any]] = []
    n = draw(st.integers(1, 10))
    for i in range(n):
        day = draw(st.integers(0, 500))
        entry: dict[str, Any] = {
            "id": f"r{i}",
            "source": "src",
            "subject": draw(st.sampled_from(SUBJECTS)),
            "type": draw(st.sampled_from([*TYPES, "fare_evasion", "fare_evasion", "smoking"])),
            "occurred_at": T0 + day * DAY,
            "recorded_at": T0 + (day + draw(st.integers(0, 5))) * DAY,
        }
        if entry["type"] == "listing" and draw(st.booleans()):
            entry["term"] = draw(st.sampled_from(SPANS))
        entries.append(entry)
    for j in range(draw(st.integers(0, 8))):
        target = entries[draw(st.integers(0, n - 1))]
        after = target["recorded_at"] + draw(st.integers(0, 400)) * DAY
        kind = draw(st.sampled_from(["resolve", "resolve", "extend", "end", "annul", "dispute"]))
        fix: dict[str, Any] = {
            "kind": kind,
            "id": f"c{j}",
            "source": "src",
            "target_source": "src",
            "target_id": target["id"],
            "occurred_at": after,
            "recorded_at": after + draw(st.integers(0, 3)) * DAY,
        }
        if kind == "extend":
            fix["by"] = draw(st.sampled_from(SPANS))
        entries.append(fix)
    return entries


def prep(entries: list[dict[str, Any]]) -> Prepared:
    return Prepared.build(columns_from_entries(entries), POLICY)


days = st.integers(-5, 1500)


def expiry_of(p: Prepared, record: int, known_at: int) -> int:
    """The expiry of ``record``'s version current at ``known_at``."""
    rows = p.rows
    current = np.flatnonzero(
        (rows.record == record) & (rows.visible_from <= known_at) & (rows.hidden_from > known_at)
    )
    if not len(current):
        return -1  # annulled
    return int(rows.expires[current[0]])


@SETTINGS
@given(entries=ledgers(), day=days)
def test_bulk_agrees_with_one_subject(entries: list[dict[str, Any]], day: int) -> None:
    bulk_agrees(entries, day)


def bulk_agrees(entries: list[dict[str, Any]], day: int) -> None:
    t = T0 + day * DAY
    p = prep(entries)
    bulk = bulk_standings(p, t)
    for i in range(p.columns.n_subjects):
        s = standing(p, i, t)
        assert {lst.name for lst in POLICY.lists if bulk.lists[lst.index, i]} == {
            m.name for m in s.lists
        }
        assert {x.name for x in POLICY.sanctions if bulk.measures[x.index, i]} == {
            m.name for m in s.measures
        }
        for service in ("air_travel", "train_tickets", "soft_sleeper"):
            assert check(p, i, service, t) == decide(s, service)


@SETTINGS
@given(
    entries=ledgers(),
    day=days,
    by=st.sampled_from(SPANS),
    lag=st.integers(0, 800),
    which=st.integers(0, 9),
)
def test_an_extension_never_shortens_a_term(
    entries: list[dict[str, Any]], day: int, by: str, lag: int, which: int
) -> None:
    records = [e for e in entries if "kind" not in e]
    target = records[which % len(records)]
    when = target["recorded_at"] + lag * DAY
    extend = {
        "kind": "extend",
        "id": "more",
        "source": "src",
        "target_source": "src",
        "target_id": target["id"],
        "occurred_at": when,
        "recorded_at": when,
    }
    before, after = prep(entries), prep([*entries, {**extend, "by": by}])
    k = T0 + day * DAY
    for r in range(len(records)):
        assert expiry_of(after, r, k) >= expiry_of(before, r, k)


@SETTINGS
@given(entries=ledgers(), day=days, lag=st.integers(0, 800), which=st.integers(0, 9))
def test_an_end_never_lengthens_a_term(
    entries: list[dict[str, Any]], day: int, lag: int, which: int
) -> None:
    records = [e for e in entries if "kind" not in e]
    target = records[which % len(records)]
    when = target["recorded_at"] + lag * DAY
    end = {
        "kind": "end",
        "id": "stop",
        "source": "src",
        "target_source": "src",
        "target_id": target["id"],
        "occurred_at": when,
        "recorded_at": when,
    }
    before, after = prep(entries), prep([*entries, end])
    k = T0 + day * DAY
    for r in range(len(records)):
        assert expiry_of(after, r, k) <= expiry_of(before, r, k)


@SETTINGS
@given(entries=ledgers(), day=days, later=ledgers())
def test_corrections_learned_later_do_not_change_earlier_answers(
    entries: list[dict[str, Any]], day: int, later: list[dict[str, Any]]
) -> None:
    later_changes_nothing(entries, day, later)


def later_changes_nothing(
    entries: list[dict[str, Any]], day: int, later: list[dict[str, Any]]
) -> None:
    t = T0 + day * DAY
    before = prep(entries)
    # corrections of the existing records (and new records) that the ledger learns after t
    future = []
    for e in later:
        if "kind" in e:
            target = [x for x in entries if "kind" not in x][
                int(e["target_id"][1:]) % len([x for x in entries if "kind" not in x])
            ]
            e = {**e, "target_id": target["id"]}
            e["occurred_at"] = max(e["occurred_at"], target["occurred_at"])
        e = {**e, "id": "late-" + e["id"]}
        e["recorded_at"] = max(e["recorded_at"], t + DAY, e["occurred_at"])
        future.append(e)
    after = prep(entries + future)
    for i in range(before.columns.n_subjects):
        assert standing(after, i, t).to_json() == standing(before, i, t).to_json()


@st.composite
def fare_ledgers(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Fare evasions close together, most of them paid, and smoking records near them:
    ledgers on which the anchored windows open and fill."""
    entries: list[dict[str, Any]] = []
    fixes: list[dict[str, Any]] = []
    for i in range(draw(st.integers(4, 10))):
        day = draw(st.integers(0, 150))
        kind = draw(st.sampled_from(["fare_evasion", "fare_evasion", "smoking"]))
        entries.append(
            {
                "id": f"r{i}",
                "source": "src",
                "subject": draw(st.sampled_from(["a", "a", "a", "b"])),
                "type": kind,
                "occurred_at": T0 + day * DAY,
                "recorded_at": T0 + (day + draw(st.integers(0, 3))) * DAY,
            }
        )
        if kind == "fare_evasion" and draw(st.integers(0, 3)):
            paid = entries[-1]["recorded_at"] + draw(st.integers(0, 40)) * DAY
            fixes.append(
                {
                    "kind": "resolve",
                    "id": f"p{i}",
                    "source": "src",
                    "target_source": "src",
                    "target_id": f"r{i}",
                    "occurred_at": paid,
                    "recorded_at": paid + draw(st.integers(0, 20)) * DAY,
                }
            )
    if draw(st.booleans()) and fixes:
        fixes.append({**fixes[0], "kind": "annul", "id": "annul-paid"})
        fixes[-1]["target_id"] = entries[draw(st.integers(0, len(entries) - 1))]["id"]
    return entries + fixes


@SETTINGS
@given(entries=fare_ledgers(), day=st.integers(0, 400))
def test_bulk_agrees_with_one_subject_on_anchored_windows(
    entries: list[dict[str, Any]], day: int
) -> None:
    bulk_agrees(entries, day)


@SETTINGS
@given(entries=fare_ledgers(), day=st.integers(0, 400), later=fare_ledgers())
def test_anchored_answers_do_not_change_with_later_knowledge(
    entries: list[dict[str, Any]], day: int, later: list[dict[str, Any]]
) -> None:
    later_changes_nothing(entries, day, later)
