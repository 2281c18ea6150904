"""Plain attribute lines (a birth date, a residence) without the general validator's
bookkeeping: the second most common line of a bulk ingest after plain records.

``fast_attribute`` accepts only what ``validate_entry`` accepts, with the same result (a
test checks this); anything unusual or wrong returns None so the general path can say
precisely what. The attribute's value is checked by the validator's own
``_attribute_value`` (the policy's type for it, ages).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson

from socialcredit.columns import ATTRIBUTE
from socialcredit.ledger.entries import MAX_CLOCK_SKEW, MAX_TEXT, EntryError, _attribute_value
from socialcredit.ledger.rules import IngestRules
from socialcredit.ledger.shared_text import share
from socialcredit.timeutil import EPOCH, MAX_TIME, MIN_TIME, NAIVE_EPOCH

ATTRIBUTE_KEYS = frozenset(
    {"kind", "id", "source", "subject", "subject_kind", "attribute", "value"}
    | {"valid_from", "valid_until", "recorded_at"}
)
_attribute_keys = ATTRIBUTE_KEYS.issuperset  # of a dict: whether it has no other keys
_KINDS = {None: 0, "": 0, "person": 0, "organisation": 1}
_fromisoformat = datetime.fromisoformat
# Attribute lines repeat their times and values (birth dates, the dates residences start):
# what is computed from a text alone is remembered, up to this many texts each.
_MEMO = 1 << 16


def _epoch(text: Any) -> int | None:
    """Epoch seconds of an ISO 8601 text within the supported range, or None (also for a
    text the general path reads otherwise: it then says what is wrong, or reads it)."""
    if type(text) is not str:
        return None
    return _epoch_of(text)


@lru_cache(maxsize=_MEMO)
def _epoch_of(text: str) -> int | None:
    try:
        when = _fromisoformat(text)
        ts = int((when - (EPOCH if when.tzinfo else NAIVE_EPOCH)).total_seconds())
    except (ValueError, OverflowError):
        return None
    return ts if MIN_TIME <= ts <= MAX_TIME else None


def fast_attribute(
    obj: Any,
    rules: IngestRules | None,
    now: int,
    line: int,
    backfill: bool = False,
) -> tuple[tuple[Any, ...], int] | None:
    """The fact row of a plain, valid attribute line (laid out as ``parsing`` says) and its
    subject's kind code, or None to leave the line to ``validate_entry``."""
    if type(obj) is not dict or obj.get("kind") != "attribute" or not _attribute_keys(obj):
        return None
    get = obj.get
    source = get("source")
    entry_id = get("id")
    subject = get("subject")
    name: Any = get("attribute")
    # each a text of 1 to MAX_TEXT characters, not all blank space, without NUL
    if not (
        type(source) is str
        and type(entry_id) is str
        and type(subject) is str
        and type(name) is str
        and source
        and entry_id
        and subject
        and name
        and not source.isspace()
        and not entry_id.isspace()
        and not subject.isspace()
        and not name.isspace()
    ):
        return None
    text = f"{source}{entry_id}{subject}{name}"
    if "\x00" in text or (
        len(text) > MAX_TEXT
        and (
            len(source) > MAX_TEXT
            or len(entry_id) > MAX_TEXT
            or len(subject) > MAX_TEXT
            or len(name) > MAX_TEXT
        )
    ):
        return None
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            return None
    stated = get("subject_kind")
    if type(stated) is not str and stated is not None:
        return None
    subject_kind = _KINDS.get(stated)
    if subject_kind is None:
        return None
    recorded_text = get("recorded_at")
    given = None
    if recorded_text is not None and recorded_text != "":
        given = _epoch(recorded_text)
        if given is None or given > now + MAX_CLOCK_SKEW:
            return None
    start = _epoch(get("valid_from"))
    if start is None:
        return None
    until_text = get("valid_until")
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
        share(source, source),
        entry_id,
        ATTRIBUTE,
        subject,
        share(name, name),
        start,
        None if recorded == now else recorded,
        None,
        _value_details(value),
        None,
        until,
        given,
        line,
    )
    return row, subject_kind


@lru_cache(maxsize=_MEMO)
def _value_details(value: str) -> str:
    """The ``details`` column of an attribute of ``value``: JSON holding the value."""
    return orjson.dumps({"value": value}).decode()
