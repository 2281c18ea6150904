"""Each agent's standing only on the days it can change, carried between them.

A subject's standing at the end of a day changes only when one of its breakpoints falls in
that day (``scoring.timeline``: a record becomes known, expires, is resolved, disputed or
decided, leaves a window; an attribute starts or an age is reached; a clean year ends; a
correction is learned), or every day while a linearly decaying record counts. So each agent
is evaluated once per such day, by the compiled policy's own vectorised ``evaluate`` (every
(agent, day) pair of a chunk in a few calls, knowledge fixed at that day's end as
``bulk_standings`` does), and the result holds until its next change day: a *segment*.

Measures with a period of their own (fixed terms, maximum durations, ends after resolution,
publicity periods) are read as ``bulk_standings`` reads them (``timelines`` and
``measure_periods``), for the few agents whose trigger ever holds, on each of their change
days; between two of them the period found is read day by day. Lists and measures (own and
through relations) are kept as *flag segments* for the agents ever on a list or under a
measure (everyone else's are empty on every day): their change days' segments, except for
the few whose measures can change between change days (those candidates, and both sides
of a relation through which a measure reaches someone), read day by day and then cut
where a list or measure changes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import numpy.typing as npt

from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.scoring import Prepared
from socialcredit.scoring.evaluate import evaluate
from socialcredit.scoring.facts import AttributeRows, SubjectFacts, eligibility_breakpoints
from socialcredit.scoring.measures import measure_periods, relations_at, types_counted
from socialcredit.scoring.order import stable_order
from socialcredit.scoring.timeline import (
    SubjectTimeline,
    row_breakpoints,
    timelines,
    timelines_known,
    year_ends,
)
from socialcredit.sim.draws import SimSpec
from socialcredit.timeutil import DAY, NEVER

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

MAX_ENTRIES = 2_000_000
"""Row entries evaluated in one call (bounds the memory of an evaluation)."""


@dataclass(frozen=True)
class Standings:
    """The standings of a chunk's agents on every day, as segments.

    Segment ``j``: agent ``agent[j]`` has ``score[j]`` and ``grade[j]`` from day ``day[j]``
    up to (not including) ``end[j]``; an agent's segments cover every day.

    Flag segment ``f``: agent ``f_agent[f]`` is on ``lists[:, f]`` [n_lists, n_flag] and
    under ``measures[:, f]`` [n_sanctions, n_flag] (``own[:, f]``: of those, on its own
    account) from day ``f_day[f]`` up to ``f_end[f]``, sorted by agent then day. Only the
    agents ever on a list or under a measure have flag segments (covering every day, cut
    only where a list or measure changes); everyone else's lists and measures are empty on
    every day.
    """

    days: int
    agent: I64
    day: I64
    end: I64
    score: F64
    grade: I64
    f_agent: I64
    f_day: I64
    f_end: I64
    lists: Mask
    own: Mask
    measures: Mask

    def flag_segment(self, agent: I64, day: I64) -> I64:
        """Per (agent, day) pair, the index of its flag segment (-1: none, all empty)."""
        code = self.f_agent * self.days + self.f_day
        j = np.searchsorted(code, agent * self.days + day, side="right") - 1
        ok = j >= 0
        ok[ok] = self.f_agent[j[ok]] == agent[ok]
        return np.where(ok, j, -1)

    def day_index(self, agents: I64) -> I64:
        """[days, len(agents)]: each agent's flag segment on each day (agents with flag
        segments only, in order)."""
        idx = np.arange(len(self.f_agent), dtype=np.int64)
        wanted = np.isin(self.f_agent, agents)
        mine = idx[wanted]
        which = np.repeat(mine, (self.f_end - self.f_day)[mine])
        return which.reshape(len(agents), self.days).T

    def at(self, agent: int, day: int) -> tuple[float, int, Mask, Mask]:
        """Score, grade, lists and measures of ``agent`` on ``day`` (for tests and probes)."""
        j = int(np.flatnonzero((self.agent == agent) & (self.day <= day) & (day < self.end))[0])
        f = int(self.flag_segment(np.array([agent]), np.array([day]))[0])
        if f >= 0:
            return (
                float(self.score[j]),
                int(self.grade[j]),
                self.lists[:, f].copy(),
                self.measures[:, f].copy(),
            )
        return (
            float(self.score[j]),
            int(self.grade[j]),
            np.zeros(self.lists.shape[0], dtype=bool),
            np.zeros(self.measures.shape[0], dtype=bool),
        )


def supported(prep: Prepared, spec: SimSpec) -> bool:
    """Whether ``standings`` applies: no exemptions, and relations that neither start nor end
    within the simulated days (as the simulator makes them)."""
    facts = prep.rows.facts
    if facts is not None and len(facts.exemptions.subject):
        return False
    r = prep.relations
    first, last = spec.day_end(0), spec.day_end(spec.days - 1)
    for times in (r.known, r.hidden_from, r.valid_from, r.valid_until):
        if ((times > first) & (times <= last)).any():
            return False
    return True


def distinct(values: I64, below: int | None = None) -> I64:
    """The distinct values, sorted (``np.unique`` of a 1-D integer array, by one sort);
    ``below``: every value is in 0..below-1, and a table of that many flags may be used
    instead of sorting (when it is at most 64 flags per value: setting and reading that
    many flags costs a few times less than sorting the values)."""
    if below is not None and below <= 64 * len(values) + 4096:
        seen = np.zeros(below, dtype=bool)
        seen[values] = True
        found: I64 = np.flatnonzero(seen).astype(np.int64)
        return found
    out = np.sort(values)
    if len(out):
        out = out[np.r_[True, out[1:] != out[:-1]]]
    return out


def events_pay(prep: Prepared, spec: SimSpec, changes: tuple[I64, I64] | None = None) -> bool:
    """Whether reading each agent on its change days is likely to cost less than reading
    everyone every day: false for agents with many records (most days are change days, and
    a bounded measure's timeline grows with the square of its records), where the
    reference is the faster. An estimate in row evaluations, not a measurement.
    ``changes``: every subject's ``change_days``, if already known."""
    rows, policy = prep.rows, prep.policy
    n = prep.columns.n_subjects
    if changes is None:
        changes = change_days(prep, spec, np.arange(n, dtype=np.int64))
    agent = changes[0]
    count = np.bincount(rows.subject, minlength=n).astype(np.float64)
    cost = float(count[agent].sum())
    bounded = _bounded(policy)
    if bounded:
        counted = types_counted(policy, [policy.sanctions[k] for k in bounded])
        sel = np.ones(len(rows), dtype=bool) if counted is None else counted[rows.type_code]
        c = np.bincount(rows.subject[sel], minlength=n).astype(np.float64)
        # per knowledge day (about two per record), every record at its ~3 breakpoints each
        cost += float((3 * c * c * (2 * c + 1)).sum())
    return cost < spec.days * max(len(rows), n) / 2


def _day_of(spec: SimSpec, times: I64) -> I64:
    """The first day whose end is at or after each time (-1: after the last day; times
    before the first day: 0)."""
    t = np.minimum(np.maximum(times, spec.start - DAY), spec.end + DAY)  # (np.clip is slow)
    d = (t - spec.start) // DAY
    d = np.maximum(d, 0)
    return np.where(d < spec.days, d, -1)


def change_days(prep: Prepared, spec: SimSpec, agents: I64) -> tuple[I64, I64]:
    """(agent, day) pairs, sorted and distinct: every day on which an agent of ``agents``
    may stand differently from the day before (day 0 for everyone)."""
    policy, rows = prep.policy, prep.rows
    n = prep.columns.n_subjects
    wanted = np.zeros(n, dtype=bool)
    wanted[agents] = True
    rid = np.flatnonzero(wanted[rows.subject]).astype(np.int64)
    owners, times = row_breakpoints(policy, rows, rid)
    who = [rows.subject[owners].astype(np.int64)]
    when = [times]
    # knowledge: a version seen or hidden, a late dispute (a correction's own time)
    subject = rows.subject[rid].astype(np.int64)
    for column in (rows.visible_from, rows.hidden_from, rows.known, rows.dispute_late):
        who.append(subject)
        when.append(column[rid])
    pos, t = eligibility_breakpoints(rows.facts, policy, agents, NEVER - 1)
    who.append(agents[pos])
    when.append(t)
    ends = year_ends(policy, spec.end)
    ends = ends[(ends > spec.start - DAY) & (ends < spec.end + DAY)]
    if len(ends):
        who.append(np.repeat(agents, len(ends)))
        when.append(np.tile(ends, len(agents)))
    # a change at t shows at the end of its day; one at t + 1 (a day's last second) the next.
    # A time before the first day shows on day 0 (every agent's change day anyway), one at
    # or after the period's end on none: each part's times within the period alone (most
    # are NEVER or long past), in the order of the parts
    for i, (w, times) in enumerate(zip(who, when, strict=True)):
        times = times.astype(np.int64)
        keep = np.flatnonzero((times >= spec.start) & (times < spec.end))
        who[i], when[i] = w[keep], times[keep]
    a = np.concatenate(who)
    t = np.concatenate(when)
    d = (t - spec.start) // DAY
    # a day's last second: the next day's too, if the period has one (t and t + 1 fall on
    # different days only when t is a day's last second, the days counted from the start)
    edge = np.flatnonzero((t + 1 - spec.start) % DAY == 0)
    d1 = d[edge] + 1
    moved = d1 < spec.days
    parts_a = [a, a[edge[moved]], agents]
    parts_d = [d, d1[moved], np.zeros(len(agents), np.int64)]
    # a linearly decaying record moves its subject's score every day it counts
    decays = policy.decays[np.maximum(rows.type_code[rid], 0)] & (rows.type_code[rid] >= 0)
    if decays.any():
        dr = rid[decays]
        lo = _day_of(spec, rows.known[dr])
        hi = _day_of(spec, rows.expires[dr])
        live = lo >= 0
        lo, hi, dr = lo[live], np.where(hi[live] < 0, spec.days - 1, hi[live]), dr[live]
        length = hi - lo + 1
        owner = np.repeat(rows.subject[dr].astype(np.int64), length)
        start = np.repeat(lo, length)
        offset = np.arange(int(length.sum()), dtype=np.int64) - np.repeat(
            np.cumsum(length) - length, length
        )
        parts_a.append(owner)
        parts_d.append(start + offset)
    code = distinct(np.concatenate(parts_a) * spec.days + np.concatenate(parts_d), n * spec.days)
    return code // spec.days, code % spec.days


def _evaluate_segments(
    prep: Prepared, spec: SimSpec, agent: I64, day: I64
) -> tuple[F64, I64, Mask, Mask]:
    """Score, grade, lists and triggers of each (agent, day) at that day's end, knowing what
    was known then: the policy's own ``evaluate`` over the agent's rows, in batches."""
    policy, rows = prep.policy, prep.rows
    n = prep.columns.n_subjects
    order = stable_order(rows.subject)
    count = np.bincount(rows.subject, minlength=n).astype(np.int64)
    first = np.cumsum(count) - count
    per = _visible_prefix(prep, spec, order, first, agent, day)
    # (the rows of a visible prefix are all known and visible_from at their day's end)
    prefix = per is not None
    if per is None:
        per = count[agent]
    n_seg = len(agent)
    score = np.empty(n_seg, dtype=np.float64)
    grade = np.empty(n_seg, dtype=np.int64)
    lists = np.zeros((len(policy.lists), n_seg), dtype=bool)
    triggers = np.zeros((len(policy.sanctions), n_seg), dtype=bool)
    cum = np.cumsum(per)
    lo = 0
    while lo < n_seg:
        base = int(cum[lo - 1]) if lo else 0
        hi = int(np.searchsorted(cum, base + MAX_ENTRIES, side="right"))
        hi = min(max(hi, lo + 1), n_seg)
        sl = slice(lo, hi)
        counts = per[sl]
        g = np.repeat(np.arange(hi - lo, dtype=np.int64), counts)
        starts = np.cumsum(counts) - counts
        ridx = order[first[agent[sl]][g] + np.arange(len(g), dtype=np.int64) - starts[g]]
        e = spec.start + (day[sl] + 1) * DAY - 1
        # a version not yet known, or not the current one, at a day's end counts for nothing
        # there (its status says so and no condition or form reads it): left out
        at = e[g]
        live = rows.hidden_from[ridx] > at
        if not prefix:
            live &= (rows.known[ridx] <= at) & (rows.visible_from[ridx] <= at)
        ridx, g = ridx[live], g[live]
        ev = evaluate(policy, rows, ridx, g, e, e, g_subject=agent[sl])
        score[sl], grade[sl] = ev.score, ev.grade
        lists[:, sl], triggers[:, sl] = ev.lists, ev.triggers
        lo = hi
    return score, grade, lists, triggers


def _visible_prefix(
    prep: Prepared, spec: SimSpec, order: I64, first: I64, agent: I64, day: I64
) -> I64 | None:
    """Per (agent, day), how many of the agent's rows (in ``order``, from ``first[agent]``)
    are visible and known at that day's end, when within each subject the time from which a
    row is both (``known``, ``visible_from``) never decreases: then every row live then is
    among that many first ones, and the others need not be read. None when it decreases
    somewhere (or the keys would not fit in an integer)."""
    rows = prep.rows
    if not len(order) or not len(agent):
        return None
    lo, hi = spec.start - DAY, spec.end + DAY
    width = hi - lo + 1
    if prep.columns.n_subjects * width >= 2**62:
        return None
    # (clipped to the simulated days: a row seen before them is seen on each, one seen
    # after them on none, and the order is kept)
    seen = np.maximum(rows.known[order], rows.visible_from[order])
    seen = np.minimum(np.maximum(seen, lo), hi) - lo
    subject = rows.subject[order].astype(np.int64)
    if not bool(((subject[1:] != subject[:-1]) | (seen[1:] >= seen[:-1])).all()):
        return None
    key = subject * width + seen
    e = spec.start + (day + 1) * DAY - 1 - lo
    per: I64 = np.searchsorted(key, agent * width + e, side="right") - first[agent]
    return per


def _bounded(policy: CompiledPolicy) -> list[int]:
    return [
        s.index
        for s in policy.sanctions
        if s.fixed is not None
        or s.max_duration is not None
        or s.after_resolution is not None
        or s.notice is not None
    ]


def standings(
    prep: Prepared,
    spec: SimSpec,
    agents: I64 | None = None,
    changes: tuple[I64, I64] | None = None,
) -> Standings:
    """The standing of ``agents`` (default: every subject) on every simulated day, as
    ``bulk_standings(prep, spec.day_end(day))`` gives it (see the module docstring).
    ``changes``: ``change_days(prep, spec, agents)``, if already known."""
    policy = prep.policy
    n = prep.columns.n_subjects
    days = spec.days
    if agents is None:
        agents = np.arange(n, dtype=np.int64)
    agent, day = change_days(prep, spec, agents) if changes is None else changes
    end = np.empty_like(day)
    if len(day):
        end[:-1] = np.where(agent[1:] == agent[:-1], day[1:], days)
        end[-1] = days
    score, grade, lists, triggers = _evaluate_segments(prep, spec, agent, day)
    bounded = _bounded(policy)
    own_seg = triggers.copy()
    own_seg[bounded] = False
    # agents whose trigger of a measure with a period of its own held on some change day
    cand_seg = triggers[bounded].any(axis=0) if bounded else np.zeros(len(agent), bool)
    candidates = distinct(agent[cand_seg])
    ever = np.zeros(n, dtype=bool)
    ever[agent[lists.any(axis=0) | own_seg.any(axis=0)]] = True
    ever[candidates] = True
    evaluated = np.zeros(n, dtype=bool)
    evaluated[agents] = True
    # read day by day: the candidates, and both sides of a relation through which a measure
    # may reach someone (the related one's trigger of that measure held on some change
    # day: no measure is in force without); everyone else's lists and measures hold from
    # one of their change days to the next
    by_day = np.zeros(n, dtype=bool)
    by_day[candidates] = True
    rel_ok = relations_at(prep, spec.day_end(0))
    reaching = [
        (s.index, policy.relation_names.index(r)) for s in policy.sanctions for r in s.reach
    ]
    r = prep.relations
    # the relations in force of each type reached through, and each measure's holders,
    # found once however many pairs name them
    of_type = {code: np.flatnonzero(rel_ok & (r.type_code == code)) for _, code in reaching}
    holders: dict[int, Mask] = {}
    for s_index, code in reaching:
        held = holders.get(s_index)
        if held is None:
            held = holders[s_index] = np.zeros(n, dtype=bool)
            held[agent[triggers[s_index]]] = True
        sel = of_type[code]
        sel = sel[held[r.related[sel]]]
        by_day[r.subject[sel]] = True
        by_day[r.related[sel]] = True
    by_day &= evaluated
    ever &= evaluated
    dense = np.flatnonzero(by_day).astype(np.int64)
    pos = np.full(n, -1, dtype=np.int64)
    pos[dense] = np.arange(len(dense), dtype=np.int64)
    # each day-by-day agent's segment on each day (segments of an agent are consecutive)
    seg_idx = np.flatnonzero(pos[agent] >= 0)
    which = np.repeat(seg_idx, (end - day)[seg_idx]).reshape(len(dense), days).T  # [days, nd]
    d_lists = lists[:, which]
    own = own_seg[:, which]
    if len(candidates):
        _bounded_measures(prep, spec, candidates, bounded, own, pos)
    measures = own.copy()
    # per type: the relations' related sides grouped by subject (sorted), and each group's
    # subject and first relation, so that each subject ORs in its related ones' measures by
    # one reduction (what ``np.logical_or.at`` gives, without its per-element loop)
    sides: dict[int, tuple[I64, I64, I64]] = {}
    for code, sel in of_type.items():
        subj, related = pos[r.subject[sel]], pos[r.related[sel]]
        keep = (subj >= 0) & (related >= 0)
        subj, related = subj[keep], related[keep]
        order = np.argsort(subj, kind="stable")
        subj, related = subj[order], related[order]
        starts = np.flatnonzero(np.r_[True, subj[1:] != subj[:-1]]) if len(subj) else subj
        sides[code] = (subj[starts], starts, related)
    for s_index, code in reaching:
        heads, starts, related = sides[code]
        if len(heads):
            reached = np.logical_or.reduceat(own[s_index][:, related], starts, axis=1)
            measures[s_index][:, heads] |= reached
    # flag segments: the others ever flagged keep their change days' segments ...
    other = np.flatnonzero(ever[agent] & ~by_day[agent])
    n_l, n_s = len(policy.lists), len(policy.sanctions)
    f_agent = [agent[other]]
    f_day = [day[other]]
    own_other = own_seg[:, other]
    flags = [np.concatenate([lists[:, other], own_other, own_other])]
    # ... and the day-by-day ones are cut where a list or measure changes (the flags are
    # lists, own measures, measures: [flags, days, nd] each, compared without stacking them)
    if len(dense):
        changed = np.zeros((days - 1, len(dense)), dtype=bool)
        for part in (d_lists, own, measures):
            for flag in part:  # (flag by flag: no [flags, days, nd] temporary to reduce)
                changed |= flag[1:] != flag[:-1]
        cut = np.zeros((len(dense), days), dtype=bool)
        cut[:, 0] = True
        cut[:, 1:] = changed.T
        col, d = np.nonzero(cut)
        f_agent.append(dense[col])
        f_day.append(d.astype(np.int64))
        flags.append(np.concatenate([d_lists[:, d, col], own[:, d, col], measures[:, d, col]]))
    fa = np.concatenate(f_agent)
    fd = np.concatenate(f_day)
    fl = np.concatenate(flags, axis=1)
    order = np.argsort(fa * days + fd, kind="stable")
    fa, fd, fl = fa[order], fd[order], fl[:, order]
    # one segment while nothing changes
    keep = np.ones(len(fa), dtype=bool)
    keep[1:] = fa[1:] != fa[:-1]
    for flag in fl:
        keep[1:] |= flag[1:] != flag[:-1]
    fa, fd, fl = fa[keep], fd[keep], fl[:, keep]
    fe = np.empty_like(fd)
    if len(fd):
        fe[:-1] = np.where(fa[1:] == fa[:-1], fd[1:], days)
        fe[-1] = days
    return Standings(
        days,
        agent,
        day,
        end,
        score,
        grade,
        fa,
        fd,
        fe,
        fl[:n_l],
        fl[n_l : n_l + n_s],
        fl[n_l + n_s :],
    )


def knowledge_days(prep: Prepared, spec: SimSpec, agents: I64) -> tuple[I64, I64]:
    """(agent, day) pairs, sorted and distinct: day 0 and every day on which the ledger
    learns something about an agent of ``agents`` (a record or version known or hidden, a
    dispute, decision or resolution learned): what a timeline as known at a day's end
    depends on."""
    rows = prep.rows
    wanted = np.zeros(prep.columns.n_subjects, dtype=bool)
    wanted[agents] = True
    rid = np.flatnonzero(wanted[rows.subject]).astype(np.int64)
    who = rows.subject[rid].astype(np.int64)
    columns = (
        rows.visible_from,
        rows.hidden_from,
        rows.known,
        rows.resolved,
        rows.disputed,
        rows.dispute_late,
        rows.decided,
        rows.reconsidered,
        rows.reconsideration_decided,
    )
    t = np.concatenate([c[rid] for c in columns])
    a = np.tile(who, len(columns))
    keep = (t < NEVER) & (t > -NEVER)
    a, t = a[keep], t[keep]
    d = np.concatenate([_day_of(spec, t), _day_of(spec, t + 1)])
    a = np.concatenate([a, a])
    a = np.concatenate([a[d >= 0], agents])
    d = np.concatenate([d[d >= 0], np.zeros(len(agents), np.int64)])
    code = distinct(a * spec.days + d, prep.columns.n_subjects * spec.days)
    return code // spec.days, code % spec.days


def _bounded_measures(
    prep: Prepared,
    spec: SimSpec,
    candidates: I64,
    bounded: list[int],
    own: Mask,
    pos: I64,
) -> None:
    """Fill ``own`` for the measures with a period of their own: on each day the ledger
    learns something about a candidate, its timeline as known then (``timelines_known``:
    every such (candidate, day) pair in one evaluation per batch; it projects every later
    breakpoint) and the measure's periods (``measure_periods``), read
    on every day up to the next such day."""
    policy = prep.policy
    # as bulk_standings: these measures' conditions (and the lists they name) count only
    # some record types; the others cannot change them, nor is learning of them a change
    counted = types_counted(policy, [policy.sanctions[k] for k in bounded])
    prep = _restricted(prep, candidates, counted)
    agent, day = knowledge_days(prep, spec, candidates)
    end = np.empty_like(day)
    if len(day):
        end[:-1] = np.where(agent[1:] == agent[:-1], day[1:], spec.days)
        end[-1] = spec.days
    if policy.across_subjects:
        # one knowledge time per evaluation: the learning days one by one
        order = np.argsort(day, kind="stable")
        bounds = np.flatnonzero(np.r_[True, day[order][1:] != day[order][:-1], True])
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            segs = order[a:b]
            who = agent[segs].tolist()
            by = timelines(policy, prep.rows, who, spec.day_end(int(day[segs[0]])), bounded)
            _fill_periods(prep, spec, [by[c] for c in who], day[segs], end[segs], bounded, own, pos)
        return
    # every (candidate, learning day) pair's timeline in a few evaluations, each pair known
    # at the end of its day; batches bounded in row entries (a pair's rows at each of its
    # instants, about three per row) as ``_evaluate_segments``
    count = np.bincount(prep.rows.subject, minlength=prep.columns.n_subjects).astype(np.int64)
    c = count[agent]
    cum = np.cumsum((c + 1) * (3 * c + 3))
    lo = 0
    while lo < len(agent):
        base = int(cum[lo - 1]) if lo else 0
        hi = int(np.searchsorted(cum, base + MAX_ENTRIES, side="right"))
        hi = min(max(hi, lo + 1), len(agent))
        known = spec.start + (day[lo:hi] + 1) * DAY - 1
        tls = timelines_known(policy, prep.rows, agent[lo:hi], known, bounded)
        _fill_periods(prep, spec, tls, day[lo:hi], end[lo:hi], bounded, own, pos)
        lo = hi


def _fill_periods(
    prep: Prepared,
    spec: SimSpec,
    tls: list[SubjectTimeline],
    day: I64,
    end: I64,
    bounded: list[int],
    own: Mask,
    pos: I64,
) -> None:
    """Fill ``own`` from each timeline ``tls[j]`` (its subject known at the end of ``day[j]``):
    the measures' periods read on every day from ``day[j]`` up to ``end[j]``."""
    policy = prep.policy
    firsts = np.array([tl.first_group for tl in tls], dtype=np.int64)
    sizes = np.array([len(tl.times) for tl in tls], dtype=np.int64)
    one_source = len(tls) > 0 and all(tl.source is tls[0].source for tl in tls)
    contiguous = one_source and bool((firsts[1:] == firsts[:-1] + sizes[:-1]).all())
    for k in bounded:
        if contiguous and (sizes > 0).all():
            source = tls[0].source
            assert source is not None
            row = source.evaluation.triggers[k, firsts[0] : firsts[-1] + sizes[-1]]
            held = np.logical_or.reduceat(row, firsts - firsts[0])
        else:
            held = np.array([bool(tl.triggers[k].any()) for tl in tls], dtype=bool)
        s = policy.sanctions[k]
        for j in np.flatnonzero(held).tolist():
            tl = tls[j]
            d0, d1 = int(day[j]), int(end[j])
            periods = measure_periods(prep, tl, s, spec.day_end(d0))[1]
            if not periods:
                continue
            # the days d0..d1-1 whose end (start + (d + 1) * DAY - 1) is within a period
            # [lo, hi): from the first ending at or after lo to the last ending before hi
            p = int(pos[tl.subject])
            own[k, d0:d1, p] = False
            for lo, hi in periods:
                first = max(d0, -((spec.start - 1 - int(lo)) // DAY) - 1)
                stop = min(d1, (int(hi) - spec.start) // DAY)
                if first < stop:
                    own[k, first:stop, p] = True


def _restricted(prep: Prepared, agents: I64, types: Mask | None = None) -> Prepared:
    """``prep`` with only the rows and attributes of ``agents`` (subjects keep their
    numbers), and only rows of ``types`` (per type code, the last entry for unknown types;
    None: all): a timeline of one of them reads the rows that matter to it, and each call
    costs in proportion to them rather than to the whole chunk."""
    rows = prep.rows
    wanted = np.zeros(prep.columns.n_subjects, dtype=bool)
    wanted[agents] = True
    keep_row = wanted[rows.subject]
    if types is not None:
        keep_row &= types[rows.type_code]
    sub = rows.take(np.flatnonzero(keep_row).astype(np.int64))
    facts = rows.facts
    if facts is not None:
        a = facts.attributes
        keep = wanted[a.subject] if len(a.subject) else np.zeros(0, dtype=bool)
        attributes = AttributeRows(
            **{f.name: getattr(a, f.name)[keep] for f in fields(a) if f.init}
        )
        facts = SubjectFacts(facts.exemptions, attributes, facts.subject_kind, facts.subject_map)
    return replace(prep, rows=replace(sub, facts=facts))
