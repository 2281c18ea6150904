"""Score forms: how the records that count become one number per subject, for each score.

A form is a pure function from the records that count (with their per-record weight, e.g.
decay) to a score per group. Each score's ``form`` picks one; the ledger, lists, sanctions
and explanations do not depend on which. New forms (a ranking from ratings, a points
wallet, ``wallet_form``) are added here and in ``policy.scores`` under a new ``form`` name.

A score with components adds, to its base, each component's value held within the
component's bounds and multiplied by its weight: a component sums the points of the records
it counts, or (a clean-year reward) pays points for each whole calendar year without a
record of its kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from socialcredit.policy.compiled import CompiledComponent, CompiledPolicy, CompiledScore
from socialcredit.scoring.wallets import WalletTotals, run_wallets

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

_FIRST_SECOND = -62_135_596_800  # 0001-01-01T00:00:00Z
_LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z


@dataclass(frozen=True)
class FormInput:
    """The records of an evaluation, as a form reads them (one entry per row of a group)."""

    code: I64  # record type code (0 for a type the policy does not know: weight 0 then)
    weight: F64  # 0 where the record does not count; else 1, or less where it decays
    group: I64
    n_groups: int
    occurred: I64
    happened: Bools  # known then to have happened: counts, or counted until it expired
    at: I64  # per group: the time it is evaluated at
    amount: F64 | None = None  # per entry: the record's amount (NaN: none); wallets read it
    # the rating form: per entry, its rater (``population.rater_codes``), rating and when
    # the ledger learned it; None for a policy without rating scores
    rater: I64 | None = None
    known: I64 | None = None
    # per (score index, component index) of a related component, per group: its value
    # (NaN: nobody related, the component's base); None: every such component at its base
    related: dict[tuple[int, int], F64] | None = None
    # per score (``policy.scores``): a wallet's expiry instant of each entry's points, or None
    wallet_ends: tuple[I64 | None, ...] = ()


@dataclass(frozen=True)
class FormResult:
    """A score for every group, with its parts."""

    contribution: F64  # per entry: what the record adds (weighted, before any bound)
    score: F64  # per group
    components: F64  # [n_components, n_groups]: what each component earned, before its bounds
    wallet: WalletTotals | None = None  # form "wallet": earned, redeemed, expired …
    ratings: F64 | None = None  # the rating form: per group, the ratings counted


ScoreForm = Callable[[CompiledPolicy, CompiledScore, FormInput], FormResult]


def calendar_year(ts: I64) -> I64:
    """The UTC calendar year of each timestamp (seconds), clipped to years 1..9999."""
    clipped = np.clip(ts, _FIRST_SECOND, _LAST_SECOND)
    years: I64 = clipped.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
    return years


def clean_years(component: CompiledComponent, inp: FormInput) -> I64:
    """Per group: the whole calendar years from ``component.first_year`` up to the one before
    the group's time in which no record the component watches happened."""
    year_now = calendar_year(inp.at)
    total = np.maximum(year_now - component.first_year, 0)
    watched = inp.happened & component.counts[inp.code]
    if not watched.any():
        return total
    group = inp.group[watched]
    year = calendar_year(inp.occurred[watched])
    inside = (year >= component.first_year) & (year < year_now[group])
    span = 10_000  # years are below 10000: one number per (group, year)
    pairs = np.unique(group[inside] * span + (year[inside] - component.first_year))
    dirty = np.bincount(pairs // span, minlength=inp.n_groups)
    out: I64 = total - dirty
    return out


def points_form(policy: CompiledPolicy, score: CompiledScore, inp: FormInput) -> FormResult:
    """Base plus the (weighted) points of every record that counts, or of each component
    within its bounds times its weight; clamped to the score's min/max."""
    if not score.components:
        contribution = policy.points[inp.code] * inp.weight
        raw = score.base + np.bincount(inp.group, weights=contribution, minlength=inp.n_groups)
        empty = np.empty((0, inp.n_groups), dtype=np.float64)
        return FormResult(contribution, np.clip(raw, score.low, score.high), empty)
    contribution = np.zeros(len(inp.code), dtype=np.float64)
    values = np.empty((len(score.components), inp.n_groups), dtype=np.float64)
    total = np.full(inp.n_groups, score.base, dtype=np.float64)
    for i, c in enumerate(score.components):
        if c.related is not None:
            found = None if inp.related is None else inp.related.get((score.index, i))
            raw = (
                np.full(inp.n_groups, c.base)
                if found is None
                else np.where(np.isnan(found), c.base, found)
            )
        elif c.clean_points is not None:
            raw = c.base + c.clean_points * clean_years(c, inp).astype(np.float64)
        else:
            part = policy.points[inp.code] * inp.weight * c.counts[inp.code]
            contribution += part * c.weight
            raw = c.base + np.bincount(inp.group, weights=part, minlength=inp.n_groups)
        values[i] = raw
        total += c.weight * np.clip(raw, c.low, c.high)
    return FormResult(contribution, np.clip(total, score.low, score.high), values)


def wallet_form(policy: CompiledPolicy, score: CompiledScore, inp: FormInput) -> FormResult:
    """The balance of a points wallet: earned within the caps, less what was redeemed and
    what expired (``scoring.wallets``); never below zero."""
    assert score.wallet is not None and inp.amount is not None
    totals = run_wallets(
        policy,
        score.wallet,
        inp.code,
        inp.amount,
        inp.group,
        inp.occurred,
        inp.happened,
        inp.at,
        ends=inp.wallet_ends[score.index] if score.index < len(inp.wallet_ends) else None,
    )
    empty = np.empty((0, inp.n_groups), dtype=np.float64)
    return FormResult(totals.entry_points, totals.balance, empty, totals)


def counted_ratings(policy: CompiledPolicy, score: CompiledScore, inp: FormInput) -> Bools:
    """Per entry: the rating counts for the group's score — a rating of the score's types
    that counts at the group's time, occurred in the term just ended (the re-evaluation
    period before the one the time falls in), within the score's range, not of oneself, and
    the last of its rater's ratings of the subject in that term (the one that occurred last,
    then the one the ledger learned last)."""
    rule = score.rating
    assert rule is not None and inp.rater is not None
    assert inp.amount is not None and inp.known is not None
    term_end = inp.at[inp.group]
    term_start = policy.previous_evaluation(inp.at)[inp.group]
    amount = inp.amount
    ok = (
        (inp.weight > 0)
        & rule.counts[inp.code]
        & (inp.occurred >= term_start)
        & (inp.occurred < term_end)
        & (inp.rater >= 0)
        & (amount >= rule.lowest)
        & (amount <= rule.highest)
    )
    idx = np.flatnonzero(ok)
    out = np.zeros(len(ok), dtype=bool)
    if not len(idx):
        return out
    # the last entry of each (group, rater) run, ordered by occurred, known, position
    order = np.lexsort((idx, inp.known[idx], inp.occurred[idx], inp.rater[idx], inp.group[idx]))
    srt = idx[order]
    last = np.ones(len(srt), dtype=bool)
    same = (inp.group[srt][1:] == inp.group[srt][:-1]) & (inp.rater[srt][1:] == inp.rater[srt][:-1])
    last[:-1] = ~same
    out[srt[last]] = True
    return out


def rating_form(policy: CompiledPolicy, score: CompiledScore, inp: FormInput) -> FormResult:
    """A Bayesian average of the ratings counted (``counted_ratings``):
    (prior_weight × prior_mean + Σ ratings) / (prior_weight + number of ratings), clamped to
    the score's min/max. A rating's own value is never reported: its contribution is 0."""
    rule = score.rating
    assert rule is not None
    counted = counted_ratings(policy, score, inp)
    assert inp.amount is not None
    total = np.bincount(inp.group[counted], weights=inp.amount[counted], minlength=inp.n_groups)
    n = np.bincount(inp.group[counted], minlength=inp.n_groups).astype(np.float64)
    credit = (rule.prior_weight * rule.prior_mean + total) / (rule.prior_weight + n)
    return FormResult(
        np.zeros(len(inp.code), dtype=np.float64),
        np.clip(credit, score.low, score.high),
        np.empty((0, inp.n_groups), dtype=np.float64),
        ratings=n,
    )


FORMS: dict[str, ScoreForm] = {
    "points": points_form,
    "wallet": wallet_form,
    "rating": rating_form,
}
