"""The reference evaluation of a chunk: the live scorer's ``bulk_standings`` on every day.

Each chunk's generated ledger is folded once per policy (``Prepared``, with the very
``CompiledPolicy`` the live scorer uses) and read at the last second of every simulated
day, once as generated and once without the records attributed to the wrong subject (to
tell wrongful sanctions apart). It is exact and slow; a faster event-driven evaluation
must agree with it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.scoring import BulkStandings, Prepared, bulk_standings
from socialcredit.sim.draws import BlockDraws, SimSpec, draw_block
from socialcredit.sim.events import chunk_columns, known_records
from socialcredit.sim.metrics import PolicyMetrics
from socialcredit.sim.scenario import Scenario
from socialcredit.timeutil import DAY

Mask = npt.NDArray[np.bool_]


def evaluate_chunk(
    scenario: Scenario,
    spec: SimSpec,
    policies: list[CompiledPolicy],
    blocks: range,
    on_day: Callable[[int], None] | None = None,
) -> list[PolicyMetrics]:
    """Generate ``blocks`` and measure them under each policy on every day (one
    ``PolicyMetrics`` per policy, in order). ``on_day(agent_days)`` is told of progress."""
    draws = [draw_block(scenario, spec, b) for b in blocks]
    out = []
    for policy in policies:
        out.append(evaluate_draws(scenario, spec, policy, draws, on_day))
    return out


def evaluate_draws(
    scenario: Scenario,
    spec: SimSpec,
    policy: CompiledPolicy,
    draws: list[BlockDraws],
    on_day: Callable[[int], None] | None = None,
    suppressed: list[Mask] | None = None,
) -> PolicyMetrics:
    """Measure generated blocks under one policy (see ``socialcredit.sim.metrics``).

    Behaviour response and exit feed back day by day: a subject under a denial at the end
    of a day does not commit the next day's conduct of the scenario's responding types
    when its record's ``keep_u`` is at least the response factor, and leaves once its
    sanctioned days times the daily exit hazard reach its ``exit_e`` (nothing it would do
    from the next day on happens). Those records are left out of the ledger from then on;
    ``suppressed`` (a list, filled with one mask per block) receives which.
    """
    n_groups = len(scenario.groups)
    m = PolicyMetrics(spec.days, n_groups)
    m.read_by["reference"] = sum(len(d.group) for d in draws)
    gone = [np.zeros(len(d.subject), dtype=bool) for d in draws]
    full = Prepared.build(chunk_columns(draws, scenario, spec, policy), policy)
    group = np.concatenate([d.group for d in draws]) if draws else np.empty(0, np.int64)
    n = len(group)
    feedback = _Feedback(scenario, spec, policy, draws, gone)
    # Without data errors only the wrongly recorded subjects and those related to them
    # could stand differently: the world without errors is read for them alone (and the
    # subjects their standing depends on), from the first erroneous record on.
    # (a superset when conduct is suppressed later: reading more subjects changes nothing)
    affected, first_error = _affected(draws, spec, policy)
    needed = affected.copy()
    needed[full.relations.related[affected[full.relations.subject]]] = True

    def without_errors() -> Prepared | None:
        if not affected.any():
            return None
        columns = chunk_columns(
            draws, scenario, spec, policy, with_errors=False, only=needed, suppressed=gone
        )
        return Prepared.build(columns, policy)

    clean = without_errors()
    purchases = _Purchases(scenario, spec, policy, draws)
    per_group = np.bincount(group, minlength=n_groups)
    m.count("subjects")[:] = per_group

    deny = np.array([s.effect == "deny" for s in policy.sanctions], dtype=bool)
    services = sorted({s.service for s in policy.sanctions})
    by_service = {
        (svc, eff): np.array(
            [s.service == svc and s.effect == eff for s in policy.sanctions], dtype=bool
        )
        for svc in services
        for eff in ("deny", "benefit")
    }
    grade_names = list(policy.grade_names)
    prev_lists = np.zeros((len(policy.lists), n), dtype=bool)
    list_start = np.full((len(policy.lists), n), -1, dtype=np.int64)
    wrong_start = np.full(n, -1, dtype=np.int64)
    for day in range(spec.days):
        t = spec.day_end(day)
        if feedback.changed:
            full = Prepared.build(
                chunk_columns(draws, scenario, spec, policy, suppressed=gone), policy
            )
            clean = without_errors()
            feedback.changed = False
        bs = bulk_standings(full, t)
        if clean is not None and t >= first_error:
            wrongful = affected & _wrongful(bs, bulk_standings(clean, t), deny)
        else:
            wrongful = np.zeros(n, dtype=bool)
        _measure_day(m, day, group, n_groups, bs, wrongful, deny, by_service, grade_names)
        purchases.count(m, day, bs, group)
        # list flows and spells
        for li, lst in enumerate(policy.lists):
            now = bs.lists[li]
            came = now & ~prev_lists[li]
            went = ~now & prev_lists[li]
            m.count(f"list_in:{lst.name}")[day] += np.bincount(group[came], minlength=n_groups)
            m.count(f"list_out:{lst.name}")[day] += np.bincount(group[went], minlength=n_groups)
            _close_spells(m, f"list:{lst.name}", list_start[li], went, day, group)
            list_start[li][came] = day
        prev_lists = bs.lists.copy()
        began = wrongful & (wrong_start < 0)
        ended = ~wrongful & (wrong_start >= 0)
        _close_spells(m, "wrongful", wrong_start, ended, day, group)
        wrong_start[began] = day
        if feedback.active:
            feedback.after_day(m, day, bs.denied()[deny].any(axis=0), group)
        if on_day is not None:
            on_day(n)
    # records learned each day (as finally generated), by the group of whom they are about
    for d, mask in zip(draws, gone, strict=True):
        known = known_records(d, spec, policy, mask)
        rec_day = (d.recorded[known] - spec.start) // DAY
        g = d.group[d.subject[known]]
        np.add.at(m.count("records"), (rec_day, g), 1)
        wrong = d.wrong[known]
        np.add.at(m.count("wrong_records"), (rec_day[wrong], g[wrong]), 1)
    if suppressed is not None:
        suppressed[:] = gone
    for li, lst in enumerate(policy.lists):
        _censor(m, f"list:{lst.name}", list_start[li], spec.days, group)
    _censor(m, "wrongful", wrong_start, spec.days, group)
    return m


class _Purchases:
    """Uses of services by each agent over the whole period (a Poisson process at the group's
    yearly rate: a Poisson count per agent, then a uniform day for each use), from a stream
    per block and service of their own, and those refused by a denial in force that day."""

    def __init__(
        self,
        scenario: Scenario,
        spec: SimSpec,
        policy: CompiledPolicy,
        draws: list[BlockDraws],
        by_day: bool = True,
    ) -> None:
        """``by_day``: uses sorted by day, for ``count`` (False: in draw order, not counted
        here)."""
        groups = list(scenario.groups.values())
        names = sorted({s for g in groups for s in g.purchases} & set(policy.services()))
        all_names = sorted({s for g in groups for s in g.purchases})
        self.services = names
        # per service: (agent of the chunk, day) of every use, by day
        self.uses: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = {}
        self.bounds: dict[str, npt.NDArray[np.int64]] = {}
        for s in names:
            rate = np.array([g.purchases.get(s, 0.0) for g in groups])
            agents, days = [], []
            offset = 0
            for d in draws:
                # one stream per block and service (its index among every service the
                # scenario names, so that a policy without some service draws the same)
                rng = np.random.Generator(
                    np.random.Philox(
                        np.random.SeedSequence(
                            spec.seed, spawn_key=(d.block, 1 + all_names.index(s))
                        )
                    )
                )
                counts = rng.poisson(rate[d.group] * spec.days / 365.25)
                agents.append(offset + np.repeat(np.arange(d.n, dtype=np.int64), counts))
                days.append(rng.integers(0, spec.days, size=int(counts.sum())).astype(np.int64))
                offset += d.n
            agent = np.concatenate(agents) if agents else np.empty(0, np.int64)
            day = np.concatenate(days) if days else np.empty(0, np.int64)
            if not by_day:
                self.uses[s] = (agent, day)
                continue
            # (a stable sort of 16-bit days is a radix sort)
            order = np.argsort(
                day.astype(np.int16 if spec.days < 2**15 else np.int64), kind="stable"
            )
            self.uses[s] = (agent[order], day[order])
            self.bounds[s] = np.searchsorted(day[order], np.arange(spec.days + 1))

    def count(
        self, m: PolicyMetrics, day: int, bs: BulkStandings, group: npt.NDArray[np.int64]
    ) -> None:
        """Count the day's uses of each service, and those refused."""
        for s in self.services:
            agent = self.uses[s][0][self.bounds[s][day] : self.bounds[s][day + 1]]
            refused = agent[bs.denied_on(s)[agent]]
            m.count(f"purchases:{s}")[day] += np.bincount(group[agent], minlength=m.groups)
            m.count(f"purchases_refused:{s}")[day] += np.bincount(
                group[refused], minlength=m.groups
            )


class _Feedback:
    """Behaviour response and exit, applied at the end of each day to the next day's conduct."""

    def __init__(
        self,
        scenario: Scenario,
        spec: SimSpec,
        policy: CompiledPolicy,
        draws: list[BlockDraws],
        gone: list[Mask],
    ) -> None:
        self.spec, self.draws, self.gone = spec, draws, gone
        b = scenario.behaviour
        self.factor = b.while_sanctioned
        responding = set(b.types)
        self.responds = [
            np.array([t in responding for t in d.types] + [False])[d.type] for d in draws
        ]
        p = scenario.exit.yearly_while_sanctioned
        self.hazard = -np.log1p(-p) / 365.0
        self.active = self.acts(scenario)
        self.changed = False
        n = sum(d.n for d in draws)
        self.exit_e = np.concatenate([d.exit_e for d in draws]) if draws else np.empty(0)
        self.sanctioned_days = np.zeros(n, dtype=np.int64)
        self.left = np.zeros(n, dtype=bool)
        self.offsets = np.cumsum([0] + [d.n for d in draws])[:-1].tolist()

    @staticmethod
    def acts(scenario: Scenario) -> bool:
        """Whether ``scenario`` has a behaviour response or exit (what ``active`` says,
        without building anything)."""
        b = scenario.behaviour
        return bool(
            (b.while_sanctioned < 1.0 and set(b.types)) or scenario.exit.yearly_while_sanctioned > 0
        )

    def after_day(
        self, m: PolicyMetrics, day: int, denied: Mask, group: npt.NDArray[np.int64]
    ) -> None:
        """Subjects under a denial at the end of ``day`` (``denied``) respond the next day;
        those whose exit clock runs out leave (counted on the next day)."""
        n_groups = m.groups
        for name in ("exits", "exited", "conduct_avoided", "conduct_after_exit"):
            m.count(name)  # every chunk has them, whatever happens in it
        sanctioned = denied & ~self.left
        self.sanctioned_days += sanctioned
        leaving = ~self.left & (self.sanctioned_days * self.hazard >= self.exit_e)
        leaving &= self.hazard > 0
        self.left |= leaving
        nxt = day + 1
        if nxt >= self.spec.days:
            return
        m.count("exits")[nxt] += np.bincount(group[leaving], minlength=n_groups)
        m.count("exited")[nxt] += np.bincount(group[self.left], minlength=n_groups)
        lo, hi = self.spec.start + nxt * DAY, self.spec.start + (nxt + 1) * DAY
        for d, mask, responds, base in zip(
            self.draws, self.gone, self.responds, self.offsets, strict=True
        ):
            actor = base + d.actor
            that_day = (d.occurred >= lo) & (d.occurred < hi) & ~mask
            avoided = that_day & responds & sanctioned[actor] & (d.keep_u >= self.factor)
            after_exit = that_day & self.left[actor]
            cut = avoided | after_exit
            if cut.any():
                mask |= cut
                self.changed = True
                g = d.group[d.actor[avoided & ~after_exit]]
                m.count("conduct_avoided")[nxt] += np.bincount(g, minlength=n_groups)
                g = d.group[d.actor[after_exit]]
                m.count("conduct_after_exit")[nxt] += np.bincount(g, minlength=n_groups)


def _affected(draws: list[BlockDraws], spec: SimSpec, policy: CompiledPolicy) -> tuple[Mask, int]:
    """Agents of the chunk whose standing data errors can change (the subjects of erroneous
    records the ledger holds, and whoever stands in a relation to one), and when the first
    of those records is known."""
    n = sum(d.n for d in draws)
    hit = np.zeros(n, dtype=bool)
    first = 2**62
    offset = 0
    for d in draws:
        wrong = known_records(d, spec, policy) & d.wrong
        hit[offset + d.subject[wrong]] = True
        if wrong.any():
            first = min(first, int(d.recorded[wrong].min()))
        offset += d.n
    offset = 0
    out = hit.copy()
    for d in draws:
        out[offset + d.rel_subject[hit[offset + d.rel_related]]] = True
        offset += d.n
    return out, first


def _wrongful(bs: BulkStandings, bc: BulkStandings, deny: Mask) -> Mask:
    full = bs.denied()[deny]
    clean = bc.denied()[deny]
    return np.asarray((full & ~clean).any(axis=0), dtype=bool)


def _close_spells(
    m: PolicyMetrics,
    name: str,
    start: npt.NDArray[np.int64],
    ended: Mask,
    day: int,
    group: npt.NDArray[np.int64],
) -> None:
    """Spells of ``ended`` subjects end at ``day``: count their lengths, forget their start."""
    if ended.any():
        np.add.at(m.spell(name), (group[ended], day - start[ended]), 1)
        start[ended] = -1
    else:
        m.spell(name)


def _censor(
    m: PolicyMetrics,
    name: str,
    start: npt.NDArray[np.int64],
    days: int,
    group: npt.NDArray[np.int64],
) -> None:
    running = start >= 0
    np.add.at(m.spell(name, censored=True), (group[running], days - start[running]), 1)


def _measure_day(
    m: PolicyMetrics,
    day: int,
    group: npt.NDArray[np.int64],
    n_groups: int,
    bs: BulkStandings,
    wrongful: Mask,
    deny: Mask,
    by_service: dict[tuple[str, str], Mask],
    grade_names: list[str],
) -> None:
    def add(name: str, mask: object) -> None:
        m.count(name)[day] += np.bincount(group[np.asarray(mask, dtype=bool)], minlength=n_groups)

    grade = bs.grade
    for gi, gname in enumerate(grade_names):
        add(f"grade:{gname}", grade == gi)
    add("grade:not_determinable", grade < 0)
    for li, lst in enumerate(bs.policy.lists):
        add(f"list:{lst.name}", bs.lists[li])
    denied = bs.denied()
    for (svc, eff), rows in by_service.items():
        if rows.any():
            add(f"{'denied' if eff == 'deny' else 'benefit'}:{svc}", denied[rows].any(axis=0))
    sanctioned = denied[deny].any(axis=0)
    add("sanctioned", sanctioned)
    add("sanctioned_wrongful", wrongful)
    own = bs.own if bs.own is not None else bs.measures
    via = (denied[deny] & ~own[deny]).any(axis=0)
    add("sanctioned_via_relation", via)
    add("rewarded", denied[~deny].any(axis=0))
    m.add_scores(day, group, bs.score)
