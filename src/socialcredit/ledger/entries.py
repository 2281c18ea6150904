"""What a ledger entry may contain, checked fast enough for bulk ingestion.

Validation is hand-written for speed (it runs a million times per file), and every failure
names the field and what was expected. The accepted input fields are documented in
``ENTRY_FIELDS`` and the README.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from socialcredit.columns import KIND_CODES, RECORD, RELATION

SUBJECT_KIND_CODES = {"person": 0, "organisation": 1, "organization": 1}
_CORRECTION_FIELDS = {"target_source", "target_id", "occurred_at", "recorded_at", "reason"}
ENTRY_FIELDS: dict[str, set[str]] = {
    "record": {
        "subject",
        "subject_kind",
        "type",
        "occurred_at",
        "recorded_at",
        "amount",
        "evidence",
    },
    "relation": {
        "subject",
        "subject_kind",
        "relation",
        "related_subject",
        "related_kind",
        "valid_from",
        "valid_until",
        "recorded_at",
    },
    "resolve": _CORRECTION_FIELDS,
    "annul": _CORRECTION_FIELDS,
    "dispute": _CORRECTION_FIELDS,
    "uphold": _CORRECTION_FIELDS,
    "rectify": _CORRECTION_FIELDS | {"type", "corrected_occurred_at", "amount"},
}
_ALWAYS = {"kind", "id", "source"}
MAX_CLOCK_SKEW = 300  # seconds a source's clock may run ahead of ours


class EntryError(ValueError):
    """An entry that cannot be accepted: which field, and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


class Entry(NamedTuple):
    """A validated entry, before subject names and targets are resolved to ledger ids."""

    kind: int
    source: str
    entry_id: str
    subject: str | None  # None for corrections: taken from the target
    subject_kind: int
    type: str | None
    occurred_at: int
    recorded_at: int
    amount: float | None
    evidence: str | None
    target_source: str | None
    target_id: str | None
    related_subject: str | None
    related_kind: int
    valid_until: int | None
    details: str | None


def _text(obj: dict[str, Any], field: str, required: bool = True) -> str | None:
    value = obj.get(field)
    if value is None or value == "":
        if required:
            raise EntryError(field, "is required")
        return None
    if type(value) is not str:
        if type(value) is int:
            return str(value)
        raise EntryError(field, f"expected text, got {type(value).__name__} {value!r}")
    if len(value) > 500:
        raise EntryError(field, "is longer than 500 characters")
    return value


def _time(obj: dict[str, Any], field: str, required: bool = True) -> int | None:
    value = obj.get(field)
    if value is None or value == "":
        if required:
            raise EntryError(field, "is required (an ISO 8601 date or date-time)")
        return None
    if type(value) is str:
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise EntryError(
                field, f"{value!r} is not an ISO 8601 date or date-time like 2024-05-01T08:00:00Z"
            ) from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return int(dt.timestamp())
    if type(value) is int:
        return value
    raise EntryError(field, f"expected an ISO 8601 date or date-time, got {value!r}")


def _number(obj: dict[str, Any], field: str) -> float | None:
    value = obj.get(field)
    if value is None or value == "":
        return None
    if type(value) is str:
        try:
            value = float(value)
        except ValueError:
            raise EntryError(field, f"expected a number, got {value!r}") from None
    if type(value) not in (int, float) or not math.isfinite(value):
        raise EntryError(field, f"expected a finite number, got {value!r}")
    return float(value)


def _kind_of(obj: dict[str, Any], field: str) -> int:
    value = obj.get(field) or "person"
    code = SUBJECT_KIND_CODES.get(value) if type(value) is str else None
    if code is None:
        raise EntryError(field, f"expected 'person' or 'organisation', got {value!r}")
    return code


def _known_type(name: str, known_types: Collection[str] | None, field: str) -> None:
    if known_types is not None and name not in known_types:
        close = difflib.get_close_matches(name, list(known_types), n=1)
        hint = (
            f"; did you mean {close[0]!r}?"
            if close
            else f"; known: {', '.join(sorted(known_types))}"
        )
        raise EntryError(field, f"unknown record type {name!r} for the active policy{hint}")


def _kind_allowed(name: str, kind: int, known_types: Collection[str] | None) -> None:
    if isinstance(known_types, Mapping):
        allowed = known_types[name]
        kind_name = ("person", "organisation")[kind]
        if kind_name not in allowed:
            article = "an" if kind_name == "organisation" else "a"
            raise EntryError(
                "subject_kind",
                f"record type {name!r} applies to {' and '.join(allowed)} subjects only, "
                f"not to {article} {kind_name}",
            )


def validate_entry(obj: Any, known_types: Collection[str] | None, now: int) -> Entry:
    """Check one decoded entry; raise ``EntryError`` naming the field at fault.

    ``known_types``: record types the active policy declares (None = accept any); a mapping
    from type to the subject kinds it applies to also checks ``subject_kind``.
    ``now``: the ledger's clock, the default ``recorded_at``.
    """
    if type(obj) is not dict:
        raise EntryError(
            "", f"expected an object with kind, id, source, …; got {type(obj).__name__}"
        )
    kind_name = obj.get("kind") or "record"
    kind = KIND_CODES.get(kind_name) if type(kind_name) is str else None
    if kind is None:
        raise EntryError("kind", f"expected one of {', '.join(KIND_CODES)}, got {kind_name!r}")
    allowed = ENTRY_FIELDS[kind_name]
    for key, value in obj.items():
        if key not in allowed and key not in _ALWAYS and value not in (None, ""):
            close = difflib.get_close_matches(key, sorted(allowed | _ALWAYS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise EntryError(key, f"is not a field of a {kind_name} entry{hint}")
    source = _text(obj, "source")
    entry_id = _text(obj, "id")
    assert source is not None and entry_id is not None
    recorded = _time(obj, "recorded_at", required=False)
    if recorded is None:
        recorded = now
    elif recorded > now + MAX_CLOCK_SKEW:
        raise EntryError("recorded_at", "is in the future of the ledger's clock")

    if kind == RECORD:
        type_name = _text(obj, "type")
        assert type_name is not None
        _known_type(type_name, known_types, "type")
        subject_kind = _kind_of(obj, "subject_kind")
        _kind_allowed(type_name, subject_kind, known_types)
        occurred = _time(obj, "occurred_at")
        assert occurred is not None
        if occurred > recorded:
            raise EntryError(
                "occurred_at", "is after recorded_at: a record cannot precede its event"
            )
        return Entry(
            kind,
            source,
            entry_id,
            _text(obj, "subject"),
            subject_kind,
            type_name,
            occurred,
            recorded,
            _number(obj, "amount"),
            _text(obj, "evidence", required=False),
            None,
            None,
            None,
            0,
            None,
            None,
        )
    if kind == RELATION:
        start = _time(obj, "valid_from")
        assert start is not None
        until = _time(obj, "valid_until", required=False)
        if until is not None and until <= start:
            raise EntryError("valid_until", "must be after valid_from")
        subject = _text(obj, "subject")
        related = _text(obj, "related_subject")
        if subject == related:
            raise EntryError("related_subject", "a subject cannot be related to itself")
        return Entry(
            kind,
            source,
            entry_id,
            subject,
            _kind_of(obj, "subject_kind"),
            _text(obj, "relation"),
            start,
            recorded,
            None,
            None,
            None,
            None,
            related,
            _kind_of(obj, "related_kind"),
            until,
            None,
        )
    occurred = _time(obj, "occurred_at")
    assert occurred is not None
    if occurred > recorded:
        raise EntryError("occurred_at", "is after recorded_at")
    details: dict[str, Any] = {}
    reason = _text(obj, "reason", required=False)
    if reason:
        details["reason"] = reason
    new_type = None
    amount = None
    if kind_name == "rectify":
        new_type = _text(obj, "type", required=False)
        if new_type is not None:
            _known_type(new_type, known_types, "type")
        corrected = _time(obj, "corrected_occurred_at", required=False)
        amount = _number(obj, "amount")
        if new_type is None and corrected is None and amount is None:
            raise EntryError(
                "", "a rectify entry must correct type, corrected_occurred_at or amount"
            )
        if corrected is not None:
            details["corrected_occurred_at"] = corrected
    return Entry(
        kind,
        source,
        entry_id,
        None,
        0,
        new_type,
        occurred,
        recorded,
        amount,
        None,
        _text(obj, "target_source"),
        _text(obj, "target_id"),
        None,
        0,
        None,
        orjson.dumps(details).decode() if details else None,
    )
