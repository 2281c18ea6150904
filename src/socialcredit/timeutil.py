"""Time as the engine sees it: UTC epoch seconds (int), ISO 8601 in and out.

Every timestamp inside the engine is an ``int`` of seconds since 1970-01-01 UTC, so that
scoring can run on NumPy arrays and compare times without time-zone surprises. Durations are
``int`` seconds too; a "year" is 365 days and a "month" 30 days, which is what published
rules such as "180 days" or "5 years" mean in practice and keeps durations exact.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from socialcredit.errors import SocialCreditError

DAY = 86_400
YEAR = 365 * DAY
MONTH = 30 * DAY
WEEK = 7 * DAY
NEVER = 2**62  # "no end": far beyond any real date, still an int64


class TimeFormatError(SocialCreditError, ValueError):
    """A timestamp or duration string that cannot be read; the message says what is expected."""


_ISO_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_SHORT_DURATION = re.compile(
    r"^(?P<n>\d+)\s*(?P<unit>y|years?|mo|months?|w|weeks?|d|days?|h|hours?)$"
)
_UNIT_SECONDS = {
    "y": YEAR,
    "year": YEAR,
    "years": YEAR,
    "mo": MONTH,
    "month": MONTH,
    "months": MONTH,
    "w": WEEK,
    "week": WEEK,
    "weeks": WEEK,
    "d": DAY,
    "day": DAY,
    "days": DAY,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
}


def parse_duration(text: str) -> int:
    """Read a duration such as ``P180D``, ``P2Y6M``, ``180d`` or ``5 years`` into seconds.

    Raises ``TimeFormatError`` naming the accepted forms when the text is not a duration.
    """
    s = text.strip()
    m = _ISO_DURATION.match(s.upper())
    if m and s.upper() != "P" and any(v is not None for v in m.groupdict().values()):
        g = {k: int(v) if v else 0 for k, v in m.groupdict().items()}
        return (
            g["years"] * YEAR
            + g["months"] * MONTH
            + g["weeks"] * WEEK
            + g["days"] * DAY
            + g["hours"] * 3600
            + g["minutes"] * 60
            + g["seconds"]
        )
    m2 = _SHORT_DURATION.match(s.lower())
    if m2:
        return int(m2["n"]) * _UNIT_SECONDS[m2["unit"]]
    raise TimeFormatError(
        f"{text!r} is not a duration; expected ISO 8601 like 'P180D', 'P2Y' or 'P1Y6M', "
        "or a number with a unit like '180d', '3 years', '6 months'"
    )


def format_duration(seconds: int) -> str:
    """Write seconds as the shortest ISO 8601 duration this module reads back exactly."""
    if seconds == 0:
        return "P0D"
    if seconds % DAY:
        return f"PT{seconds}S"
    days = seconds // DAY
    if days % 365 == 0:
        return f"P{days // 365}Y"
    return f"P{days}D"


def parse_timestamp(value: str | int | float | datetime | date) -> int:
    """Read a date or date-time (ISO 8601; naive means UTC; ints are epoch seconds) into epoch seconds."""
    if isinstance(value, bool):
        raise TimeFormatError(f"{value!r} is not a timestamp")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(dt.timestamp())
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp())
    s = value.strip()
    try:
        if len(s) == 10:
            d = date.fromisoformat(s)
            return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())
        dt = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    except ValueError:
        raise TimeFormatError(
            f"{value!r} is not a timestamp; expected ISO 8601 like '2024-05-01' or "
            "'2024-05-01T08:30:00Z'"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def to_datetime(ts: int) -> datetime:
    """The UTC ``datetime`` for epoch seconds."""
    return datetime.fromtimestamp(ts, tz=UTC)


def to_iso(ts: int | None) -> str | None:
    """ISO 8601 UTC text for epoch seconds (``None`` and NEVER give ``None``)."""
    if ts is None or ts >= NEVER:
        return None
    return to_datetime(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_date(ts: int | None) -> str | None:
    """The ISO calendar date (UTC) for epoch seconds (``None`` and NEVER give ``None``)."""
    if ts is None or ts >= NEVER:
        return None
    return to_datetime(ts).date().isoformat()
