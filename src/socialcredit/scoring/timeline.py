"""When conditions started and when they will end: evaluation at every instant that matters.

A subject's standing only changes at *breakpoints*: when a record becomes known, expires,
is resolved (plus a list's delisting delay), is disputed, decided or deleted for an overdue
dispute, or leaves a ``within`` window. Between breakpoints everything is constant except a
score with linearly decaying records, which moves linearly; where a score-based condition
flips inside such a segment the flip is located by subdivision to within minutes.

Projections into the future keep knowledge fixed at ``t``: "if nothing else happens".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.scoring.evaluate import evaluate
from socialcredit.scoring.rows import Rows
from socialcredit.timeutil import NEVER

I64 = npt.NDArray[np.int64]
BEGINNING = -NEVER  # before anything was recorded
Interval = tuple[int, int]  # [start, end); BEGINNING / NEVER for open ends

_SUBDIVISIONS = 48
_ROUNDS = 4


@dataclass(frozen=True)
class SubjectTimeline:
    """The instants at which a subject was evaluated and the state at each."""

    subject: int
    times: I64  # sorted, starting at BEGINNING
    lists: npt.NDArray[np.bool_]  # [n_lists, n_times]
    triggers: npt.NDArray[np.bool_]  # [n_sanctions, n_times]
    score: npt.NDArray[np.float64]


def row_breakpoints(
    policy: CompiledPolicy, rows: Rows, rid: I64, known_at: int = NEVER - 1
) -> tuple[I64, I64]:
    """Every instant at which one of rows ``rid`` may change a standing: (row, time) pairs.

    Corrections the ledger learned after ``known_at`` are left out, as evaluation ignores them.
    """

    def seen(times: I64) -> I64:
        return np.where(times <= known_at, times, NEVER)

    code = rows.type_code[rid]
    safe = np.where(code >= 0, code, 0)
    life = policy.lifetime[safe]
    occ = rows.occurred[rid]
    parts = [rows.known[rid], np.where(life >= NEVER, NEVER, occ + np.minimum(life, NEVER))]
    for delay in sorted({0, *(lst.delist_delay for lst in policy.lists)}):
        resolved = seen(rows.resolved[rid])
        parts.append(np.where(resolved < NEVER, resolved + delay, NEVER))
    disputed = seen(rows.disputed[rid])
    parts += [disputed, seen(rows.decided[rid])]
    parts.append(np.where(disputed < NEVER, disputed + policy.reinvestigation_deadline, NEVER))
    for window in sorted(_windows(policy)):
        parts.append(occ + window)
    times = np.concatenate(parts)
    owners = np.tile(rid, len(parts))
    keep = (times < NEVER) & (times > BEGINNING)
    return owners[keep], times[keep]


def _windows(policy: CompiledPolicy) -> set[int]:
    preds = [lst.when for lst in policy.lists] + [s.when for s in policy.sanctions]
    return {
        p.records.within
        for pred in preds
        for p in pred.walk()
        if p.records is not None and p.records.within is not None
    }


def _rows_of(rows: Rows, subjects: Sequence[int]) -> dict[int, I64]:
    order = np.argsort(rows.subject, kind="stable").astype(np.int64)
    ordered = rows.subject[order]
    out = {}
    for s in subjects:
        lo, hi = np.searchsorted(ordered, [s, s + 1])
        out[s] = order[lo:hi]
    return out


def timelines(
    policy: CompiledPolicy, rows: Rows, subjects: Sequence[int], t: int
) -> dict[int, SubjectTimeline]:
    """Evaluate each subject at every breakpoint of its records, past and projected, knowing what was known at ``t``."""
    by_subject = _rows_of(rows, subjects)
    ridx_parts: list[I64] = []
    gidx_parts: list[I64] = []
    e_parts: list[I64] = []
    spans: list[tuple[int, int, int]] = []  # subject, first group, n groups
    g0 = 0
    for s in subjects:
        rid = by_subject[s]
        # knowledge is fixed at t: versions known later never show up, so their times are not breakpoints
        rid = rid[rows.visible_from[rid] <= t]
        bps = np.unique(np.concatenate([[BEGINNING, t], row_breakpoints(policy, rows, rid, t)[1]]))
        n = len(bps)
        e_parts.append(bps.astype(np.int64))
        ridx_parts.append(np.tile(rid, n))
        gidx_parts.append(np.repeat(np.arange(g0, g0 + n, dtype=np.int64), len(rid)))
        spans.append((s, g0, n))
        g0 += n
    if not spans:
        return {}
    e = np.concatenate(e_parts)
    ev = evaluate(
        policy,
        rows,
        np.concatenate(ridx_parts).astype(np.int64),
        np.concatenate(gidx_parts).astype(np.int64),
        e,
        np.full(len(e), t, dtype=np.int64),
    )
    out = {}
    for s, first, n in spans:
        sl = slice(first, first + n)
        out[s] = SubjectTimeline(s, e[sl], ev.lists[:, sl], ev.triggers[:, sl], ev.score[sl])
    return out


def _refine(
    policy: CompiledPolicy,
    rows: Rows,
    rid: I64,
    t: int,
    lo: int,
    hi: int,
    target: bool,
    which: tuple[str, int],
) -> int:
    """First instant in (lo, hi] at which condition ``which`` equals ``target`` (true at ``hi``)."""
    for _ in range(_ROUNDS):
        if hi - lo <= 60:
            break
        points = np.unique(np.linspace(lo, hi, _SUBDIVISIONS + 2)[1:-1].astype(np.int64))
        points = points[(points > lo) & (points < hi)]
        if not len(points):
            break
        n = len(points)
        ev = evaluate(
            policy,
            rows,
            np.tile(rid, n),
            np.repeat(np.arange(n, dtype=np.int64), len(rid)),
            points,
            np.full(n, t, dtype=np.int64),
        )
        states = ev.lists[which[1]] if which[0] == "list" else ev.triggers[which[1]]
        hits = np.flatnonzero(states == target)
        if len(hits):
            first = int(hits[0])
            hi = int(points[first])
            lo = int(points[first - 1]) if first else lo
        else:
            lo = int(points[-1])
    return hi


def intervals(
    policy: CompiledPolicy,
    rows: Rows,
    timeline: SubjectTimeline,
    which: tuple[str, int],
    t: int,
    refine: bool,
) -> list[Interval]:
    """The maximal periods during which a list (``("list", i)``) or trigger (``("trigger", i)``) holds."""
    states = timeline.lists[which[1]] if which[0] == "list" else timeline.triggers[which[1]]
    times = timeline.times
    rid: I64 | None = None
    result: list[Interval] = []
    start: int | None = None
    for i, state in enumerate(states):
        prev = bool(states[i - 1]) if i else False
        if bool(state) == prev:
            continue
        when = int(times[i])
        if refine and i > 0 and times[i - 1] > BEGINNING:
            if rid is None:
                rid = _rows_of(rows, [timeline.subject])[timeline.subject]
                rid = rid[rows.visible_from[rid] <= t]
            when = _refine(policy, rows, rid, t, int(times[i - 1]), when, bool(state), which)
        if state:
            start = when
        else:
            assert start is not None
            result.append((start, when))
            start = None
    if start is not None:
        result.append((start, NEVER))
    return result


def measure_intervals(
    trigger: list[Interval], fixed: int | None, max_duration: int | None
) -> list[Interval]:
    """Periods a measure is in force, given when its trigger held and its duration rules."""
    out: list[Interval] = []
    for start, end in trigger:
        stop = end if fixed is None else (start + fixed if start > BEGINNING else NEVER)
        if max_duration is not None and start > BEGINNING:
            stop = min(stop, start + max_duration)
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], stop))
        else:
            out.append((start, stop))
    return out


def interval_at(periods: list[Interval], t: int) -> Interval | None:
    """The period containing ``t``, if any."""
    for start, end in periods:
        if start <= t < end:
            return (start, end)
    return None
