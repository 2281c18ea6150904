"""What the lint rules read off a policy: which record types can trigger a list or a
measure (and which alone, one record being enough), who a measure can apply to, which
record types are adverse, the context of a service, how grave a record type is.

Pure functions of the validated ``Policy``; computed once per lint (``PolicyFacts``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property

from socialcredit.lint.findings import Path
from socialcredit.policy.model import Policy, Predicate, RecordType, Sanction

SEVERITY_RANK = {"minor": 0, "moderate": 1, "serious": 2}
MEASURE_RANK = {"low": 0, "medium": 1, "high": 2}
MINOR_POINTS = 10
"""A record type without a declared severity is minor when it takes at most this many
points off (and moderate up to 50, serious beyond)."""

_CHILD = re.compile(
    r"(?:^|_)(?:child|children|son|sons|daughter|daughters|minor|minors|kid|kids)(?:_|$)"
)


def record_severity(rt: RecordType) -> str | None:
    """The record type's severity: declared, else judged from negative points (at most 10
    off: minor; at most 50: moderate; more: serious); None when it takes no points off."""
    if rt.severity is not None:
        return rt.severity
    if rt.points >= 0:
        return None
    lost = -rt.points
    return "minor" if lost <= MINOR_POINTS else "moderate" if lost <= 50 else "serious"


class PolicyFacts:
    """Facts about one policy, computed on first use."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    # ----------------------------------------------------------------- record types
    def category_types(self, category: str) -> list[str]:
        """The record types of ``category``, in declaration order."""
        return [n for n, rt in self.policy.record_types.items() if rt.category == category]

    def _score_types(self, score: str | None, sign: int) -> set[str]:
        """Record types whose points move ``score`` (None: the first) in direction ``sign``
        (-1 down, 1 up, 0 either)."""
        p = self.policy
        named = p.scores.get(score) if score is not None else None
        if named is None and score is None and p.score is None and p.scores:
            named = next(iter(p.scores.values()))
        names: list[str] = list(p.record_types)
        if named is not None and named.components:
            names = []
            for comp in named.components.values():
                if comp.types:
                    names += comp.types
                elif comp.category:
                    names += self.category_types(comp.category)
        return {
            n
            for n in names
            if n in p.record_types
            and (
                (sign < 0 and p.record_types[n].points < 0)
                or (sign > 0 and p.record_types[n].points > 0)
                or (sign == 0 and p.record_types[n].points != 0)
            )
        }

    def named_types(self, pred: Predicate) -> list[str]:
        """The record types a records condition counts (a category's types)."""
        r = pred.records
        if r is None:
            return []
        if r.category is not None:
            return self.category_types(r.category)
        return r.type_names()

    def triggers(self, pred: Predicate) -> set[str]:
        """Record types whose records can make ``pred`` hold (through lists and scores);
        records a ``not`` counts do not trigger it."""
        if pred.records is not None:
            return set(self.named_types(pred))
        if pred.on_list is not None:
            lst = self.policy.lists.get(pred.on_list)
            return self.triggers(lst.when) if lst is not None else set()
        if pred.score_below is not None:
            return self._score_types(pred.score_named(), -1)
        if pred.score_at_least is not None:
            return self._score_types(pred.score_named(), 1)
        if pred.grade_in is not None:
            return self._score_types(pred.score_named(), 0)
        if pred.rank_top is not None:
            ranked = self.policy.scores.get(pred.rank_top.score)
            if ranked is not None and ranked.rating is not None:
                return set(ranked.rating.types)
            return self._score_types(pred.rank_top.score, 0)
        out: set[str] = set()
        for child in (pred.all_ or []) + (pred.any_ or []):
            out |= self.triggers(child)
        return out

    def single_triggers(self, pred: Predicate) -> set[str]:
        """Record types of which one record alone makes ``pred`` hold (for a subject with
        no other record): an ``at_least: 1`` condition on an ``any`` branch, or a score
        threshold one record's points cross."""
        if pred.records is not None:
            r = pred.records
            if r.at_least != 1 or r.after is not None:
                return set()
            return set(self.named_types(pred))
        if pred.on_list is not None:
            lst = self.policy.lists.get(pred.on_list)
            return self.single_triggers(lst.when) if lst is not None else set()
        if pred.score_below is not None and pred.score_named() is None:
            score = self.policy.score
            threshold = pred.threshold()
            if score is None or threshold is None:
                return set()
            if score.base < threshold:
                return set()  # it holds with no record at all, not because of one
            out = set()
            for name in self._score_types(None, -1):
                value = score.base + self.policy.record_types[name].points
                if score.min is not None:
                    value = max(value, score.min)
                if value < threshold:
                    out.add(name)
            return out
        if pred.any_ is not None:
            found: set[str] = set()
            for child in pred.any_:
                found |= self.single_triggers(child)
            return found
        if pred.all_ is not None and len(pred.all_) == 1:
            return self.single_triggers(pred.all_[0])
        return set()

    @cached_property
    def adverse_types(self) -> set[str]:
        """Record types that harm their subject: negative points, or triggering a black
        list or a denial."""
        p = self.policy
        out = {n for n, rt in p.record_types.items() if rt.points < 0}
        for lst in p.lists.values():
            if lst.kind == "black":
                out |= self.triggers(lst.when)
        for s in p.sanctions.values():
            if s.effect == "deny":
                out |= self.triggers(s.when)
        return out

    def subject_kinds(self, types: set[str]) -> set[str]:
        """The subject kinds records of ``types`` can be about."""
        kinds: set[str] = set()
        for name in types:
            rt = self.policy.record_types.get(name)
            if rt is not None:
                kinds |= set(rt.subject_kinds)
        return kinds

    # -------------------------------------------------------------------- services
    def service_context(self, service: str) -> str | None:
        """The service's declared context, or the nearest parent's; None if none says."""
        seen: set[str] = set()
        current: str | None = service
        while current is not None and current not in seen:
            seen.add(current)
            declared = self.policy.services.get(current)
            if declared is None:
                return None
            if declared.context is not None:
                return declared.context
            current = declared.parent
        return None

    # ------------------------------------------------------------------- relations
    def is_child_relation(self, relation: str) -> bool:
        """Whether ``relation`` leads to a child (declared ``nature: child``, or, without a
        declared nature, a name with a word that says so: child_of, son_of, daughter_of, minor…)."""
        rel = self.policy.relations.get(relation)
        if rel is not None and rel.nature is not None:
            return rel.nature == "child"
        return bool(_CHILD.search(relation))

    # ------------------------------------------------------------------ conditions
    def conditions(self) -> Iterator[tuple[Path, Predicate]]:
        """Every predicate in every list and measure, with its field path."""
        for name, lst in self.policy.lists.items():
            yield from _walk(lst.when, ("lists", name, "when"))
        for name, s in self.policy.sanctions.items():
            yield from _walk(s.when, ("sanctions", name, "when"))

    def denials(self) -> Iterator[tuple[str, Sanction]]:
        """The measures that deny a service, with their names."""
        for name, s in self.policy.sanctions.items():
            if s.effect == "deny":
                yield name, s


def _walk(pred: Predicate, path: Path) -> Iterator[tuple[Path, Predicate]]:
    yield path, pred
    for key, children in (("all", pred.all_), ("any", pred.any_)):
        for i, child in enumerate(children or []):
            yield from _walk(child, (*path, key, i))
    if pred.not_ is not None:
        yield from _walk(pred.not_, (*path, "not"))
