"""Durations as a policy writes them, and the one way the engine adds them to a time.

A ``Span`` is what a policy's duration means: calendar months (years are twelve of them),
exact seconds (weeks, days, hours, minutes) or working days. ``shift`` adds spans to an
array of epoch seconds; every part of the engine that ends a term, closes a window or sets a
deadline goes through it (``CompiledPolicy.after`` / ``after_one`` wrap it with the policy's
calendar), so one subject and everyone are always computed alike.

- **Months and years** are calendar months: ``P2Y`` from 2024-01-15 ends on 2026-01-15
  whatever leap days lie between, at the same time of day. From a day the target month does
  not have (the 31st, or 29 February into a common year) the span ends when that month's
  last day ends: one month from 31 January 2025 runs to the end of 28 February 2025 (it
  ends at 1 March 00:00), one year from 29 February 2024 to the end of 28 February 2025
  (the rule of e.g. the German Civil Code, § 188(3)). Months are added in the policy's local time
  (``calendar.utc_offset``, UTC by default), so a month from local midnight ends at local
  midnight.
- **Weeks, days, hours** are exact: ``P1D`` is 86,400 seconds.
- **Working days** come from a holiday calendar (``socialcredit.calendars``): ``3 working
  days`` ends at the end (local midnight) of the third working day after the day it starts
  from (that day not counted, unless the policy's calendar says ``first_day_counted``).
  Beyond the years the holiday calendar covers, Monday to Friday are counted as working
  days; ``Calendar.estimated`` says when that happened, and explanations say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from socialcredit.timeutil import DAY, NEVER, TimeFormatError

I64 = npt.NDArray[np.int64]
WEEK = 7 * DAY
AVERAGE_MONTH = 2_629_746  # seconds: a Gregorian year (365.2425 days) / 12, for ordering only


@dataclass(frozen=True)
class Span:
    """A duration as a policy means it: ``months`` (calendar), ``seconds`` (exact) and
    ``working_days`` (a policy's holiday calendar). A span written with working days has
    neither of the others. ``text`` is how the policy wrote it (not part of its identity)."""

    months: int = 0
    seconds: int = 0
    working_days: int = 0
    text: str = field(default="", compare=False, repr=False)
    # a period with no end (``ANY_TIME``, an appeal window written ``any time``): every
    # time plus it is ``NEVER``; the other parts are zero
    unlimited: bool = False

    def _order(self) -> tuple[int, int, int, int, bool]:
        return (self.nominal(), self.months, self.seconds, self.working_days, self.unlimited)

    # Spans are ordered by their average length (``nominal``): what bounds and checks need
    # ("min not longer than max"); a date is never computed from it.
    def __lt__(self, other: Span) -> bool:
        return self._order() < other._order()

    def __le__(self, other: Span) -> bool:
        return self._order() <= other._order()

    def __gt__(self, other: Span) -> bool:
        return self._order() > other._order()

    def __ge__(self, other: Span) -> bool:
        return self._order() >= other._order()

    def __add__(self, other: Span) -> Span:
        if self.unlimited or other.unlimited:
            return ANY_TIME
        return Span(
            self.months + other.months,
            self.seconds + other.seconds,
            self.working_days + other.working_days,
        )

    def written(self) -> str:
        """The span as the policy or the ledger wrote it (else its ISO form)."""
        return self.text.strip() or self.iso()

    def __bool__(self) -> bool:
        # like the int seconds durations once were: a zero span is false
        return not self.zero

    @property
    def zero(self) -> bool:
        """Whether the span lasts no time at all (``P0D``)."""
        return (
            self.months == 0 and self.seconds == 0 and self.working_days == 0 and not self.unlimited
        )

    @property
    def exact(self) -> bool:
        """Whether the span is a fixed number of seconds (no months, no working days, not
        unlimited)."""
        return self.months == 0 and self.working_days == 0 and not self.unlimited

    def nominal(self) -> int:
        """An approximate length in seconds (average month, 7/5 days per working day), to
        order spans and to compare them in checks; never used to compute a date."""
        if self.unlimited:
            return NEVER
        return self.months * AVERAGE_MONTH + self.seconds + self.working_days * WEEK // 5

    def longest(self) -> int:
        """An upper bound in seconds of how long the span can last from any start: 31 days a
        month, and for working days two weeks of holidays more than the weekdays need."""
        if self.unlimited:
            return NEVER
        wd = self.working_days
        slack = (wd // 5 + 1) * WEEK + 2 * WEEK if wd else 0
        return self.months * 31 * DAY + self.seconds + slack

    def canonical(self) -> int | str:
        """The span in the policy's content hash: seconds when exact (as before spans had
        months), otherwise a normalised text (``P18M``, ``P1MT86400S``, ``3 working days``,
        ``any time``)."""
        if self.unlimited:
            return ANY_TIME_TEXT
        if self.working_days:
            return f"{self.working_days} working days"
        if self.months:
            return f"P{self.months}M" + (f"T{self.seconds}S" if self.seconds else "")
        return self.seconds

    def iso(self) -> str:
        """The span as text ``parse_span`` reads back to an equal span: ``P18M``,
        ``P1MT3600S``, ``P0D``, ``3 working days`` (``any time``: what the policy reads,
        not ``parse_span``)."""
        if self.unlimited:
            return ANY_TIME_TEXT
        if self.working_days:
            return _plural(self.working_days, "working day")
        if self.zero:
            return "P0D"
        months = f"{self.months}M" if self.months else ""
        seconds = f"T{self.seconds}S" if self.seconds else ""
        return f"P{months}{seconds}"

    def describe(self) -> str:
        """Plain words, in the unit the policy wrote: ``2 years``, ``18 months``, ``1 year
        and 6 months`` (``P1Y6M``), ``180 days``, ``2 weeks``, ``3 working days``; ``no time
        limit`` for ``ANY_TIME``."""
        if self.unlimited:
            return "no time limit"
        if self.working_days:
            return _plural(self.working_days, "working day")
        short = _SHORT_DURATION.match(self.text.strip().lower())
        if short:
            n, unit = int(short["n"]), re.sub(r"\s+", " ", short["unit"])
            return _plural(n, _UNIT_WORDS[unit])
        weeks_written = "W" in self.text.upper()
        parts = []
        years, months = divmod(self.months, 12)
        if years:
            parts.append(_plural(years, "year"))
        if months:
            parts.append(_plural(months, "month"))
        rest = self.seconds
        if rest:
            days, rest = divmod(rest, DAY)
            weeks, left = divmod(days, 7)
            if weeks_written and weeks and not left and not rest:
                parts.append(_plural(weeks, "week"))
            elif days:
                parts.append(_plural(days, "day"))
            hours, rest = divmod(rest, 3600)
            minutes, secs = divmod(rest, 60)
            for n, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second")):
                if n:
                    parts.append(_plural(n, unit))
        if not parts:
            return "no time"
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


ANY_TIME_TEXT = "any time"
ANY_TIME = Span(unlimited=True, text=ANY_TIME_TEXT)
"""A period that never ends: an appeal window written ``any time`` (no deadline to dispute)."""


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


_ISO_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_SHORT_DURATION = re.compile(
    r"^(?P<n>\d+)\s*(?P<unit>y|years?|mo|months?|w|weeks?|d|days?|h|hours?|wd|working\s+days?)$"
)
# unit: (months, seconds, working days) per one
_UNITS: dict[str, tuple[int, int, int]] = {
    "y": (12, 0, 0),
    "year": (12, 0, 0),
    "years": (12, 0, 0),
    "mo": (1, 0, 0),
    "month": (1, 0, 0),
    "months": (1, 0, 0),
    "w": (0, WEEK, 0),
    "week": (0, WEEK, 0),
    "weeks": (0, WEEK, 0),
    "d": (0, DAY, 0),
    "day": (0, DAY, 0),
    "days": (0, DAY, 0),
    "h": (0, 3600, 0),
    "hour": (0, 3600, 0),
    "hours": (0, 3600, 0),
    "wd": (0, 0, 1),
    "working day": (0, 0, 1),
    "working days": (0, 0, 1),
}
_UNIT_WORDS = {
    key: {
        "y": "year",
        "mo": "month",
        "w": "week",
        "d": "day",
        "h": "hour",
        "wd": "working day",
    }.get(key, key.removesuffix("s"))
    for key in _UNITS
}
DURATION_FORMS = (
    "expected ISO 8601 like 'P180D', 'P2Y' or 'P1Y6M', or a number with a unit like "
    "'180d', '3 years', '6 months', '3 working days'"
)


def parse_span(text: str) -> Span:
    """Read a duration such as ``P180D``, ``P2Y6M``, ``180d``, ``5 years`` or ``3 working
    days`` (``3wd``). Raises ``TimeFormatError`` naming the accepted forms otherwise."""
    s = text.strip()
    m = _ISO_DURATION.match(s.upper())
    if m and s.upper() != "P" and any(v is not None for v in m.groupdict().values()):
        g = {k: int(v) if v else 0 for k, v in m.groupdict().items()}
        seconds = (g["weeks"] * WEEK + g["days"] * DAY + g["hours"] * 3600 + g["minutes"] * 60) + g[
            "seconds"
        ]
        return Span(months=g["years"] * 12 + g["months"], seconds=seconds, text=s)
    m2 = _SHORT_DURATION.match(s.lower())
    if m2:
        n = int(m2["n"])
        months, seconds, wd = _UNITS[re.sub(r"\s+", " ", m2["unit"])]
        return Span(months=n * months, seconds=n * seconds, working_days=n * wd, text=s)
    raise TimeFormatError(f"{text!r} is not a duration; {DURATION_FORMS}")


def seconds_span(seconds: int) -> Span:
    """An exact span of ``seconds``."""
    return Span(seconds=int(seconds))


# --- arithmetic ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """How a policy counts calendar and working days: its UTC offset, its working dates
    (day numbers since 1970-01-01 in local time, sorted) over the days ``first``..``last``
    its holiday calendar covers, and whether the day a span starts from is counted."""

    offset: int = 0  # seconds east of UTC
    working: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64), compare=False)
    first: int = 0  # first covered day (day number)
    last: int = -1  # last covered day; last < first: nothing covered (Monday to Friday)
    first_day_counted: bool = False
    name: str = ""  # the holiday calendar's name, for explanations
    complete: bool = False  # Monday to Friday is the rule everywhere (``holidays: none``)

    def covers(self, day_from: int, day_to: int) -> bool:
        """Whether every day from ``day_from`` to ``day_to`` lies in the covered years."""
        return self.complete or (self.first <= day_from and day_to <= self.last)


UTC_CALENDAR = Calendar()


def _floor_div(a: I64, b: int) -> I64:
    return np.floor_divide(a, b)


# Calendar arithmetic in plain integer operations (H. Hinnant's civil-date algorithms), so
# that the same code runs on Python ints (one time) and on NumPy int64 arrays (everyone):
# ``//`` floors in both, and ``0 + (a <= b)`` is a 0/1 integer in both.


def _civil(days: Any) -> tuple[Any, Any, Any]:
    """(year, month, day) of day numbers since 1970-01-01 (proleptic Gregorian)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 - 12 * (0 + (mp >= 10))
    return yoe + era * 400 + (0 + (month <= 2)), month, day


def _days_from_civil(year: Any, month: Any, day: Any) -> Any:
    """Day numbers since 1970-01-01 of (year, month, day)."""
    early = 0 + (month <= 2)
    y = year - early
    era = y // 400
    yoe = y - era * 400
    mp = month - 3 + 12 * early
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _add_months_local(local: Any, months: Any) -> Any:
    """Local epoch seconds plus calendar ``months`` (see ``add_months``); ints or arrays."""
    days = local // DAY
    secs = local - days * DAY
    year, month, day = _civil(days)
    total = year * 12 + (month - 1) + months
    new_year = total // 12
    new_month = total - new_year * 12 + 1
    # the first day of the month after the target month: its length is the difference
    after = new_month + 1 - 12 * (0 + (new_month == 12))
    first_next = _days_from_civil(new_year + (0 + (new_month == 12)), after, 1)
    length = first_next - _days_from_civil(new_year, new_month, 1)
    fits = 0 + (day <= length)
    # a day the target month has: that day, same time; otherwise the end of its last day
    return (_days_from_civil(new_year, new_month, day) * DAY + secs) * fits + (first_next * DAY) * (
        1 - fits
    )


# The first day (day number) of every month from January of year 0 to December of 10999:
# months since year 0 index it. A time's month is found by one search, so adding months to
# an array costs a dozen NumPy operations whatever its size.
_FIRST_YEAR, _LAST_YEAR = 0, 10_999
_MONTHS = np.arange(_FIRST_YEAR * 12, (_LAST_YEAR + 1) * 12 + 1, dtype=np.int64)
_MONTH_STARTS: I64 = _days_from_civil(_MONTHS // 12, _MONTHS % 12 + 1, 1)


def _month_index(days: I64) -> I64:
    """Per day number, the index in ``_MONTH_STARTS`` of its month (-1 before the table):
    for many days within a short range, one search per day of the range and a lookup per
    day (many times faster than a search per value)."""
    days = np.asarray(days, dtype=np.int64)
    if days.ndim == 1 and len(days) > 64:
        lo, hi = int(days.min()), int(days.max())
        if hi - lo < len(days):
            each = np.arange(lo, hi + 1, dtype=np.int64)
            table = np.searchsorted(_MONTH_STARTS, each, side="right") - 1
            found: I64 = table[days - lo]
            return found
    index: I64 = np.searchsorted(_MONTH_STARTS, days, side="right") - 1
    return index


def add_months(times: I64, months: I64 | int, offset: int = 0) -> I64:
    """``times`` plus calendar ``months`` in local time (``offset`` seconds east of UTC),
    keeping the day of the month and the time of day. From a day the target month does not
    have (the 31st; 29 February into a common year) the result is the end of that month's
    last day (local midnight starting the next month): a one-month term from 31 January
    runs to the end of 28 February. So later starts never end earlier, and a longer span
    never ends before a shorter one.

    The same arithmetic as ``_add_months_local`` (what ``shift_one`` runs), with the months
    looked up in a table of month starts; times beyond the table are computed directly."""
    local = times + offset
    k = np.asarray(months, dtype=np.int64)
    days = local // DAY
    index = _month_index(days)
    target = index + k
    inside = (index >= 0) & (target >= 0) & (target < len(_MONTH_STARTS) - 1)
    if not inside.all():
        direct: I64 = _add_months_local(local, k) - offset
        return direct
    first = _MONTH_STARTS[target]
    first_next = _MONTH_STARTS[target + 1]
    dom = days - _MONTH_STARTS[index]  # 0-based day of the month
    fits = dom < first_next - first
    out: I64 = np.where(fits, (first + dom) * DAY + (local - days * DAY), first_next * DAY)
    return out - offset


def _weekday_after(days: I64, n: I64) -> I64:
    # the n-th Monday-to-Friday day after day ``days`` (n >= 1)
    d = (days + 1).astype("datetime64[D]")
    res = np.busday_offset(d, n - 1, roll="forward")
    return res.astype(np.int64)


def _weekdays_between(lo: I64, hi: int) -> I64:
    # Monday-to-Friday days in lo..hi-1
    count = np.busday_count(lo.astype("datetime64[D]"), np.datetime64(hi, "D"))
    return np.maximum(count, 0).astype(np.int64)


def nth_working_day(days: I64, n: I64, cal: Calendar) -> I64:
    """The day number of the ``n``-th working day after day ``days`` (n >= 1), each day
    not counted; Monday to Friday where ``cal`` has no holiday data."""
    days = days.astype(np.int64)
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), days.shape).copy()
    out = np.zeros(days.shape, dtype=np.int64)
    done = np.zeros(days.shape, dtype=bool)
    if cal.last < cal.first:
        return _weekday_after(days, n)
    # before the covered years: weekdays up to the first covered day
    before = days < cal.first - 1
    if before.any():
        avail = np.zeros(days.shape, dtype=np.int64)
        avail[before] = _weekdays_between(days[before] + 1, cal.first)
        fits = before & (n <= avail)
        out[fits] = _weekday_after(days[fits], n[fits])
        done |= fits
        later = before & ~fits
        n[later] -= avail[later]
        days = np.where(later, cal.first - 1, days)
    # inside: the calendar's working dates
    inside = ~done & (days <= cal.last)
    if inside.any():
        idx = np.searchsorted(cal.working, days[inside], side="right")
        avail_in = len(cal.working) - idx
        k = n[inside]
        fits_in = k <= avail_in
        where = np.flatnonzero(inside)
        hit = where[fits_in]
        out[hit] = cal.working[idx[fits_in] + k[fits_in] - 1]
        done[hit] = True
        miss = where[~fits_in]
        n[miss] -= avail_in[~fits_in]
        days[miss] = cal.last
    rest = ~done
    if rest.any():
        out[rest] = _weekday_after(np.maximum(days[rest], cal.last), n[rest])
    return out


def add_working_days(times: I64, n: I64 | int, cal: Calendar) -> I64:
    """The end (local midnight after it) of the ``n``-th working day after each time's
    local day (that day counted too when ``cal.first_day_counted``); ``n`` = 0: unchanged."""
    n_arr = np.broadcast_to(np.asarray(n, dtype=np.int64), times.shape)
    local_day = _floor_div(times + cal.offset, DAY)
    start = local_day - 1 if cal.first_day_counted else local_day
    some = n_arr > 0
    out = times.copy()
    if some.any():
        last = nth_working_day(start[some], n_arr[some], cal)
        out[some] = (last + 1) * DAY - cal.offset
    return out


def shift(
    times: I64,
    months: I64 | int = 0,
    seconds: I64 | int = 0,
    working_days: I64 | int = 0,
    cal: Calendar = UTC_CALENDAR,
) -> I64:
    """``times`` (epoch seconds) plus spans given by their parts, element by element or one
    for all: calendar months first, then exact seconds, then working days (a span has
    either working days or the others). ``NEVER`` (and anything beyond it) stays ``NEVER``;
    so does a time that would pass it."""
    t = np.asarray(times, dtype=np.int64)
    finite = (t < NEVER) & (t > -NEVER)
    every = bool(finite.all())
    if not every and t.ndim == 1:
        # (element by element: the finite times alone, when the spans are one for all or
        # one per time; the others stay as they are)
        parts = [np.asarray(p, dtype=np.int64) for p in (months, seconds, working_days)]
        if all(p.ndim == 0 or p.shape == t.shape for p in parts):
            at = np.flatnonzero(finite)
            picked = [p if p.ndim == 0 else p[at] for p in parts]
            moved = t.copy()
            moved[at] = shift(t[at], picked[0], picked[1], picked[2], cal)
            return moved
    out = t if every else np.where(finite, t, 0)
    months_a = np.asarray(months, dtype=np.int64)
    if months_a.any():  # zero months leave a time as it is
        out = add_months(out, months_a, cal.offset)
    seconds_a = np.asarray(seconds, dtype=np.int64)
    if seconds_a.any():
        out = out + np.minimum(seconds_a, NEVER)
    wd_a = np.asarray(working_days, dtype=np.int64)
    if wd_a.any():  # zero working days leave a time as it is
        out = add_working_days(out, wd_a, cal)
    result: I64 = np.minimum(out, NEVER)
    if not every:
        result = np.where(finite, result, t)
    return result


def shift_span(times: I64, span: Span, cal: Calendar = UTC_CALENDAR) -> I64:
    """``times`` plus one ``span`` (see ``shift``); an exact span is a plain addition."""
    t = np.asarray(times, dtype=np.int64)
    if span.unlimited:
        return np.full(t.shape, NEVER, dtype=np.int64)
    if span.exact:
        if span.seconds == 0:
            return t
        result: I64 = np.where(t < NEVER, np.minimum(t + span.seconds, NEVER), t)
        return result
    return shift(t, span.months, span.seconds, span.working_days, cal)


def shift_one(time: int, span: Span, cal: Calendar = UTC_CALENDAR) -> int:
    """One time plus ``span``: the same integer arithmetic as ``shift_span`` on Python ints
    (working days through the same array search), so a single answer and a bulk one never
    differ (checked by tests/test_calendar.py) and one answer stays cheap."""
    t = int(time)
    if not -NEVER < t < NEVER:
        return t
    if span.unlimited:
        return NEVER
    if span.months:
        t = int(_add_months_local(t + cal.offset, span.months)) - cal.offset
    t += span.seconds
    if span.working_days and t < NEVER:
        t = int(add_working_days(np.array([t], dtype=np.int64), span.working_days, cal)[0])
    return min(t, NEVER)


def estimated(time: int, span: Span, cal: Calendar) -> bool:
    """Whether ``time`` + ``span`` counted working days outside the years ``cal``'s holiday
    calendar covers (Monday to Friday were counted there instead of the real calendar)."""
    if not span.working_days:
        return False
    end = shift_one(time, span, cal)
    first_day = (time + cal.offset) // DAY + (0 if cal.first_day_counted else 1)
    last_day = (end + cal.offset) // DAY - 1
    return not cal.covers(first_day, last_day)


def last_day(end: int, cal: Calendar) -> int:
    """The local day number of the last day a period ending at ``end`` includes."""
    return (end - 1 + cal.offset) // DAY


def legacy_seconds(span: Span) -> int | str:
    """What the span's text meant before calendar spans (a year 365 days, a month 30): the
    content hash a policy had when it was activated then. Working days did not exist."""
    if span.working_days or span.unlimited or not span.text:
        return span.canonical()
    s = span.text.strip()
    m = _ISO_DURATION.match(s.upper())
    if m:
        g = {k: int(v) if v else 0 for k, v in m.groupdict().items()}
        return g["years"] * 365 * DAY + g["months"] * 30 * DAY + span.seconds
    m2 = _SHORT_DURATION.match(s.lower())
    if m2 and m2["unit"] in ("y", "year", "years"):
        return int(m2["n"]) * 365 * DAY
    if m2 and m2["unit"] in ("mo", "month", "months"):
        return int(m2["n"]) * 30 * DAY
    return span.seconds
