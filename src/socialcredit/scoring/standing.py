"""A subject's standing at a time: score, grade, lists, measures in force, and why.

Pure functions of (ledger columns, compiled policy, time). One implementation serves one
subject (with full detail) and everyone at once (``bulk_standings``), and tests check the
two agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from socialcredit.columns import SUBJECT_KINDS
from socialcredit.policy.compiled import CompiledSanction
from socialcredit.scoring.evaluate import (
    COUNTS,
    STATUS_NAMES,
    evaluate,
)
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.results import Measure, Membership, RecordLine, Standing
from socialcredit.scoring.timeline import (
    BEGINNING,
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
    tl = timeline_cache[s]
    refine = sanction.uses_score and prep.policy.any_decay
    trig = intervals(prep.policy, prep.rows, tl, ("trigger", sanction.index), t, refine)
    return interval_at(measure_intervals(trig, sanction.fixed, sanction.max_duration), t)


def standing(prep: Prepared, subject: int, t: int) -> Standing:
    """The full standing of subject index ``subject`` at ``t``.

    Records known after ``t`` are ignored; "until" dates assume nothing else happens.
    """
    return standing_and_timelines(prep, subject, t)[0]


def standing_and_timelines(
    prep: Prepared, subject: int, t: int
) -> tuple[Standing, dict[int, SubjectTimeline]]:
    """``standing`` and the timelines it was computed from (subject and related subjects)."""
    policy = prep.policy
    rel_ok = relations_at(prep, t)
    rel_idx = np.flatnonzero(rel_ok & (prep.relations.subject == subject))
    related = sorted({int(prep.relations.related[i]) for i in rel_idx})
    tls = timelines(policy, prep.rows, [subject, *related], t)
    tl = tls[subject]
    now = int(np.searchsorted(tl.times, t, side="right") - 1)

    rid = np.flatnonzero(prep.rows.subject == subject).astype(np.int64)
    ev = evaluate(
        policy,
        prep.rows,
        rid,
        np.zeros(len(rid), dtype=np.int64),
        np.array([t], dtype=np.int64),
        np.array([t], dtype=np.int64),
    )
    breakdown = _breakdown(prep, rid, ev.status, ev.contribution, t)
    counting = {line.row for line in breakdown if line.status == STATUS_NAMES[COUNTS]}

    memberships = []
    for lst in policy.lists:
        if not tl.lists[lst.index, now]:
            continue
        refine = lst.when.uses_score() and policy.any_decay
        period = interval_at(intervals(policy, prep.rows, tl, ("list", lst.index), t, refine), t)
        named = {
            n for p in lst.when.walk() if p.records is not None for n in p.records.type_names()
        }
        cats = {p.records.category for p in lst.when.walk() if p.records is not None}
        refs = [
            f"{line.source}/{line.id}"
            for line in breakdown
            if line.row in counting
            and (line.type in named or policy.category[policy.type_code[line.type]] in cats)
            and not (line.resolved_at is not None and line.resolved_at + lst.delist_delay <= t)
        ]
        memberships.append(
            Membership(
                lst.name,
                lst.kind,
                _opt(period[0]) if period else None,
                _opt(period[1]) if period else None,
                refs,
            )
        )

    measures = measures_of(prep, subject, t, tls, rel_idx, policy.sanctions)

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


def measures_of(
    prep: Prepared,
    subject: int,
    t: int,
    tls: dict[int, Any],
    rel_idx: npt.NDArray[np.intp],
    sanctions: Sequence[CompiledSanction],
) -> list[Measure]:
    policy = prep.policy
    measures: list[Measure] = []
    for sanction in sanctions:
        own = own_measure(prep, tls, subject, sanction, t)
        if own is not None:
            measures.append(_measure(sanction, own))
        if not sanction.reach:
            continue
        for i in rel_idx:
            rel_name = policy.relation_names[prep.relations.type_code[i]]
            if rel_name not in sanction.reach:
                continue
            other = int(prep.relations.related[i])
            theirs = own_measure(prep, tls, other, sanction, t)
            if theirs is None:
                continue
            start = max(theirs[0], int(prep.relations.valid_from[i]), int(prep.relations.known[i]))
            end = min(theirs[1], int(prep.relations.valid_until[i]))
            measures.append(
                _measure(
                    sanction,
                    (start, end),
                    via_relation=rel_name,
                    via_subject=prep.columns.subjects[other],
                )
            )
    return measures


def measures_for_service(prep: Prepared, subject: int, service: str, t: int) -> list[Measure]:
    """The measures in force at ``t`` on ``service`` only: what a decision needs, and less work
    than a full ``standing``."""
    sanctions = [s for s in prep.policy.sanctions if s.service == service]
    rel_idx = np.flatnonzero(relations_at(prep, t) & (prep.relations.subject == subject))
    if not any(s.reach for s in sanctions):
        rel_idx = rel_idx[:0]
    related = sorted({int(prep.relations.related[i]) for i in rel_idx})
    tls = timelines(prep.policy, prep.rows, [subject, *related], t)
    return measures_of(prep, subject, t, tls, rel_idx, sanctions)


def past_measures(
    prep: Prepared,
    subject: int,
    service: str,
    t: int,
    effect: str = "deny",
    tls: dict[int, SubjectTimeline] | None = None,
) -> list[Measure]:
    """Measures (by default denials) on ``service`` that applied before ``t`` and have ended.

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
                out.append(_measure(sanction, (start, end)))
    return out


def _measure(
    sanction: CompiledSanction,
    period: tuple[int, int],
    via_relation: str | None = None,
    via_subject: str | None = None,
) -> Measure:
    return Measure(
        name=sanction.name,
        service=sanction.service,
        effect=sanction.effect,
        reason_code=sanction.reason_code,
        since=_opt(period[0]),
        until=_opt(period[1]),
        lists=list(sanction.lists),
        via_relation=via_relation,
        via_subject=via_subject,
        legal_basis=sanction.legal_basis,
        description=sanction.description,
    )


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
                rectified=bool(rows.rectification[r] >= 0),
                amount=None if np.isnan(amount) else amount,
            )
        )
    return lines
