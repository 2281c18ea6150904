"""The event-driven evaluation of a chunk: the reference's metrics from ``Standings``.

``evaluate_draws_events`` measures what ``evaluate.evaluate_draws`` measures, and must
give the very same ``PolicyMetrics`` (a test compares them on random scenarios, seeds and
every example policy). Instead of reading everyone on every day, it reads each agent on the
days its standing can change (``sim.standings``) and turns segments into per-day counts by
difference arrays: grades and scores from every agent's segments; lists, measures, flows
and spells from the flag segments of the agents ever listed or under a measure (entries and
exits where a flag changes between two of an agent's segments). Wrongful sanctions compare
the agents whose records data errors may change and who are ever under a denial with the
same ledger without the erroneous records, evaluated for them (and those they stand in a
relation to) alone.

A scenario with a behaviour response or exit feeds each day's sanctions back into the next
day's conduct: it is evaluated by the reference (so are ledgers with exemptions or with
relations that change within the period, which the simulator does not make, and chunks
whose agents have so many records that reading them on every day is likely the cheaper:
``standings.events_pay``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.scoring import Prepared
from socialcredit.sim.draws import BlockDraws, SimSpec, draw_block
from socialcredit.sim.evaluate import (
    _affected,
    _Feedback,
    _Purchases,
    evaluate_draws,
)
from socialcredit.sim.events import ChunkCache, chunk_columns, known_records
from socialcredit.sim.metrics import PolicyMetrics
from socialcredit.sim.scenario import Scenario
from socialcredit.sim.standings import (
    Standings,
    change_days,
    distinct,
    events_pay,
    standings,
    supported,
)
from socialcredit.timeutil import DAY

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


def evaluate_chunk_events(
    scenario: Scenario,
    spec: SimSpec,
    policies: list[CompiledPolicy],
    blocks: range,
    on_day: Callable[[int], None] | None = None,
) -> list[PolicyMetrics]:
    """``evaluate.evaluate_chunk``, event-driven: the same metrics for each policy."""
    draws = [draw_block(scenario, spec, b) for b in blocks]
    return [evaluate_draws_events(scenario, spec, p, draws, on_day) for p in policies]


def evaluate_draws_events(
    scenario: Scenario,
    spec: SimSpec,
    policy: CompiledPolicy,
    draws: list[BlockDraws],
    on_day: Callable[[int], None] | None = None,
    force: bool = False,
) -> PolicyMetrics:
    """``evaluate.evaluate_draws`` (without ``suppressed``), event-driven, or by the reference
    where that is likely the faster (``events_pay``; ``force``: event-driven all the same)."""
    gone = [np.zeros(len(d.subject), dtype=bool) for d in draws]
    if _Feedback.acts(scenario):
        return evaluate_draws(scenario, spec, policy, draws, on_day)
    cache = ChunkCache()
    full = Prepared.build(chunk_columns(draws, scenario, spec, policy, cache=cache), policy)
    if not supported(full, spec):
        return evaluate_draws(scenario, spec, policy, draws, on_day)
    changes = change_days(full, spec, np.arange(full.columns.n_subjects, dtype=np.int64))
    if not (force or events_pay(full, spec, changes)):
        return evaluate_draws(scenario, spec, policy, draws, on_day)
    n_groups = len(scenario.groups)
    m = PolicyMetrics(spec.days, n_groups)
    group = np.concatenate([d.group for d in draws]) if draws else np.empty(0, np.int64)
    n = len(group)
    m.read_by["events"] = n
    m.count("subjects")[:] = np.bincount(group, minlength=n_groups)
    st = standings(full, spec, changes=changes)
    days = spec.days
    fgroup = group[st.f_agent]

    def per_day(on: Mask) -> I64:
        """[days, groups] counts of a per flag segment mask."""
        return _per_day(on, st.f_day, st.f_end, fgroup, days, n_groups)

    # the world without data errors, for the agents data errors may affect that are ever
    # under a denial (no other can be wrongfully sanctioned) and those they depend on
    affected, first_error = _affected(draws, spec, policy)
    deny = np.array([s.effect == "deny" for s in policy.sanctions], dtype=bool)
    denied = st.measures[deny]
    flagged = distinct(st.f_agent[denied.any(axis=0)])
    mine = flagged[affected[flagged]]
    needed = np.zeros(n, dtype=bool)
    needed[mine] = True
    needed[full.relations.related[needed[full.relations.subject]]] = True
    wrongful = np.zeros((days, len(mine)), dtype=bool)
    if len(mine):
        cols = chunk_columns(
            draws, scenario, spec, policy, with_errors=False, only=needed, cache=cache
        )
        clean = standings(Prepared.build(cols, policy), spec, np.flatnonzero(needed))
        full_deny = denied[:, st.day_index(mine)]  # [n_deny, days, len(mine)]
        clean_deny = np.zeros_like(full_deny)
        has = np.isin(mine, clean.f_agent)
        if has.any():
            clean_deny[:, :, has] = clean.measures[deny][:, clean.day_index(mine[has])]
        hit = (full_deny & ~clean_deny).any(axis=0)  # [days, len(mine)]
        from_day = np.array([spec.day_end(d) >= first_error for d in range(days)])
        wrongful = hit & from_day[:, None]

    grade_names = list(policy.grade_names)
    _grades_and_scores(m, st, group, grade_names)

    for li, lst in enumerate(policy.lists):
        m.count(f"list:{lst.name}")[...] += per_day(st.lists[li])
    services = sorted({s.service for s in policy.sanctions})
    for svc in services:
        for eff in ("deny", "benefit"):
            rows = np.array(
                [s.service == svc and s.effect == eff for s in policy.sanctions], dtype=bool
            )
            if rows.any():
                name = f"{'denied' if eff == 'deny' else 'benefit'}:{svc}"
                m.count(name)[...] += per_day(st.measures[rows].any(axis=0))
    m.count("sanctioned")[...] += per_day(denied.any(axis=0))
    wgroup = group[mine]
    for gi in range(n_groups):
        m.count("sanctioned_wrongful")[:, gi] += wrongful[:, wgroup == gi].sum(axis=1)
    m.count("sanctioned_via_relation")[...] += per_day((denied & ~st.own[deny]).any(axis=0))
    m.count("rewarded")[...] += per_day(st.measures[~deny].any(axis=0))

    purchases = _Purchases(scenario, spec, policy, draws, by_day=False)
    for s in purchases.services:
        agent, day = purchases.uses[s]
        _add(m.count(f"purchases:{s}"), day, group[agent])
        refused = m.count(f"purchases_refused:{s}")
        rows = np.zeros(len(policy.sanctions), dtype=bool)
        rows[[c.index for c in policy.covering(s) if c.effect == "deny"]] = True
        if not rows.any():
            continue
        # only the uses of agents ever under one of those denials can be refused: the
        # others' flag segments are not looked up
        under = st.measures[rows].any(axis=0)
        ever = np.zeros(n, dtype=bool)
        ever[st.f_agent[under]] = True
        u = np.flatnonzero(ever[agent])
        agent_u, day_u = agent[u], day[u]
        j = st.flag_segment(agent_u, day_u)
        sel = j >= 0
        hit = under[j[sel]]
        _add(refused, day_u[sel][hit], group[agent_u[sel][hit]])

    for li, lst in enumerate(policy.lists):
        _flows(m, lst.name, st.lists[li], st.f_agent, st.f_day, fgroup)
    _spells(m, "wrongful", wrongful, wgroup)
    for d, gone_mask in zip(draws, gone, strict=True):
        known = known_records(d, spec, policy, gone_mask)
        rec_day = (d.recorded[known] - spec.start) // DAY
        g = d.group[d.subject[known]]
        _add(m.count("records"), rec_day, g)
        wrong = d.wrong[known]
        _add(m.count("wrong_records"), rec_day[wrong], g[wrong])
    if on_day is not None:
        on_day(n * days)
    return m


def _grades_and_scores(m: PolicyMetrics, st: Standings, group: I64, grade_names: list[str]) -> None:
    """Grade counts and the score histogram per day, from every agent's segments."""
    days, n_groups = m.days, m.groups
    g = group[st.agent]
    code = st.grade + 1  # 0: not determinable
    n_codes = len(grade_names) + 1
    diff = np.zeros((days + 1, n_codes, n_groups), dtype=np.int64)
    _add(diff, st.day, code, g)
    _add(diff, st.end, code, g, sign=-1)
    by_day = np.cumsum(diff, axis=0)[:days]
    for gi, name in enumerate(grade_names):
        m.count(f"grade:{name}")[...] += by_day[:, gi + 1]
    m.count("grade:not_determinable")[...] += by_day[:, 0]
    cents = np.round(np.asarray(st.score, dtype=np.float64) * 100).astype(np.int64)
    if not len(cents):
        return
    # one integer per (group, score): cents x groups + group, in (cents, group) order
    low = int(cents.min())
    span = (int(cents.max()) - low + 1) * n_groups
    combined = (cents - low) * n_groups + g
    if span <= 16 * len(combined) + 4096:
        # few distinct values: a table of them rather than a sort
        table = np.zeros(span, dtype=np.int64)
        table[combined] = 1
        distinct_keys = np.flatnonzero(table).astype(np.int64)
        kid = (np.cumsum(table) - 1)[combined]
    else:
        order = np.argsort(combined, kind="stable")
        ordered = combined[order]
        first = np.r_[True, ordered[1:] != ordered[:-1]]
        kid = np.empty(len(combined), dtype=np.int64)
        kid[order] = np.cumsum(first) - 1
        distinct_keys = ordered[first]
    keys = np.stack([distinct_keys % n_groups, distinct_keys // n_groups + low], axis=1)
    hist = np.zeros((days + 1, len(keys)), dtype=np.int64)
    _add(hist, st.day, kid)
    _add(hist, st.end, kid, sign=-1)
    hist = np.cumsum(hist, axis=0)[:days]
    day, k = np.nonzero(hist)
    rows = np.stack([day.astype(np.int64), keys[k, 0], keys[k, 1]], axis=1)
    m.score_keys = np.concatenate([m.score_keys, rows])
    m.score_counts = np.concatenate([m.score_counts, hist[day, k]])


def _transitions(mask: Mask) -> tuple[Mask, Mask]:
    """Per day and column of a [days, n] mask: became true, became false (false before day 0)."""
    prev = np.zeros_like(mask)
    prev[1:] = mask[:-1]
    return mask & ~prev, ~mask & prev


def _add(out: I64, *index: I64, sign: int = 1) -> None:
    """``np.add.at(out, index, sign)`` by one ``bincount`` (``add.at`` is far slower)."""
    flat = np.ravel_multi_index(index, out.shape)
    counts = np.bincount(flat, minlength=out.size).reshape(out.shape)
    if sign > 0:
        out += counts
    else:
        out -= counts


def _per_day(on: Mask, start: I64, end: I64, group: I64, days: int, n_groups: int) -> I64:
    """[days, groups] counts of the segments ``on`` (each from ``start`` up to ``end``)."""
    g = group[on]
    size = (days + 1) * n_groups
    diff = np.bincount(start[on] * n_groups + g, minlength=size)
    diff -= np.bincount(end[on] * n_groups + g, minlength=size)
    return np.cumsum(diff.reshape(days + 1, n_groups), axis=0)[:days]


def _flows(m: PolicyMetrics, name: str, on: Mask, agent: I64, day: I64, group: I64) -> None:
    """Entries, exits and spells of a list from flag segments (sorted by agent, then day;
    an agent is on no list before day 0)."""
    before = np.zeros_like(on)
    before[1:] = on[:-1] & (agent[1:] == agent[:-1])
    came, went = on & ~before, ~on & before
    for key, mask in ((f"list_in:{name}", came), (f"list_out:{name}", went)):
        _add(m.count(key), day[mask], group[mask])
    c, w = np.flatnonzero(came), np.flatnonzero(went)
    # a spell ends at its agent's next exit; an agent's segments are consecutive, so the
    # next exit of all is its own unless it has none (running at the end: censored)
    k = np.searchsorted(w, c)
    closed = k < len(w)
    closed[closed] = agent[w[k[closed]]] == agent[c[closed]]
    ends = w[k[closed]]
    _add(m.spell(f"list:{name}"), group[c[closed]], day[ends] - day[c[closed]])
    running = c[~closed]
    _add(m.spell(f"list:{name}", censored=True), group[running], m.days - day[running])


def _spells(m: PolicyMetrics, name: str, on: Mask, dgroup: I64) -> None:
    """Spells of a [days, n] mask: each from the day it became true to the day it became
    false (that many days), or running at the end (censored, counted to ``days``)."""
    came, went = _transitions(on)
    spells, censored = m.spell(name), m.spell(name, censored=True)
    c_col, c_day = np.nonzero(came.T)
    w_col, w_day = np.nonzero(went.T)
    # the i-th end of a column closes its i-th start (they alternate, a start first)
    c_rank = np.arange(len(c_col)) - np.searchsorted(c_col, c_col)
    w_rank = np.arange(len(w_col)) - np.searchsorted(w_col, w_col)
    start_of = {(int(c), int(r)): int(d) for c, r, d in zip(c_col, c_rank, c_day, strict=True)}
    closed = set()
    for c, r, d in zip(w_col.tolist(), w_rank.tolist(), w_day.tolist(), strict=True):
        spells[dgroup[c], d - start_of[(c, r)]] += 1
        closed.add((c, r))
    for (c, r), d in start_of.items():
        if (c, r) not in closed:
            censored[dgroup[c], m.days - d] += 1
