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
