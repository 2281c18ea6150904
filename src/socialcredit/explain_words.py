"""How an explanation says names and counts: ids in words, counts with their nouns, lists by
their display names. Shared by the modules that write explanation text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socialcredit.policy.compiled import CompiledPolicy


def words(ident: str) -> str:
    """An id in words: ``court_judgment_unfulfilled`` → ``court judgment unfulfilled``."""
    return ident.replace("_", " ")


def plural(n: int, singular: str, many: str | None = None) -> str:
    """``1 record``, ``2 records``, ``1,024 records``: a count with its noun."""
    return f"{n:,} {singular if n == 1 else (many or singular + 's')}"


def on_list(policy: CompiledPolicy, name: str) -> str:
    """``the list Brawlers``, or ``the railway list of …`` when the display name says "list"."""
    shown = policy.list_name(name)
    return f"the {shown}" if "list" in shown.lower() else f"the list {shown}"
