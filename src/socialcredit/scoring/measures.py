"""Measures in force: when each sanction's or reward's trigger held and the measure applies
(duration rules, ends after resolution, publicity periods), for a subject on its own
account and through relations; the measures published but not yet in force; and which
record types a measure can count. One implementation for one subject and for everyone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from socialcredit.policy.compiled import CompiledPolicy, CompiledSanction, sanction_types
from socialcredit.policy.model import Predicate
from socialcredit.scoring.breakdown import record_ref, reported_time
from socialcredit.scoring.evaluate import canonical, evaluate_in_context
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.reasons import Held, held
from socialcredit.scoring.results import Condition, Measure, RecordLine, Upcoming
from socialcredit.scoring.timeline import (
    BEGINNING,
    Interval,
    Publicity,
    SubjectTimeline,
    interval_at,
    intervals,
    measure_intervals,
    publicity_periods,
    timelines,
)
from socialcredit.timeutil import NEVER

I64 = npt.NDArray[np.int64]


def reported_since(start: int, in_force_from: int | None) -> tuple[int | None, bool]:
    """A start as reported: never before the policy came into force (then flagged)."""
    if in_force_from is not None and start < in_force_from:
        return in_force_from, True
    return reported_time(start), False


def relations_at(prep: Prepared, t: int) -> npt.NDArray[np.bool_]:
    r = prep.relations
    return (
        (r.known <= t)
        & (r.hidden_from > t)
        & (r.valid_from <= t)
        & (t < r.valid_until)
        & (r.type_code >= 0)
    )


def own_measure(
    prep: Prepared, timeline_cache: dict[int, Any], s: int, sanction: CompiledSanction, t: int
) -> tuple[int, int] | None:
    """The period of ``sanction`` in force at ``t`` for subject ``s`` on its own account."""
    return own_periods(prep, timeline_cache, s, sanction, t)[1]


def own_periods(
    prep: Prepared, timeline_cache: dict[int, Any], s: int, sanction: CompiledSanction, t: int
) -> tuple[list[Interval], Interval | None]:
    """When ``sanction``'s trigger held for subject ``s``, and its own period in force at ``t``."""
    trig, periods = measure_periods(prep, timeline_cache[s], sanction, t)
    return trig, interval_at(periods, t)


def measure_periods(
    prep: Prepared, tl: SubjectTimeline, sanction: CompiledSanction, t: int
) -> tuple[list[Interval], list[Interval]]:
    """When ``sanction``'s condition held for ``tl``'s subject, and when the measure is in
    force (its duration rules, ends after resolution and publicity period applied), as
    known at ``t``: one function for one subject and for everyone."""
    if sanction.notice is not None:
        return publicity_periods(prep.policy, prep.rows, tl, sanction, t)
    refine = sanction.uses_score and prep.policy.any_decay
    trig = intervals(prep.policy, prep.rows, tl, ("trigger", sanction.index), t, refine)
    ends = resolution_ends(prep, tl, sanction, trig, t)
    return trig, measure_intervals(prep.policy, trig, sanction.fixed, sanction.max_duration, ends)


def triggering_rows(
    prep: Prepared, tl: SubjectTimeline, sanction: CompiledSanction, start: int, t: int
) -> list[int]:
    """The record versions that made ``sanction``'s trigger hold when it started at ``start``
    (a breakpoint of ``tl``), as known at ``t``."""
    te = tl.source
    group = te.group(tl, start) if te is not None else None
    if te is None or group is None:
        rid = np.flatnonzero(prep.rows.subject == tl.subject).astype(np.int64)
        rid = rid[prep.rows.visible_from[rid] <= t]
        _, ctx = evaluate_in_context(
            prep.policy,
            prep.rows,
            rid,
            np.zeros(len(rid), dtype=np.int64),
            np.array([start], dtype=np.int64),
            np.array([t], dtype=np.int64),
        )
        found = held(ctx, rid, sanction.when, 0)
    else:
        found = held(te.context, te.ridx, sanction.when, group)
    return list(dict.fromkeys(r for h in found for r in h.rows))


def resolution_ends(
    prep: Prepared,
    tl: SubjectTimeline,
    sanction: CompiledSanction,
    trigger: list[Interval],
    t: int,
) -> list[int] | None:
    """For a measure that ends ``after_resolution`` of its triggering records: per trigger
    period, that end (NEVER while one of them is not known at ``t`` to be resolved), else
    None. One function for one subject and for everyone (``bulk_standings`` calls ``own_periods``)."""
    delay = sanction.after_resolution
    if delay is None:
        return None
    return [resolution_end(prep, tl, sanction, start, t)[0] for start, _ in trigger]


def resolution_end(
    prep: Prepared, tl: SubjectTimeline, sanction: CompiledSanction, start: int, t: int
) -> tuple[int, int | None, list[int]]:
    """(end, the last resolution it runs from (None: one is unresolved), the triggering rows)
    of an ``after_resolution`` measure whose trigger started at ``start``."""
    delay = sanction.after_resolution
    assert delay is not None
    rows = triggering_rows(prep, tl, sanction, start, t)
    if not rows:
        return NEVER, None, rows
    resolved = prep.rows.resolved[np.asarray(rows, dtype=np.int64)]
    resolved = np.where(resolved <= t, resolved, NEVER)
    last = int(resolved.max())
    if last >= NEVER:
        return NEVER, None, rows
    end = prep.policy.after_one(last, delay)
    return end, last, rows


@dataclass(frozen=True)
class FoundMeasure:
    """A measure in force, with whom it comes from and when its trigger held."""

    sanction: CompiledSanction
    owner: int
    period: Interval
    trigger: list[Interval]
    via_relation: str | None = None
    via_subject: str | None = None


def upcoming_measure(
    policy: CompiledPolicy,
    sanction: CompiledSanction,
    pub: Publicity,
    behind: list[Held],
    refs: Callable[[tuple[int, ...]], list[str]],
    breakdown: list[RecordLine],
) -> Upcoming:
    """A published measure not yet in force, with the records behind it at ``t`` and those
    of the types it counts under an objection still open (at either stage)."""
    rows = tuple(dict.fromkeys(r for h in behind for r in h.rows))
    types = sanction_types(policy, sanction)
    under = [
        f"{x.source}/{x.id}"
        for x in breakdown
        if x.type in types
        and x.status in ("counts", "suspended while disputed")
        and (
            (x.disputed_at is not None and x.decided_at is None)
            or (x.reconsidered_at is not None and x.reconsideration_decided_at is None)
        )
    ]
    return Upcoming(
        name=sanction.name,
        service=sanction.service,
        effect=sanction.effect,
        reason_code=sanction.reason_code,
        published_at=pub.published,
        objections_until=pub.objections_until,
        starts=pub.starts,
        until=reported_time(pub.periods[-1][1]) if pub.periods else None,
        records=refs(rows),
        blocked_by=list(dict.fromkeys(under)),
        lists=[h.name for h in behind if h.kind == "list"],
        legal_basis=sanction.legal_basis,
        covers=sanction.covers,
    )


def list_period(
    prep: Prepared, tl: SubjectTimeline, index: int, instant: int, t: int
) -> Interval | None:
    """The period, known at ``t``, during which list ``index`` held around ``instant``."""
    lst = prep.policy.lists[index]
    refine = lst.when.uses_score() and prep.policy.any_decay
    return interval_at(intervals(prep.policy, prep.rows, tl, ("list", index), t, refine), instant)


def with_resolution(
    prep: Prepared, tl: SubjectTimeline, f: FoundMeasure, t: int, measure: Measure
) -> Measure:
    """``measure`` (ending ``after_resolution``) with the resolution its end runs from and
    the triggering records still unresolved, from the trigger period that sets its end."""

    best: tuple[int, int | None, list[int]] | None = None
    for start, _ in f.trigger:
        if start > t:
            continue
        found = resolution_end(prep, tl, f.sanction, start, t)
        # the trigger periods whose measure is in force at t; the latest end counts
        if found[0] > t and (best is None or found[0] >= best[0]):
            best = found
    if best is None:
        return measure
    _, last, rows = best
    resolved = prep.rows.resolved
    open_refs = [record_ref(prep, r) for r in rows if int(resolved[r]) > t]
    return replace(measure, resolved_on=last, unresolved=list(dict.fromkeys(open_refs)))


def trigger_instant(f: FoundMeasure, t: int) -> tuple[int, int | None]:
    """When to ask which part of ``f``'s trigger holds: at ``t`` if it holds then; else (a
    fixed-term measure that outlived its trigger) when the trigger that keeps it in force
    started, with the time that trigger ended."""
    if interval_at(f.trigger, t) is not None:
        return t, None
    start, end = f.period
    kept = [(a, b) for a, b in f.trigger if a <= t and b > start and a < end]
    if not kept:  # cannot happen for a measure in force; be safe
        return t, None
    a, b = kept[-1]
    return (a if a > BEGINNING else b - 1), b


def find_measures(
    prep: Prepared,
    subject: int,
    t: int,
    tls: dict[int, Any],
    rel_idx: npt.NDArray[np.intp],
    sanctions: Sequence[CompiledSanction],
) -> list[FoundMeasure]:
    """The measures among ``sanctions`` in force at ``t`` for ``subject``: its own, and those
    of subjects related to it (``rel_idx``) that reach it."""
    policy = prep.policy
    found: list[FoundMeasure] = []
    # measures with equal conditions and duration rules have equal periods (china-scs gives
    # twelve measures one condition): worked out once per subject
    periods: dict[tuple[Any, ...], tuple[list[Interval], Interval | None]] = {}

    def periods_of(s: int, sanction: CompiledSanction) -> tuple[list[Interval], Interval | None]:
        key = (s, *_period_rules(policy, sanction))
        if key not in periods:
            periods[key] = own_periods(prep, tls, s, sanction, t)
        return periods[key]

    for sanction in sanctions:
        trig, own = periods_of(subject, sanction)
        if own is not None:
            found.append(FoundMeasure(sanction, subject, own, trig))
        if not sanction.reach:
            continue
        for i in rel_idx:
            rel_name = policy.relation_names[prep.relations.type_code[i]]
            if rel_name not in sanction.reach:
                continue
            other = int(prep.relations.related[i])
            trig, theirs = periods_of(other, sanction)
            if theirs is None:
                continue
            start = max(theirs[0], int(prep.relations.valid_from[i]), int(prep.relations.known[i]))
            end = min(theirs[1], int(prep.relations.valid_until[i]))
            found.append(
                FoundMeasure(
                    sanction, other, (start, end), trig, rel_name, prep.columns.subjects[other]
                )
            )
    return found


def _period_rules(policy: CompiledPolicy, sanction: CompiledSanction) -> tuple[Any, ...]:
    """What a measure's periods depend on besides the timeline: its condition (equal
    conditions, one key) and its duration rules."""
    key = ("period_rules", sanction.index)
    found: tuple[Any, ...] | None = policy.cache.get(key)
    if found is None:
        found = policy.cache[key] = (
            id(canonical(policy, sanction.when)),
            sanction.fixed,
            sanction.max_duration,
            sanction.after_resolution,
            sanction.notice,
            sanction.objection_blocks,
            sanction.uses_score,
        )
    return found


def measures_of(
    prep: Prepared,
    subject: int,
    t: int,
    tls: dict[int, Any],
    rel_idx: npt.NDArray[np.intp],
    sanctions: Sequence[CompiledSanction],
) -> list[Measure]:
    """The measures among ``sanctions`` in force at ``t`` (own and through relations
    ``rel_idx``), without their conditions: what a decision needs."""
    found = find_measures(prep, subject, t, tls, rel_idx, sanctions)
    return [measure_result(f, in_force_from=prep.in_force_from) for f in found]


def measures_for_service(
    prep: Prepared,
    subject: int,
    service: str,
    t: int,
    attributes: Mapping[str, float | str] | None = None,
) -> list[Measure]:
    """The measures in force at ``t`` that decide ``service`` only (those on it or on a
    service it is part of; with ``attributes``, a request's validated attributes, only those
    whose ``applies_to`` holds): what a decision needs, and less work than a full
    ``standing`` (only the records those measures' conditions can count are evaluated).
    They carry no conditions (``lists`` empty): use ``standing`` to say why."""
    sanctions = list(prep.policy.sanctions_on(service, attributes))
    rel_idx = np.flatnonzero(relations_at(prep, t) & (prep.relations.subject == subject))
    if not any(s.reach for s in sanctions):
        rel_idx = rel_idx[:0]
    related = sorted({int(prep.relations.related[i]) for i in rel_idx})
    relevant = relevant_types(prep.policy, service, sanctions)
    if relevant is not None:
        keep = np.flatnonzero(relevant[prep.rows.type_code])
        prep = prep.with_rows(prep.rows.take(keep))
    tls = timelines(prep.policy, prep.rows, [subject, *related], t, [s.index for s in sanctions])
    return measures_of(prep, subject, t, tls, rel_idx, sanctions)


def counted_types(
    policy: CompiledPolicy, sanction: CompiledSanction
) -> npt.NDArray[np.bool_] | None:
    """Per record-type code (the last entry: unknown types), whether ``sanction``'s condition
    (with the lists it names) can count a record of it; None when it depends on the score."""
    key = ("counted_types", sanction.index)
    if key in policy.cache:
        cached: npt.NDArray[np.bool_] | None = policy.cache[key]
        return cached
    table: npt.NDArray[np.bool_] | None = None
    if not sanction.uses_score:
        table = _type_table(
            policy,
            [sanction.when] + [lst.when for lst in policy.lists if lst.name in sanction.lists],
        )
    policy.cache[key] = table
    return table


def _type_table(policy: CompiledPolicy, preds: list[Predicate]) -> npt.NDArray[np.bool_]:
    table = np.zeros(len(policy.type_names) + 1, dtype=bool)
    for pred in preds:
        for p in pred.walk():
            if p.records is None:
                continue
            for i, name in enumerate(policy.type_names):
                if name in p.records.type_names() or policy.category[i] == p.records.category:
                    table[i] = True
                if p.records.after is not None and name == p.records.after.type_name:
                    table[i] = True  # its records open the window
    return table


def relevant_types(
    policy: CompiledPolicy, service: str, sanctions: Sequence[CompiledSanction] | None = None
) -> npt.NDArray[np.bool_] | None:
    """Per record-type code (the last entry: a type the policy does not know, code -1), whether
    a condition of a measure deciding ``service`` (``sanctions``; default: every measure
    covering it) can count it; None when one depends on the score (then every record
    matters). Records of other types cannot change those measures."""
    if sanctions is None:
        sanctions = policy.covering(service)
    return types_counted(policy, sanctions)


def types_counted(
    policy: CompiledPolicy, sanctions: Sequence[CompiledSanction]
) -> npt.NDArray[np.bool_] | None:
    """Per record-type code (the last entry: code -1), whether the condition of one of
    ``sanctions`` (or a list it names) can count it; None when one depends on the score
    (cached per set of sanctions)."""
    key = ("relevant_types", tuple(s.index for s in sanctions))
    if key in policy.cache:
        cached: npt.NDArray[np.bool_] | None = policy.cache[key]
        return cached
    table: npt.NDArray[np.bool_] | None = np.zeros(len(policy.type_names) + 1, dtype=bool)
    if any(s.uses_score for s in sanctions):
        table = None
    else:
        preds = [s.when for s in sanctions] + [
            lst.when for lst in policy.lists if any(lst.name in s.lists for s in sanctions)
        ]
        table = _type_table(policy, preds)
    policy.cache[key] = table
    return table


def ended_measures(
    prep: Prepared,
    subject: int,
    service: str,
    t: int,
    effect: str = "deny",
    tls: dict[int, SubjectTimeline] | None = None,
    attributes: Mapping[str, float | str] | None = None,
) -> list[Measure]:
    """The subject's own measures (by default denials) on ``service`` that applied before
    ``t`` and have ended (without conditions), for the part of their period after the policy
    came into force (``prep.in_force_from``): one that ended before then is left out, one
    that began before then is reported from then (``since_policy_start``).

    ``tls``: timelines at ``t`` already computed for the subject (from ``standing_and_timelines``).
    """
    if tls is None or subject not in tls:
        tls = timelines(prep.policy, prep.rows, [subject], t)
    out = []
    for sanction in prep.policy.sanctions_on(service, attributes):
        if sanction.effect != effect:
            continue
        trig, periods = measure_periods(prep, tls[subject], sanction, t)
        for start, end in periods:
            if end > t or (prep.in_force_from is not None and end <= prep.in_force_from):
                continue
            found = FoundMeasure(sanction, subject, (start, end), trig)
            out.append(measure_result(found, in_force_from=prep.in_force_from))
    return out


def measure_result(
    f: FoundMeasure,
    conditions: list[Condition] | None = None,
    trigger_ended: int | None = None,
    in_force_from: int | None = None,
) -> Measure:
    """The measure ``f`` as reported (with ``conditions`` when the caller says why)."""
    sanction = f.sanction
    conditions = conditions or []
    since, flagged = reported_since(f.period[0], in_force_from)
    return Measure(
        name=sanction.name,
        service=sanction.service,
        effect=sanction.effect,
        reason_code=sanction.reason_code,
        since=since,
        until=reported_time(f.period[1]),
        lists=[c.name for c in conditions if c.kind == "list"],
        via_relation=f.via_relation,
        via_subject=f.via_subject,
        legal_basis=sanction.legal_basis,
        description=sanction.description,
        conditions=conditions,
        trigger_ended=reported_time(trigger_ended) if trigger_ended is not None else None,
        since_policy_start=flagged,
        covers=sanction.covers,
        applies_to=sanction.applies_to,
        after_resolution=(
            None if sanction.after_resolution is None else sanction.after_resolution.written()
        ),
    )
