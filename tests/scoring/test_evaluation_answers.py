"""An evaluation answers each condition once: the answers it reuses are the ones it would compute
afresh, and no caller can change them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given

from socialcredit.columns import columns_from_entries
from socialcredit.policy import CompiledPolicy
from socialcredit.scoring import Prepared
from socialcredit.scoring.evaluate import EvaluationContext, evaluate_in_context
from socialcredit.scoring.reasons import held
from socialcredit.timeutil import DAY
from tests.scoring.test_properties import SETTINGS, T0, days, ledgers


def _context(prep: Prepared, t: int) -> tuple[EvaluationContext, Any]:
    rid = np.arange(len(prep.rows), dtype=np.int64)
    gidx = prep.rows.subject.astype(np.int64)
    n = prep.columns.n_subjects
    e = np.full(n, t, dtype=np.int64)
    ev, ctx = evaluate_in_context(prep.policy, prep.rows, rid, gidx, e, e)
    return ctx, ev


@SETTINGS
@given(entries=ledgers(), day=days)
def test_answers_asked_again_equal_a_fresh_evaluation_and_are_read_only(
    policy: CompiledPolicy, entries: list[dict[str, Any]], day: int
) -> None:
    t = T0 + day * DAY
    prep = Prepared.build(columns_from_entries(entries), policy)
    ctx, ev = _context(prep, t)
    rid = np.arange(len(prep.rows), dtype=np.int64)
    # the walks that say which parts hold ask for the same conditions again
    for g in range(ctx.n_groups):
        for s in policy.sanctions:
            held(ctx, rid, s.when, g)
        for lst in policy.lists:
            held(ctx, rid, lst.when, g, lst.delist_delay)
    fresh, fresh_ev = _context(prep, t)
    assert np.array_equal(ev.lists, fresh_ev.lists)
    assert np.array_equal(ev.triggers, fresh_ev.triggers)
    for lst in policy.lists:
        for pred in lst.when.walk():
            if pred.on_list is not None:
                continue
            answer = ctx.holds(pred, lst.delist_delay)
            assert np.array_equal(answer, fresh.holds(pred, lst.delist_delay))
            assert answer is ctx.holds(pred, lst.delist_delay)  # asked once, answered once
            with pytest.raises(ValueError, match="read-only"):
                answer[...] = ~answer
            if pred.records is not None:
                mask = ctx.matching(pred.records, lst.delist_delay)
                with pytest.raises(ValueError, match="read-only"):
                    mask[...] = False
    for s in policy.sanctions:
        assert np.array_equal(ctx.holds(s.when, 0), fresh.holds(s.when, 0))


def test_equal_conditions_are_answered_once_and_unequal_ones_apart() -> None:
    from pathlib import Path

    from socialcredit.policy import compile_policy, load_policy
    from socialcredit.policy.model import Predicate
    from socialcredit.scoring.evaluate import canonical

    root = Path(__file__).resolve().parents[2]
    policy = compile_policy(load_policy(root / "examples" / "policies" / "china-scs.yaml"))
    flights = policy.sanctions[[s.name for s in policy.sanctions].index("no_flights")]
    hotels = policy.sanctions[[s.name for s in policy.sanctions].index("no_star_hotels")]
    rail = policy.sanctions[[s.name for s in policy.sanctions].index("rail_ban")]
    assert flights.when is not hotels.when and flights.when == hotels.when
    assert canonical(policy, hotels.when) is canonical(policy, flights.when)
    assert canonical(policy, rail.when) is rail.when
    # a condition equal to none asked about before is its own; asked again, the same answer
    other = Predicate.model_validate({"records": {"type": "fare_evasion", "at_least": 7}})
    assert canonical(policy, other) is other
    again = Predicate.model_validate({"records": {"type": "fare_evasion", "at_least": 7}})
    assert canonical(policy, again) is other
    differs = Predicate.model_validate({"records": {"type": "fare_evasion", "at_least": 8}})
    assert canonical(policy, differs) is differs
