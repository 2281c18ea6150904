"""Time as the engine sees it: UTC epoch seconds (int), ISO 8601 in and out.

Every timestamp inside the engine is an ``int`` of seconds since 1970-01-01 UTC, so that
scoring can run on NumPy arrays and compare times without time-zone surprises. Durations are
not plain seconds: a policy's "2 years" is two calendar years and "3 working days" depends
on a holiday calendar; see ``socialcredit.spans`` (``Span``, ``parse_span``) and
``CompiledPolicy.after``, the one way a duration is added to a time.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta

from socialcredit.errors import SocialCreditError

DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
WEEK = 7 * DAY
NEVER = 2**62  # "no end": far beyond any real date, still an int64
# The times the ledger accepts, in UTC after any offset is applied: years 1000 to 9999,
# which ISO 8601 writes with four digits and Python's datetime reads back (see
# ``in_range``). Anything outside is refused where it comes in (ingestion, --at).
MIN_TIME = -30_610_224_000  # 1000-01-01T00:00:00Z
MAX_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z
RANGE_TEXT = "1000-01-01T00:00:00Z to 9999-12-31T23:59:59Z"


class TimeFormatError(SocialCreditError, ValueError):
    """A timestamp or duration string that cannot be read; the message says what is expected."""


def in_range(ts: int) -> bool:
    """Whether epoch seconds ``ts`` lie in the supported range (``MIN_TIME``..``MAX_TIME``)."""
    return MIN_TIME <= ts <= MAX_TIME


def out_of_range(value: object) -> str:
    """The sentence saying that ``value`` (as given) is outside the supported range."""
    return f"{value!r} is outside the supported range ({RANGE_TEXT})"


def epoch_of(dt: datetime) -> int:
    """Epoch seconds (fractions dropped) of an aware or naive (= UTC) datetime, whatever
    its year and offset: a year-1 time with a positive offset lies before year 1 in UTC
    and is counted, not an error; ``in_range`` says whether the result is supported."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return int(dt.timestamp())
    except (OverflowError, ValueError):  # before year 1 or after 9999 in UTC
        offset = dt.utcoffset() or timedelta(0)
        return int((dt.replace(tzinfo=None) - datetime(1970, 1, 1) - offset) // _SECOND)


_SECOND = timedelta(seconds=1)
# a date that reads like ISO 8601 but whose year Python cannot hold (0, or five digits and
# more): outside the supported range rather than "not a timestamp"
_BEYOND_YEARS = re.compile(
    r"(?:0000|\d{5,})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[T ].*)?\Z"
)


def parse_timestamp(value: str | int | float | datetime | date) -> int:
    """Read a date or date-time (ISO 8601; naive means UTC; numbers are epoch seconds) into
    epoch seconds. Raises ``TimeFormatError`` for what is not a timestamp and for times
    outside the supported range (``RANGE_TEXT``)."""
    if isinstance(value, bool):
        raise TimeFormatError(f"{value!r} is not a timestamp")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise TimeFormatError(f"{value!r} is not a timestamp")
        ts = int(value)
    elif isinstance(value, datetime):
        ts = epoch_of(value)
    elif isinstance(value, date):
        ts = epoch_of(datetime(value.year, value.month, value.day))
    else:
        s = value.strip()
        try:
            if len(s) == 10:
                d = date.fromisoformat(s)
                dt = datetime(d.year, d.month, d.day)
            else:
                dt = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
        except ValueError:
            if _BEYOND_YEARS.match(s):
                raise TimeFormatError(out_of_range(value)) from None
            raise TimeFormatError(
                f"{value!r} is not a timestamp; expected ISO 8601 like '2024-05-01' or "
                "'2024-05-01T08:30:00Z'"
            ) from None
        ts = epoch_of(dt)
    if not in_range(ts):
        raise TimeFormatError(out_of_range(value))
    return ts


def beyond_years(text: str) -> bool:
    """Whether ``text`` reads like an ISO 8601 date (or date-time) whose year is 0 or has
    five digits or more: a time outside the supported range rather than no time at all."""
    return _BEYOND_YEARS.match(text.strip()) is not None


def to_datetime(ts: int) -> datetime:
    """The UTC ``datetime`` for epoch seconds (years 1 to 9999; ``OverflowError`` outside)."""
    return _EPOCH + timedelta(seconds=int(ts))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The epoch as an aware and a naive datetime: ``int((dt - EPOCH).total_seconds())`` is
# ``int(dt.timestamp())`` for an aware ``dt`` (the very computation ``timestamp`` makes),
# and the same with ``NAIVE_EPOCH`` for a naive ``dt`` read as UTC, without the
# ``replace(tzinfo=UTC)`` and the method call: cheaper on the ingest's fast paths.
EPOCH = _EPOCH
NAIVE_EPOCH = datetime(1970, 1, 1)


def _civil(ts: int) -> tuple[int, int, int, int]:
    """(year, month, day, seconds of the day) of epoch seconds in the proleptic Gregorian
    calendar, for any integer (H. Hinnant's days-to-civil algorithm)."""
    days, secs = divmod(int(ts), DAY)
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day, secs


def _year(year: int) -> str:
    # four digits always; beyond, ISO 8601's expanded form with a sign
    return f"{year:04d}" if 0 <= year <= 9999 else f"{year:+05d}"


def to_iso(ts: int | None) -> str | None:
    """ISO 8601 UTC text for epoch seconds (``None`` and NEVER give ``None``), with a
    four-digit year for every supported time (``RANGE_TEXT``, which ingestion reads back);
    never fails: a time beyond (only computed ones, such as an end far in the future) is
    written with ISO 8601's expanded year (``+10003-01-01T00:00:00Z``)."""
    if ts is None or ts >= NEVER:
        return None
    year, month, day, secs = _civil(ts)
    hour, rest = divmod(secs, 3600)
    return f"{_year(year)}-{month:02d}-{day:02d}T{hour:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


def to_date(ts: int | None) -> str | None:
    """The ISO calendar date (UTC) for epoch seconds (``None`` and NEVER give ``None``);
    like ``to_iso``, four-digit years in the supported range and never an error."""
    if ts is None or ts >= NEVER:
        return None
    year, month, day, _ = _civil(ts)
    return f"{_year(year)}-{month:02d}-{day:02d}"


def local_date(ts: int | None, offset: int) -> str | None:
    """The ISO date of epoch seconds ``ts`` in the local time ``offset`` seconds east of UTC
    (``to_date`` of ``ts + offset``; ``None`` and NEVER give ``None``): the date a person
    there would name. ``CompiledPolicy.date_of`` gives it for a policy's ``utc_offset``."""
    if ts is None or ts >= NEVER:
        return None
    return to_date(ts + offset)


def iso_date(text: str) -> int | None:
    """Epoch seconds of midnight UTC of a date written ``YYYY-MM-DD`` within the supported
    range, or None."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    year, month, day = text[:4], text[5:7], text[8:10]
    # ASCII digits only (``str.isdigit`` alone admits other scripts' digits)
    if not (text.isascii() and year.isdigit() and month.isdigit() and day.isdigit()):
        return None
    try:
        ordinal = date(int(year), int(month), int(day)).toordinal()
    except ValueError:
        return None
    ts = (ordinal - _EPOCH_ORDINAL) * DAY
    return ts if MIN_TIME <= ts <= MAX_TIME else None
