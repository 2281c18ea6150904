"""When conditions started and when they will end: evaluation at every instant that matters.

A subject's standing only changes at *breakpoints*: when a record becomes known, expires,
is resolved (plus a list's delisting delay), is disputed, decided or deleted for an overdue
dispute, or leaves a ``within`` window. Between breakpoints everything is constant except a
score with linearly decaying records, which moves linearly; where a score-based condition
flips inside such a segment the flip is located by subdivision to within minutes.

Projections into the future keep knowledge fixed at ``t``: "if nothing else happens".
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from socialcredit.policy.compiled import CompiledPolicy, CompiledSanction, later, later_one
from socialcredit.scoring.evaluate import (
    Evaluation,
    EvaluationContext,
    evaluate,
    evaluate_in_context,
)
from socialcredit.scoring.facts import (
    eligibility_breakpoints,
    eligibility_breakpoints_known,
    eligibility_plan,
)
from socialcredit.scoring.forms import calendar_year
from socialcredit.scoring.order import stable_order
from socialcredit.scoring.rows import Rows, per_process
from socialcredit.spans import Span
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
    first_group: int = 0  # index of times[0]'s group in the evaluation that made it
    source: TimelineEvaluation | None = field(default=None, repr=False, compare=False)
    # [n_sanctions, n_times]: an objection is pending (see ``Evaluation.blocked``); None: none
    blocked: npt.NDArray[np.bool_] | None = None


@dataclass(frozen=True)
class TimelineEvaluation:
    """The one evaluation behind a set of timelines: to ask, at a subject's breakpoint, which
    records count and which parts of a condition hold (``scoring.reasons``)."""

    evaluation: Evaluation
    context: EvaluationContext
    ridx: I64  # row of each entry

    def group(self, timeline: SubjectTimeline, instant: int) -> int | None:
        """The group evaluating ``timeline``'s subject at ``instant``, if it is a breakpoint."""
        i = int(np.searchsorted(timeline.times, instant))
        if i < len(timeline.times) and int(timeline.times[i]) == instant:
            return timeline.first_group + i
        return None


def row_breakpoints(
    policy: CompiledPolicy, rows: Rows, rid: I64, known_at: int = NEVER - 1
) -> tuple[I64, I64]:
    """Every instant at which one of rows ``rid`` may change a standing: (row, time) pairs.

    Corrections the ledger learned after ``known_at`` are left out, as evaluation ignores them.
    """
    pos, times = _breakpoints_of(policy, rows, rid, known_at)
    return rid[pos], times


def _breakpoints_of(
    policy: CompiledPolicy, rows: Rows, rid: I64, known_at: int | I64
) -> tuple[I64, I64]:
    """``row_breakpoints`` as (position in ``rid``, time) pairs; ``known_at``: one instant,
    or one per entry of ``rid`` (a row may then appear several times, known differently)."""

    def seen(times: I64) -> I64:
        return np.where(times <= known_at, times, NEVER)

    parts = [rows.known[rid], rows.expires[rid]]
    delays, windows = _offsets(policy)
    resolved_seen = rows.resolved[rid] <= known_at
    for delay in delays:  # (the same per-row times as evaluation asks for: computed once)
        parts.append(np.where(resolved_seen, rows.shifted(policy, "resolved", delay)[rid], NEVER))
    disputed = seen(rows.disputed[rid])
    parts += [disputed, seen(rows.decided[rid])]
    if policy.uniform_process:
        parts.append(later(policy, disputed, policy.reinvestigation_deadline))
    else:
        process = rows.process[rid]
        reconsidered = seen(rows.reconsidered[rid])
        parts += [
            per_process(policy, disputed, process, "review_deadline"),
            reconsidered,
            seen(rows.reconsideration_decided[rid]),
            per_process(policy, reconsidered, process, "reconsider_deadline"),
        ]
    for window in windows:
        parts.append(rows.shifted(policy, "occurred", window)[rid])
    for sc in policy.wallets:  # points expire: a wallet's balance falls then
        w = sc.wallet
        if w is not None and w.expire_after is not None:
            code = rows.type_code[rid]
            earns = w.earns[np.where(code >= 0, code, len(policy.type_names))]
            expiry = rows.shifted(policy, "occurred", w.expire_after)[rid]
            parts.append(np.where(earns, expiry, NEVER))
    if policy.rating_scores:
        # a rating counts from the end of its term to the end of the next
        counted = policy.next_evaluation(rows.occurred[rid] + 1)
        parts += [counted, policy.next_evaluation(counted + 1)]
    # each part's finite times alone (most are NEVER), in the order of the parts
    owners, kept = [], []
    for part in parts:
        at = np.flatnonzero((part < NEVER) & (part > BEGINNING)).astype(np.int64)
        owners.append(at)
        kept.append(part[at])
    return np.concatenate(owners), np.concatenate(kept)


YEAR_END_HORIZON = 50
"""How many years past the last instant asked about a clean-year reward is projected, when
its cap does not stop it sooner."""


def year_ends(policy: CompiledPolicy, last: int) -> I64:
    """The instants a clean-year reward can change a score: 1 January (UTC) of each year after
    the first year it counts, up to the year after ``last`` plus the years the reward can still
    grow (its cap reached, or ``YEAR_END_HORIZON``). Empty for a policy without one."""
    components = policy.clean_year_components
    if not components:
        return np.empty(0, dtype=np.int64)
    horizon = 1
    for c in components:
        points = c.clean_points or 0.0
        if points > 0 and np.isfinite(c.high):
            grow = int(np.ceil(max(c.high - c.base, 0.0) / points)) + 1
        elif points < 0 and np.isfinite(c.low):
            grow = int(np.ceil(max(c.base - c.low, 0.0) / -points)) + 1
        else:
            grow = YEAR_END_HORIZON
        horizon = max(horizon, min(grow, YEAR_END_HORIZON))
    first = min(c.first_year for c in components) + 1
    last_year = int(calendar_year(np.array([last], dtype=np.int64))[0]) + 1 + horizon
    years = np.arange(first, min(last_year, 9999) + 1)
    jan1: I64 = (years - 1970).astype("datetime64[Y]").astype("datetime64[s]").astype(np.int64)
    return jan1


def _offsets(policy: CompiledPolicy) -> tuple[list[Span], list[Span]]:
    """The policy's delisting delays (with 0) and ``within`` windows, sorted (cached)."""
    cached = policy.cache.get("breakpoint_offsets")
    if cached is None:
        preds = [lst.when for lst in policy.lists] + [s.when for s in policy.sanctions]
        windows = {
            p.records.within
            for pred in preds
            for p in pred.walk()
            # an anchored window is fixed in time: leaving it is no change
            if p.records is not None and p.records.within is not None and p.records.after is None
        }
        delays = {Span(), *(lst.delist_delay for lst in policy.lists)}
        cached = (sorted(delays, key=_span_order), sorted(windows, key=_span_order))
        policy.cache["breakpoint_offsets"] = cached
    result: tuple[list[Span], list[Span]] = cached
    return result


def _rows_of(rows: Rows, subjects: Sequence[int]) -> dict[int, I64]:
    order = stable_order(rows.subject)
    ordered = rows.subject[order]
    out = {}
    for s in subjects:
        lo, hi = np.searchsorted(ordered, [s, s + 1])
        out[s] = order[lo:hi]
    return out


def timelines(
    policy: CompiledPolicy,
    rows: Rows,
    subjects: Sequence[int],
    t: int,
    sanctions: Sequence[int] | None = None,
) -> dict[int, SubjectTimeline]:
    """Evaluate each subject at every breakpoint of its records, past and projected, knowing
    what was known at ``t``. One vectorised pass for all subjects (the counterfactuals ask for
    many pseudo-subjects at once). ``sanctions``: only these triggers and the lists they name
    are evaluated (see ``evaluate``)."""
    return timelines_in_context(policy, rows, subjects, t, sanctions)[0]


def timelines_in_context(
    policy: CompiledPolicy,
    rows: Rows,
    subjects: Sequence[int],
    t: int,
    sanctions: Sequence[int] | None = None,
    since: int | None = None,
) -> tuple[dict[int, SubjectTimeline], TimelineEvaluation | None]:
    """``timelines``, and the evaluation they come from (None when no subject is asked).

    ``since`` (at most ``t``): only the instants from ``since`` on are evaluated (the first
    is ``since`` itself): the state at every instant from then on is the same as on the
    whole timeline, while a period that began earlier is seen to begin at ``since`` (for
    a measure whose period does not depend on when its trigger began, e.g. the
    enforcement index's view of the future)."""
    subjects = list(dict.fromkeys(subjects))
    if not subjects:
        return {}, None
    subj = np.asarray(subjects, dtype=np.int64)
    n_sub = len(subj)
    top = max(int(subj.max()), int(rows.subject.max()) if len(rows) else 0)
    lookup = np.full(top + 1, -1, dtype=np.int64)
    lookup[subj] = np.arange(n_sub)
    local = lookup[rows.subject]
    # knowledge is fixed at t: versions known later never show up, so their times are not breakpoints
    rid = np.flatnonzero((local >= 0) & (rows.visible_from <= t)).astype(np.int64)
    rid = rid[np.argsort(local[rid], kind="stable")]
    row_count = np.bincount(local[rid], minlength=n_sub).astype(np.int64)
    row_start = np.cumsum(row_count) - row_count
    owners, times = row_breakpoints(policy, rows, rid, t)
    every = np.arange(n_sub, dtype=np.int64)
    fact_loc, fact_t = eligibility_breakpoints(rows.facts, policy, subj, t)
    # under ``reevaluation`` a change shows at the next boundary (and at none between)
    times = policy.next_evaluation(times)
    fact_t = policy.next_evaluation(fact_t)
    if policy.across_subjects:
        # a subject's answer moves with the others' (a ranking, related subjects' scores):
        # every instant at which any row held changes is an instant of every subject
        _, everyone = row_breakpoints(
            policy, rows, np.flatnonzero(rows.visible_from <= t).astype(np.int64), t
        )
        shared = np.unique(policy.next_evaluation(everyone))
        fact_loc = np.concatenate(
            [fact_loc, np.repeat(np.arange(n_sub, dtype=np.int64), len(shared))]
        )
        fact_t = np.concatenate([fact_t, np.tile(shared, n_sub)])
    ends = policy.next_evaluation(year_ends(policy, max(t, int(times.max()) if len(times) else t)))
    all_loc = np.concatenate([local[owners], every, every, fact_loc, np.repeat(every, len(ends))])
    all_t = np.concatenate(
        [
            times,
            np.full(n_sub, BEGINNING, dtype=np.int64),
            np.full(n_sub, t, dtype=np.int64),
            fact_t,
            np.tile(ends, n_sub),
        ]
    )
    if since is not None:
        # every subject keeps an instant at ``since`` (its state there opens the timeline)
        all_loc = np.concatenate([all_loc, every])
        all_t = np.concatenate([all_t, np.full(n_sub, since, dtype=np.int64)])
        keep = all_t >= since
        all_loc, all_t = all_loc[keep], all_t[keep]
    order = np.lexsort((all_t, all_loc))
    loc_sorted, t_sorted = all_loc[order], all_t[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (loc_sorted[1:] != loc_sorted[:-1]) | (t_sorted[1:] != t_sorted[:-1])
    group_loc, e = loc_sorted[first], t_sorted[first].astype(np.int64)
    counts = row_count[group_loc]
    gidx = np.repeat(np.arange(len(e), dtype=np.int64), counts)
    offsets = np.cumsum(counts) - counts
    ridx = rid[row_start[group_loc][gidx] + np.arange(len(gidx), dtype=np.int64) - offsets[gidx]]
    ev, ctx = evaluate_in_context(
        policy, rows, ridx, gidx, e, np.full(len(e), t, dtype=np.int64), sanctions, subj[group_loc]
    )
    lo = np.searchsorted(group_loc, every, side="left")
    hi = np.searchsorted(group_loc, every, side="right")
    te = TimelineEvaluation(ev, ctx, ridx)
    out = {}
    for s, a, b in zip(subjects, lo.tolist(), hi.tolist(), strict=True):
        sl = slice(a, b)
        blocked = ev.blocked[:, sl] if ev.blocked is not None else None
        out[s] = SubjectTimeline(
            s, e[sl], ev.lists[:, sl], ev.triggers[:, sl], ev.score[sl], a, te, blocked
        )
    return out, te


def timelines_known(
    policy: CompiledPolicy,
    rows: Rows,
    subjects: I64,
    known: I64,
    sanctions: Sequence[int] | None = None,
) -> list[SubjectTimeline]:
    """``timelines`` of many (subject, knowledge time) pairs in one evaluation: pair ``k`` is
    ``timelines(policy, rows, [subjects[k]], known[k], sanctions)[subjects[k]]`` (the same
    instants, and the same state at each), in the order of the pairs. A subject may appear
    in several pairs, known at different times. Not for policies whose subjects' answers
    move with the others' (``across_subjects``), where one knowledge time must be shared."""
    if policy.across_subjects:
        raise ValueError("timelines_known: across_subjects policies need one knowledge time")
    subj = np.asarray(subjects, dtype=np.int64)
    known = np.asarray(known, dtype=np.int64)
    n_sub = len(subj)
    if not n_sub:
        return []
    every = np.arange(n_sub, dtype=np.int64)
    # each pair's rows (those visible at its knowledge time), in row order within a subject
    order = stable_order(rows.subject)
    top = max(int(subj.max()), int(rows.subject.max()) if len(rows) else 0)
    count = np.bincount(rows.subject, minlength=top + 1).astype(np.int64)
    first = np.cumsum(count) - count
    per = count[subj]
    pair = np.repeat(every, per)
    start = np.cumsum(per) - per
    rid = order[first[subj][pair] + np.arange(len(pair), dtype=np.int64) - start[pair]]
    seen = rows.visible_from[rid] <= known[pair]
    rid, pair = rid[seen], pair[seen]
    row_count = np.bincount(pair, minlength=n_sub).astype(np.int64)
    row_start = np.cumsum(row_count) - row_count
    pos, times = _breakpoints_of(policy, rows, rid, known[pair])
    owner = pair[pos]
    fact_loc, fact_t = _eligibility_known(policy, rows, subj, known)
    times = policy.next_evaluation(times)
    fact_t = policy.next_evaluation(fact_t)
    end_loc, end_t = _year_ends_known(policy, known, owner, times)
    all_loc = np.concatenate([owner, every, every, fact_loc, end_loc])
    all_t = np.concatenate([times, np.full(n_sub, BEGINNING, dtype=np.int64), known, fact_t, end_t])
    code_order = np.lexsort((all_t, all_loc))
    loc_sorted, t_sorted = all_loc[code_order], all_t[code_order]
    distinct = np.ones(len(code_order), dtype=bool)
    distinct[1:] = (loc_sorted[1:] != loc_sorted[:-1]) | (t_sorted[1:] != t_sorted[:-1])
    group_loc, e = loc_sorted[distinct], t_sorted[distinct].astype(np.int64)
    counts = row_count[group_loc]
    gidx = np.repeat(np.arange(len(e), dtype=np.int64), counts)
    offsets = np.cumsum(counts) - counts
    ridx = rid[row_start[group_loc][gidx] + np.arange(len(gidx), dtype=np.int64) - offsets[gidx]]
    ev, ctx = evaluate_in_context(
        policy, rows, ridx, gidx, e, known[group_loc], sanctions, subj[group_loc]
    )
    lo = np.searchsorted(group_loc, every, side="left").tolist()
    hi = np.searchsorted(group_loc, every, side="right").tolist()
    te = TimelineEvaluation(ev, ctx, ridx)
    out = []
    for k in range(n_sub):
        sl = slice(lo[k], hi[k])
        blocked = ev.blocked[:, sl] if ev.blocked is not None else None
        out.append(
            SubjectTimeline(
                int(subj[k]),
                e[sl],
                ev.lists[:, sl],
                ev.triggers[:, sl],
                ev.score[sl],
                lo[k],
                te,
                blocked,
            )
        )
    return out


def _year_ends_known(policy: CompiledPolicy, known: I64, owner: I64, times: I64) -> tuple[I64, I64]:
    """Each pair's clean-year instants (position, time) as ``timelines`` gives them to it
    alone: ``year_ends`` up to the later of its knowledge time and its last breakpoint
    (``times`` of ``owner``). ``year_ends`` depends on that instant only through its year,
    and a later year's instants extend an earlier year's."""
    if not policy.clean_year_components:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    last = known.copy()
    np.maximum.at(last, owner, times)
    years = calendar_year(last)
    every = year_ends(policy, int(last.max()))
    many = np.zeros(len(last), dtype=np.int64)
    for y in np.unique(years).tolist():
        at = years == y
        many[at] = len(year_ends(policy, int(last[at][0])))
    loc = np.repeat(np.arange(len(last), dtype=np.int64), many)
    offset = np.arange(len(loc), dtype=np.int64) - np.repeat(np.cumsum(many) - many, many)
    return loc, policy.next_evaluation(every[offset])


def _eligibility_known(
    policy: CompiledPolicy, rows: Rows, subj: I64, known: I64
) -> tuple[I64, I64]:
    """``eligibility_breakpoints`` of each pair (position in ``subj``, time), each known at
    its own time (none for a policy without eligibility conditions, or without attributes):
    every subject's breakpoints once, each with when it was learned, then each pair's
    those learned by its knowledge time (in no particular order; a pair may get one twice)."""
    facts = rows.facts
    none = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    if facts is None or not eligibility_plan(policy).any or not len(facts.attributes.subject):
        return none
    alone, inverse = np.unique(subj, return_inverse=True)
    pos, t, learned = eligibility_breakpoints_known(facts, policy, alone)
    # the breakpoints by subject (position in ``alone``), then each pair's subject's
    by = np.argsort(pos, kind="stable")
    t, learned = t[by], learned[by]
    many = np.bincount(pos, minlength=len(alone)).astype(np.int64)
    first = np.cumsum(many) - many
    per = many[inverse]
    pair = np.repeat(np.arange(len(subj), dtype=np.int64), per)
    at = (
        first[inverse][pair]
        + np.arange(len(pair), dtype=np.int64)
        - np.repeat(np.cumsum(per) - per, per)
    )
    keep = learned[at] <= known[pair]
    return pair[keep], t[at][keep]


def triggered_ever(
    tls: dict[int, SubjectTimeline], subjects: Sequence[int], sanction: int
) -> npt.NDArray[np.bool_]:
    """Per subject of ``subjects`` (keys of ``tls``), whether trigger ``sanction`` holds at
    any instant of its timeline: ``tls[s].triggers[sanction].any()`` for each, in one
    reduction when the timelines are consecutive slices of one evaluation (as
    ``timelines`` makes them, in the order asked)."""
    if not subjects:
        return np.zeros(0, dtype=bool)
    source = tls[subjects[0]].source
    firsts, at = [], tls[subjects[0]].first_group
    for s in subjects:
        tl = tls[s]
        if source is None or tl.source is not source or tl.first_group != at or not len(tl.times):
            return np.array([bool(tls[x].triggers[sanction].any()) for x in subjects], dtype=bool)
        firsts.append(at)
        at += len(tl.times)
    assert source is not None
    row = source.evaluation.triggers[sanction, firsts[0] : at]
    held: npt.NDArray[np.bool_] = np.logical_or.reduceat(row, np.asarray(firsts) - firsts[0])
    return held


def _refine(
    policy: CompiledPolicy,
    rows: Rows,
    rid: I64,
    t: int,
    lo: int,
    hi: int,
    target: bool,
    which: tuple[str, int],
    subject: int,
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
            g_subject=np.full(n, subject, dtype=np.int64),
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
    row = timeline.lists[which[1]] if which[0] == "list" else timeline.triggers[which[1]]
    if not row.any():
        return []
    states: list[bool] = row.tolist()  # plain Python values: a timeline has few instants
    times: list[int] = timeline.times.tolist()
    rid: I64 | None = None
    result: list[Interval] = []
    start: int | None = None
    prev = False
    for i, state in enumerate(states):
        if state == prev:
            continue
        prev = state
        when = times[i]
        if refine and i > 0 and times[i - 1] > BEGINNING:
            if rid is None:
                rid = _rows_of(rows, [timeline.subject])[timeline.subject]
                rid = rid[rows.visible_from[rid] <= t]
            when = _refine(policy, rows, rid, t, times[i - 1], when, state, which, timeline.subject)
        if state:
            start = when
        else:
            assert start is not None
            result.append((start, when))
            start = None
    if start is not None:
        result.append((start, NEVER))
    return result


def _span_order(span: Span) -> tuple[int, int, int, int]:
    return (span.nominal(), span.months, span.seconds, span.working_days)


def measure_intervals(
    policy: CompiledPolicy,
    trigger: list[Interval],
    fixed: Span | None,
    max_duration: Span | None,
    ends: list[int] | None = None,
) -> list[Interval]:
    """Periods a measure is in force, given when its trigger held and its duration rules
    (durations added by the policy's calendar, ``CompiledPolicy.after_one``).

    ``ends``: for a measure that ends after its triggering records are resolved, the end
    computed for each trigger period (from when it started; the trigger's own end is then
    not consulted)."""
    out: list[Interval] = []
    for i, (start, end) in enumerate(trigger):
        if ends is not None:
            stop = ends[i]
        else:
            stop = (
                end
                if fixed is None
                else (policy.after_one(start, fixed) if start > BEGINNING else NEVER)
            )
        if max_duration is not None and start > BEGINNING:
            stop = min(stop, policy.after_one(start, max_duration))
        if stop <= start:
            continue  # its records were resolved long enough before: it never applied
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], stop))
        else:
            out.append((start, stop))
    return out


@dataclass(frozen=True)
class Publicity:
    """One publication of a measure with a publicity period (``starts_after``).

    ``published``: when its condition began to hold (the person is notified); ``objections_until``:
    the end of the publicity period; ``starts``: when the measure starts (None: it does not,
    as things stand: an objection is pending, or the condition ended first); ``periods``:
    when it is in force (empty unless it starts); ``blocked``: an objection was pending
    at the end of the period (the start waited for it).
    """

    published: int
    objections_until: int
    starts: int | None
    periods: list[Interval]
    blocked: bool
    ends: int = NEVER  # when the publication ends (the condition stops holding, as known)


def publicity(
    policy: CompiledPolicy, timeline: SubjectTimeline, sanction: CompiledSanction
) -> list[Publicity]:
    """Every publication of ``sanction`` on ``timeline`` and what came of it.

    The condition is published when it begins to hold (or an objection to a record it counts
    is pending, which keeps the publication open though the record is suspended meanwhile).
    The measure starts at the end of the period if its condition holds then and (with
    ``objection_blocks``) no objection is pending; else at the first instant after when
    both are true, within the same publication. A fixed term runs from the start;
    ``while_triggered`` is in force while the condition holds, until the publication ends.
    """
    assert sanction.notice is not None
    trig: list[bool] = timeline.triggers[sanction.index].tolist()
    blk: list[bool] = (
        timeline.blocked[sanction.index].tolist()
        if timeline.blocked is not None and sanction.objection_blocks
        else [False] * len(trig)
    )
    times: list[int] = timeline.times.tolist()
    out: list[Publicity] = []
    i, n = 0, len(times)
    while i < n:
        if not (trig[i] or blk[i]) or times[i] <= BEGINNING:
            i += 1
            continue
        j = i
        while j < n and (trig[j] or blk[j]):
            j += 1
        a, b = times[i], times[j] if j < n else NEVER
        end_of_notice = later_one(policy, a, sanction.notice)
        start = None
        if end_of_notice < b:
            first = bisect.bisect_right(times, end_of_notice) - 1
            for x in range(first, j):
                if trig[x] and not blk[x]:
                    start = max(times[x], end_of_notice)
                    break
        periods: list[Interval] = []
        if start is not None:
            cap = NEVER
            if sanction.fixed is not None:
                cap = later_one(policy, start, sanction.fixed)
            if sanction.max_duration is not None:
                cap = min(cap, later_one(policy, start, sanction.max_duration))
            if sanction.fixed is not None:
                periods = [(start, cap)]
            else:  # while the condition holds, within this publication
                run: int | None = None
                for x in range(bisect.bisect_right(times, start) - 1, j):
                    lo = max(times[x], start)
                    if trig[x] and run is None:
                        run = lo
                    elif not trig[x] and run is not None:
                        periods.append((run, min(lo, cap)))
                        run = None
                if run is not None:
                    periods.append((run, min(b, cap)))
                periods = [(p, q) for p, q in periods if p < q]
        first_at_end = bisect.bisect_right(times, end_of_notice) - 1
        waited = end_of_notice < b and first_at_end >= i and blk[first_at_end]
        out.append(Publicity(a, end_of_notice, start, periods, waited, b))
        i = j
    return out


def publicity_periods(
    policy: CompiledPolicy,
    rows: Rows,
    timeline: SubjectTimeline,
    sanction: CompiledSanction,
    t: int,
) -> tuple[list[Interval], list[Interval]]:
    """When ``sanction`` (a measure with a publicity period) had its condition hold for
    ``timeline``'s subject, and when it is in force, known at ``t``."""
    assert sanction.notice is not None
    trig = intervals(policy, rows, timeline, ("trigger", sanction.index), t, False)
    periods: list[Interval] = []
    for pub in publicity(policy, timeline, sanction):
        for start, end in pub.periods:
            if periods and start <= periods[-1][1]:
                periods[-1] = (periods[-1][0], max(periods[-1][1], end))
            else:
                periods.append((start, end))
    return trig, periods


def interval_at(periods: list[Interval], t: int) -> Interval | None:
    """The period containing ``t``, if any."""
    for start, end in periods:
        if start <= t < end:
            return (start, end)
    return None
