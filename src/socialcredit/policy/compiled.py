"""A policy compiled to arrays and small closures, for evaluation one subject or a nation at a time.

Compilation does not add rules: every number here is read from the ``Policy`` model, so the
live scorer, the bulk recompute and (later) the simulator all evaluate the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from socialcredit.policy.loader import LoadedPolicy
from socialcredit.policy.model import FixedDuration, Policy, Predicate
from socialcredit.timeutil import NEVER


@dataclass(frozen=True)
class CompiledList:
    """A list ready for evaluation."""

    index: int
    name: str
    kind: str  # black | red
    when: Predicate
    delist_delay: int
    description: str
    legal_basis: str


@dataclass(frozen=True)
class CompiledSanction:
    """A sanction or reward ready for evaluation."""

    index: int
    name: str
    service: str
    effect: str  # deny | benefit
    when: Predicate
    fixed: int | None  # seconds, or None for while_triggered
    max_duration: int | None
    reach: tuple[str, ...]
    reason_code: str
    description: str
    legal_basis: str
    lists: tuple[str, ...]  # lists named in the trigger
    uses_score: bool


@dataclass(frozen=True)
class CompiledPolicy:
    """Arrays indexed by record-type code, plus the lists and sanctions in declaration order."""

    loaded: LoadedPolicy
    type_names: tuple[str, ...]
    type_code: dict[str, int]
    points: npt.NDArray[np.float64]
    lifetime: npt.NDArray[np.int64]  # NEVER where records never expire
    decays: npt.NDArray[np.bool_]
    resolvable: npt.NDArray[np.bool_]
    category: tuple[str, ...]
    base: float
    score_min: float
    score_max: float
    grade_names: tuple[str, ...]
    grade_floor: npt.NDArray[np.float64]  # descending; the last band's floor is -inf
    lists: tuple[CompiledList, ...]
    sanctions: tuple[CompiledSanction, ...]
    relation_names: tuple[str, ...]
    appeal_window: int
    reinvestigation_deadline: int
    disputed_records_count: bool
    any_decay: bool
    # derived lookup tables, filled on first use (evaluation asks for the same ones often)
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def policy(self) -> Policy:
        """The validated policy model this was compiled from."""
        return self.loaded.policy

    @property
    def version_label(self) -> str:
        """``policy@version``, named by every decision."""
        return self.loaded.label

    def list_index(self, name: str) -> int:
        """Position of list ``name``."""
        for lst in self.lists:
            if lst.name == name:
                return lst.index
        raise KeyError(name)

    def grade_of(self, score: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Grade band index (0 = highest) for each score."""
        # grade_floor is descending; the band index is the number of floors strictly above the score
        floors = self.grade_floor[:-1]
        return np.searchsorted(-floors, -score, side="left").astype(np.int64)

    def services(self) -> list[str]:
        """Every service the policy knows: named by a measure or declared, sorted."""
        return sorted({s.service for s in self.sanctions} | set(self.policy.services))

    def service_name(self, service: str) -> str:
        """The service's display name (policy-declared), falling back to its id."""
        declared = self.policy.services.get(service)
        if declared is not None and declared.display_name:
            return declared.display_name
        return service.replace("_", " ")

    def service_action(self, service: str) -> str:
        """What a person does at ``service``, to complete "You cannot …" / "You may …"."""
        declared = self.policy.services.get(service)
        if declared is not None and declared.action:
            return declared.action
        return f"use {self.service_name(service)}"

    def list_name(self, name: str) -> str:
        """The list's display name (policy-declared), falling back to its id."""
        declared = self.policy.lists.get(name)
        if declared is not None and declared.display_name:
            return declared.display_name
        return name.replace("_", " ")


def _lists_named(pred: Predicate) -> tuple[str, ...]:
    return tuple(p.on_list for p in pred.walk() if p.on_list is not None)


def compile_policy(loaded: LoadedPolicy) -> CompiledPolicy:
    """Compile a validated policy; the result is immutable and safe to share."""
    p = loaded.policy
    names = tuple(p.record_types)
    rts = [p.record_types[n] for n in names]
    lists = tuple(
        CompiledList(
            i, name, d.kind, d.when, d.delist_after_resolution, d.description, d.legal_basis
        )
        for i, (name, d) in enumerate(p.lists.items())
    )
    list_uses_score = {lst.name: lst.when.uses_score() for lst in lists}
    sanctions = []
    for i, (name, s) in enumerate(p.sanctions.items()):
        named = _lists_named(s.when)
        sanctions.append(
            CompiledSanction(
                index=i,
                name=name,
                service=s.service,
                effect=s.effect,
                when=s.when,
                fixed=s.duration.fixed if isinstance(s.duration, FixedDuration) else None,
                max_duration=s.max_duration,
                reach=tuple(r.relation for r in s.reach),
                reason_code=s.reason_code or name.upper(),
                description=s.description,
                legal_basis=s.legal_basis,
                lists=named,
                uses_score=s.when.uses_score() or any(list_uses_score[n] for n in named),
            )
        )
    floors = [g.at_least if g.at_least is not None else -np.inf for g in p.grades]
    return CompiledPolicy(
        loaded=loaded,
        type_names=names,
        type_code={n: i for i, n in enumerate(names)},
        points=np.array([rt.points for rt in rts], dtype=np.float64),
        lifetime=np.array(
            [rt.expires_after if rt.expires_after is not None else NEVER for rt in rts],
            dtype=np.int64,
        ),
        decays=np.array([rt.decay == "linear" for rt in rts], dtype=np.bool_),
        resolvable=np.array([rt.resolvable for rt in rts], dtype=np.bool_),
        category=tuple(rt.category for rt in rts),
        base=float(p.score.base),
        score_min=float(p.score.min) if p.score.min is not None else -np.inf,
        score_max=float(p.score.max) if p.score.max is not None else np.inf,
        grade_names=tuple(g.name for g in p.grades),
        grade_floor=np.array(floors, dtype=np.float64),
        lists=lists,
        sanctions=tuple(sanctions),
        relation_names=tuple(p.relations),
        appeal_window=p.due_process.appeal_window,
        reinvestigation_deadline=p.due_process.reinvestigation_deadline,
        disputed_records_count=p.due_process.disputed_records_count,
        any_decay=bool(any(rt.decay == "linear" for rt in rts)),
    )
