"""An action is offered as "sooner" only when it gives an earlier date than the denial's."""

from __future__ import annotations

from typing import Any

from socialcredit.columns import columns_from_entries
from socialcredit.explain import explain
from socialcredit.policy import CompiledPolicy
from socialcredit.scoring import Prepared
from socialcredit.timeutil import DAY
from tests.scoring.test_properties import T0


def _record(i: int, subject: str, kind: str, at: int) -> dict[str, Any]:
    return {"id": f"r{i}", "source": "src", "subject": subject, "type": kind,
            "occurred_at": at, "recorded_at": at}  # fmt: skip


def test_an_end_hours_sooner_on_the_same_date_is_not_offered_as_sooner(
    policy: CompiledPolicy,
) -> None:
    # found by the property test: with decaying records, resolving the fine ends the
    # grade-based hotel ban a few hours sooner, on the same date as if nothing is done
    entries = [
        _record(0, "b", "fine", 1_766_448_000),
        _record(1, "b", "volunteering", 1_744_156_800),
        *(_record(i, s, "debt", 1_735_689_600) for i, s in [(2, "a"), (3, "a"), (4, "b")]),
        *(_record(i, "a", "debt", 1_735_689_600) for i in (5, 6)),
    ]
    t = T0 + 407 * DAY
    prep = Prepared.build(columns_from_entries(entries), policy)
    ex = explain(prep, prep.columns.subjects.index("b"), "luxury_hotel", t)
    assert ex.decision.decision == "deny"
    current = ex.decision.eligible_again_on
    assert current == "2026-03-16"
    resolve = [a for a in ex.actions if a.kind == "resolve"]
    assert [a.eligible_again_on for a in resolve] == [current]  # listed, with its date
    # every dispute window closed long ago: no annulment is offered, so nothing is sooner
    assert ex.best_action is None and "Sooner" not in ex.text
