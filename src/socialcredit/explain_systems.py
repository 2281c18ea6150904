"""Sentences for the systems of issue 11: where a subject stands in a ranking ("why is X
seated / not seated": rank, score, the margin to the last seat), and which part of a score
re-evaluated at boundaries moved it since the previous re-evaluation, and by how much.

Nothing here names a rater or a rating: a ranking is said with counts and averages only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from socialcredit.explain_words import number, signed
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.policy.conditions import RankCondition
from socialcredit.scoring.population import Ranking, ranking
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.results import Standing


def _n(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".") if x != int(x) else f"{int(x)}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def rank_facts(
    policy: CompiledPolicy, prep: Prepared, subject: int, t: int, cond: RankCondition
) -> dict[str, Any]:
    """Where ``subject`` stands in ``cond``'s ranking at ``t``, for ``explain --json``:
    the re-evaluation it was computed at (and, for a rating score, the term of the ratings),
    ``rank`` (None: not a candidate), ``candidates``, ``seats``, ``seated``, ``score``,
    ``ratings`` (how many counted, never which), ``last_seat_score`` and ``margin`` (the
    subject's score less the last seat's); ``ties``: the declared rule."""
    e = int(policy.as_evaluated(np.array([t], dtype=np.int64))[0])
    r = ranking(policy, prep.rows, cond, e, min(t, e))
    sc = policy.scores[policy.score_index(cond.score)]
    seats = min(r.seats, len(r.order))
    rank = int(r.rank[subject])
    last = float(r.credit[r.order[seats - 1]]) if seats else None
    mine = float(r.credit[subject])
    term = None
    if sc.rating is not None:
        start = int(policy.previous_evaluation(np.array([e], dtype=np.int64))[0])
        term = {"from": policy.date_of(start), "until": policy.date_of(e)}
    return {
        "score": cond.score,
        "evaluated_on": policy.date_of(e),
        "term": term,
        "rank": rank or None,
        "candidates": len(r.order),
        "seats": r.seats,
        "seated": 0 < rank <= r.seats,
        "value": round(mine, 6),
        "ratings": None if r.ratings is None else int(r.ratings[subject]),
        "last_seat_score": None if last is None else round(last, 6),
        "margin": None if last is None or not rank else round(mine - last, 6),
        "ties": cond.ties,
    }


def rank_text(
    policy: CompiledPolicy, prep: Prepared, subject: int, t: int, cond: RankCondition
) -> str:
    """Where ``subject`` stands in ``cond``'s ranking at ``t``, in words."""
    e = int(policy.as_evaluated(np.array([t], dtype=np.int64))[0])
    r = ranking(policy, prep.rows, cond, e, min(t, e))
    sc = policy.scores[policy.score_index(cond.score)]
    name = sc.display_name
    term = ""
    if sc.rating is not None:
        start = int(policy.previous_evaluation(np.array([e], dtype=np.int64))[0])
        term = f" from the ratings of {policy.date_of(start)} to {policy.date_of(e)}"
    when = f"At the re-evaluation of {policy.date_of(e)}{term}"
    total = len(r.order)
    rank = int(r.rank[subject])
    seats = min(r.seats, total)
    if rank == 0:
        need = f"at least {_count(max(cond.min_ratings, 1), 'rating')} in the term"
        return (
            f"{when}, you were not ranked: a candidate needs {need}; "
            f"{_count(total, 'candidate')} were ranked for {_count(r.seats, 'seat')}."
        )
    mine = float(r.credit[subject])
    count = _ratings(r, subject)
    head = (
        f"{when}, you ranked {rank:,} of {_count(total, 'candidate')} by {name} ({_n(mine)}{count})"
    )
    if not seats:
        return head + "."
    last = int(r.order[seats - 1])
    last_credit = float(r.credit[last])
    if total <= r.seats:
        return (
            f"{head}: within the {_count(r.seats, 'seat')}, as every ranked candidate "
            f"({total:,}) is."
        )
    if rank <= r.seats:
        if rank == seats:
            tail = f"you hold the last of the {_count(r.seats, 'seat')}"
            if seats < total:
                first_out = float(r.credit[int(r.order[seats])])
                tail += f"; the first candidate without a seat has {_n(first_out)}"
                tail += _margin(mine - first_out, "above")
            return f"{head}: {tail}.{_tie(cond, r, subject, last)}"
        return (
            f"{head}: within the {_count(r.seats, 'seat')}; the last seat (rank {seats:,}) has "
            f"{_n(last_credit)}{_margin(mine - last_credit, 'above')}.{_tie(cond, r, subject, last)}"
        )
    return (
        f"{head}: outside the {_count(r.seats, 'seat')}; the last seat (rank {seats:,}) has "
        f"{_n(last_credit)}{_margin(last_credit - mine, 'below')}.{_tie(cond, r, subject, last)}"
    )


def _ratings(r: Ranking, subject: int) -> str:
    if r.ratings is None:
        return ""
    return f" from {_count(int(r.ratings[subject]), 'rating')}"


def _margin(diff: float, side: str) -> str:
    if abs(diff) < 1e-12:
        return ", the same as yours"
    # never "0 below": a margin too small for three decimals gets two significant digits
    # (written out: ``0.000012``, never ``1.2e-05``)
    gap = (
        _n(diff)
        if abs(diff) >= 0.0005
        else np.format_float_positional(diff, precision=2, unique=False, fractional=False, trim="-")
    )
    if side == "above":
        return f", {gap} below yours"
    return f", {gap} above yours"


def _tie(cond: RankCondition, r: Ranking, subject: int, last: int) -> str:
    if subject == last or abs(float(r.credit[subject]) - float(r.credit[last])) > 1e-12:
        return ""
    rule = (
        "more ratings first, then the lower subject identifier"
        if cond.ties == "more_ratings"
        else "the lower subject identifier first"
    )
    return f" Your {cond.score.replace('_', ' ')} equals the last seat's: the declared tie rule ({rule}) decides."


def movement_text(
    policy: CompiledPolicy, now: Standing, before: Standing, at: int, since: int
) -> str:
    """Which components of each score moved it at the re-evaluation at ``at`` compared with
    the one at ``since``, and by how much (empty when nothing moved)."""
    out = []
    for sc_now, sc_before in zip(now.scores, before.scores, strict=True):
        diff = sc_now.value - sc_before.value
        parts = []
        for c_now, c_before in zip(sc_now.components, sc_before.components, strict=True):
            moved = c_now.contribution - c_before.contribution
            if abs(moved) > 1e-9:
                parts.append(f"{c_now.display_name} {signed(moved)}")
        if abs(diff) <= 1e-9 and not parts:
            continue
        what = sc_now.display_name if sc_now.named else "score"
        by = f" ({'; '.join(parts)})" if parts else ""
        out.append(
            f"At the re-evaluation of {policy.date_of(at)} your {what} moved from "
            f"{number(sc_before.value)} (re-evaluation of {policy.date_of(since)}) to "
            f"{number(sc_now.value)}, {signed(diff)}{by}."
        )
    return " ".join(out)


def systems_text(prep: Prepared, subject: int, t: int, st: Standing) -> str:
    """The ranking sentences and, under re-evaluation with components, what moved the score."""
    from socialcredit.scoring.standing import standing

    policy = prep.policy
    parts = [rank_text(policy, prep, subject, t, cond) for cond in policy.rankings]
    if policy.reevaluation is not None and any(sc.components for sc in policy.scores):
        e = policy.as_evaluated(np.array([t], dtype=np.int64))
        before_at = int(policy.previous_evaluation(e)[0])
        in_force = prep.in_force_from
        if in_force is None or before_at >= in_force:
            before = standing(prep, subject, before_at)
            text = movement_text(policy, st, before, int(e[0]), before_at)
            parts.append(
                text
                or f"At the re-evaluation of {policy.date_of(int(e[0]))} nothing moved your "
                f"scores (compared with {policy.date_of(before_at)})."
            )
    return " ".join(p for p in parts if p)
