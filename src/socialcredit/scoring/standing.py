"""A subject's standing at a time: score, grade, lists, measures in force, and why.

Pure functions of (ledger columns, compiled policy, time). One implementation serves one
subject (with full detail) and everyone at once (``bulk_standings``), and tests check the
two agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from socialcredit.columns import SUBJECT_KINDS
from socialcredit.policy.compiled import (
    NOT_DETERMINABLE,
    CompiledPolicy,
    CompiledSanction,
    later_one,
    sanction_types,
)
from socialcredit.policy.model import Predicate
from socialcredit.scoring.evaluate import (
    COUNTS,
    EXPIRED,
    INELIGIBLE,
    NO_DELAY,
    STATUS_NAMES,
    Evaluation,
    EvaluationContext,
    evaluate_in_context,
)
from socialcredit.scoring.facts import (
    eligibility_plan,
    in_force_rows,
    unmet_conditions,
)
from socialcredit.scoring.forms import calendar_year
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.reasons import Held, held
from socialcredit.scoring.results import (
    ComponentValue,
    Condition,
    Exemption,
    Measure,
    Membership,
    NotEligible,
    RecordLine,
    ScoreValue,
    Standing,
    Upcoming,
)
from socialcredit.scoring.timeline import (
    BEGINNING,
    Interval,
    Publicity,
    SubjectTimeline,
    interval_at,
    intervals,
    measure_intervals,
    publicity,
    publicity_periods,
    timelines,
    timelines_in_context,
)
from socialcredit.spans import Span
from socialcredit.timeutil import NEVER

I64 = npt.NDArray[np.int64]


def _opt(ts: int) -> int | None:
    return None if ts >= NEVER or ts <= BEGINNING else ts


def _since(start: int, in_force_from: int | None) -> tuple[int | None, bool]:
    """A start as reported: never before the policy came into force (then flagged)."""
    if in_force_from is not None and start < in_force_from:
        return in_force_from, True
    return _opt(start), False


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
    return _own(prep, timeline_cache, s, sanction, t)[1]


def _own(
    prep: Prepared, timeline_cache: dict[int, Any], s: int, sanction: CompiledSanction, t: int
) -> tuple[list[Interval], Interval | None]:
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
    None. One function for one subject and for everyone (``bulk_standings`` calls ``_own``)."""
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
class _Found:
    """A measure in force, with whom it comes from and when its trigger held."""

    sanction: CompiledSanction
    owner: int
    period: Interval
    trigger: list[Interval]
    via_relation: str | None = None
    via_subject: str | None = None


def standing(prep: Prepared, subject: int, t: int) -> Standing:
    """The full standing of subject index ``subject`` at ``t``.

    Records known after ``t`` are ignored; "until" dates assume nothing else happens. Each
    measure names only the lists and conditions that hold for whom it comes from.
    """
    return standing_and_timelines(prep, subject, t)[0]


def standing_and_timelines(
    prep: Prepared, subject: int, t: int
) -> tuple[Standing, dict[int, SubjectTimeline]]:
    """``standing`` and the timelines it was computed from (subject and related subjects)."""
    policy, rows = prep.policy, prep.rows
    rel_ok = relations_at(prep, t)
    rel_idx = np.flatnonzero(rel_ok & (prep.relations.subject == subject))
    related = sorted({int(prep.relations.related[i]) for i in rel_idx})
    tls, te = timelines_in_context(policy, rows, [subject, *related], t)
    assert te is not None
    tl = tls[subject]
    now = int(np.searchsorted(tl.times, t, side="right") - 1)
    found = _find(prep, subject, t, tls, rel_idx, policy.sanctions)

    # The timelines' evaluation answers the score and breakdown (the subject at t, always a
    # breakpoint) and, where the instant is a breakpoint, which part of each measure's
    # trigger holds; other instants (a trigger start located inside a segment) are
    # evaluated together in one more evaluation.
    here = te.group(tl, t)
    assert here is not None
    at_t = te.context.gidx == here
    rid = te.ridx[at_t]
    ev = te.evaluation
    breakdown = _breakdown(prep, rid, ev.status[at_t], ev.contribution[at_t], t)
    score, grade = float(ev.score[here]), int(ev.grade[here])
    scores = score_values(prep, ev, here, rid, ev.status[at_t], t)
    asked: list[tuple[tuple[int, int], int | None]] = []  # per measure: (owner, instant), end
    for f in found:
        instant, ended = _trigger_instant(f, t)
        asked.append(((f.owner, instant), ended))
    where: dict[tuple[int, int], tuple[EvaluationContext, I64, int]] = {}
    missing: list[tuple[int, int]] = []
    for key, _ in asked:
        if key in where or key in missing:
            continue
        g = te.group(tls[key[0]], key[1])
        if g is None:
            missing.append(key)
        else:
            where[key] = (te.context, te.ridx, g)
    if missing:
        parts = [np.flatnonzero(rows.subject == o).astype(np.int64) for o, _ in missing]
        m_ridx = np.concatenate(parts).astype(np.int64)
        m_gidx = np.concatenate(
            [np.full(len(p), g, dtype=np.int64) for g, p in enumerate(parts)]
        ).astype(np.int64)
        _, m_ctx = evaluate_in_context(
            policy,
            rows,
            m_ridx,
            m_gidx,
            np.array([e for _, e in missing], dtype=np.int64),
            np.full(len(missing), t, dtype=np.int64),
            g_subject=np.array([o for o, _ in missing], dtype=np.int64),
        )
        for g, key in enumerate(missing):
            where[key] = (m_ctx, m_ridx, g)

    def refs(row_ids: tuple[int, ...]) -> list[str]:
        return [_ref(prep, r) for r in row_ids]

    memos: dict[int, dict[tuple[str, int, Span], list[Held]]] = {}

    def held_at(key: tuple[int, int], pred: Predicate, delay: Span) -> list[Held]:
        ctx, ridx, g = where[key]
        return held(ctx, ridx, pred, g, delay, memos.setdefault(id(ctx), {}))

    where[(subject, t)] = (te.context, te.ridx, here)
    memberships = []
    for lst in policy.lists:
        if not tl.lists[lst.index, now]:
            continue
        period = _list_period(prep, tl, lst.index, t, t)
        behind = held_at((subject, t), lst.when, lst.delist_delay)
        since, flagged = _since(period[0], prep.in_force_from) if period else (None, False)
        memberships.append(
            Membership(
                lst.name,
                lst.kind,
                since,
                _opt(period[1]) if period else None,
                refs(tuple(dict.fromkeys(r for h in behind for r in h.rows))),
                flagged,
            )
        )

    measures = []
    for f, (key, ended) in zip(found, asked, strict=True):
        instant = key[1]
        conditions = []
        for h in held_at(key, f.sanction.when, NO_DELAY):
            list_ended = None
            if h.kind == "list" and ended is not None:
                period = _list_period(prep, tls[f.owner], policy.list_index(h.name), instant, t)
                list_ended = period[1] if period and period[1] <= t else None
            conditions.append(
                Condition(
                    h.kind,
                    h.name,
                    refs(h.rows),
                    list_ended,
                    h.kind in _SCORE_KINDS or any(p.kind in _SCORE_KINDS for p in h.parts),
                    refs(h.anchors),
                    h.after,
                    h.within,
                )
            )
        measure = _measure(f, conditions, ended, prep.in_force_from)
        if f.sanction.after_resolution is not None:
            measure = _with_resolution(prep, tls[f.owner], f, t, measure)
        measures.append(measure)
    not_eligible = _not_eligible(prep, subject, t, ev.ineligible, here, ev.status[at_t], rid)

    upcoming: list[Upcoming] = []
    for sanction in policy.sanctions:
        if sanction.notice is None:
            continue
        pubs = publicity(policy, tl, sanction)
        for i, m in enumerate(measures):
            if m.name == sanction.name and m.via_subject is None and m.since is not None:
                pub = next((p for p in pubs if any(a <= t < b for a, b in p.periods)), None)
                if pub is not None:
                    measures[i] = replace(
                        m, published_at=pub.published, objections_until=pub.objections_until
                    )
        for pub in pubs:
            if pub.published <= t < pub.ends and (pub.starts is None or pub.starts > t):
                behind = held_at((subject, t), sanction.when, NO_DELAY)
                upcoming.append(_upcoming(policy, sanction, pub, behind, refs, breakdown))

    kind_code = int(prep.columns.subject_kind[subject]) if len(prep.columns.subject_kind) else 0
    return Standing(
        subject=prep.columns.subjects[subject],
        kind=SUBJECT_KINDS[kind_code],
        at=t,
        policy_version=policy.version_label,
        policy_hash=policy.loaded.content_hash,
        score=score,
        grade=policy.grade_label(grade),
        lists=memberships,
        measures=measures,
        breakdown=breakdown,
        base=policy.base,
        services=tuple(policy.services()),
        upcoming=upcoming,
        not_eligible=not_eligible,
        exemptions=exemptions_at(prep, subject, t),
        scores=scores,
    ), tls


def score_values(
    prep: Prepared, ev: Evaluation, group: int, rid: I64, status: npt.NDArray[np.int8], t: int
) -> list[ScoreValue]:
    """Every score of group ``group`` of ``ev`` (rows ``rid`` with ``status``), with its
    components: what each earned, what counts within its bounds and the records behind it."""
    policy = prep.policy
    if policy.plain_score:
        sc = policy.scores[0]
        band = int(ev.grade[group])
        return [
            ScoreValue(
                name=sc.key,
                display_name=sc.display_name,
                named=sc.name is not None,
                value=float(ev.score[group]),
                grade=sc.grade_label(band),
                grade_note="" if band >= 0 else NOT_DETERMINABLE,
                base=sc.base,
            )
        ]
    code = prep.rows.type_code[rid]
    safe = np.where(code >= 0, code, len(policy.type_names))
    counts = status == COUNTS
    happened = counts | (status == EXPIRED)
    out = []
    for sc in policy.scores:
        components = []
        for j, c in enumerate(sc.components):
            earned = float(ev.components[sc.index][j, group])
            value = float(np.clip(earned, c.low, c.high))
            years: list[int] = []
            records: list[str] = []
            if c.clean_points is not None:
                dirty = set(
                    calendar_year(prep.rows.occurred[rid[happened & c.counts[safe]]]).tolist()
                )
                years = [y for y in range(c.first_year, _year_of(t)) if y not in dirty]
            else:
                records = [_ref(prep, int(r)) for r in rid[counts & c.counts[safe]]]
            components.append(
                ComponentValue(
                    name=c.name,
                    display_name=c.display_name,
                    kind="clean_year" if c.clean_year else "records",
                    earned=earned,
                    value=value,
                    weight=c.weight,
                    contribution=c.weight * value,
                    min=float(c.low) if np.isfinite(c.low) else None,
                    max=float(c.high) if np.isfinite(c.high) else None,
                    records=list(dict.fromkeys(records)),
                    clean_years=years,
                )
            )
        band = int(ev.grades[sc.index][group])
        out.append(
            ScoreValue(
                name=sc.key,
                display_name=sc.display_name,
                named=sc.name is not None,
                value=float(ev.scores[sc.index][group]),
                grade=sc.grade_label(band),
                grade_note="" if band >= 0 else NOT_DETERMINABLE,
                base=sc.base,
                components=components,
            )
        )
    return out


def _year_of(t: int) -> int:
    return int(calendar_year(np.array([t], dtype=np.int64))[0])


_SCORE_KINDS = ("score_below", "score_at_least", "grade_in")


def _upcoming(
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
        until=_opt(pub.periods[-1][1]) if pub.periods else None,
        records=refs(rows),
        blocked_by=list(dict.fromkeys(under)),
        lists=[h.name for h in behind if h.kind == "list"],
        legal_basis=sanction.legal_basis,
        covers=sanction.covers,
    )


def _ref(prep: Prepared, row: int) -> str:
    rec = int(prep.rows.record[row])
    return f"{prep.columns.rec_source[rec]}/{prep.columns.rec_id[rec]}"


def _list_period(
    prep: Prepared, tl: SubjectTimeline, index: int, instant: int, t: int
) -> Interval | None:
    """The period, known at ``t``, during which list ``index`` held around ``instant``."""
    lst = prep.policy.lists[index]
    refine = lst.when.uses_score() and prep.policy.any_decay
    return interval_at(intervals(prep.policy, prep.rows, tl, ("list", index), t, refine), instant)


def _with_resolution(
    prep: Prepared, tl: SubjectTimeline, f: _Found, t: int, measure: Measure
) -> Measure:
    """``measure`` (ending ``after_resolution``) with the resolution its end runs from and
    the triggering records still unresolved, from the trigger period that sets its end."""
    from dataclasses import replace

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
    open_refs = [_ref(prep, r) for r in rows if int(resolved[r]) > t]
    return replace(measure, resolved_on=last, unresolved=list(dict.fromkeys(open_refs)))


def _trigger_instant(f: _Found, t: int) -> tuple[int, int | None]:
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


def _find(
    prep: Prepared,
    subject: int,
    t: int,
    tls: dict[int, Any],
    rel_idx: npt.NDArray[np.intp],
    sanctions: Sequence[CompiledSanction],
) -> list[_Found]:
    policy = prep.policy
    found: list[_Found] = []
    for sanction in sanctions:
        trig, own = _own(prep, tls, subject, sanction, t)
        if own is not None:
            found.append(_Found(sanction, subject, own, trig))
        if not sanction.reach:
            continue
        for i in rel_idx:
            rel_name = policy.relation_names[prep.relations.type_code[i]]
            if rel_name not in sanction.reach:
                continue
            other = int(prep.relations.related[i])
            trig, theirs = _own(prep, tls, other, sanction, t)
            if theirs is None:
                continue
            start = max(theirs[0], int(prep.relations.valid_from[i]), int(prep.relations.known[i]))
            end = min(theirs[1], int(prep.relations.valid_until[i]))
            found.append(
                _Found(sanction, other, (start, end), trig, rel_name, prep.columns.subjects[other])
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
    found = _find(prep, subject, t, tls, rel_idx, sanctions)
    return [_measure(f, in_force_from=prep.in_force_from) for f in found]


def exemptions_at(prep: Prepared, subject: int, t: int) -> list[Exemption]:
    """Every exemption of ``subject`` in force at ``t``, with what the ledger knew at ``t``,
    in ledger order."""
    facts = prep.rows.facts
    if facts is None or not len(facts.exemptions.subject):
        return []
    rows = in_force_rows(facts, subject, t)
    return [_exemption(prep, j) for j in rows.tolist()]


def _exemption(prep: Prepared, j: int) -> Exemption:
    facts = prep.rows.facts
    assert facts is not None
    x = facts.exemptions
    c = prep.columns
    i = int(x.index[j])
    approved = int(c.exm_approved_at[i])
    services = tuple(sorted(x.services[j]))
    policy = prep.policy
    covers = tuple(
        s for s in policy.services() if any(n in policy.service_chain(s) for n in services)
    )
    return Exemption(
        source=str(c.exm_source[i]),
        id=str(c.exm_id[i]),
        services=services,
        valid_from=int(x.valid_from[j]),
        valid_until=_opt(int(x.valid_until[j])),
        reason=str(c.exm_reason[i]),
        approved_by=str(c.exm_approved_by[i]),
        approved_at=approved if approved >= 0 else None,
        recorded_at=int(x.known[j]),
        covers=covers,
    )


def _not_eligible(
    prep: Prepared,
    subject: int,
    t: int,
    ineligible: npt.NDArray[np.bool_] | None,
    group: int,
    status: npt.NDArray[np.int8],
    rid: I64,
) -> list[NotEligible]:
    """The lists whose condition holds for ``subject`` at ``t`` and the record types with
    records that would count, whose eligibility the subject does not meet, with why."""
    policy = prep.policy
    plan = eligibility_plan(policy)
    if not plan.any:
        return []
    out = []
    if ineligible is not None:
        for lst in policy.lists:
            if ineligible[lst.index, group]:
                conditions = plan.sets[int(plan.list_set[lst.index])]
                out.append(
                    NotEligible("list", lst.name, _unmet_texts(prep, conditions, subject, t))
                )
    hit = sorted({int(prep.rows.type_code[r]) for r in rid[status == INELIGIBLE].tolist()})
    for code in hit:
        conditions = plan.sets[int(plan.type_set[code])]
        name = policy.type_names[code]
        out.append(NotEligible("record_type", name, _unmet_texts(prep, conditions, subject, t)))
    return out


def _unmet_texts(prep: Prepared, conditions: tuple[Any, ...], subject: int, t: int) -> list[str]:
    from socialcredit.explain_text import unmet_text

    facts = prep.rows.facts
    return [
        unmet_text(prep.policy, facts, u, t)
        for u in unmet_conditions(facts, prep.policy, conditions, subject, t)
    ]


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
            found = _Found(sanction, subject, (start, end), trig)
            out.append(_measure(found, in_force_from=prep.in_force_from))
    return out


def _measure(
    f: _Found,
    conditions: list[Condition] | None = None,
    trigger_ended: int | None = None,
    in_force_from: int | None = None,
) -> Measure:
    sanction = f.sanction
    conditions = conditions or []
    since, flagged = _since(f.period[0], in_force_from)
    return Measure(
        name=sanction.name,
        service=sanction.service,
        effect=sanction.effect,
        reason_code=sanction.reason_code,
        since=since,
        until=_opt(f.period[1]),
        lists=[c.name for c in conditions if c.kind == "list"],
        via_relation=f.via_relation,
        via_subject=f.via_subject,
        legal_basis=sanction.legal_basis,
        description=sanction.description,
        conditions=conditions,
        trigger_ended=_opt(trigger_ended) if trigger_ended is not None else None,
        since_policy_start=flagged,
        covers=sanction.covers,
        applies_to=sanction.applies_to,
        after_resolution=(
            None if sanction.after_resolution is None else sanction.after_resolution.written()
        ),
    )


def record_lines(
    prep: Prepared, subject: int, t: int, tls: dict[int, SubjectTimeline] | None = None
) -> list[RecordLine]:
    """The record breakdown of ``standing(prep, subject, t)`` alone: what an explanation shows
    of whom a measure comes through. ``tls``: timelines at ``t`` already computed (from
    ``standing_and_timelines``); the subject's, if there, answer without a new evaluation."""
    tl = tls.get(subject) if tls else None
    te = tl.source if tl is not None else None
    group = te.group(tl, t) if te is not None and tl is not None else None
    if te is not None and group is not None:
        here = te.context.gidx == group
        ev = te.evaluation
        return _breakdown(prep, te.ridx[here], ev.status[here], ev.contribution[here], t)
    rid = np.flatnonzero(prep.rows.subject == subject).astype(np.int64)
    ev, _ = evaluate_in_context(
        prep.policy,
        prep.rows,
        rid,
        np.zeros(len(rid), dtype=np.int64),
        np.array([t], dtype=np.int64),
        np.array([t], dtype=np.int64),
        g_subject=np.array([subject], dtype=np.int64),
    )
    return _breakdown(prep, rid, ev.status, ev.contribution, t)


def _stages(
    policy: CompiledPolicy,
    process: int,
    disputed: int,
    decided: int,
    reconsidered: int,
    decided2: int,
    t: int,
) -> dict[str, int | None]:
    """A record's due-process stages as of ``t`` (times after ``t`` already NEVER): the
    decisions, the reconsideration, when the open stage is due, and since when it is
    overdue under ``on_overdue: flag``."""
    if disputed > t:
        return {}
    proc = policy.processes[process]
    due = None
    if decided >= NEVER:
        due = later_one(policy, disputed, proc.review_deadline)
    elif reconsidered < NEVER and decided2 >= NEVER and proc.reconsider_deadline is not None:
        due = later_one(policy, reconsidered, proc.reconsider_deadline)
    return {
        "decided_at": _opt(decided),
        "reconsidered_at": _opt(reconsidered),
        "reconsideration_decided_at": _opt(decided2),
        "review_due": due,
        "overdue_since": due
        if due is not None and due <= t and proc.on_overdue == "flag"
        else None,
    }


def _breakdown(
    prep: Prepared,
    rid: I64,
    status: npt.NDArray[np.int8],
    contribution: npt.NDArray[np.float64],
    t: int,
) -> list[RecordLine]:
    policy, rows, cols = prep.policy, prep.rows, prep.columns
    # plain Python values, read once per column: a breakdown has few rows, and indexing NumPy
    # arrays one element at a time costs more than the whole conversion
    visible = rows.visible_from[rid].tolist()
    known = rows.known[rid].tolist()
    record = rows.record[rid].tolist()
    type_code = rows.type_code[rid].tolist()
    occurred = rows.occurred[rid].tolist()
    amounts = rows.amount[rid].tolist()
    resolved = rows.resolved[rid].tolist()
    disputed = rows.disputed[rid].tolist()
    dispute_late = rows.dispute_late[rid].tolist()
    rectification = rows.rectification[rid].tolist()
    decided = rows.decided[rid].tolist()
    reconsidered = rows.reconsidered[rid].tolist()
    decided2 = rows.reconsideration_decided[rid].tolist()
    process = rows.process[rid].tolist()
    statuses = status.tolist()
    contributions = contribution.tolist()
    expires_at = rows.expires[rid].tolist()
    flags = rows.term_flags[rid].tolist()
    points = policy.points.tolist()
    lines = []
    for j, r in enumerate(rid.tolist()):
        if visible[j] > t or known[j] > t:
            continue  # nobody knew of this version at t
        rec = record[j]
        code = type_code[j]
        expires = expires_at[j] if code >= 0 else NEVER
        amount = amounts[j]
        stages = _stages(
            policy,
            process[j],
            disputed[j],
            decided[j] if decided[j] <= t else NEVER,
            reconsidered[j] if reconsidered[j] <= t else NEVER,
            decided2[j] if decided2[j] <= t else NEVER,
            t,
        )
        lines.append(
            RecordLine(
                row=r,
                source=str(cols.rec_source[rec]),
                id=str(cols.rec_id[rec]),
                type=policy.type_names[code] if code >= 0 else str(cols.rec_type[rec]),
                occurred_at=occurred[j],
                recorded_at=known[j],
                points=points[code] if code >= 0 else 0.0,
                contribution=contributions[j],
                status=STATUS_NAMES[statuses[j]],
                expires_at=_opt(expires),
                resolved_at=_opt(resolved[j]) if resolved[j] <= t else None,
                disputed_at=_opt(disputed[j]) if disputed[j] <= t else None,
                dispute_late_at=_opt(dispute_late[j]) if dispute_late[j] <= t else None,
                rectified=rectification[j] >= 0,
                amount=None if math.isnan(amount) else amount,
                term=term_note(prep, rec, code, flags[j], visible[j]) if flags[j] else None,
                **stages,
            )
        )
    return lines


def term_note(prep: Prepared, rec: int, code: int, flags: int, known_at: int) -> str:
    """How a record version's expiry came about, in words (its own term, whether it was
    clamped to the type's bounds, extensions and an early end known by ``known_at``)."""
    from socialcredit.columns import END, EXTEND
    from socialcredit.scoring.rows import (
        TERM_CLAMPED,
        TERM_ENDED,
        TERM_EXTENDED,
        TERM_EXTENSION_CAPPED,
        TERM_OWN,
    )
    from socialcredit.term_words import duration_words
    from socialcredit.timeutil import to_date

    policy, cols = prep.policy, prep.columns

    def _words(span: Span | None) -> str:
        return "no end" if span is None else duration_words(span)

    parts = []
    if flags & TERM_OWN:
        given = duration_words(str(cols.rec_term[rec]))
        if flags & TERM_CLAMPED:
            low, high = policy.term_min[code], policy.term_max[code]
            parts.append(
                f"the term given for it ({given}) is outside what the policy allows for "
                f"{policy.type_names[code].replace('_', ' ')} records "
                f"({_words(low)} to {_words(high)}), so the nearest bound is used"
            )
        else:
            parts.append(f"its term was set at {given}")
    mine = np.flatnonzero(
        (cols.cor_target == cols.rec_seq[rec]) & (cols.cor_recorded_at <= known_at)
    ).tolist()
    if flags & TERM_EXTENDED:
        for c in mine:
            if int(cols.cor_action[c]) == EXTEND:
                parts.append(
                    f"extended by {duration_words(str(cols.cor_term[c]))} on "
                    f"{to_date(int(cols.cor_occurred_at[c]))}"
                )
        if flags & TERM_EXTENSION_CAPPED:
            cap = duration_words(policy.ext_max[code])
            parts.append(f"the extensions together are capped at {cap}, the most the policy allows")
    if flags & TERM_ENDED:
        ends = [int(cols.cor_occurred_at[c]) for c in mine if int(cols.cor_action[c]) == END]
        if ends:
            parts.append(f"ended early on {to_date(min(ends))}")
    return "; ".join(parts)
