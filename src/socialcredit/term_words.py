"""Durations in words for explanations: ``P1Y6M`` → "1 year and 6 months"."""

from __future__ import annotations

import re

from socialcredit.spans import Span
from socialcredit.timeutil import DAY

_ISO = re.compile(
    r"^P(?:(?P<year>\d+)Y)?(?:(?P<month>\d+)M)?(?:(?P<week>\d+)W)?(?:(?P<day>\d+)D)?"
    r"(?:T(?:(?P<hour>\d+)H)?(?:(?P<minute>\d+)M)?(?:(?P<second>\d+)S)?)?$"
)
_SHORT = re.compile(
    r"^(?P<n>\d+)\s*(?P<unit>y|years?|mo|months?|w|weeks?|d|days?|h|hours?|wd|working\s+days?)$"
)
_UNITS = {"y": "year", "mo": "month", "w": "week", "d": "day", "h": "hour"}


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def duration_words(value: str | int | Span) -> str:
    """A duration as written in a policy or the ledger (``P1Y6M``, ``18 months``), a span,
    or a number of seconds, in words; text that is not a duration is returned as it is."""
    if isinstance(value, Span):
        return value.describe()
    if isinstance(value, int):
        if value % DAY == 0:
            return _count(value // DAY, "day")
        return _count(value, "second")
    text = value.strip()
    m = _ISO.match(text.upper())
    if m and text.upper() != "P":
        parts = [_count(int(v), unit) for unit, v in m.groupdict().items() if v and int(v)]
        return _joined(parts) if parts else "no time"
    m2 = _SHORT.match(text.lower())
    if m2 and (m2["unit"] == "wd" or m2["unit"].startswith("working")):
        return _count(int(m2["n"]), "working day")
    if m2:
        unit = m2["unit"]
        name = next(full for short, full in _UNITS.items() if unit.startswith(short))
        if unit == "m" or unit.startswith("mo"):
            name = "month"
        return _count(int(m2["n"]), name)
    return text
