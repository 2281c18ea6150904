"""Durations in a policy: the span field types (``Duration``, ``PositiveDuration``,
``OptionalDuration``), what they accept ('P2Y', '180d', '3 working days', 'never'), how
they dump for the content hash, and their JSON Schema patterns.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, SerializationInfo, WithJsonSchema

from socialcredit.spans import (
    ANY_TIME,
    ANY_TIME_TEXT,
    AVERAGE_MONTH,
    Span,
    legacy_seconds,
    parse_span,
)
from socialcredit.timeutil import TimeFormatError

MAX_DURATION = 1000 * 12 * AVERAGE_MONTH  # 1000 years: beyond any rule's horizon, inside int64


def _duration(value: Any) -> Span:
    if isinstance(value, Span):
        return value
    if isinstance(value, str):
        try:
            span = parse_span(value)
        except TimeFormatError as exc:
            raise ValueError(str(exc)) from None
        if span.nominal() > MAX_DURATION:
            raise ValueError(f"{value!r} is longer than 1000 years; write 'never' for no end")
        return span
    # a bare number is ambiguous (days? seconds?), so durations are always written with a unit
    raise ValueError(
        f"{value!r} is not a duration; write it with a unit, e.g. 'P180D', '2 years' or '30d'"
    )


def _positive_duration(value: Any) -> Span:
    span = _duration(value)
    if span.zero:
        raise ValueError(f"{value!r} is a zero duration; this one must be longer, e.g. 'P1D'")
    return span


def _duration_or_never(value: Any) -> Span | None:
    if isinstance(value, str) and value.strip().lower() == "never":
        return None
    if value is None:
        raise ValueError("expected a duration such as 'P2Y', or 'never' (say it explicitly)")
    return _positive_duration(value)


def _window(value: Any) -> Span:
    # an appeal window: a positive duration, or 'any time' (no deadline to dispute)
    if isinstance(value, Span):
        return value
    if isinstance(value, str) and " ".join(value.lower().split()) == ANY_TIME_TEXT:
        return ANY_TIME
    try:
        return _positive_duration(value)
    except ValueError as exc:
        raise ValueError(f"{exc}; or 'any time' for no deadline") from None


def _dump_span(span: Span | None, info: SerializationInfo) -> int | str | None:
    # the content hash's form of a span; with context {"legacy": True}, the seconds it had
    # when a year was 365 days and a month 30 (to recognise policies stored before)
    if span is None:
        return None
    if info.context and info.context.get("legacy"):
        return legacy_seconds(span)
    return span.canonical()


def _either_case(word: str) -> str:
    # JSON Schema patterns (ECMA-262) have no case-insensitive flag
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


_ISO = (
    rf"{_either_case('p')}(?=[^\s]*\d)(?:\d+{_either_case('y')})?(?:\d+{_either_case('m')})?"
    rf"(?:\d+{_either_case('w')})?(?:\d+{_either_case('d')})?(?:{_either_case('t')}"
    rf"(?:\d+{_either_case('h')})?(?:\d+{_either_case('m')})?(?:\d+{_either_case('s')})?)?"
)
_UNITS = "|".join(
    [f"{_either_case('working')}\\s+{_either_case('day')}{_either_case('s')}?",
     f"{_either_case('wd')}"]
    + [f"{_either_case(short)}(?:{_either_case(rest)}{_either_case(plural)}?)?"
       for short, rest, plural in (("y", "ear", "s"), ("mo", "nth", "s"), ("w", "eek", "s"),
                                   ("d", "ay", "s"), ("h", "our", "s"))]
)  # fmt: skip
DURATION_PATTERN = rf"^\s*(?:{_ISO}|\d+\s*(?:{_UNITS}))\s*$"
"""What ``parse_span`` reads, as a JSON Schema (ECMA-262) pattern: ISO 8601 or '180d'."""
DURATION_OR_NEVER_PATTERN = rf"^\s*(?:{_ISO}|\d+\s*(?:{_UNITS})|{_either_case('never')})\s*$"

_DURATION_HELP = (
    "A duration with a unit: ISO 8601 ('P180D', 'P2Y', 'P1Y6M', 'PT12H') or a number and a "
    "unit ('180d', '3 years', '6 months', '2w', '3 working days', '3wd'); never a bare "
    "number. Years and months are calendar months; working days need a calendar."
)
Duration = Annotated[
    Span,
    PlainValidator(_duration),
    PlainSerializer(_dump_span),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": _DURATION_HELP,
            "examples": ["P180D", "P2Y", "30d", "2 years"],
        }
    ),
]
"""A ``Span``; written in YAML as ISO 8601 ('P180D') or '180d' / '2 years' / '3 working days'."""

# a duration is longer than zero exactly when one of its numbers has a digit other than 0
_NONZERO = r"^(?=[^1-9]*[1-9])"
PositiveDuration = Annotated[
    Span,
    PlainValidator(_positive_duration),
    PlainSerializer(_dump_span),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _NONZERO + DURATION_PATTERN[1:],
            "description": _DURATION_HELP + " Longer than zero.",
            "examples": ["P180D", "P2Y", "30d", "2 years"],
        }
    ),
]
"""A ``Span`` longer than zero (a zero duration would make the rule do nothing)."""

OptionalDuration = Annotated[
    Span | None,
    PlainValidator(_duration_or_never),
    PlainSerializer(_dump_span),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _NONZERO[:-1]
            + "|\\s*[Nn][Ee][Vv][Ee][Rr]\\s*$)"
            + DURATION_OR_NEVER_PATTERN[1:],
            "description": _DURATION_HELP + " Longer than zero; 'never' means no end.",
            "examples": ["P2Y", "180d", "never"],
        }
    ),
]

_ANY_TIME = rf"{_either_case('any')}\s+{_either_case('time')}"
APPEAL_WINDOW_PATTERN = (
    rf"^(?=[^1-9]*[1-9]|\s*{_ANY_TIME}\s*$)\s*(?:{_ISO}|\d+\s*(?:{_UNITS})|{_ANY_TIME})\s*$"
)
"""What an appeal window may be, as a JSON Schema pattern: a positive duration or 'any time'."""

AppealWindow = Annotated[
    Span,
    PlainValidator(_window),
    PlainSerializer(_dump_span),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": APPEAL_WINDOW_PATTERN,
            "description": _DURATION_HELP
            + " Longer than zero; 'any time' means there is no deadline to dispute.",
            "examples": ["P30D", "7 working days", "any time"],
        }
    ),
]
"""An appeal window: a ``Span`` longer than zero, or ``ANY_TIME`` (written ``any time``):
a record may be disputed at any time."""
