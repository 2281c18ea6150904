"""How an explanation says names and counts: ids in words, counts with their nouns, lists by
their display names. Shared by the modules that write explanation text.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socialcredit.policy.compiled import CompiledPolicy


def words(ident: str) -> str:
    """An id in words: ``court_judgment_unfulfilled`` → ``court judgment unfulfilled``."""
    return ident.replace("_", " ")


def plural(n: int, singular: str, many: str | None = None) -> str:
    """``1 record``, ``2 records``, ``1,024 records``: a count with its noun."""
    return f"{n:,} {singular if n == 1 else (many or singular + 's')}"


def number(x: float) -> str:
    """A score (or a part of one) as said to people: ``1,000``, ``1,234,567``, ``788.3625``,
    ``-2.5``; thousands separators, up to 6 decimals when it is fractional (trailing zeros
    dropped), never in exponent form."""
    if not math.isfinite(x):
        return str(x)
    r = round(x, 6)
    if r == int(r):
        return f"{int(r):,}"
    return f"{r:,.6f}".rstrip("0")


def signed(x: float) -> str:
    """``number`` with its sign: ``+1,250``, ``-3.5``; nothing (and -0.0) as ``0``."""
    said = number(x)
    return said if said == "0" or said.startswith("-") else f"+{said}"


def on_list(policy: CompiledPolicy, name: str) -> str:
    """``the list Brawlers``, or ``the railway list of …`` when the display name says "list"
    (``list_phrase``)."""
    return list_phrase(policy.list_name(name))


def list_phrase(shown: str) -> str:
    """A list by its display name: ``the list of dishonest judgment debtors`` (a name that
    says "list"), ``the list of the seated members of parliament`` (a name for its members),
    ``the list Brawlers`` (any other name)."""
    says_list = "list" in shown.lower()
    if shown[:4].lower() == "the ":
        return shown if says_list else f"the list of {shown}"
    return f"the {shown}" if says_list else f"the list {shown}"
