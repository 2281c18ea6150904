"""A simulated population's random draws: who its members are and what they do.

Agents are numbered 0..N-1 and cut into blocks of ``BLOCK`` consecutive agents. Each block
draws everything about its agents from its own counter-based random stream (Philox keyed by
``SeedSequence(seed, spawn_key=(block,))``), in a fixed order, so an agent's life depends
only on the seed, the scenario and its block: the same whatever the chunk size (a whole
number of blocks) and however many workers run the chunks. Relations and misattributed
records stay inside a block (a block is a town of ``BLOCK`` agents).

``draw_block`` makes every random choice once (``BlockDraws``): who is in which group, the
records each agent's conduct produces, which of them land on the wrong subject, who
disputes, where in the allowed time each dispute and review falls, who pays and when.
``sim.events`` turns the draws into ledger entries under one policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from socialcredit.columns import SUBJECT_KINDS
from socialcredit.sim.scenario import Scenario
from socialcredit.timeutil import DAY

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

BLOCK = 1024
"""Agents per block: the unit of random streams, relations and misattribution."""

YEAR = 365.25 * DAY
_LAST_FOUR = ["%04d" % i for i in range(10_000)]  # noqa: UP031
RELATIONS_FROM_DAYS = 365  # relations are recorded this long before the start


@dataclass(frozen=True)
class SimSpec:
    """The size, length, seed and start (epoch seconds, a UTC midnight) of a simulation."""

    population: int
    days: int
    seed: int
    start: int

    @property
    def end(self) -> int:
        """The first second after the simulated period."""
        return self.start + self.days * DAY

    @property
    def blocks(self) -> int:
        """How many blocks of agents there are."""
        return -(-self.population // BLOCK)

    def block_range(self, block: int) -> tuple[int, int]:
        """The first agent of ``block`` and how many agents it holds."""
        first = block * BLOCK
        return first, min(BLOCK, self.population - first)

    def day_end(self, day: int) -> int:
        """The last second of day ``day`` (0-based): where that day's standing is read."""
        return self.start + (day + 1) * DAY - 1


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The random stream of ``block`` under ``seed`` (counter-based: Philox)."""
    return np.random.Generator(np.random.Philox(np.random.SeedSequence(seed, spawn_key=(block,))))


@dataclass(frozen=True)
class BlockDraws:
    """Every random choice about one block of agents (local indices 0..n-1).

    Records: ``actor`` is whose conduct produced it, ``subject`` whom it is recorded about
    (another subject when ``wrong``); ``type`` indexes ``types``. Each record carries the
    uniform draws that place its dispute and review within the policy's limits, and its
    resolution time (-1: never resolved).
    """

    block: int
    first: int
    n: int
    types: tuple[str, ...]
    group: I64
    kind: npt.NDArray[np.int8]
    birth: I64  # -1: no birth date recorded
    since: I64  # when the group's attributes were acquired
    rel_rule: I64  # index into scenario.relations
    rel_subject: I64
    rel_related: I64
    actor: I64
    subject: I64
    type: I64
    occurred: I64
    recorded: I64
    amount: F64
    wrong: Mask
    disputed: Mask
    file_u: F64
    decide_u: F64
    on_time: Mask
    finds: Mask
    resolve_at: I64
    keep_u: F64  # per record: kept under a behaviour response while keep_u < the factor
    exit_e: F64  # per agent: leaves once sanctioned days x daily hazard reach it (Exp(1))

    def names(self) -> list[str]:
        """The agents' subject identifiers (``A`` and the global agent number)."""
        # ("A%010d" % i, as a run's shared leading digits joined to each number's last four:
        # one C-level concatenation per name, three times faster than formatting each)
        out: list[str] = []
        i, end = self.first, self.first + self.n
        while i < end:
            top, low = divmod(i, 10_000)
            stop = min(end - i, 10_000 - low)
            out += map(("A%06d" % top).__add__, _LAST_FOUR[low : low + stop])  # noqa: UP031
            i += stop
        return out


def draw_block(scenario: Scenario, spec: SimSpec, block: int) -> BlockDraws:
    """Draw everything about ``block`` (see ``BlockDraws``); a pure function of its arguments."""
    rng = block_rng(spec.seed, block)
    first, n = spec.block_range(block)
    groups = list(scenario.groups.values())
    shares = np.cumsum([g.share for g in groups])
    shares[-1] = 1.0
    group = np.searchsorted(shares, rng.random(n), side="right").astype(np.int64)
    group = np.minimum(group, len(groups) - 1)
    kind = np.array([SUBJECT_KINDS.index(g.kind) for g in groups], dtype=np.int8)[group]

    # ages and attribute times (drawn for everyone, used where the group has them)
    age_lo = np.array([g.age_years[0] if g.age_years else 0.0 for g in groups])[group]
    age_hi = np.array([g.age_years[1] if g.age_years else 0.0 for g in groups])[group]
    has_age = np.array([g.age_years is not None for g in groups])[group]
    age = age_lo + rng.random(n) * (age_hi - age_lo)
    birth = np.where(has_age, (spec.start - age * YEAR).astype(np.int64) // DAY * DAY, -1)
    held_lo = np.array([g.held_for_years[0] for g in groups])[group]
    held_hi = np.array([g.held_for_years[1] for g in groups])[group]
    held = held_lo + rng.random(n) * (held_hi - held_lo)
    since = (spec.start - held * YEAR).astype(np.int64) // DAY * DAY
    since = np.where(has_age, np.maximum(since, birth), since)

    # relations, rule by rule, within the block
    names = list(scenario.groups)
    r_rule: list[I64] = []
    r_subj: list[I64] = []
    r_rel: list[I64] = []
    for i, rule in enumerate(scenario.relations):
        # (per group a flag, read per agent: np.isin costs several times more here)
        from_flag = np.zeros(len(names), dtype=bool)
        from_flag[[names.index(g) for g in rule.from_groups]] = True
        to_flag = np.zeros(len(names), dtype=bool)
        to_flag[[names.index(g) for g in rule.to_groups]] = True
        from_mask, to_mask = from_flag[group], to_flag[group]
        take = rng.random(n) < rule.share
        pick = rng.random(n)
        each, other = (from_mask, to_mask) if rule.each == "from" else (to_mask, from_mask)
        pool = np.flatnonzero(other)
        members = np.flatnonzero(each & take)
        if not len(pool) or not len(members):
            continue
        partner = pool[(pick[members] * len(pool)).astype(np.int64)]
        keep = partner != members
        members, partner = members[keep], partner[keep]
        subj, rel = (members, partner) if rule.each == "from" else (partner, members)
        r_rule.append(np.full(len(subj), i, dtype=np.int64))
        r_subj.append(subj.astype(np.int64))
        r_rel.append(rel.astype(np.int64))

    # records: per type only the random draws, in the order they have always been made
    # (consecutive uniform draws in one call: the same stream); the arithmetic on them
    # after, once for every type (element by element: the same values)
    types = tuple(scenario.record_types())
    persons = np.flatnonzero(kind == 0)
    orgs = np.flatnonzero(kind == 1)
    pos_in_kind = np.empty(n, dtype=np.int64)
    pos_in_kind[persons] = np.arange(len(persons))
    pos_in_kind[orgs] = np.arange(len(orgs))
    d = scenario.disputes
    rates = np.array([[g.rates.get(t, 0.0) for g in groups] for t in types], dtype=np.float64)
    counts, first4, amounts, last5, paid_u, after_e = [], [], [], [], [], []
    err, share, resolves = [], [], []
    for ti, tname in enumerate(types):
        lam = rates[ti][group] * spec.days / 365.25
        # (a Poisson draw at rate 0 is 0 and uses none of the stream: drawn for the others)
        c = np.zeros(n, dtype=np.int64)
        some = lam > 0
        c[some] = rng.poisson(lam[some])
        m = int(c.sum())
        counts.append(c)
        first4.append(rng.random(4 * m).reshape(4, m))  # occurred, recorded, wrong, other
        spec_amount = scenario.amounts.get(tname)
        amounts.append(
            rng.lognormal(np.log(spec_amount.median), spec_amount.sigma, m)
            if spec_amount is not None
            else np.full(m, np.nan)
        )
        last5.append(rng.random(5 * m).reshape(5, m))  # disputed, file, decide, on time, finds
        err.append(scenario.data_errors.by_type.get(tname, scenario.data_errors.rate))
        res = scenario.resolution.get(tname)
        resolves.append(res is not None)
        share.append(res.share if res is not None else 0.0)
        paid_u.append(rng.random(m) if res is not None else np.ones(m))
        after_e.append(rng.exponential(res.mean_days * DAY, m) if res is not None else np.zeros(m))
    sizes = np.array([len(a) for a in amounts], dtype=np.int64)
    total = int(sizes.sum())
    u = np.concatenate(first4, axis=1) if types else np.empty((4, 0))
    v = np.concatenate(last5, axis=1) if types else np.empty((5, 0))
    if types:
        actor = np.repeat(np.tile(np.arange(n, dtype=np.int64), len(types)), np.concatenate(counts))
    else:
        actor = np.empty(0, dtype=np.int64)
    occurred = spec.start + (u[0] * (spec.days * DAY)).astype(np.int64)
    recorded = occurred + (u[1] * (scenario.reporting_delay_days * DAY)).astype(np.int64)
    wrong = u[2] < np.repeat(np.array(err, dtype=np.float64), sizes)
    same = np.where(kind[actor] == 0, len(persons), len(orgs))
    wrong &= same > 1
    other = (u[3] * np.maximum(same - 1, 1)).astype(np.int64)
    other += other >= pos_in_kind[actor]
    chosen = np.where(
        kind[actor] == 0,
        persons[np.minimum(other, max(len(persons) - 1, 0))] if len(persons) else actor,
        orgs[np.minimum(other, max(len(orgs) - 1, 0))] if len(orgs) else actor,
    )
    subject = np.where(wrong, chosen, actor)
    amount = np.round(np.concatenate(amounts), 2) if types else np.empty(0)
    disputed = v[0] < np.where(wrong, d.if_wrong, d.if_right)
    paid = np.repeat(np.array(resolves, dtype=bool), sizes)
    paid &= (np.concatenate(paid_u) if types else np.empty(0)) < np.repeat(share, sizes)
    after = (np.concatenate(after_e) if types else np.empty(0)).astype(np.int64) + 1
    resolve_at = np.where(paid & ~wrong, recorded + after, -1)

    # drawn after everything else, so that the draws above do not depend on them
    keep_u = rng.random(total)
    exit_e = rng.exponential(size=n)

    def cat_rel(values: list[I64]) -> I64:
        return np.concatenate(values) if values else np.empty(0, dtype=np.int64)

    return BlockDraws(
        block=block,
        first=first,
        n=n,
        types=types,
        group=group,
        kind=kind,
        birth=birth.astype(np.int64),
        since=since.astype(np.int64),
        rel_rule=cat_rel(r_rule),
        rel_subject=cat_rel(r_subj),
        rel_related=cat_rel(r_rel),
        actor=actor.astype(np.int64),
        subject=subject.astype(np.int64),
        type=np.repeat(np.arange(len(types), dtype=np.int64), sizes),
        occurred=occurred.astype(np.int64),
        recorded=recorded.astype(np.int64),
        amount=amount.astype(np.float64),
        wrong=wrong.astype(np.bool_),
        disputed=disputed.astype(np.bool_),
        file_u=v[1].copy(),
        decide_u=v[2].copy(),
        on_time=v[3] < d.on_time,
        finds=v[4] < d.finds_error,
        resolve_at=resolve_at.astype(np.int64),
        keep_u=keep_u,
        exit_e=exit_e,
    )
