"""``EnforcementIndex``: checks answered from memory, agreeing with ``Engine.check``.

Built from the ledger in bulk (``subject_states`` for everyone), then kept current:
``catch_up`` reads the entries received since (by ``seq``) and evaluates again only the
subjects they are about and the subjects related to those (a measure reaches a subject
through a relation to the one it is in force on). A check is a dictionary lookup: a
subject with no measure shares one answer per service with everyone else; one with
measures has, per service it covers, its answers by time (``Slot``), so a period starting
or ending is a binary search, not a re-evaluation. For each service asked about, a
generation keeps a flat view (subject -> answer on that service, built on the first check
of the service and kept current with the rest), so a check without request attributes is
one dictionary lookup, and a batch one ``map`` of it.

Policies: each activation in force at the index's knowledge time or later has its own
generation, built under that policy; a check at ``at`` is answered by the generation
whose activation is in force at ``at``, so the switch to a new policy happens exactly at
its activation time. An activation the index learns of later is indexed when
``catch_up`` sees it; until then, checks from its activation time on are answered by the
engine (under the new policy).

What the index does not answer itself, the engine does (``IndexAnswer.from_engine``):
times before what the index knows (an entry received later than the time asked about
may count there, the engine leaves it out), subjects with a period located by
subdivision (``SubjectState.exact``), and times without a policy indexed.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from socialcredit.columns import RELATION, LedgerColumns
from socialcredit.enforcement import require_service
from socialcredit.enforcement_index.answers import (
    IndexAnswer,
    Slot,
    allowed,
    decide,
    from_decision,
    static_answers,
    subject_answers,
)
from socialcredit.enforcement_index.feed import GAP_WAIT, PAGE, ChangeFeed
from socialcredit.enforcement_index.state import SubjectState, subject_states
from socialcredit.engine import Engine, PolicyNotInForceError
from socialcredit.ledger.changes import Change
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.scoring.prepared import Prepared
from socialcredit.timeutil import NEVER

REBUILD_FROM = 20_000
"""Subjects to evaluate again at once from which ``catch_up`` rebuilds the whole index."""
GAP_SCAN = 100_000
"""How far below the highest ``seq`` a build looks for numbers not yet committed."""

_ANSWER = IndexAnswer
_bisect_right = bisect.bisect_right
LAZY: dict[str, Any] = {}
"""A subject with measures whose answers are built on its first check (shared, empty)."""
REQUESTS_CACHED = 4096
"""Validated request attributes remembered per generation."""

View = tuple[dict[str, Any], IndexAnswer]
"""One service's flat view: subject -> its answer (``IndexAnswer``), its answers by time
(``Slot``) or None (the slow path: answers built on the first check, or the engine's), and
the answer for a subject the ledger never heard of."""


def _on(answers: dict[str, Any], service: str) -> Any:
    """A subject's entry in the flat view of ``service`` (see ``View``)."""
    return None if answers is LAZY else answers.get(service)


@dataclass(slots=True)
class Generation:
    """The index under one policy activation: answers for checks at times in
    [``valid_from``, ``valid_until``).

    ``lookup``: subject -> service -> answer or ``Slot`` (every subject the ledger knows;
    missing: never heard of, ``unknown``); ``states``: the subjects with measures;
    ``fences``: subjects evaluated again at a knowledge time after ``valid_from``, with that
    time (before it, their checks are the engine's).
    """

    policy: CompiledPolicy
    in_force_from: int | None
    valid_from: int
    valid_until: int
    known: dict[str, Any]
    unknown: dict[str, Any]
    lookup: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: dict[str, SubjectState] = field(default_factory=dict)
    fences: dict[str, int] = field(default_factory=dict)
    fenced: dict[tuple[int, bool], dict[str, Any]] = field(default_factory=dict)
    unknown_names: set[str] = field(default_factory=set)  # in the ledger, no entry of theirs
    # every service (those needing attributes too): the answer without measures
    every_known: dict[str, IndexAnswer] = field(default_factory=dict)
    every_unknown: dict[str, IndexAnswer] = field(default_factory=dict)
    requests: dict[tuple[Any, ...], dict[str, float | str] | None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    views: dict[str, View] = field(default_factory=dict)  # service -> flat view

    def view(self, service: str) -> View | None:
        """The flat view of ``service`` (built now if it is the first check of it); None
        for a service no check without request attributes can be answered from memory
        (unknown, or one whose measures need request attributes)."""
        found = self.views.get(service)
        if found is not None or service not in self.known:
            return found
        with self.lock:  # no subject changes while the view is made
            found = self.views.get(service)
            if found is None:
                table = {name: _on(answers, service) for name, answers in self.lookup.items()}
                found = self.views[service] = (table, self.unknown[service])
        return found

    def _install(self, name: str, answers: dict[str, Any]) -> None:
        """``name``'s answers by service, in the lookup and every view (under ``lock``)."""
        self.lookup[name] = answers
        for service, (table, _) in self.views.items():
            table[name] = _on(answers, service)

    def request(
        self, service: str, attributes: Mapping[str, Any] | None
    ) -> dict[str, float | str] | None:
        """``attributes`` validated for ``service`` (``CompiledPolicy.request``; None: no
        particular request), remembered for the next check with the same ones."""
        try:
            key = (service, *sorted(attributes.items())) if attributes else (service,)
            found = self.requests.get(key, False)
        except TypeError:  # an unhashable value: validated (and refused) every time
            key, found = None, False
        if found is not False:
            return found  # type: ignore[return-value]
        require_service(self.policy, service)
        request = self.policy.request(service, attributes or {}) or None
        if key is not None and len(self.requests) < REQUESTS_CACHED:
            self.requests[key] = request
        return request

    def materialise(self, name: str, state: SubjectState) -> dict[str, Any]:
        """``name``'s answers by service from ``state``, installed for the next lookups
        unless the subject was evaluated again meanwhile."""
        found = subject_answers(
            self.policy, state, self.base(state.known, self.fences.get(name)), self.valid_until
        )
        with self.lock:
            if self.states.get(name) is state and self.lookup.get(name) is LAZY:
                self._install(name, found)
        return found

    def is_known(self, name: str) -> bool:
        """Whether the ledger has an entry about ``name`` (``Engine.check``'s ``known``)."""
        return name in self.lookup and name not in self.unknown_names

    def base(self, known: bool, fence: int | None) -> dict[str, Any]:
        """The answers of a subject without measures (before ``fence``: the engine's)."""
        plain = self.known if known else self.unknown
        if fence is None or fence <= self.valid_from:
            return plain
        key = (fence, known)
        found = self.fenced.get(key)
        if found is None:
            found = {s: Slot([fence], [None, a]) for s, a in plain.items()}
            self.fenced[key] = found
        return found

    def put(
        self, name: str, state: SubjectState | None, known: bool, fence: int | None = None
    ) -> None:
        """Index ``name``'s answers from ``state`` (None: no measure)."""
        if fence is not None and fence > self.valid_from:
            self.fences[name] = fence
        base = self.base(known, fence)
        if known:
            self.unknown_names.discard(name)
        else:
            self.unknown_names.add(name)
        with self.lock:
            if state is None:
                self.states.pop(name, None)
                self._install(name, base)
            else:
                self.states[name] = state
                self._install(name, {} if state.exact else LAZY)


def _generation(
    policy: CompiledPolicy,
    in_force_from: int | None,
    valid_from: int,
    valid_until: int,
    cols: LedgerColumns,
    t: int,
) -> Generation:
    """Every subject of ``cols`` indexed under ``policy``, with what is known at ``t``."""
    gen = Generation(
        policy,
        in_force_from,
        valid_from,
        valid_until,
        static_answers(policy, True, valid_until),
        static_answers(policy, False, valid_until),
        every_known={s: allowed(policy, True, valid_until, s) for s in policy.services()},
        every_unknown={s: allowed(policy, False, valid_until, s) for s in policy.services()},
    )
    prep = Prepared.build(cols, policy, in_force_from)
    states, known = subject_states(prep, t)
    names = cols.subjects
    for i, flag in enumerate(known.tolist()):
        gen.lookup[names[i]] = gen.known if flag else gen.unknown
        if not flag:
            gen.unknown_names.add(names[i])
    for i, state in states.items():
        gen.put(names[i], state, state.known)
    return gen


class EnforcementIndex:
    """Checks from memory (see the module docstring). Build one with ``build``."""

    def __init__(
        self,
        engine: Engine,
        generations: list[Generation],
        feed: ChangeFeed,
        dependants: dict[str, set[str]],
        water: tuple[int, int],
        knowledge: int,
    ) -> None:
        """Use ``EnforcementIndex.build``."""
        self.engine = engine
        self.clock: Callable[[], int] = engine.clock
        self._gens = generations
        self._starts = [g.valid_from for g in generations]
        self._feed = feed
        self._dependants = dependants
        self._water = water
        self.knowledge = knowledge
        self._versions = {pv.version for pv in engine.history}
        self._lock = threading.RLock()
        self._gen = self._pick(self.clock()) or _EMPTY
        self.applied = 0  # entries applied by ``catch_up`` since the build
        self.caught_up_at = time.monotonic()  # when ``catch_up`` last finished
        self.built_in = 0.0  # seconds the last (re)build took
        self.rebuilding: Callable[[], AbstractContextManager[object]] = nullcontext
        """What a rebuild (a policy activated, a ranking moved) runs inside: the service
        keeps the garbage collector off meanwhile and freezes the new index after it."""

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls, engine: Engine, at: int | None = None, *, gap_wait: float = GAP_WAIT
    ) -> EnforcementIndex:
        """The index of ``engine``'s ledger, knowing what it holds now, for checks at
        ``at`` (default: the engine's clock) and later, under the policy in force at each
        time (or the engine's policy file for every time)."""
        started = time.monotonic()
        ledger = engine.ledger
        water = ledger.high_water()
        if engine.fixed_policy is None:
            engine = Engine(ledger, engine.clock, history=ledger.policy_history())
        # a rating score reads each rating's source (its rater)
        cols = ledger.columns(with_ids=engine.policy.rating_scores)
        t = _knowledge(engine, cols, engine.clock() if at is None else at)
        gens = _generations(engine, cols, t)
        seqs = np.concatenate(
            [cols.rec_seq, cols.cor_seq, cols.rel_seq, cols.exm_seq, cols.att_seq]
        ).astype(np.int64)
        low = max(water.seq - GAP_SCAN, 0)
        recent = set(seqs[seqs > low].tolist())
        missing = [s for s in range(low + 1, water.seq + 1) if s not in recent]
        feed = ChangeFeed(ledger, water.seq, missing, gap_wait)
        index = cls(
            engine,
            gens,
            feed,
            _dependants(cols),
            (water.activations, water.policy_version),
            t,
        )
        index.built_in = time.monotonic() - started
        return index

    def _pick(self, at: int) -> Generation | None:
        i = bisect.bisect_right(self._starts, at) - 1
        if i < 0:
            return None
        gen = self._gens[i]
        return gen if at < gen.valid_until else None

    # ------------------------------------------------------------------ checks

    def check(
        self,
        subject: str,
        service: str,
        at: int | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> IndexAnswer:
        """Allow or deny ``service`` for ``subject`` at ``at`` (default: now), for a request
        with ``attributes``: the same decision, reason codes and ``eligible_again_on`` as
        ``Engine.check`` with what the index has caught up with. Raises
        ``UnknownServiceError`` for a service the policy does not know and
        ``RequestAttributeError`` for a bad or missing attribute, as the engine does; a
        subject the ledger never heard of is allowed with ``known=False``."""
        gen = self._gen
        view = gen.views.get(service)
        if view is not None and not attributes:
            if at is None:
                at = self.clock()
            if gen.valid_from <= at < gen.valid_until:
                found = view[0].get(subject, view[1])
                if found.__class__ is _ANSWER:
                    answer: IndexAnswer = found
                    return answer
                if found is not None:
                    got = found.answers[_bisect_right(found.times, at)]
                    if got is not None:
                        return got  # type: ignore[no-any-return]
            return self._check(subject, service, at, attributes)
        if at is None:
            at = self.clock()
        if not attributes and gen.valid_from <= at < gen.valid_until and gen.view(service):
            return self.check(subject, service, at)  # the view is made: answer from it
        return self._check(subject, service, at, attributes)

    def _check(
        self, subject: str, service: str, at: int, attributes: Mapping[str, Any] | None
    ) -> IndexAnswer:
        gen = self._pick(at)
        if gen is None:
            return self._engine_check(subject, service, at, attributes)
        request = gen.request(service, attributes)
        return self._decide(gen, subject, service, at, request, attributes)

    def _decide(
        self,
        gen: Generation,
        subject: str,
        service: str,
        at: int,
        request: dict[str, float | str] | None,
        attributes: Mapping[str, Any] | None,
    ) -> IndexAnswer:
        if at < gen.fences.get(subject, gen.valid_from):
            return self._engine_check(subject, service, at, attributes)
        state = gen.states.get(subject)
        if state is None:
            every = gen.every_known if gen.is_known(subject) else gen.every_unknown
            return every[service]
        if state.exact or at < state.valid_from:
            return self._engine_check(subject, service, at, attributes)
        if request is None and gen.lookup.get(subject) is LAZY:
            found = gen.materialise(subject, state).get(service)
            if found is not None:
                got = found if found.__class__ is _ANSWER else found.at(at)
                if got is not None:
                    return got
        return decide(gen.policy, state, service, at, request, gen.valid_until)

    def _engine_check(
        self, subject: str, service: str, at: int, attributes: Mapping[str, Any] | None
    ) -> IndexAnswer:
        return from_decision(self.engine.check(subject, service, at, attributes))

    def check_batch(
        self,
        subjects: Iterable[str],
        service: str,
        at: int | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> list[IndexAnswer]:
        """``check`` for each of ``subjects`` on one service at one time (the service and
        the attributes are validated once)."""
        if at is None:
            at = self.clock()
        gen = self._gen
        view = None
        if not attributes and gen.valid_from <= at < gen.valid_until:
            view = gen.view(service)
        if view is not None:
            names = subjects if isinstance(subjects, list) else list(subjects)
            table, unknown = view
            out: list[Any] = list(map(table.get, names, itertools.repeat(unknown)))
            n = len(names)  # the positions of the entries that are not answers, found in C:
            slow = itertools.compress(
                range(n), map(operator.is_not, map(type, out), itertools.repeat(_ANSWER, n))
            )
            for i in slow:
                found = out[i]
                got = None if found is None else found.answers[_bisect_right(found.times, at)]
                out[i] = got if got is not None else self._check(names[i], service, at, None)
            return out
        picked = self._pick(at)
        if picked is None:
            return [self._engine_check(s, service, at, attributes) for s in subjects]
        request = picked.request(service, attributes)
        return [self._decide(picked, s, service, at, request, attributes) for s in subjects]

    # ------------------------------------------------------------------ keeping current

    def catch_up(self) -> int:
        """Apply the entries the ledger received since the last look (by ``seq``, and
        numbers skipped then: see ``ChangeFeed``): evaluate again the subjects they are
        about and those related to them, and index a policy activated meanwhile. Returns
        how many entries were applied. Safe to call from any thread (one at a time)."""
        with self._lock:
            applied = 0
            self._policies()
            while True:
                changes = self._feed.poll(PAGE)
                if changes:
                    self._apply(changes)
                    applied += len(changes)
                if len(changes) < PAGE:
                    break
            self.applied += applied
            self.refresh()
            self.caught_up_at = time.monotonic()
            return applied

    def refresh(self, now: int | None = None) -> int:
        """Move checks without a time to the generation in force ``now`` (default: the
        clock) and give subjects evaluated again at a knowledge time up to ``now`` the
        shared answers back (checks about times before that knowledge are then the
        engine's, for every subject). Returns how many subjects were refreshed. A measure
        starting or ending needs no refresh: each subject's answers by time are indexed."""
        with self._lock:
            now = self.clock() if now is None else now
            gen = self._pick(now)
            if gen is not None:
                self._gen = gen
            done = 0
            for i, g in enumerate(self._gens):
                passed = [(n, fence) for n, fence in g.fences.items() if fence <= now]
                if not passed:
                    continue
                # checks about times before the last of these fences go to the engine
                g.valid_from = max(g.valid_from, max(fence for _, fence in passed))
                self._starts[i] = g.valid_from
                for name, _ in passed:
                    del g.fences[name]
                    g.put(name, g.states.get(name), g.is_known(name))
                    done += 1
                g.fenced = {k: v for k, v in g.fenced.items() if k[0] > g.valid_from}
            return done

    def _apply(self, changes: list[Change]) -> None:
        touched = {c.subject for c in changes}
        for c in changes:
            if c.kind == RELATION and c.related is not None:
                self._dependants.setdefault(c.related, set()).add(c.subject)
        wider = set(touched)
        for name in touched:
            wider |= self._dependants.get(name, set())
        t = max(
            [self.knowledge]
            + [c.recorded_at for c in changes]
            + [c.loaded_at for c in changes if c.loaded_at is not None]
        )
        if len(wider) >= REBUILD_FROM or any(g.policy.rankings for g in self._gens):
            # a ranking moves with everyone's entries: every subject's answer may change
            self._rebuild()
            return
        names = sorted(wider)
        cols = self.engine.ledger.columns(names, follow_relations=True)
        where = {name: i for i, name in enumerate(cols.subjects)}
        chosen = [where[n] for n in names if n in where]
        for gen in self._gens:
            prep = Prepared.build(cols, gen.policy, gen.in_force_from)
            states, known = subject_states(prep, t, chosen)
            for i in chosen:
                gen.put(cols.subjects[i], states.get(i), bool(known[i]), t)
        self.knowledge = t

    def _policies(self) -> None:
        """Index a policy activated since the last look: answers from its activation time
        go to the engine (under the new history) at once, then the index is rebuilt."""
        if self.engine.fixed_policy is not None:
            return
        water = self.engine.ledger.policy_water()
        if water == self._water:
            return
        self._water = water
        ledger = self.engine.ledger
        self.engine = Engine(ledger, self.engine.clock, history=ledger.policy_history())
        first_new = min(
            (pv.activated_at for pv in self.engine.history if pv.version not in self._versions),
            default=NEVER,
        )
        for g in self._gens:  # no generation answers past the new activation meanwhile
            g.valid_until = min(g.valid_until, max(first_new, g.valid_from))
        self._rebuild()

    def _rebuild(self) -> None:
        with self.rebuilding():
            self._replace_by_fresh()

    def _replace_by_fresh(self) -> None:
        fresh = EnforcementIndex.build(self.engine, self.knowledge, gap_wait=self._feed.wait)
        # the fresh feed starts where the fresh columns end; keep what this one skipped
        fresh._feed.gaps = [*self._feed.gaps, *fresh._feed.gaps]
        self.engine = fresh.engine
        self._gens = fresh._gens
        self._starts = fresh._starts
        self._feed = fresh._feed
        self._dependants = fresh._dependants
        self._water = fresh._water
        self._versions = fresh._versions
        self.knowledge = fresh.knowledge
        self.built_in = fresh.built_in
        self._gen = self._pick(self.clock()) or _EMPTY

    # ------------------------------------------------------------------ introspection

    @property
    def last_seq(self) -> int:
        """The highest ``seq`` applied."""
        return self._feed.last

    def age(self) -> float:
        """Seconds since ``catch_up`` last finished."""
        return time.monotonic() - self.caught_up_at

    def policies(self) -> list[tuple[str, int, int | None]]:
        """Each indexed generation: (policy version label, from, until or None)."""
        return [
            (
                g.policy.version_label,
                g.valid_from,
                None if g.valid_until >= NEVER else g.valid_until,
            )
            for g in self._gens
        ]

    def subjects_with_measures(self) -> int:
        """How many subjects have a measure (now or to come) under the current policy."""
        return len(self._gen.states)


_EMPTY_POLICY: Any = None
_EMPTY = Generation(_EMPTY_POLICY, None, NEVER, NEVER, {}, {})
"""No generation: every check goes the slow way."""


def _knowledge(engine: Engine, cols: LedgerColumns, at: int) -> int:
    """The index's knowledge time: ``at``, or later if the ledger holds an entry received
    later (or a backfill or activation made later): answers about earlier times are the
    engine's."""
    times = [at]
    for column in (
        cols.rec_recorded_at,
        cols.cor_recorded_at,
        cols.rel_recorded_at,
        cols.exm_recorded_at,
        cols.att_recorded_at,
    ):
        if len(column):
            times.append(int(column.max()))
    loaded = engine.ledger.backfills_loaded()
    if loaded is not None:
        times.append(loaded)
    times += [pv.recorded_at for pv in engine.history if pv.recorded_at is not None]
    return max(times)


def _generations(engine: Engine, cols: LedgerColumns, t: int) -> list[Generation]:
    """A generation for each activation in force at ``t`` or later (one for a policy file)."""
    if engine.fixed_policy is not None:
        return [_generation(engine.fixed_policy, None, t, NEVER, cols, t)]
    starts = [pv.activated_at for pv in engine.history]
    out = []
    first = max(bisect.bisect_right(starts, t) - 1, 0)
    for i in range(first, len(starts)):
        begin = max(starts[i], t)
        end = starts[i + 1] if i + 1 < len(starts) else NEVER
        if end <= begin:
            continue
        try:
            policy = engine.policy_at(begin)
        except PolicyNotInForceError:
            continue
        out.append(_generation(policy, engine.in_force_from(begin), begin, end, cols, t))
    return out


def _dependants(cols: LedgerColumns) -> dict[str, set[str]]:
    """Related subject -> the subjects related to it (whose measures may come from it)."""
    out: dict[str, set[str]] = {}
    names = cols.subjects
    for x, y in zip(cols.rel_subject.tolist(), cols.rel_related.tolist(), strict=True):
        out.setdefault(names[y], set()).add(names[x])
    return out


__all__ = ["EnforcementIndex", "Generation", "IndexAnswer", "Sequence"]
