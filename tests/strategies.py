"""Hypothesis strategies shared by the property tests: random ledgers in a valid order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from socialcredit.timeutil import DAY


@st.composite
def records_and_corrections(
    draw: st.DrawFn,
    *,
    start: int,
    types: Sequence[str],
    subjects: Sequence[str],
    kinds: Sequence[str],
    records: tuple[int, int] = (1, 6),
    days: int = 100,
    lag: int = 3,
    corrections: tuple[int, int] = (0, 8),
    after: int = 60,
) -> list[dict[str, Any]]:
    """Between ``records`` records (ids r0, r1 …, source ``src``) of ``types`` about
    ``subjects``, each occurring within ``days`` of ``start`` and received up to ``lag`` days
    later; then between ``corrections`` corrections (c0, c1 …) of ``kinds`` (repeat a kind
    to draw it more often), each aimed at one of the records and received up to ``after``
    days after it. Times are epoch seconds."""
    entries: list[dict[str, Any]] = []
    n = draw(st.integers(*records))
    for i in range(n):
        day = draw(st.integers(0, days))
        entries.append(
            {
                "id": f"r{i}",
                "source": "src",
                "subject": draw(st.sampled_from(subjects)),
                "type": draw(st.sampled_from(types)),
                "occurred_at": start + day * DAY,
                "recorded_at": start + (day + draw(st.integers(0, lag))) * DAY,
            }
        )
    for j in range(draw(st.integers(*corrections))):
        target = entries[draw(st.integers(0, n - 1))]
        when = target["recorded_at"] + draw(st.integers(0, after)) * DAY
        entries.append(
            {
                "kind": draw(st.sampled_from(kinds)),
                "id": f"c{j}",
                "source": "src",
                "target_source": "src",
                "target_id": target["id"],
                "occurred_at": when,
                "recorded_at": when,
            }
        )
    return entries


@st.composite
def maybe_child_of(draw: st.DrawFn, subjects: Sequence[str], since: int) -> list[dict[str, Any]]:
    """None, or one ``child_of`` relation (id ``rel``, source ``registry``) between two of
    ``subjects`` drawn at random, valid and received from ``since``."""
    if not draw(st.booleans()):
        return []
    kid, parent = draw(st.permutations(subjects))[:2]
    return [
        {
            "kind": "relation",
            "id": "rel",
            "source": "registry",
            "subject": kid,
            "relation": "child_of",
            "related_subject": parent,
            "valid_from": since,
            "recorded_at": since,
        }
    ]
