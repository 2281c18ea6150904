"""Counterfactual ends evaluated from the explanation's time on equal those evaluated on the
whole timeline, on random ledgers (hypothesis).

``counterfactual_ends`` evaluates only ``t`` and the later instants when no denial of the
service has a period counted from when its condition began (TEST_POLICY's ``no_flights``:
while the subject, or a parent through ``child_of``, is on the debtors list). Every scenario
(records resolved, disputed or annulled at ``t``) must end when it ends on the whole
timeline; for the other services the whole timeline is evaluated either way.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.columns import columns_from_entries
from socialcredit.policy import CompiledPolicy
from socialcredit.scoring import Prepared
from socialcredit.scoring.counterfactual import Change, counterfactual_ends, from_start
from socialcredit.timeutil import DAY, parse_timestamp
from tests.strategies import maybe_child_of, records_and_corrections

T0 = parse_timestamp("2025-01-01")
SUBJECTS = ["a", "b", "c"]
SERVICES = ["air_travel", "private_school", "luxury_hotel", "rail"]


@st.composite
def ledgers(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Records and corrections, and perhaps a child_of relation, in a valid ledger order."""
    entries = draw(
        records_and_corrections(
            start=T0,
            types=["debt", "debt", "fine", "misconduct"],
            subjects=SUBJECTS,
            kinds=["resolve", "dispute", "uphold", "annul"],
            records=(1, 10),
            days=400,
            lag=5,
            corrections=(0, 6),
            after=100,
        )
    )
    entries += draw(maybe_child_of(SUBJECTS, T0 - 10 * DAY))
    return entries


def test_no_flights_is_evaluated_from_t(policy: CompiledPolicy) -> None:
    # the property below exercises the shortened evaluation for air_travel only if its
    # denial is not counted from when its condition began
    deny = [s for s in policy.sanctions_on("air_travel", None) if s.effect == "deny"]
    assert deny and not any(from_start(policy, s) for s in deny)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=ledgers(), day=st.integers(0, 900), data=st.data())
def test_ends_from_t_equal_ends_on_the_whole_timeline(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int, data: st.DataObject
) -> None:
    prep = Prepared.build(columns_from_entries(entries), policy)
    t = T0 + day * DAY
    subject = data.draw(st.integers(0, prep.columns.n_subjects - 1))
    service = data.draw(st.sampled_from(SERVICES))
    rows = list(range(len(prep.rows)))
    change = st.tuples(st.sampled_from(["resolve", "dispute", "appeal"]), st.sampled_from(rows))
    scenarios: list[list[Change]] = data.draw(
        st.lists(st.lists(change, min_size=0, max_size=3), min_size=1, max_size=6)
    )
    fast = counterfactual_ends(prep, subject, service, t, scenarios)
    slow = counterfactual_ends(prep, subject, service, t, scenarios, from_t=False)
    assert fast == slow
