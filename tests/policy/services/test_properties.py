"""Invariants of structured services on random ledgers (hypothesis, issue 7 construct 8)."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.columns import columns_from_entries
from socialcredit.enforcement import check, decide
from socialcredit.policy import CompiledPolicy, compile_policy, parse_policy
from socialcredit.scoring import Prepared, bulk_standings, standing
from socialcredit.timeutil import DAY, parse_timestamp
from tests.policy.services.policy import STRUCTURED
from tests.strategies import records_and_corrections

T0 = parse_timestamp("2025-01-01")
SUBJECTS = ["a", "b", "c"]
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
POLICY = compile_policy(parse_policy(STRUCTURED))
# the same policy with every measure's applies_to removed: each measure on every request
UNLIMITED = compile_policy(
    parse_policy(re.sub(r"    applies_to:.*\n(?:      - .*\n)*", "", STRUCTURED))
)
assert not any(s.applies_to for s in UNLIMITED.sanctions)
PARENT_BAN = """\
sanctions:
  debtor_rail_ban:
    when: {list: debtors}
    service: rail_tickets
    effect: deny
    applies_to: [{attribute: price, at_least: 300}]
    reason_code: PARENT
"""
# the same policy with one more measure on the parent (train tickets), limited to dear ones
WITH_PARENT_BAN = compile_policy(parse_policy(STRUCTURED.replace("sanctions:\n", PARENT_BAN)))


def ledgers() -> st.SearchStrategy[list[dict[str, Any]]]:
    """Debts and seat fights, some resolved or annulled, in a valid ledger order."""
    return records_and_corrections(
        start=T0,
        types=["debt", "seat_fight"],
        subjects=SUBJECTS,
        kinds=["resolve", "annul"],
        records=(1, 8),
        days=400,
        corrections=(0, 3),
        after=200,
    )


FEES = st.sampled_from([0.0, 19999.99, 20000.0, 20000.01, 1e6])
REQUESTS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "rail_tickets": st.fixed_dictionaries({"price": st.integers(0, 600)}),
    "g_train_seats": st.fixed_dictionaries({"price": st.integers(0, 600)}),
    "d_train_seats": st.fixed_dictionaries(
        {"class": st.sampled_from(["second", "first", "business"]), "price": st.integers(0, 600)}
    ),
    "private_school": st.fixed_dictionaries(
        {"annual_fee": FEES, "payer": st.sampled_from(["debtor", "other"])},
        optional={"school": st.text(max_size=5)},
    ),
    "hotels": st.fixed_dictionaries({"stars": st.integers(0, 5)}),
}


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    service = draw(st.sampled_from(sorted(REQUESTS)))
    return service, draw(REQUESTS[service])


days = st.integers(0, 800)


def _prep(policy: CompiledPolicy, entries: list[dict[str, Any]]) -> Prepared:
    return Prepared.build(columns_from_entries(entries), policy)


@SETTINGS
@given(entries=ledgers(), day=days, request=requests())
def test_a_parent_ban_never_turns_a_deny_into_an_allow(
    entries: list[dict[str, Any]], day: int, request: tuple[str, dict[str, Any]]
) -> None:
    service, attributes = request
    t = T0 + day * DAY
    before, after = _prep(POLICY, entries), _prep(WITH_PARENT_BAN, entries)
    for s in range(before.columns.n_subjects):
        old = check(before, s, service, t, attributes)
        new = check(after, s, service, t, attributes)
        assert set(old.reasons) <= set(new.reasons)
        if old.decision == "deny":
            assert new.decision == "deny"
        # the new ban reaches the children of train tickets only, on dear tickets only
        if "PARENT" in new.reasons:
            assert service in ("rail_tickets", "g_train_seats", "d_train_seats")
            assert attributes.get("price", 0) >= 300


@SETTINGS
@given(entries=ledgers(), day=days, request=requests())
def test_a_measure_on_a_child_never_decides_the_parent(
    entries: list[dict[str, Any]], day: int, request: tuple[str, dict[str, Any]]
) -> None:
    t = T0 + day * DAY
    prep = _prep(POLICY, entries)
    for s in range(prep.columns.n_subjects):
        parent = check(prep, s, "rail_tickets", t, {"price": 100})
        # only the measure on train tickets themselves decides them
        assert set(parent.reasons) <= {"RAIL-CAT1"}
        children = (("g_train_seats", {}), ("d_train_seats", {"class": "second"}))
        for child, attributes in children:
            if parent.decision == "deny":  # and a ban on tickets covers every child
                assert check(prep, s, child, t, attributes).decision == "deny"


@SETTINGS
@given(entries=ledgers(), day=days, request=requests())
def test_a_request_is_allowed_where_the_unlimited_measure_denies_only_if_a_condition_fails(
    entries: list[dict[str, Any]], day: int, request: tuple[str, dict[str, Any]]
) -> None:
    service, attributes = request
    t = T0 + day * DAY
    limited, unlimited = _prep(POLICY, entries), _prep(UNLIMITED, entries)
    by_code = {s.reason_code: s for s in POLICY.sanctions}
    valid = POLICY.request(service, attributes)
    for s in range(limited.columns.n_subjects):
        got = check(limited, s, service, t, attributes)
        without = check(unlimited, s, service, t, attributes)
        assert set(got.reasons) <= set(without.reasons)
        for code in set(without.reasons) - set(got.reasons):
            sanction = by_code[code]
            assert sanction.applies_to and not all(
                c.holds(valid[c.attribute]) for c in sanction.applies_to
            )
        # and the check is the full standing's decision for that request
        assert decide(standing(limited, s, t), service, valid) == got


@SETTINGS
@given(entries=ledgers(), day=days)
def test_bulk_measures_per_service_agree_with_each_subjects_standing(
    entries: list[dict[str, Any]], day: int
) -> None:
    t = T0 + day * DAY
    prep = _prep(POLICY, entries)
    bulk = bulk_standings(prep, t)
    for service in POLICY.services():
        mask = bulk.with_measure_on(service)
        for s in range(prep.columns.n_subjects):
            one = decide(standing(prep, s, t), service)  # every request: limited ones count
            assert bool(mask[s]) == (one.decision == "deny"), (service, s)
