"""Measures compiled: the lists and the sanctions and rewards ready for evaluation, which
requests a measure applies to, and the record types a measure's condition counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from socialcredit.errors import RequestAttributeError
from socialcredit.policy.compiled_process import list_types
from socialcredit.policy.model import AttributeCondition, Predicate
from socialcredit.spans import Span

if TYPE_CHECKING:
    from socialcredit.policy.compiled import CompiledPolicy


@dataclass(frozen=True)
class CompiledList:
    """A list ready for evaluation."""

    index: int
    name: str
    kind: str  # black | red
    when: Predicate
    delist_delay: Span
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
    fixed: Span | None  # None for while_triggered
    max_duration: Span | None
    reach: tuple[str, ...]
    reason_code: str
    description: str
    legal_basis: str
    lists: tuple[str, ...]  # lists named in the trigger
    uses_score: bool
    # ``duration: {after_resolution: D}``: the measure ends D after the records that
    # triggered it are resolved (None: another duration rule)
    after_resolution: Span | None = None
    # the requests it is limited to (every condition holds); empty: every request
    applies_to: tuple[AttributeCondition, ...] = ()
    # the services it covers: its own and every service declared under it (parent chain)
    covers: tuple[str, ...] = ()

    def applies(self, attributes: Mapping[str, float | str] | None) -> bool:
        """Whether the measure covers a request with ``attributes`` (validated by
        ``CompiledPolicy.request``). ``None`` means no particular request: every measure
        applies (what a description of the measures in force says). An attribute the
        measure tests but the request lacks raises ``RequestAttributeError``: a missing
        attribute never allows silently."""
        if attributes is None or not self.applies_to:
            return True
        for cond in self.applies_to:
            if cond.attribute not in attributes:
                raise RequestAttributeError(
                    f"measure {self.name} ({self.reason_code}) on service {self.service!r} "
                    f"applies only to some requests: the check needs attribute "
                    f"{cond.attribute!r}"
                )
            if not cond.holds(attributes[cond.attribute]):
                return False
        return True

    # a publicity period (``starts_after``): its length, and whether a pending objection
    # holds the start back; None: the measure starts when its condition begins to hold
    notice: Span | None = None
    objection_blocks: bool = False


def lists_named(pred: Predicate) -> tuple[str, ...]:
    """The lists a condition names (its ``list:`` conditions), depth first."""
    return tuple(p.on_list for p in pred.walk() if p.on_list is not None)


def sanction_types(policy: CompiledPolicy, sanction: CompiledSanction) -> set[str]:
    """The record types the condition of ``sanction`` (and the lists it names) counts."""
    key = ("sanction_types", sanction.index)
    cached = policy.cache.get(key)
    if cached is None:
        preds = [sanction.when] + [lst.when for lst in policy.lists if lst.name in sanction.lists]
        cached = {name for pred in preds for name in list_types(policy.policy, pred)}
        policy.cache[key] = cached
    result: set[str] = cached
    return result
