"""What an audit entry holds and how its hash is computed (the format docs/audit.md states).

An entry's hash is SHA-256 over the previous entry's hash (64 lower-case hex characters, as
ASCII) followed by the entry's canonical form: the JSON array of its fields in ``FIELDS``
order, written compactly (no spaces), UTF-8, non-ASCII characters as themselves, integers as
integers and missing values as ``null``. The first entry's previous hash is ``GENESIS``.
Everything here is pure: no database, no clock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

GENESIS = "0" * 64
"""The previous hash of entry 1."""

FIELDS = (
    "seq",
    "at_us",
    "key_id",
    "role",
    "route",
    "subject",
    "service",
    "decision",
    "policy_version",
    "status",
    "check_id",
    "details",
)
"""The hashed fields, in the order of the canonical form (``prev_hash`` comes before it)."""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audited request, as the caller (an HTTP route, a command) describes it.

    ``at``: when it happened, epoch seconds (a float keeps sub-second precision; stored to
    the microsecond). ``key_id``/``role``: who asked (None: no valid key). ``route``: what
    was asked, e.g. ``POST /v1/checks``. ``subject``, ``service``, ``decision``,
    ``policy_version``, ``status`` (the HTTP status answered), ``check_id``: what about and
    with what outcome, where they apply. ``details``: anything else an auditor needs (a
    mapping is stored as JSON text with sorted keys, a string as written).
    """

    key_id: str | None
    role: str | None
    route: str
    subject: str | None
    decision: str | None
    policy_version: str | None
    at: float
    service: str | None = None
    status: int | None = None
    check_id: str | None = None
    details: Mapping[str, Any] | str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One stored entry of the audit log, as read back (fields as ``FIELDS``, then the chain)."""

    seq: int
    at_us: int
    key_id: str | None
    role: str | None
    route: str
    subject: str | None
    service: str | None
    decision: str | None
    policy_version: str | None
    status: int | None
    check_id: str | None
    details: str | None
    prev_hash: str
    hash: str

    @property
    def at(self) -> float:
        """When the audited request happened, epoch seconds."""
        return self.at_us / 1_000_000

    def fields(self) -> tuple[Any, ...]:
        """The hashed fields, in ``FIELDS`` order."""
        return (
            self.seq,
            self.at_us,
            self.key_id,
            self.role,
            self.route,
            self.subject,
            self.service,
            self.decision,
            self.policy_version,
            self.status,
            self.check_id,
            self.details,
        )

    def computed_hash(self) -> str:
        """The hash this entry's fields and ``prev_hash`` give (equal to ``hash`` unless the
        stored entry was changed)."""
        return entry_hash(self.prev_hash, self.fields())

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON object: every stored field, plus ``at`` as ISO 8601 UTC with
        microseconds (``at_us`` is what is hashed)."""
        data = dict(zip(FIELDS, self.fields(), strict=True))
        data["at"] = iso_us(self.at_us)
        data["prev_hash"] = self.prev_hash
        data["hash"] = self.hash
        return data


def iso_us(at_us: int) -> str:
    """Epoch microseconds as ISO 8601 UTC text with six decimals (``…T12:00:00.000001Z``)."""
    from datetime import UTC, datetime, timedelta

    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=at_us)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: tuple[Any, ...]) -> bytes:
    """The canonical form of an entry's hashed ``fields`` (``FIELDS`` order): a compact JSON
    array, UTF-8, byte for byte what ``json.dumps(list(fields), ensure_ascii=False,
    separators=(",", ":")).encode()`` gives (orjson writes the same bytes ten times faster;
    a test compares them for every character)."""
    return orjson.dumps(list(fields))


def entry_hash(prev_hash: str, fields: tuple[Any, ...]) -> str:
    """SHA-256, in lower-case hex, of ``prev_hash`` (as ASCII) followed by ``canonical(fields)``."""
    digest = hashlib.sha256(prev_hash.encode("ascii", "replace"))
    digest.update(canonical(fields))
    return digest.hexdigest()


def clean_text(value: object) -> str | None:
    """A value as text both databases store and UTF-8 encodes: None stays None, anything
    else becomes its ``str``; NUL characters (PostgreSQL text cannot hold them) and lone
    surrogates (not UTF-8) become U+FFFD."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    return text


def _status(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**31) <= value < 2**31 else None
    return None


def _details(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        text = json.dumps(
            value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
        )
        return clean_text(text)
    return clean_text(value)


def event_fields(seq: int, event: AuditEvent) -> tuple[Any, ...]:
    """The hashed fields of ``event`` stored as entry ``seq`` (``FIELDS`` order), each made
    storable: never fails, whatever the event holds (an entry is never dropped for its
    content). Text is cleaned (``clean_text``), ``at`` becomes microseconds (0 if it is not
    a finite time), a ``status`` that is not a 32-bit integer becomes None, ``details``
    JSON text."""
    try:
        at_us = round(float(event.at) * 1_000_000)
    except (TypeError, ValueError, OverflowError):
        at_us = 0
    if not -(2**62) < at_us < 2**62:
        at_us = 0
    return (
        seq,
        at_us,
        clean_text(event.key_id),
        clean_text(event.role),
        clean_text(event.route) or "",
        clean_text(event.subject),
        clean_text(event.service),
        clean_text(event.decision),
        clean_text(event.policy_version),
        _status(event.status),
        clean_text(event.check_id),
        _details(event.details),
    )


def _is_text(value: object) -> bool:
    return value is None or type(value) is str


Row = tuple[Any, ...]
"""An audited request as the log's buffer holds it (what ``event_row`` makes): ``at``
(epoch seconds), ``key_id``, ``role``, ``route``, ``subject``, ``service``, ``decision``,
``policy_version``, ``status``, ``check_id``, ``details`` — the hashed fields after
``seq``, with the time not yet in microseconds."""


def event_row(event: AuditEvent) -> Row:
    """``event`` as a buffer row (see ``Row``)."""
    e = event
    return (
        e.at,
        e.key_id,
        e.role,
        e.route,
        e.subject,
        e.service,
        e.decision,
        e.policy_version,
        e.status,
        e.check_id,
        e.details,
    )


def row_event(row: Row) -> AuditEvent:
    """The event a buffer row stands for (``event_row``'s inverse)."""
    at, key_id, role, route, subject, service, decision, version, status, check_id, details = row
    return AuditEvent(
        key_id,
        role,
        route,
        subject,
        decision,
        version,
        at,
        service=service,
        status=status,
        check_id=check_id,
        details=details,
    )


_TEXT_TYPES = frozenset({str, type(None)})
NUL = b"\\u0000"  # how orjson writes a NUL character


def chain_row(seq: int, prev_hash: str, row: Row) -> tuple[tuple[Any, ...], str]:
    """``chain_entry`` of the event ``row`` stands for (``Row``), without making the event:
    the same fields and hash (what the writer runs once per entry). The common case (plain
    text, an integer status, a finite time) skips the cleaning; the result is the same."""
    at = row[0]
    status = row[8]
    if (
        (type(at) is float or type(at) is int)
        and -(2**52) < at < 2**52
        and (status is None or (type(status) is int and -(2**31) <= status < 2**31))
        and type(row[3]) is str
        and _TEXT_TYPES.issuperset(map(type, row[1:8]))
        and _TEXT_TYPES.issuperset(map(type, row[9:]))
    ):
        fields = (seq, round(at * 1_000_000), *row[1:])
        try:
            data = orjson.dumps(fields)
        except orjson.JSONEncodeError:  # a lone surrogate: not UTF-8
            data = NUL
        if NUL not in data:  # NUL, which PostgreSQL text cannot hold
            digest = hashlib.sha256(prev_hash.encode("ascii", "replace"))
            digest.update(data)
            return fields, digest.hexdigest()
    fields = event_fields(seq, row_event(row))
    return fields, entry_hash(prev_hash, fields)


def chain_entry(seq: int, prev_hash: str, event: AuditEvent) -> tuple[tuple[Any, ...], str]:
    """``event`` as entry ``seq`` after the entry whose hash is ``prev_hash``: its hashed
    fields (as ``event_fields`` makes them) and its hash (``chain_row``)."""
    return chain_row(seq, prev_hash, event_row(event))


__all__ = [
    "FIELDS",
    "GENESIS",
    "AuditEntry",
    "AuditEvent",
    "Row",
    "canonical",
    "chain_entry",
    "chain_row",
    "clean_text",
    "entry_hash",
    "event_fields",
    "event_row",
    "iso_us",
    "row_event",
]
