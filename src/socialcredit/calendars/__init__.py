"""Holiday calendars shipped with the package, by name: the data behind working days.

A policy names one in its ``calendar:`` block (``holidays: prc``); the name, not a path, is
stored with the policy, so a stored policy means the same wherever it is read. ``none``
means Monday to Friday with no holidays. Each data file (``<name>.yaml`` here) lists, per
year, the public holidays and the weekend days declared working days, with the notices it
was taken from; ``prc.yaml`` says where its list comes from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

HERE = Path(__file__).resolve().parent
NONE = "none"


class CalendarDataError(ValueError):
    """A shipped holiday calendar that does not read as one (a packaging mistake)."""


@dataclass(frozen=True)
class HolidayCalendar:
    """One holiday calendar: the working days (day numbers since 1970-01-01, sorted) in the
    days ``first``..``last`` it covers."""

    name: str
    title: str
    first: int
    last: int
    working: npt.NDArray[np.int64]
    holidays: frozenset[int]
    extra_working: frozenset[int]

    def covered_years(self) -> str:
        """The covered years as text, e.g. ``2015-2026``."""
        a = dt.date.fromordinal(_EPOCH + self.first).year
        b = dt.date.fromordinal(_EPOCH + self.last).year
        return f"{a}" if a == b else f"{a}-{b}"


_EPOCH = dt.date(1970, 1, 1).toordinal()


def available() -> list[str]:
    """The names a policy may give as ``calendar.holidays``, sorted (``none`` included)."""
    return sorted([NONE, *(p.stem for p in HERE.glob("*.yaml"))])


def _day(value: Any, where: str) -> int:
    if not isinstance(value, dt.date):
        raise CalendarDataError(f"{where}: {value!r} is not a date")
    return value.toordinal() - _EPOCH


@cache
def holiday_calendar(name: str) -> HolidayCalendar:
    """The shipped calendar ``name`` (``KeyError`` for one not shipped; see ``available``)."""
    if name == NONE or name not in available():
        raise KeyError(name)
    path = HERE / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    first, last = (_day(d, f"{path}: covers") for d in data["covers"])
    holidays: set[int] = set()
    extra: set[int] = set()
    for year, entry in data["years"].items():
        where = f"{path}: {year}"
        for item in entry.get("holidays", []):
            if isinstance(item, list):
                a, b = (_day(d, where) for d in item)
                holidays.update(range(a, b + 1))
            else:
                holidays.add(_day(item, where))
        for item in entry.get("working_days", []):
            day = _day(item, where)
            if (day + 3) % 7 < 5:  # 1970-01-01 was a Thursday (weekday 3)
                raise CalendarDataError(f"{where}: working day {item} is not a weekend day")
            extra.add(day)
    if extra & holidays:
        raise CalendarDataError(f"{path}: a day is both a holiday and a working day")
    days = np.arange(first, last + 1, dtype=np.int64)
    weekday = (days + 3) % 7 < 5
    listed_off = np.isin(days, np.fromiter(holidays, dtype=np.int64, count=len(holidays)))
    listed_on = np.isin(days, np.fromiter(extra, dtype=np.int64, count=len(extra)))
    working = days[(weekday & ~listed_off) | listed_on]
    return HolidayCalendar(
        name=name,
        title=str(data.get("title", name)),
        first=first,
        last=last,
        working=working,
        holidays=frozenset(holidays),
        extra_working=frozenset(extra),
    )
