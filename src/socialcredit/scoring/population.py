"""Answers that depend on other subjects: rankings and scores valued by related subjects.

A ``rank_top`` condition (the top N candidates by a score) holds for a subject according to
everyone's scores at the same time; a ``related`` component (Sesame's interpersonal
relationships) is valued by the scores of the subjects one is related to. Both read the
*own* scores of every subject the rows hold, at one (evaluation, knowledge) time: the score
with every ``related`` component at its base, so nobody's score depends on their own.

One function computes them for one subject and for everyone: given the same rows (the
engine loads every subject for a policy with a ranking, and a subject's related subjects
for one with related components), a subject's standing equals its row of the bulk answer.
Results are cached per (policy, time) on the rows' ``Population``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from socialcredit.columns import SUBJECT_KINDS, LedgerColumns
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.policy.conditions import RankCondition

if TYPE_CHECKING:
    from socialcredit.scoring.rows import RelationRows, Rows

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

SELF_RATING = -2
"""A rater code for a rating whose source is its own subject: it never counts."""


@dataclass(frozen=True)
class Population:
    """Every subject the rows hold: names (for ties), kinds, relations, and a cache."""

    names: npt.NDArray[np.object_]
    kinds: npt.NDArray[np.int8]
    relations: RelationRows
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def size(self) -> int:
        return len(self.names)

    def name_order(self) -> I64:
        """Each subject's position when the names are sorted (code point order)."""
        found = self.cache.get("name_order")
        if found is None:
            order = np.argsort(self.names.astype(str), kind="stable")
            found = np.empty(len(order), dtype=np.int64)
            found[order] = np.arange(len(order), dtype=np.int64)
            self.cache["name_order"] = found
        result: I64 = found
        return result


def rater_codes(columns: LedgerColumns, record: I64) -> I64:
    """Per row (its original record ``record``), a code for the record's source: the rater
    of a rating; ``SELF_RATING`` where the source is the record's own subject."""
    sources = columns.rec_source
    if len(sources) != len(columns.rec_seq):
        raise ValueError("a policy with rating scores needs each record's source (load ids)")
    _, codes = np.unique(sources.astype(str), return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    subjects = np.asarray(columns.subjects, dtype=object)[columns.rec_subject]
    own = subjects.astype(str) == sources.astype(str)
    codes[own] = SELF_RATING
    out: I64 = codes[record]
    return out


def attach(
    rows: Rows, columns: LedgerColumns, relations: RelationRows, policy: CompiledPolicy
) -> Rows:
    """``rows`` with the raters and the population a policy across subjects reads (the rows
    unchanged for any other policy)."""
    from dataclasses import replace

    if not (policy.across_subjects or policy.rating_scores):
        return rows
    rater = rater_codes(columns, rows.record) if policy.rating_scores else None
    population = Population(
        np.asarray(columns.subjects, dtype=object),
        np.asarray(columns.subject_kind, dtype=np.int8),
        relations,
    )
    return replace(rows, rater=rater, population=population)


@dataclass(frozen=True)
class OwnScores:
    """Every subject's scores at one time, without related components."""

    scores: tuple[F64, ...]
    ratings: tuple[F64 | None, ...]  # per score of the rating form: ratings counted


def own_scores(policy: CompiledPolicy, rows: Rows, e: int, k: int) -> OwnScores:
    """Every subject's own scores at ``e`` with what was known at ``k`` (cached)."""
    from socialcredit.scoring.evaluate import EvaluationContext

    population = rows.population
    assert population is not None
    key = ("own", id(policy), e, k)
    found = population.cache.get(key)
    if found is None:
        n = population.size
        ctx = EvaluationContext(
            policy,
            rows,
            np.arange(len(rows), dtype=np.int64),
            rows.subject.astype(np.int64),
            np.full(n, e, dtype=np.int64),
            np.full(n, k, dtype=np.int64),
            np.arange(n, dtype=np.int64),
            own_only=True,
        )
        found = OwnScores(ctx.scores, ctx.ratings)
        population.cache[key] = found
    result: OwnScores = found
    return result


def _pairs(e_group: I64, k_group: I64) -> tuple[I64, I64, I64]:
    """The distinct (e, k) pairs of the groups, and each group's pair."""
    keys = np.stack([e_group, k_group], axis=1)
    pairs, inverse = np.unique(keys, axis=0, return_inverse=True)
    return pairs[:, 0], pairs[:, 1], inverse.reshape(-1).astype(np.int64)


def related_values(
    policy: CompiledPolicy, rows: Rows, g_subject: I64, e_group: I64, k_group: I64
) -> dict[tuple[int, int], F64]:
    """Per (score index, component index) of each related component, per group: the mean
    of the related subjects' own scores less that score's base (NaN: nobody related)."""
    population = rows.population
    assert population is not None
    rel = population.relations
    wanted = [
        (sc.index, i, c.related)
        for sc in policy.scores
        for i, c in enumerate(sc.components)
        if c.related is not None
    ]
    out = {(s, i): np.full(len(g_subject), np.nan) for s, i, _ in wanted}
    es, ks, which = _pairs(e_group, k_group)
    # every subject the rows hold, and any group's subject beyond them (nobody related)
    n = max(population.size, int(g_subject.max()) + 1 if len(g_subject) else 0)
    for p, (e, k) in enumerate(zip(es.tolist(), ks.tolist(), strict=True)):
        groups = np.flatnonzero((which == p) & (g_subject >= 0))
        if not len(groups):
            continue
        own = own_scores(policy, rows, e, k)
        live = (
            (rel.known <= k) & (rel.hidden_from > k) & (rel.valid_from <= e) & (e < rel.valid_until)
        )
        for s, i, (code, score) in wanted:
            sel = live & (rel.type_code == code)
            subj, other = rel.subject[sel], rel.related[sel]
            values = own.scores[score][other] - policy.scores[score].base
            total = np.bincount(subj, weights=values, minlength=n)
            count = np.bincount(subj, minlength=n)
            who = g_subject[groups]
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(count[who] > 0, total[who] / np.maximum(count[who], 1), np.nan)
            out[(s, i)][groups] = mean
    return out


@dataclass(frozen=True)
class Ranking:
    """Everyone's place in a ``rank_top`` ranking at one time."""

    order: I64  # candidate subject indices, best first
    credit: F64  # per subject: the score ranked
    ratings: F64 | None  # per subject: ratings counted (rating form), else None
    seats: int
    rank: I64  # per subject: 1-based place among the candidates; 0: not a candidate

    @property
    def seated(self) -> I64:
        """The subjects in the top ``seats`` places, best first."""
        return self.order[: self.seats]

    def holds(self) -> Bools:
        """Per subject: among the top ``seats``."""
        out: Bools = (self.rank > 0) & (self.rank <= self.seats)
        return out


def ranking(policy: CompiledPolicy, rows: Rows, cond: RankCondition, e: int, k: int) -> Ranking:
    """Every candidate of ``cond`` ranked by its score at ``e`` with what was known at ``k``:
    the highest score first, ties broken by ``cond.ties`` (cached)."""
    population = rows.population
    assert population is not None
    key = ("rank", id(policy), id(cond), e, k)
    found = population.cache.get(key)
    if found is not None:
        cached: Ranking = found
        return cached
    own = own_scores(policy, rows, e, k)
    si = policy.score_index(cond.score)
    credit = own.scores[si]
    ratings = own.ratings[si]
    candidate = population.kinds == SUBJECT_KINDS.index(cond.kind)
    if ratings is not None:
        candidate &= ratings >= max(cond.min_ratings, 1)
    idx = np.flatnonzero(candidate).astype(np.int64)
    names = population.name_order()[idx]
    if cond.ties == "more_ratings" and ratings is not None:
        order = np.lexsort((names, -ratings[idx], -credit[idx]))
    else:
        order = np.lexsort((names, -credit[idx]))
    ranked = idx[order]
    rank = np.zeros(population.size, dtype=np.int64)
    rank[ranked] = np.arange(1, len(ranked) + 1, dtype=np.int64)
    result = Ranking(ranked, credit, ratings, cond.seats, rank)
    population.cache[key] = result
    return result


def rank_holds(
    policy: CompiledPolicy,
    rows: Rows,
    cond: RankCondition,
    g_subject: I64,
    e_group: I64,
    k_group: I64,
) -> Bools:
    """Per group: its subject is among the top ``cond.seats`` at the group's time."""
    out = np.zeros(len(g_subject), dtype=bool)
    es, ks, which = _pairs(e_group, k_group)
    for p, (e, k) in enumerate(zip(es.tolist(), ks.tolist(), strict=True)):
        groups = np.flatnonzero((which == p) & (g_subject >= 0))
        if len(groups):
            out[groups] = ranking(policy, rows, cond, e, k).holds()[g_subject[groups]]
    return out
