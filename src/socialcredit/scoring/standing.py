"""A subject's standing at a time: score, grade, lists, measures in force, and why.

Pure functions of (ledger columns, compiled policy, time). One implementation serves one
subject (with full detail) and everyone at once (``bulk_standings``), and tests check the
two agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from socialcredit.columns import SUBJECT_KINDS
from socialcredit.policy.compiled import CompiledSanction
from socialcredit.scoring.evaluate import STATUS_NAMES, evaluate_in_context
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.reasons import Held, held
from socialcredit.scoring.results import Condition, Measure, Membership, RecordLine, Standing
from socialcredit.scoring.timeline import (
    BEGINNING,
    Interval,
    SubjectTimeline,
    interval_at,
    intervals,
    measure_intervals,
    timelines,
)
from socialcredit.timeutil import NEVER

I64 = npt.NDArray[np.int64]


def _opt(ts: int) -> int | None:
    return None if ts >= NEVER or ts <= BEGINNING else ts


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
    tl = timeline_cache[s]
    refine = sanction.uses_score and prep.policy.any_decay
    trig = intervals(prep.policy, prep.rows, tl, ("trigger", sanction.index), t, refine)
    return trig, interval_at(measure_intervals(trig, sanction.fixed, sanction.max_duration), t)


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
    tls = timelines(policy, rows, [subject, *related], t)
    tl = tls[subject]
    now = int(np.searchsorted(tl.times, t, side="right") - 1)
    found = _find(prep, subject, t, tls, rel_idx, policy.sanctions)

    # One evaluation answers the score and breakdown (group 0: the subject at t) and which
    # part of each measure's trigger holds (a group per owner and instant).
    groups: dict[tuple[int, int], int] = {(subject, t): 0}
    asked: list[tuple[int, int | None]] = []  # per measure: group, when its trigger ended
    for f in found:
        instant, ended = _trigger_instant(f, t)
        asked.append((groups.setdefault((f.owner, instant), len(groups)), ended))
    owner_rows: dict[int, I64] = {}
    for owner, _ in groups:
        if owner not in owner_rows:
            owner_rows[owner] = np.flatnonzero(rows.subject == owner).astype(np.int64)
    ridx = np.concatenate([owner_rows[o] for o, _ in groups]).astype(np.int64)
    gidx = np.concatenate(
        [np.full(len(owner_rows[o]), g, dtype=np.int64) for g, (o, _) in enumerate(groups)]
    )
    ev, ctx = evaluate_in_context(
        policy,
        rows,
        ridx,
        gidx,
        np.array([e for _, e in groups], dtype=np.int64),
        np.full(len(groups), t, dtype=np.int64),
    )
    rid = owner_rows[subject]
    n0 = len(rid)
    breakdown = _breakdown(prep, rid, ev.status[:n0], ev.contribution[:n0], t)

    def refs(row_ids: tuple[int, ...]) -> list[str]:
        return [_ref(prep, r) for r in row_ids]

    memo: dict[tuple[str, int, int], list[Held]] = {}
    memberships = []
    for lst in policy.lists:
        if not tl.lists[lst.index, now]:
            continue
        period = _list_period(prep, tl, lst.index, t, t)
        behind = held(ctx, ridx, lst.when, 0, lst.delist_delay, memo)
        memberships.append(
            Membership(
                lst.name,
                lst.kind,
                _opt(period[0]) if period else None,
                _opt(period[1]) if period else None,
                refs(tuple(dict.fromkeys(r for h in behind for r in h.rows))),
            )
        )

    keys = list(groups)
    measures = []
    for f, (g, ended) in zip(found, asked, strict=True):
        instant = keys[g][1]
        conditions = []
        for h in held(ctx, ridx, f.sanction.when, g, 0, memo):
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
                )
            )
        measures.append(_measure(f, conditions, ended))

    kind_code = int(prep.columns.subject_kind[subject]) if len(prep.columns.subject_kind) else 0
    return Standing(
        subject=prep.columns.subjects[subject],
        kind=SUBJECT_KINDS[kind_code],
        at=t,
        policy_version=policy.version_label,
        policy_hash=policy.loaded.content_hash,
        score=float(ev.score[0]),
        grade=policy.grade_names[int(ev.grade[0])],
        lists=memberships,
        measures=measures,
        breakdown=breakdown,
        base=policy.base,
    ), tls


_SCORE_KINDS = ("score_below", "score_at_least", "grade_in")


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
    return [_measure(f) for f in _find(prep, subject, t, tls, rel_idx, sanctions)]


def measures_for_service(prep: Prepared, subject: int, service: str, t: int) -> list[Measure]:
    """The measures in force at ``t`` on ``service`` only: what a decision needs, and less work
    than a full ``standing``. They carry no conditions (``lists`` empty): use ``standing`` to
    say why."""
    sanctions = [s for s in prep.policy.sanctions if s.service == service]
    rel_idx = np.flatnonzero(relations_at(prep, t) & (prep.relations.subject == subject))
    if not any(s.reach for s in sanctions):
        rel_idx = rel_idx[:0]
    related = sorted({int(prep.relations.related[i]) for i in rel_idx})
    tls = timelines(prep.policy, prep.rows, [subject, *related], t)
    return measures_of(prep, subject, t, tls, rel_idx, sanctions)


def ended_measures(
    prep: Prepared,
    subject: int,
    service: str,
    t: int,
    effect: str = "deny",
    tls: dict[int, SubjectTimeline] | None = None,
) -> list[Measure]:
    """The subject's own measures (by default denials) on ``service`` that applied before
    ``t`` and have ended (without conditions).

    ``tls``: timelines at ``t`` already computed for the subject (from ``standing_and_timelines``).
    """
    if tls is None or subject not in tls:
        tls = timelines(prep.policy, prep.rows, [subject], t)
    out = []
    for sanction in prep.policy.sanctions:
        if sanction.service != service or sanction.effect != effect:
            continue
        refine = sanction.uses_score and prep.policy.any_decay
        trig = intervals(
            prep.policy, prep.rows, tls[subject], ("trigger", sanction.index), t, refine
        )
        for start, end in measure_intervals(trig, sanction.fixed, sanction.max_duration):
            if end <= t:
                out.append(_measure(_Found(sanction, subject, (start, end), trig)))
    return out


def _measure(
    f: _Found, conditions: list[Condition] | None = None, trigger_ended: int | None = None
) -> Measure:
    sanction = f.sanction
    conditions = conditions or []
    return Measure(
        name=sanction.name,
        service=sanction.service,
        effect=sanction.effect,
        reason_code=sanction.reason_code,
        since=_opt(f.period[0]),
        until=_opt(f.period[1]),
        lists=[c.name for c in conditions if c.kind == "list"],
        via_relation=f.via_relation,
        via_subject=f.via_subject,
        legal_basis=sanction.legal_basis,
        description=sanction.description,
        conditions=conditions,
        trigger_ended=_opt(trigger_ended) if trigger_ended is not None else None,
    )


def record_lines(prep: Prepared, subject: int, t: int) -> list[RecordLine]:
    """The record breakdown of ``standing(prep, subject, t)`` alone (one evaluation, no
    timelines): what an explanation shows of whom a measure comes through."""
    rid = np.flatnonzero(prep.rows.subject == subject).astype(np.int64)
    ev, _ = evaluate_in_context(
        prep.policy,
        prep.rows,
        rid,
        np.zeros(len(rid), dtype=np.int64),
        np.array([t], dtype=np.int64),
        np.array([t], dtype=np.int64),
    )
    return _breakdown(prep, rid, ev.status, ev.contribution, t)


def _breakdown(
    prep: Prepared,
    rid: I64,
    status: npt.NDArray[np.int8],
    contribution: npt.NDArray[np.float64],
    t: int,
) -> list[RecordLine]:
    policy, rows, cols = prep.policy, prep.rows, prep.columns
    lines = []
    for j, r in enumerate(rid):
        st = int(status[j])
        if rows.visible_from[r] > t or rows.known[r] > t:
            continue  # nobody knew of this version at t
        rec = int(rows.record[r])
        code = int(rows.type_code[r])
        life = int(policy.lifetime[code]) if code >= 0 else NEVER
        expires = int(rows.occurred[r]) + life if life < NEVER else NEVER
        amount = float(rows.amount[r])
        lines.append(
            RecordLine(
                row=int(r),
                source=str(cols.rec_source[rec]),
                id=str(cols.rec_id[rec]),
                type=policy.type_names[code] if code >= 0 else str(cols.rec_type[rec]),
                occurred_at=int(rows.occurred[r]),
                recorded_at=int(rows.known[r]),
                points=float(policy.points[code]) if code >= 0 else 0.0,
                contribution=float(contribution[j]),
                status=STATUS_NAMES[st],
                expires_at=_opt(expires),
                resolved_at=_opt(int(rows.resolved[r])) if rows.resolved[r] <= t else None,
                disputed_at=_opt(int(rows.disputed[r])) if rows.disputed[r] <= t else None,
                dispute_late_at=(
                    _opt(int(rows.dispute_late[r])) if rows.dispute_late[r] <= t else None
                ),
                rectified=bool(rows.rectification[r] >= 0),
                amount=None if np.isnan(amount) else amount,
            )
        )
    return lines
