"""The record breakdown of a standing: one line per record version known at a time, with
its status, contribution, due-process stages and how its term came about.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from socialcredit.policy.compiled import CompiledPolicy, later_one
from socialcredit.scoring.evaluate import STATUS_NAMES, evaluate_in_context
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.results import RecordLine
from socialcredit.scoring.timeline import BEGINNING, SubjectTimeline
from socialcredit.spans import Span
from socialcredit.timeutil import NEVER

I64 = npt.NDArray[np.int64]


def reported_time(ts: int) -> int | None:
    """A time as reported: None for the open ends of a timeline (before the beginning, never)."""
    return None if ts >= NEVER or ts <= BEGINNING else ts


def record_ref(prep: Prepared, row: int) -> str:
    """How a record (of row ``row``) is named to people: ``source/id``."""
    rec = int(prep.rows.record[row])
    return f"{prep.columns.rec_source[rec]}/{prep.columns.rec_id[rec]}"


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
        return record_breakdown(prep, te.ridx[here], ev.status[here], ev.contribution[here], t)
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
    return record_breakdown(prep, rid, ev.status, ev.contribution, t)


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
        "decided_at": reported_time(decided),
        "reconsidered_at": reported_time(reconsidered),
        "reconsideration_decided_at": reported_time(decided2),
        "review_due": due,
        "overdue_since": due
        if due is not None and due <= t and proc.on_overdue == "flag"
        else None,
    }


def record_breakdown(
    prep: Prepared,
    rid: I64,
    status: npt.NDArray[np.int8],
    contribution: npt.NDArray[np.float64],
    t: int,
) -> list[RecordLine]:
    """One line per record version of ``rid`` known at ``t``: its status, contribution,
    due-process stages and term."""
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
    # ratings are the raters' own: a subject's breakdown counts them (``ScoreValue.ratings``)
    # and never lists one
    secret = _rating_types(policy)
    lines = []
    for j, r in enumerate(rid.tolist()):
        if visible[j] > t or known[j] > t:
            continue  # nobody knew of this version at t
        if secret[type_code[j]]:
            continue
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
                expires_at=reported_time(expires),
                resolved_at=reported_time(resolved[j]) if resolved[j] <= t else None,
                disputed_at=reported_time(disputed[j]) if disputed[j] <= t else None,
                dispute_late_at=reported_time(dispute_late[j]) if dispute_late[j] <= t else None,
                rectified=rectification[j] >= 0,
                amount=None if math.isnan(amount) else amount,
                term=term_note(prep, rec, code, flags[j], visible[j]) if flags[j] else None,
                **stages,
            )
        )
    return lines


def _rating_types(policy: CompiledPolicy) -> tuple[bool, ...]:
    """Per record-type code (the last entry: a type the policy does not know), whether its
    records are ratings (worked out once per policy)."""
    found: tuple[bool, ...] | None = policy.cache.get("rating_types")
    if found is None:
        found = policy.cache["rating_types"] = (
            *(
                bool(any(sc.rating is not None and sc.rating.counts[i] for sc in policy.scores))
                for i in range(len(policy.type_names))
            ),
            False,
        )
    return found


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
                    f"{policy.date_of(int(cols.cor_occurred_at[c]))}"
                )
        if flags & TERM_EXTENSION_CAPPED:
            cap = duration_words(policy.ext_max[code])
            parts.append(f"the extensions together are capped at {cap}, the most the policy allows")
    if flags & TERM_ENDED:
        ends = [int(cols.cor_occurred_at[c]) for c in mine if int(cols.cor_action[c]) == END]
        if ends:
            parts.append(f"ended early on {policy.date_of(min(ends))}")
    return "; ".join(parts)
