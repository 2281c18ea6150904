"""Which parts of a measure's or list's condition hold for a subject, and the records behind them.

A condition such as ``any: [list: debtors, records: {type: consumption_order_breach}]`` may
hold through either branch; a person must only be told about the branch that holds for
them. ``held`` walks the condition over one evaluated group and returns the parts that hold,
each with the record versions (row indices) that make it hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from socialcredit.policy.model import Predicate
from socialcredit.scoring.evaluate import EvaluationContext
from socialcredit.spans import Span

NO_DELAY = Span()

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Held:
    """One part of a condition that holds: its kind, its name, and the rows behind it.

    kind: ``list`` (name: the list), ``records`` (name: record types, comma-separated),
    ``category`` (name: the record category), ``score_below`` / ``score_at_least`` (name:
    the threshold), ``grade_in`` (name: the grades, comma-separated), ``rank_top`` (name: the
    seats), ``not`` (name: empty);
    a condition on a named score prefixes its name: ``jasmine:550``, ``jasmine:A,B``.
    """

    kind: str
    name: str
    rows: tuple[int, ...]
    parts: tuple[Held, ...] = ()  # for a list: the parts of its own condition that hold
    # for a records condition with ``after``: the rows whose event opened a full window
    anchors: tuple[int, ...] = ()
    after: str = ""  # resolution_of | record_of: what opened the window
    within: int | None = None  # the window's length (None: open)


def held(
    ctx: EvaluationContext,
    ridx: I64,
    pred: Predicate,
    group: int,
    delist_delay: Span = NO_DELAY,
    memo: dict[tuple[str, int, Span], list[Held]] | None = None,
) -> list[Held]:
    """The parts of ``pred`` that hold for ``group`` of the evaluation ``ctx`` (empty if it
    does not hold). ``ridx``: the row index of each entry of the evaluation. ``memo``: answers
    already given for this ``ctx`` (measures often share one condition)."""
    key = (_key(ctx, pred), group, delist_delay)
    if memo is not None and key in memo:
        return memo[key]
    out = (
        _walk(ctx, ridx, pred, group, delist_delay)
        if bool(ctx.holds(pred, delist_delay)[group])
        else []
    )
    if memo is not None:
        memo[key] = out
    return out


def _key(ctx: EvaluationContext, pred: Predicate) -> str:
    """A canonical text of ``pred``, cached on the policy (equal conditions, equal keys)."""
    cache = ctx.policy.cache
    key = cache.get(("predicate_key", id(pred)))
    if key is None:
        key = pred.model_dump_json(by_alias=True, exclude_none=True)
        cache[("predicate_key", id(pred))] = key
    result: str = key
    return result


def _walk(
    ctx: EvaluationContext,
    ridx: I64,
    pred: Predicate,
    group: int,
    delay: Span,
) -> list[Held]:
    if pred.all_ is not None:
        return [h for child in pred.all_ for h in _walk(ctx, ridx, child, group, delay)]
    if pred.any_ is not None:
        return [
            h
            for child in pred.any_
            if bool(ctx.holds(child, delay)[group])
            for h in _walk(ctx, ridx, child, group, delay)
        ]
    if pred.not_ is not None:
        return [Held("not", "", ())]
    if pred.records is not None:
        cond = pred.records
        mask = ctx.matching(cond, delay) & (ctx.gidx == group)
        rows = tuple(int(r) for r in ridx[mask])
        extra: dict[str, Any] = {}
        if cond.after is not None:
            opened = ctx.anchors(cond, delay) & (ctx.gidx == group)
            extra = {
                "anchors": tuple(int(r) for r in ridx[opened]),
                "after": "resolution_of" if cond.after.resolution_of is not None else "record_of",
                "within": None if cond.within is None else cond.within.written(),
            }
        if cond.category is not None:
            return [Held("category", cond.category, rows, **extra)]
        return [Held("records", ",".join(cond.type_names()), rows, **extra)]
    # a named score's condition is named ``score:threshold`` / ``score:grade,grade``
    named = f"{pred.score_named()}:" if pred.score_named() is not None else ""
    if pred.score_below is not None:
        return [Held("score_below", f"{named}{_plain(pred.threshold())}", ())]
    if pred.score_at_least is not None:
        return [Held("score_at_least", f"{named}{_plain(pred.threshold())}", ())]
    if pred.grade_in is not None:
        return [Held("grade_in", named + ",".join(pred.grades()), ())]
    if pred.rank_top is not None:
        return [Held("rank_top", f"{named}{pred.rank_top.seats}", ())]
    assert pred.on_list is not None
    lst = ctx.policy.lists[ctx.policy.list_index(pred.on_list)]
    inner = _walk(ctx, ridx, lst.when, group, lst.delist_delay)
    rows_behind = tuple(dict.fromkeys(r for h in inner for r in h.rows))
    return [Held("list", lst.name, rows_behind, tuple(inner))]


def _plain(x: float | None) -> str:
    """A threshold in a condition's name: ``600``, ``1000000``, ``87.5`` (never in exponent
    form, as ``:g`` would write one from a million)."""
    return "" if x is None else f"{x:.6f}".rstrip("0").rstrip(".")
