"""Several searches for sets of changes with their first batches evaluated together give
what each gives alone (hypothesis), and a scenario they share is evaluated once.

``searches`` is what ``explain`` uses to evaluate the search among the person's own steps
and the first batch of the search among sets of appeals in one batch; ``smallest_sets`` is
one search alone. Each scenario's end must depend on that scenario only, whatever else the
batch holds.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.columns import columns_from_entries
from socialcredit.policy import CompiledPolicy
from socialcredit.scoring import Prepared, counterfactual
from socialcredit.scoring.counterfactual import Change, Search, searches, smallest_sets
from socialcredit.timeutil import DAY, NEVER
from tests.scoring.test_counterfactual_from_t import SERVICES, T0, ledgers


def _steps(data: st.DataObject, rows: int) -> list[list[Change]]:
    """Changes on up to 7 records: one to three kinds each."""
    records = data.draw(st.lists(st.integers(0, rows - 1), max_size=7, unique=True))
    kinds = st.lists(st.sampled_from(["resolve", "dispute", "appeal"]), min_size=1, max_size=3)
    return [[(k, r) for k in dict.fromkeys(data.draw(kinds))] for r in records]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=ledgers(), day=st.integers(0, 900), data=st.data())
def test_searches_in_one_batch_equal_each_alone(
    policy: CompiledPolicy,
    entries: list[dict[str, Any]],
    day: int,
    data: st.DataObject,
) -> None:
    prep = Prepared.build(columns_from_entries(entries), policy)
    t = T0 + day * DAY
    subject = data.draw(st.integers(0, prep.columns.n_subjects - 1))
    service = data.draw(st.sampled_from(SERVICES))
    asked = []
    for _ in range(data.draw(st.integers(1, 3))):
        steps = _steps(data, len(prep.rows))
        extra = [c for s in _steps(data, len(prep.rows)) for c in s]
        current = data.draw(st.sampled_from([NEVER, t + 30 * DAY, t + 400 * DAY]))
        first_batch = data.draw(st.sampled_from([4, 40]))
        asked.append(Search(steps, current, extra=extra, first_batch=first_batch))
    alone = [
        smallest_sets(
            prep,
            subject,
            service,
            t,
            a.steps,
            a.current,
            extra=a.extra,
            first_batch=a.first_batch,
        )
        for a in asked
    ]
    batches: list[list[tuple[Change, ...]]] = []
    evaluate = counterfactual.counterfactual_ends

    def counted(*args: Any, **kwargs: Any) -> list[int | None]:
        batches.append(list(args[4]))
        return evaluate(*args, **kwargs)

    counterfactual.counterfactual_ends = counted  # type: ignore[assignment]
    try:
        finish = searches(prep, subject, service, t, asked)
    finally:
        counterfactual.counterfactual_ends = evaluate
    assert len(batches) == 1
    # every first batch's scenarios, each once
    assert len(batches[0]) == len(set(batches[0]))
    together = [f() for f in finish]
    assert together == alone
