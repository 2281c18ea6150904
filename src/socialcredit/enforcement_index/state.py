"""What decides a subject's checks from a knowledge time on: every measure period and
exemption, computed in bulk with the engine's own timelines (pure: columns, policy, time).

For a knowledge time ``t`` (every entry the ledger holds was received by then), the engine's
answer to a check at any ``at >= t`` depends only on which measure periods and exemptions
contain ``at`` — as long as no entry arrives: the engine projects every timeline into the
future with knowledge fixed, and nothing but new knowledge changes the projection. So a
subject's state here is the list of its measure periods (own, and through relations) that
end after ``t``, with their sanctions, and its exemptions.

The periods are the engine's: ``measure_periods`` on ``timelines`` (as ``Engine.check``
computes them), evaluated for many subjects at once, with two savings that change no
answer:

- a sanction's condition can only count records of some types (``counted_types``): each
  group of sanctions with the same types is evaluated on those records alone (as
  ``measures_for_service`` does for one check);
- a measure in force while its condition holds (no fixed term, no publicity period, no end
  after resolution, no maximum duration) depends only on the condition from ``t`` on, so
  such sanctions are evaluated at ``t`` and the later breakpoints only (``since``); the
  others, whose periods run from when their condition began, on every breakpoint, for the
  subjects whose breakpoints are recent enough to matter (or whose condition holds at ``t``).

A period located inside a segment by subdivision (a condition on a score with linearly
decaying records) depends on the instants sampled, which differ between the engine's
timeline at ``at`` and this one at ``t``: subjects with such a period are marked ``exact``
and their checks are answered by the engine itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from socialcredit.policy.compiled import CompiledPolicy, CompiledSanction, span_bound
from socialcredit.policy.model import Predicate
from socialcredit.scoring.measures import counted_types, measure_periods
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.rows import Rows
from socialcredit.scoring.timeline import BEGINNING, row_breakpoints, timelines_in_context
from socialcredit.timeutil import NEVER

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

CHUNK = 4000
"""Subjects evaluated per vectorised pass (bounds the memory of one evaluation)."""


@dataclass(frozen=True, slots=True)
class MeasureSpan:
    """A measure in force from ``start`` until ``end`` (exclusive; ``NEVER``: no end).

    ``via``: for a measure that reaches the subject through a relation, the related subject
    on whom it is in force (None: the subject's own)."""

    start: int
    end: int
    sanction: CompiledSanction
    via: str | None = None


@dataclass(frozen=True, slots=True)
class ExemptionSpan:
    """An exemption letting the subject use ``services`` (and the services under them) from
    ``start`` until ``end`` (exclusive)."""

    start: int
    end: int
    services: frozenset[str]


@dataclass(frozen=True)
class SubjectState:
    """Everything that decides ``subject``'s checks at times from ``valid_from`` on, until
    the ledger learns something new about it or a subject related to it.

    ``known``: the ledger has an entry about the subject (a record, a relation it is the
    subject of, an exemption or an attribute), as ``Engine.check``'s ``known``.
    ``exact``: a period of it was located by subdivision (see the module docstring): its
    checks are answered by the engine.
    """

    subject: str
    known: bool
    valid_from: int
    measures: tuple[MeasureSpan, ...] = ()
    exemptions: tuple[ExemptionSpan, ...] = ()
    exact: bool = False

    @property
    def empty(self) -> bool:
        """No measure at any time from ``valid_from`` on (exemptions alone change no answer)."""
        return not self.measures and not self.exact


def bounded(s: CompiledSanction) -> bool:
    """Whether a measure's periods depend on when its condition began (a fixed term, a
    publicity period, an end after resolution, a maximum duration)."""
    return (
        s.fixed is not None
        or s.notice is not None
        or s.after_resolution is not None
        or s.max_duration is not None
    )


def _refined(policy: CompiledPolicy, s: CompiledSanction) -> bool:
    """Whether the engine locates this sanction's condition changes by subdivision."""
    return s.notice is None and s.uses_score and policy.any_decay


def _reach(policy: CompiledPolicy, s: CompiledSanction) -> int:
    """How far back (seconds) a change of condition can decide a period in force now."""
    back = 0
    if s.fixed is not None:
        back += s.fixed.longest()
    if s.notice is not None:
        back += span_bound(policy, s.notice)
    if s.max_duration is not None:
        back += s.max_duration.longest()
    return back


@dataclass(frozen=True)
class _Group:
    """Sanctions evaluated together: the same record types, the same kind of period."""

    sanctions: tuple[CompiledSanction, ...]
    table: npt.NDArray[np.bool_] | None  # counted record types (None: every record)
    bounded: bool


def _groups(policy: CompiledPolicy) -> list[_Group]:
    key = "enforcement_index_groups"
    cached: list[_Group] | None = policy.cache.get(key)
    if cached is not None:
        return cached
    found: dict[tuple[bool, bytes | None], list[CompiledSanction]] = {}
    tables: dict[tuple[bool, bytes | None], npt.NDArray[np.bool_] | None] = {}
    for s in policy.sanctions:
        table = counted_types(policy, s)
        k = (bounded(s), None if table is None else table.tobytes())
        found.setdefault(k, []).append(s)
        tables[k] = table
    cached = [_Group(tuple(v), tables[k], k[0]) for k, v in found.items()]
    policy.cache[key] = cached
    return cached


def _rows_of_group(prep: Prepared, group: _Group) -> Rows:
    if group.table is None:
        return prep.rows
    keep = np.flatnonzero(group.table[prep.rows.type_code]).astype(np.int64)
    return prep.rows.take(keep)


Periods = dict[int, list[tuple[CompiledSanction, int, int]]]


def _periods_of(
    prep: Prepared,
    rows: Rows,
    subjects: list[int],
    sanctions: Sequence[CompiledSanction],
    t: int,
    since: int | None,
    own: Periods,
    exact: set[int],
) -> None:
    """Add to ``own`` the periods of ``sanctions`` ending after ``t`` for ``subjects``
    (evaluated on ``rows``), and to ``exact`` those with a period located by subdivision."""
    policy = prep.policy
    wanted = [s.index for s in sanctions]
    sub = prep.with_rows(rows)
    for lo in range(0, len(subjects), CHUNK):
        part = subjects[lo : lo + CHUNK]
        tls, te = timelines_in_context(policy, rows, part, t, wanted, since)
        if te is None:
            continue
        starts = np.array([tls[s].first_group for s in part], dtype=np.int64)
        trig = te.evaluation.triggers[wanted]
        hit = np.logical_or.reduceat(trig, starts, axis=1) if trig.shape[1] else trig
        for k, j in zip(*np.nonzero(hit), strict=True):
            s, sanction = part[int(j)], sanctions[int(k)]
            tl = tls[s]
            trigger, periods = measure_periods(sub, tl, sanction, t)
            kept = [(sanction, a, b) for a, b in periods if b > t]
            if kept:
                own.setdefault(s, []).extend(kept)
            if _refined(policy, sanction):
                sampled = set(tl.times.tolist())
                if any(
                    (a not in sampled and a > BEGINNING) or (b not in sampled and b < NEVER)
                    for a, b in trigger
                    if b > t - _reach(policy, sanction)
                ):
                    exact.add(s)


def own_periods(prep: Prepared, subjects: Sequence[int], t: int) -> tuple[Periods, set[int]]:
    """For each of ``subjects`` (indices), the periods of its own measures that end after
    ``t`` (each with its sanction), as the engine computes them at any time from ``t`` on
    with what the ledger knows at ``t``; and the subjects marked ``exact``."""
    policy = prep.policy
    own: Periods = {}
    exact: set[int] = set()
    everyone = np.asarray(sorted(set(subjects)), dtype=np.int64)
    if not len(everyone) or not policy.sanctions:
        return own, exact
    n = prep.columns.n_subjects
    wanted = np.zeros(n, dtype=bool)
    wanted[everyone] = True
    rowless: dict[int, Bools] = {}  # sanction index -> subjects without its records
    for group in _groups(policy):
        rows = _rows_of_group(prep, group)
        has = np.zeros(n, dtype=bool)
        has[rows.subject] = True
        if group.bounded:
            chosen = _bounded_candidates(prep, rows, group, t) & wanted & has
            _periods_of(prep, rows, _ints(chosen), group.sanctions, t, None, own, exact)
        else:
            _periods_of(prep, rows, _ints(wanted & has), group.sanctions, t, t, own, exact)
        for s in group.sanctions:
            if not needs_records(policy, s.when):
                rowless[s.index] = wanted & ~has
    if rowless:
        _rowless(prep, rowless, t, own, exact)
    return own, exact


def needs_records(policy: CompiledPolicy, pred: Predicate, depth: int = 0) -> bool:
    """Whether ``pred`` cannot hold for a subject without records (a records condition
    counts at least one; a list's condition, all or any of such). False when unsure."""
    if depth > 20:
        return False
    if pred.records is not None:
        return True
    if pred.on_list is not None:
        for lst in policy.lists:
            if lst.name == pred.on_list:
                return needs_records(policy, lst.when, depth + 1)
        return False
    if pred.all_:
        return any(needs_records(policy, p, depth + 1) for p in pred.all_)
    if pred.any_:
        return all(needs_records(policy, p, depth + 1) for p in pred.any_)
    return False


def _ints(mask: Bools) -> list[int]:
    out: list[int] = np.flatnonzero(mask).tolist()
    return out


def _rowless(
    prep: Prepared, rowless: dict[int, Bools], t: int, own: Periods, exact: set[int]
) -> None:
    """Periods for subjects without a record of the types a sanction counts (``rowless``:
    per sanction index, those subjects): a condition that holds without records (on the
    base score, on an attribute alone) — one evaluation without records for all of them."""
    anyone = np.zeros(prep.columns.n_subjects, dtype=bool)
    for mask in rowless.values():
        anyone |= mask
    subjects = _ints(anyone)
    if not subjects:
        return
    none = prep.rows.take(np.empty(0, dtype=np.int64))
    found: Periods = {}
    _periods_of(prep, none, subjects, prep.policy.sanctions, t, None, found, exact)
    for s, periods in found.items():
        kept = [p for p in periods if rowless[p[0].index][s]]
        if kept:
            own.setdefault(s, []).extend(kept)


def _bounded_candidates(prep: Prepared, rows: Rows, group: _Group, t: int) -> Bools:
    """Subjects for whom a measure of ``group`` (periods from when its condition began) may
    be in force at ``t`` or later: a breakpoint of their records within the sanctions'
    reach before ``t`` or after it, their condition holding at ``t`` (a period from the
    beginning), or, for an end after resolution (which no breakpoint bounds), any record
    of the counted types."""
    from socialcredit.scoring.evaluate import evaluate_subjects_at
    from socialcredit.scoring.timeline import year_ends

    policy = prep.policy
    n = prep.columns.n_subjects
    out = np.zeros(n, dtype=bool)
    back = max(_reach(policy, s) for s in group.sanctions)
    if any(s.after_resolution is not None for s in group.sanctions):
        out[rows.subject] = True
    owners, when = row_breakpoints(policy, rows, np.arange(len(rows), dtype=np.int64), t)
    out[rows.subject[owners[when > t - back]]] = True
    ev = evaluate_subjects_at(policy, rows, n, t)
    out |= ev.triggers[[s.index for s in group.sanctions]].any(axis=0)
    if any(s.uses_score for s in group.sanctions):
        ends = year_ends(policy, t)
        if (ends > t - back).any():
            out[:] = True
    if prep.rows.facts is not None and not prep.rows.facts.empty:
        from socialcredit.scoring.facts import eligibility_breakpoints

        everyone = np.arange(n, dtype=np.int64)
        loc, times = eligibility_breakpoints(prep.rows.facts, policy, everyone, t)
        out[loc[times > t - back]] = True
    return out


def subject_states(
    prep: Prepared, t: int, subjects: Sequence[int] | None = None
) -> tuple[dict[int, SubjectState], Bools]:
    """The states (see ``SubjectState``) at knowledge time ``t`` of those of ``subjects``
    (indices; None: everyone in ``prep``) with a measure period ending after ``t`` (own or
    through a relation) or marked ``exact``, with their exemptions still to end; and, for
    every subject of ``prep``, whether it is ``known``. Every other one of ``subjects`` is
    allowed everything from ``t`` on. ``prep`` must hold the records of the subjects'
    related subjects too (``Ledger.columns(..., follow_relations=True)``)."""
    policy = prep.policy
    cols = prep.columns
    n = cols.n_subjects
    chosen = list(range(n)) if subjects is None else sorted(set(subjects))
    wanted_set = set(chosen)
    rel = prep.relations
    reach = {name for s in policy.sanctions for name in s.reach}
    codes = [i for i, name in enumerate(policy.relation_names) if name in reach]
    live = (
        (rel.type_code >= 0)
        & np.isin(rel.type_code, codes)
        & (rel.known <= t)
        & (rel.hidden_from > t)
        & (rel.valid_until > t)
    )
    if subjects is not None:
        live &= np.isin(rel.subject, np.asarray(chosen, dtype=np.int64))
    related = np.unique(rel.related[live]).tolist()
    own, exact = own_periods(prep, sorted(set(chosen) | set(related)), t)

    spans: dict[int, list[MeasureSpan]] = {}
    for s, found in own.items():
        spans[s] = [MeasureSpan(a, b, sanction) for sanction, a, b in found]
    for i in np.flatnonzero(live & np.isin(rel.related, np.asarray(list(own), dtype=np.int64))):
        x, y = int(rel.subject[i]), int(rel.related[i])
        name = policy.relation_names[int(rel.type_code[i])]
        lo = max(int(rel.valid_from[i]), int(rel.known[i]))
        hi = int(rel.valid_until[i])
        for sanction, a, b in own[y]:
            if name not in sanction.reach:
                continue
            start, end = max(a, lo), min(b, hi)
            if start < end and end > t:
                spans.setdefault(x, []).append(MeasureSpan(start, end, sanction, cols.subjects[y]))
                if y in exact:
                    exact.add(x)

    known = np.zeros(n, dtype=bool)
    known[cols.rec_subject[cols.rec_recorded_at <= t]] = True
    known[cols.rel_subject[cols.rel_recorded_at <= t]] = True
    known[cols.exm_subject[cols.exm_recorded_at <= t]] = True
    known[cols.att_subject[cols.att_recorded_at <= t]] = True

    exemptions: dict[int, list[ExemptionSpan]] = {}
    facts = prep.rows.facts
    if facts is not None and len(facts.exemptions.subject):
        xs = facts.exemptions
        for j in np.flatnonzero((xs.known <= t) & (xs.hidden_from > t) & (xs.valid_until > t)):
            exemptions.setdefault(int(xs.subject[j]), []).append(
                ExemptionSpan(
                    int(xs.valid_from[j]), int(xs.valid_until[j]), frozenset(xs.services[j])
                )
            )
    out = {}
    for s in sorted(set(spans) | exact):
        if subjects is not None and s not in wanted_set:
            continue
        out[s] = SubjectState(
            cols.subjects[s],
            bool(known[s]),
            t,
            tuple(spans.get(s, ())),
            tuple(exemptions.get(s, ())),
            s in exact,
        )
    return out, known
