"""A subject's standing at a time: score, grade, lists, measures in force, and why.

Pure functions of (ledger columns, compiled policy, time). One implementation serves one
subject (with full detail) and everyone at once (``bulk_standings``), and tests check the
two agree.

The measures come from ``measures`` and the record lines from ``breakdown``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from socialcredit.columns import SUBJECT_KINDS
from socialcredit.policy.compiled import NOT_DETERMINABLE, CompiledPolicy, CompiledScore
from socialcredit.policy.model import Predicate
from socialcredit.scoring.breakdown import record_breakdown, record_ref, reported_time
from socialcredit.scoring.evaluate import (
    COUNTS,
    EXPIRED,
    INELIGIBLE,
    NO_DELAY,
    Evaluation,
    EvaluationContext,
    evaluate_in_context,
)
from socialcredit.scoring.facts import eligibility_plan, in_force_rows, unmet_conditions
from socialcredit.scoring.forms import calendar_year
from socialcredit.scoring.measures import (
    find_measures,
    list_period,
    measure_result,
    relations_at,
    reported_since,
    trigger_instant,
    upcoming_measure,
    with_resolution,
)
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.reasons import Held, held
from socialcredit.scoring.results import (
    ComponentValue,
    Condition,
    Exemption,
    Membership,
    NotEligible,
    ScoreValue,
    Standing,
    Upcoming,
    WalletValue,
)
from socialcredit.scoring.timeline import SubjectTimeline, publicity, timelines_in_context
from socialcredit.spans import Span
from socialcredit.timeutil import NEVER

I64 = npt.NDArray[np.int64]


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
    found = find_measures(prep, subject, t, tls, rel_idx, policy.sanctions)

    # The timelines' evaluation answers the score and breakdown (the subject at t, always a
    # breakpoint) and, where the instant is a breakpoint, which part of each measure's
    # trigger holds; other instants (a trigger start located inside a segment) are
    # evaluated together in one more evaluation.
    here = te.group(tl, t)
    assert here is not None
    at_t = te.context.gidx == here
    rid = te.ridx[at_t]
    ev = te.evaluation
    breakdown = record_breakdown(prep, rid, ev.status[at_t], ev.contribution[at_t], t)
    score, grade = float(ev.score[here]), int(ev.grade[here])
    scores = score_values(prep, ev, here, rid, ev.status[at_t], t)
    asked: list[tuple[tuple[int, int], int | None]] = []  # per measure: (owner, instant), end
    for f in found:
        instant, ended = trigger_instant(f, t)
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
        return [record_ref(prep, r) for r in row_ids]

    memos: dict[int, dict[tuple[str, int, Span], list[Held]]] = {}

    def held_at(key: tuple[int, int], pred: Predicate, delay: Span) -> list[Held]:
        ctx, ridx, g = where[key]
        return held(ctx, ridx, pred, g, delay, memos.setdefault(id(ctx), {}))

    where[(subject, t)] = (te.context, te.ridx, here)
    memberships = []
    for lst in policy.lists:
        if not tl.lists[lst.index, now]:
            continue
        period = list_period(prep, tl, lst.index, t, t)
        behind = held_at((subject, t), lst.when, lst.delist_delay)
        since, flagged = reported_since(period[0], prep.in_force_from) if period else (None, False)
        memberships.append(
            Membership(
                lst.name,
                lst.kind,
                since,
                reported_time(period[1]) if period else None,
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
                period = list_period(prep, tls[f.owner], policy.list_index(h.name), instant, t)
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
        measure = measure_result(f, conditions, ended, prep.in_force_from)
        if f.sanction.after_resolution is not None:
            measure = with_resolution(prep, tls[f.owner], f, t, measure)
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
                upcoming.append(upcoming_measure(policy, sanction, pub, behind, refs, breakdown))

    kind_code = int(prep.columns.subject_kind[subject]) if len(prep.columns.subject_kind) else 0
    return Standing(
        subject=prep.columns.subjects[subject],
        kind=SUBJECT_KINDS[kind_code],
        at=t,
        policy_version=policy.version_label,
        policy_hash=policy.loaded.content_hash,
        utc_offset=policy.calendar.offset,
        score=score,
        grade=policy.grade_label(grade),
        lists=memberships,
        measures=measures,
        breakdown=breakdown,
        base=policy.base,
        services=tuple(policy.services()),
        granted_services=policy.granted_services(),
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
                ratings=_ratings_counted(ev, 0, group),
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
                records = [record_ref(prep, int(r)) for r in rid[counts & c.counts[safe]]]
            components.append(
                ComponentValue(
                    name=c.name,
                    display_name=c.display_name,
                    kind="clean_year"
                    if c.clean_year
                    else ("related" if c.related is not None else "records"),
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
                wallet=_wallet_value(policy, sc, ev, group),
                ratings=_ratings_counted(ev, sc.index, group),
            )
        )
    return out


def _wallet_value(
    policy: CompiledPolicy, sc: CompiledScore, ev: Evaluation, group: int
) -> WalletValue | None:
    totals = ev.wallets[sc.index] if sc.index < len(ev.wallets) else None
    if sc.wallet is None or totals is None:
        return None
    from socialcredit.scoring.wallets import points_text
    from socialcredit.term_words import duration_words

    unit = sc.wallet.unit
    per = {"year": "a year", "month": "a month", "lifetime": "in all"}
    cap_at = int(totals.cap_reached_at[group])
    expiry = int(totals.next_expiry[group])
    life = sc.wallet.expire_after
    return WalletValue(
        unit=unit,
        balance=float(totals.balance[group]),
        earned=float(totals.earned[group]),
        redeemed=float(totals.redeemed[group]),
        expired=float(totals.expired[group]),
        forfeited=float(totals.forfeited[group]),
        shortfall=float(totals.shortfall[group]),
        caps=[f"{points_text(points)} {unit} {per[p]}" for points, p in sc.wallet.caps],
        cap_reached=bool(totals.cap_reached[group]),
        cap_reached_at=cap_at if cap_at >= 0 else None,
        expire_after=duration_words(life) if life is not None else None,
        next_expiry=expiry if expiry < NEVER else None,
        next_expiry_points=float(totals.next_expiry_points[group]),
    )


def _ratings_counted(ev: Evaluation, score: int, group: int) -> int | None:
    """How many ratings score ``score`` (of the rating form) counts for ``group``."""
    found = ev.ratings[score] if ev.ratings else None
    return None if found is None else int(found[group])


def _year_of(t: int) -> int:
    return int(calendar_year(np.array([t], dtype=np.int64))[0])


_SCORE_KINDS = ("score_below", "score_at_least", "grade_in", "rank_top")


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
        valid_until=reported_time(int(x.valid_until[j])),
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
    from socialcredit.explain_eligibility import unmet_text

    facts = prep.rows.facts
    return [
        unmet_text(prep.policy, facts, u, t)
        for u in unmet_conditions(facts, prep.policy, conditions, subject, t)
    ]
