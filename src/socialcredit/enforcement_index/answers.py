"""Answers to checks, decided from a subject's state (pure), and precomputed for lookup.

``decide`` is ``enforcement.check`` restated over a ``SubjectState``: the measures covering
the service (on it or on a service it is part of) in force at the time and matching the
request's attributes deny or benefit; an exemption of the service waives every denial;
the subject may use the service again when the last denial ends.

For a check without request attributes, a subject's answers on a service change only at
the starts and ends of its periods: ``Slot`` holds them segment by segment, so a lookup
is a binary search, and a subject with no measure on a service shares one answer with
everyone else (``static_answers``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from socialcredit.enforcement import Decision, not_granted
from socialcredit.enforcement_index.state import SubjectState
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.timeutil import NEVER, to_iso


@dataclass(frozen=True, slots=True)
class IndexAnswer:
    """What a service point learns from a check (as ``Engine.check``'s ``Decision``, without
    the subject, the time or the file): allow/deny, reason codes, the local date the
    subject may use the service again (None: allowed, or no end in sight: ``indefinite``),
    the benefits, the reason codes an exemption waives, and the policy.

    ``holds_until``: the answer is the same at every time from the one asked about until
    then (exclusive) unless the ledger learns something new; None: no end in sight.
    ``known``: the ledger has an entry about the subject (False: allowed, never heard of).
    ``from_engine``: answered by ``Engine.check`` (a time before the index's knowledge, a
    period located by subdivision, a policy still being indexed); it then holds only for
    the instant asked about.
    """

    decision: str
    reasons: tuple[str, ...]
    eligible_again_on: str | None
    indefinite: bool
    benefits: tuple[str, ...]
    exempted: tuple[str, ...]
    holds_until: int | None
    policy_version: str
    policy_hash: str
    known: bool = True
    from_engine: bool = False

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (ISO 8601 ``holds_until``)."""
        return {
            "decision": self.decision,
            "reasons": list(self.reasons),
            "eligible_again_on": self.eligible_again_on,
            "indefinite": self.indefinite,
            "benefits": list(self.benefits),
            "exempted_reasons": list(self.exempted),
            "holds_until": to_iso(self.holds_until),
            "policy_version": self.policy_version,
            "policy_hash": self.policy_hash,
            "known": self.known,
        }


def from_decision(d: Decision) -> IndexAnswer:
    """An engine decision as an index answer (holding for its instant only)."""
    return IndexAnswer(
        d.decision,
        tuple(d.reasons),
        d.eligible_again_on,
        d.indefinite,
        tuple(d.benefits),
        tuple(d.exempted),
        d.at + 1,
        d.policy_version,
        d.policy_hash,
        d.known,
        True,
    )


def _until(t: int) -> int | None:
    return None if t >= NEVER else t


def allowed(policy: CompiledPolicy, known: bool, cap: int, service: str) -> IndexAnswer:
    """The answer for a subject with no measure on ``service`` (until ``cap``: the next
    policy's activation, NEVER: none): allow, or for a ``granted`` service a denial
    (``NOT-GRANTED``: no benefit gives it)."""
    reasons = tuple(not_granted(policy.granted_services(), service, (), ()))
    return IndexAnswer(
        "deny" if reasons else "allow",
        reasons,
        None,
        False,
        (),
        (),
        _until(cap),
        policy.version_label,
        policy.loaded.content_hash,
        known,
    )


class _Terms:
    """What every answer under one policy repeats, computed once (cached on the policy)."""

    __slots__ = ("chains", "dates", "granted", "hash", "label", "policy")

    def __init__(self, policy: CompiledPolicy) -> None:
        self.policy = policy
        self.label = policy.version_label
        self.hash = policy.loaded.content_hash
        self.chains = {s: frozenset(policy.service_chain(s)) for s in policy.services()}
        self.dates: dict[int, str | None] = {}
        self.granted = policy.granted_services()

    def date(self, end: int) -> str | None:
        found = self.dates.get(end, "")
        if found == "":
            found = self.dates[end] = self.policy.date_of(end)
        return found


def _terms(policy: CompiledPolicy) -> _Terms:
    found: _Terms | None = policy.cache.get("enforcement_index_terms")
    if found is None:
        found = policy.cache["enforcement_index_terms"] = _Terms(policy)
    return found


def decide(
    policy: CompiledPolicy,
    state: SubjectState,
    service: str,
    at: int,
    request: Mapping[str, float | str] | None,
    cap: int,
) -> IndexAnswer:
    """The answer for ``state``'s subject on ``service`` at ``at`` (``state.valid_from <= at
    < cap``) for a request with ``request`` (validated by ``CompiledPolicy.request``; None:
    no particular request, every measure counts). Equal to ``Engine.check``'s decision."""
    terms = _terms(policy)
    chain = terms.chains.get(service)
    if chain is None:
        chain = frozenset(policy.service_chain(service))
    nxt = cap
    denied: set[str] = set()
    benefits: set[str] = set()
    end = 0
    for m in state.measures:
        s = m.sanction
        if s.service not in chain:
            continue
        if m.start > at:
            if m.start < nxt:
                nxt = m.start
            continue
        if m.end <= at:
            continue
        if m.end < nxt:
            nxt = m.end
        if request is not None and not s.applies(request):
            continue
        if s.effect == "deny":
            denied.add(s.reason_code)
            if m.end > end:
                end = m.end
        else:
            benefits.add(s.reason_code)
    exempt = False
    for x in state.exemptions:
        if x.services.isdisjoint(chain):
            continue
        if x.start > at:
            nxt = min(nxt, x.start)
            continue
        if x.end <= at:
            continue
        nxt = min(nxt, x.end)
        exempt = True
    waived: tuple[str, ...] = ()
    if denied and exempt:
        waived = tuple(sorted(denied))
        denied = set()
    reasons = not_granted(terms.granted, service, sorted(denied), sorted(benefits))
    return IndexAnswer(
        "deny" if reasons else "allow",
        tuple(reasons),
        terms.date(end) if denied else None,
        bool(denied) and end >= NEVER,
        tuple(sorted(benefits)),
        waived,
        _until(nxt),
        terms.label,
        terms.hash,
        state.known,
    )


class Slot:
    """A subject's answers on one service for checks without request attributes, by time:
    ``answers[i]`` holds from ``times[i - 1]`` until ``times[i]``; ``answers[0]`` (before
    ``times[0]``, the state's ``valid_from``) is None: those times are the engine's."""

    __slots__ = ("answers", "times")

    def __init__(self, times: list[int], answers: list[IndexAnswer | None]) -> None:
        self.times = times
        self.answers = answers

    def at(self, t: int) -> IndexAnswer | None:
        """The answer at ``t`` (None: ask the engine)."""
        return self.answers[bisect_right(self.times, t)]


def slot(policy: CompiledPolicy, state: SubjectState, service: str, cap: int) -> Slot:
    """``state``'s answers on ``service`` from ``state.valid_from`` until ``cap``."""
    chain = _terms(policy).chains.get(service) or frozenset(policy.service_chain(service))
    cuts = {state.valid_from}
    for m in state.measures:
        if m.sanction.service in chain:
            cuts.update((m.start, m.end))
    for x in state.exemptions:
        if not x.services.isdisjoint(chain):
            cuts.update((x.start, x.end))
    times = sorted(c for c in cuts if state.valid_from <= c < cap)
    answers: list[IndexAnswer | None] = [None]
    answers += [decide(policy, state, service, c, None, cap) for c in times]
    return Slot(times, answers)


def quick_services(policy: CompiledPolicy) -> list[str]:
    """The services a check without attributes may ask about: those no measure covering
    them limits to some requests (a check on the others must carry attributes)."""
    return [s for s in policy.services() if not policy.required_attributes(s)]


def static_answers(policy: CompiledPolicy, known: bool, cap: int) -> dict[str, Any]:
    """Service -> the answer for a subject without measures, for ``quick_services``."""
    return {s: allowed(policy, known, cap, s) for s in quick_services(policy)}


def subject_answers(
    policy: CompiledPolicy, state: SubjectState, base: dict[str, Any], cap: int
) -> dict[str, Any]:
    """Service -> answer or ``Slot`` for ``state``'s subject (``base``: the answers of a
    subject without measures, shared); empty for a subject answered by the engine."""
    if state.exact:
        return {}
    out = dict(base)
    covered = {c for m in state.measures for c in m.sanction.covers}
    for service in covered:
        if service in out:
            out[service] = slot(policy, state, service, cap)
    return out
