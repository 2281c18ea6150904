"""Plain attribute lines (a birth date, a residence) without the general validator's
bookkeeping: the second most common line of a bulk ingest after plain records.

``fast_attribute`` accepts only what ``validate_entry`` accepts, with the same result (a
test checks this); anything unusual or wrong returns None so the general path can say
precisely what. The attribute's value is checked by the validator's own
``_attribute_value`` (the policy's type for it, ages).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from socialcredit.columns import ATTRIBUTE
from socialcredit.ledger.entries import MAX_CLOCK_SKEW, MAX_TEXT, EntryError, _attribute_value
from socialcredit.ledger.rules import IngestRules
from socialcredit.timeutil import MAX_TIME, MIN_TIME

ATTRIBUTE_KEYS = frozenset(
    {"kind", "id", "source", "subject", "subject_kind", "attribute", "value"}
    | {"valid_from", "valid_until", "recorded_at"}
)
_KINDS = {None: 0, "": 0, "person": 0, "organisation": 1}
_fromisoformat = datetime.fromisoformat


def _epoch(text: Any) -> int | None:
    """Epoch seconds of an ISO 8601 text within the supported range, or None (also for a
    text the general path reads otherwise: it then says what is wrong, or reads it)."""
    if type(text) is not str:
        return None
    try:
        when = _fromisoformat(text)
        ts = int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())
    except (ValueError, OverflowError):
        return None
    return ts if MIN_TIME <= ts <= MAX_TIME else None


def _plain_text(value: Any) -> bool:
    return (
        type(value) is str
        and 0 < len(value) <= MAX_TEXT
        and not value.isspace()
        and "\x00" not in value
    )


def fast_attribute(
    obj: Any,
    rules: IngestRules | None,
    now: int,
    line: int,
    backfill: bool = False,
) -> tuple[tuple[Any, ...], int] | None:
    """The fact row of a plain, valid attribute line (laid out as ``parsing`` says) and its
    subject's kind code, or None to leave the line to ``validate_entry``."""
    if type(obj) is not dict or obj.get("kind") != "attribute" or not obj.keys() <= ATTRIBUTE_KEYS:
        return None
    source = obj.get("source")
    entry_id = obj.get("id")
    subject = obj.get("subject")
    name: Any = obj.get("attribute")
    if not (
        _plain_text(source) and _plain_text(entry_id) and _plain_text(subject) and _plain_text(name)
    ):
        return None
    text = f"{source}{entry_id}{subject}{name}"
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            return None
    stated = obj.get("subject_kind")
    if type(stated) is not str and stated is not None:
        return None
    subject_kind = _KINDS.get(stated)
    if subject_kind is None:
        return None
    recorded_text = obj.get("recorded_at")
    given = None
    if recorded_text is not None and recorded_text != "":
        given = _epoch(recorded_text)
        if given is None or given > now + MAX_CLOCK_SKEW:
            return None
    start = _epoch(obj.get("valid_from"))
    if start is None:
        return None
    until_text = obj.get("valid_until")
    until = None
    if until_text is not None and until_text != "":
        until = _epoch(until_text)
        if until is None or until <= start:
            return None
    said = now if given is None else given
    try:
        value = _attribute_value(obj, name, subject_kind, rules, said)
    except EntryError:
        return None
    recorded = given if backfill and given is not None else now
    row = (
        source,
        entry_id,
        ATTRIBUTE,
        subject,
        name,
        start,
        None if recorded == now else recorded,
        None,
        orjson.dumps({"value": value}).decode(),
        None,
        until,
        given,
        line,
    )
    return row, subject_kind
