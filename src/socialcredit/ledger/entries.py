"""What a ledger entry may contain, checked fast enough for bulk ingestion.

Validation is hand-written for speed (it runs a million times per file), and every failure
names the field and what was expected. The accepted input fields are documented in
``entry_fields.ENTRY_FIELDS`` and the README.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from socialcredit.columns import (
    EXEMPTION,
    KIND_CODES,
    RECORD,
    RELATION,
    SUBJECT_KINDS,
    is_fact,
    service_names,
)
from socialcredit.ledger.entry_fields import (
    ALWAYS_FIELDS,
    ENTRY_FIELDS,
    FIELD_INSTEAD,
    missing_fields,
)
from socialcredit.ledger.rules import IngestRules
from socialcredit.spans import Span, parse_span
from socialcredit.term_words import duration_words
from socialcredit.timeutil import (
    MAX_TIME,
    MIN_TIME,
    RANGE_TEXT,
    TimeFormatError,
    beyond_years,
    epoch_of,
    iso_date,
    to_iso,
)

SUBJECT_KIND_CODES = {"person": 0, "organisation": 1, "organization": 1}
MAX_CLOCK_SKEW = 300  # seconds a source's clock may run ahead of ours
MAX_TEXT = 500  # characters of a text field
MAX_AMOUNT = 1e15  # the largest amount (either sign): whole numbers up to it are exact
_AMOUNT_RANGE = f"must lie between -{MAX_AMOUNT:,.0f} and {MAX_AMOUNT:,.0f}"
# iso_date, remembered for the texts an ingest repeats (attribute values such as birth dates)
_iso_date = lru_cache(maxsize=1 << 16)(iso_date)


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
    # the recorded_at the source claims (None: it gave none); ``recorded_at`` is the time
    # the ledger learned the entry: the ingest's ``now``, or the line's own with backfill
    claimed_recorded_at: int | None = None


def shown(value: Any) -> str:
    """``value`` as a message quotes it: its repr, cut at 80 characters."""
    if type(value) is int and not -(10**30) < value < 10**30:
        return "a number of more than 30 digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def text_problem(value: str) -> str | None:
    """Why text cannot be stored as it is (too long, a NUL character, not valid Unicode),
    or None."""
    if len(value) > MAX_TEXT:
        return f"is longer than {MAX_TEXT} characters"
    if "\x00" in value:
        return "contains a NUL character (\\u0000), which the ledger cannot store"
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            return "is not valid Unicode text (it contains a lone surrogate)"
    return None


def _text(obj: dict[str, Any], field: str, required: bool = True) -> str | None:
    value = obj.get(field)
    if value is None or value == "":
        if required:
            raise EntryError(field, "is required")
        return None
    if type(value) is not str:
        if type(value) is int and -(2**63) <= value < 2**63:
            return str(value)
        raise EntryError(field, f"expected text, got {type(value).__name__} {shown(value)}")
    if required and value.isspace():
        raise EntryError(field, f"is required; got only blank space {shown(value)}")
    problem = text_problem(value)
    if problem is not None:
        raise EntryError(field, problem)
    return value


def iso_epoch(text: str) -> int | None:
    """Epoch seconds of an ISO 8601 date or date-time (naive = UTC), or None when it is not
    one. The result may be outside the supported range (``in_range``)."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return int(dt.timestamp())
    except (OverflowError, ValueError):
        return epoch_of(dt)


def _time(obj: dict[str, Any], field: str, required: bool = True) -> int | None:
    value = obj.get(field)
    if value is None or value == "":
        if required:
            raise EntryError(field, "is required (an ISO 8601 date or date-time)")
        return None
    if type(value) is str:
        ts = iso_epoch(value)
        if ts is None and beyond_years(value):
            raise EntryError(
                field,
                f"{shown(value)} is outside the times the ledger supports ({RANGE_TEXT}, in UTC)",
            )
        if ts is None:
            raise EntryError(
                field,
                f"{shown(value)} is not an ISO 8601 date or date-time like 2024-05-01T08:00:00Z",
            )
    elif type(value) is int:
        ts = value
    else:
        raise EntryError(field, f"expected an ISO 8601 date or date-time, got {shown(value)}")
    if not MIN_TIME <= ts <= MAX_TIME:
        raise EntryError(
            field, f"{shown(value)} is outside the times the ledger supports ({RANGE_TEXT}, in UTC)"
        )
    return ts


def _number(obj: dict[str, Any], field: str) -> float | None:
    value = obj.get(field)
    if value is None or value == "":
        return None
    if type(value) is str:
        try:
            value = float(value)
        except ValueError:
            raise EntryError(field, f"expected a number, got {shown(value)}") from None
    if type(value) is int:
        if not -MAX_AMOUNT <= value <= MAX_AMOUNT:
            raise EntryError(field, _AMOUNT_RANGE)
        return float(value)
    if type(value) is not float or not math.isfinite(value):
        raise EntryError(field, f"expected a finite number, got {shown(value)}")
    if not -MAX_AMOUNT <= value <= MAX_AMOUNT:
        raise EntryError(field, _AMOUNT_RANGE)
    return value


def _span(obj: dict[str, Any], field: str, required: bool) -> tuple[str, Span] | None:
    """A duration field (``term``, ``by``) as written (trimmed) and as a span (calendar
    months, exact days, working days); it must be longer than zero and at most 1000 years."""
    value = obj.get(field)
    if value is None or value == "":
        if required:
            raise EntryError(field, "is required (a duration like 'P1Y6M' or '18 months')")
        return None
    if type(value) is not str:
        raise EntryError(
            field,
            f"expected a duration written with a unit like 'P2Y' or '18 months', got {shown(value)}",
        )
    text = value.strip()
    try:
        span = parse_span(text)
    except TimeFormatError as exc:
        raise EntryError(field, str(exc)) from None
    if span.zero:
        raise EntryError(field, f"{shown(value)} is no time at all; a term must be longer")
    if span.nominal() > parse_span("P1000Y").nominal():
        raise EntryError(field, f"{shown(value)} is longer than 1000 years")
    return text, span


def term_problem(type_name: str, seconds: Span, rules: IngestRules) -> str | None:
    """Why a record of ``type_name`` cannot carry its own term ``seconds``, or None (spans
    compared at average lengths; scoring clamps a term on the dates it gives)."""
    bounds = rules.terms.get(type_name)
    if bounds is None:
        return (
            f"record type {type_name!r} takes no term of its own under the active policy "
            "(its records last the type's expires_after)"
        )
    low, high = bounds[0], bounds[1]
    if low is not None and seconds < low:
        return f"is shorter than record type {type_name!r} allows (at least {duration_words(low)})"
    if high is not None and seconds > high:
        return f"is longer than record type {type_name!r} allows (at most {duration_words(high)})"
    return None


def extension_problem(type_name: str, seconds: Span, rules: IngestRules) -> str | None:
    """Why a record of ``type_name`` cannot be extended by ``seconds``, or None."""
    bounds = rules.terms.get(type_name)
    if bounds is None or bounds[3].zero:
        return (
            f"record type {type_name!r} cannot be extended under the active policy "
            "(it declares no term.extension)"
        )
    if seconds < bounds[2]:
        return (
            f"is shorter than an extension of record type {type_name!r} may be "
            f"(at least {duration_words(bounds[2])})"
        )
    if seconds > bounds[3]:
        return (
            f"is longer than record type {type_name!r} may be extended "
            f"(at most {duration_words(bounds[3])} in all)"
        )
    return None


def _kind_of(obj: dict[str, Any], field: str, default: int = 0) -> int:
    value = obj.get(field)
    if value is None or value == "":
        return default
    code = SUBJECT_KIND_CODES.get(value) if type(value) is str else None
    if code is None:
        raise EntryError(field, f"expected 'person' or 'organisation', got {shown(value)}")
    return code


def gives_kind(obj: dict[str, Any], field: str) -> bool:
    """Whether a line states ``field`` (a subject kind) at all."""
    value = obj.get(field)
    return value is not None and value != ""


def _did_you_mean(name: str, known: Collection[str]) -> str:
    trimmed = name.strip()
    if trimmed != name and trimmed in known:
        return f"; did you mean {trimmed!r} (without the surrounding spaces)?"
    close = difflib.get_close_matches(trimmed, list(known), n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; known: {', '.join(sorted(known))}" if known else ""


def _known_type(name: str, rules: IngestRules | None, field: str) -> None:
    if rules is not None and name not in rules.record_types:
        hint = _did_you_mean(name, rules.record_types)
        raise EntryError(field, f"unknown record type {name!r} for the active policy{hint}")


def _rating_fits(
    name: str, source: str, subject: str | None, amount: float | None, rules: IngestRules
) -> None:
    """A rating (a record of a type a rating score counts) is given by its source to another
    subject, with the rating in ``amount`` within the score's range."""
    if subject is not None and source == subject:
        raise EntryError(
            "source",
            f"a {name} record rates its own subject ({subject!r} is both the source and the "
            "subject): nobody rates themselves",
        )
    low, high = rules.ratings[name]
    if amount is None or not low <= amount <= high:
        given = "no amount" if amount is None else f"{amount:g}"
        raise EntryError(
            "amount",
            f"a {name} record gives its rating in amount, from {low:g} to {high:g}; got {given}",
        )


def _kind_allowed(name: str, kind: int, rules: IngestRules | None) -> None:
    if rules is not None and kind not in rules.record_types[name]:
        kind_name = SUBJECT_KINDS[kind]
        article = "an" if kind_name == "organisation" else "a"
        raise EntryError(
            "subject_kind",
            f"record type {name!r} applies to {' and '.join(rules.kind_names(name))} "
            f"subjects only, not to {article} {kind_name}",
        )


def relation_kind_problem(
    relation: str, which: str, kind: int, declared: int, name: str | None = None
) -> str:
    """Why a relation's subject (``which`` = "subject" or "related subject") of kind
    ``kind`` does not fit the kind the relation is declared with. ``name``: the subject's
    name when ``kind`` is the one the ledger records for it (None: the line's own kind)."""
    side = "start from" if which == "subject" else "point to"
    have = (
        f"{name} is recorded as {_a(SUBJECT_KINDS[kind])}"
        if name is not None
        else f"the line gives the {which} as {_a(SUBJECT_KINDS[kind])}"
    )
    return f"{relation} must {side} {_a(SUBJECT_KINDS[declared])}; {have}"


def a_kind(kind: int) -> str:
    """A subject kind code with its article: "a person", "an organisation"."""
    return _a(SUBJECT_KINDS[kind])


def with_article(word: str) -> str:
    """``word`` after its indefinite article: "a record", "an annul", "an organisation"."""
    return ("an " if word[:1].lower() in ("a", "e", "i", "o", "u") else "a ") + word


_a = with_article


def _relation_allowed(
    name: str, subject_kind: int, related_kind: int, rules: IngestRules | None
) -> None:
    if rules is None:
        return
    declared = rules.relations.get(name)
    if declared is None:
        if not rules.relations:
            raise EntryError(
                "relation", f"unknown relation {name!r}: the active policy declares no relations"
            )
        hint = _did_you_mean(name, rules.relations)
        raise EntryError("relation", f"unknown relation {name!r} for the active policy{hint}")
    if subject_kind != declared[0]:
        raise EntryError(
            "subject_kind", relation_kind_problem(name, "subject", subject_kind, declared[0])
        )
    if related_kind != declared[1]:
        raise EntryError(
            "related_kind",
            relation_kind_problem(name, "related subject", related_kind, declared[1]),
        )


def _in_order(
    occurred: int,
    said: int,
    given: int | None,
    obj: dict[str, Any],
    why: str,
    now: int,
    field: str = "occurred_at",
) -> None:
    """``field`` (an event time) must not be after the time the line says the entry was
    recorded, nor, when the line says none, after the ledger's clock ``now``."""
    claim = "claimed_recorded_at" if _time(obj, "claimed_recorded_at", False) is not None else ""
    if not claim and given is None:
        if occurred > now:
            raise EntryError(
                field,
                f"{to_iso(occurred)} is in the future (the ledger's clock is {to_iso(now)})",
            )
        return
    for limit, name in ((said, claim or "recorded_at"), (given, "recorded_at")):
        if limit is not None and occurred > limit:
            raise EntryError(field, f"is after {name}" + (f": {why}" if why else ""))


def validate_entry(obj: Any, rules: IngestRules | None, now: int, backfill: bool = False) -> Entry:
    """Check one decoded entry; raise ``EntryError`` naming the field at fault.

    ``rules``: what the active policy declares (None = accept any record type and relation):
    record types and the subject kinds they apply to, relations and the kinds of their two
    subjects as given on the line (the kinds the ledger already stores for known subjects
    are checked when writing). A record without ``subject_kind`` is about a person unless
    the ledger knows its subject: when its type does not apply to persons it is left to
    the writer, which checks the type against the stored kind. A relation's omitted
    ``subject_kind``/``related_kind`` default to the kinds the relation is declared with
    (person without rules).

    ``now``: the ledger's clock, the time it receives the entry, which becomes the entry's
    ``recorded_at`` (when the ledger learned it). The line's own ``recorded_at`` is the
    source's claim (``claimed_recorded_at``; a line may also give ``claimed_recorded_at``,
    as ``export`` writes, and then its ``recorded_at`` is the receive time of the ledger it
    was exported from). The claim must not precede ``occurred_at`` nor be in the future of
    ``now`` (beyond ``MAX_CLOCK_SKEW``). With ``backfill`` (loading history), the line's
    ``recorded_at`` is kept as ``recorded_at`` (``now`` when it gives none).
    """
    try:
        return _checked_entry(obj, rules, now, backfill)
    except EntryError as exc:
        missing = missing_fields(obj, exc.field)
        if len(missing) < 2:
            raise
        # all of them, not only the first a check met
        raise EntryError(", ".join(missing), "are required") from None


def _checked_entry(obj: Any, rules: IngestRules | None, now: int, backfill: bool) -> Entry:
    if type(obj) is not dict:
        raise EntryError(
            "", f"expected an object with kind, id, source, …; got {type(obj).__name__}"
        )
    kind_name = obj.get("kind") or "record"
    kind = KIND_CODES.get(kind_name) if type(kind_name) is str else None
    if kind is None:
        raise EntryError("kind", f"expected one of {', '.join(KIND_CODES)}, got {shown(kind_name)}")
    allowed = ENTRY_FIELDS[kind_name]
    for key, value in obj.items():
        if key not in allowed and key not in ALWAYS_FIELDS and value not in (None, ""):
            instead = FIELD_INSTEAD.get((kind_name, key))
            close = (
                [instead]
                if instead
                else difflib.get_close_matches(key, sorted(allowed | ALWAYS_FIELDS), n=1)
            )
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise EntryError(key, f"is not a field of {_a(kind_name)} entry{hint}")
    source = _text(obj, "source")
    entry_id = _text(obj, "id")
    assert source is not None and entry_id is not None
    given = _time(obj, "recorded_at", required=False)
    if given is not None and given > now + MAX_CLOCK_SKEW:
        raise EntryError("recorded_at", "is in the future of the ledger's clock")
    claimed = _time(obj, "claimed_recorded_at", required=False)
    if claimed is None:
        claimed = given
    elif claimed > now + MAX_CLOCK_SKEW:
        raise EntryError("claimed_recorded_at", "is in the future of the ledger's clock")
    recorded = given if backfill and given is not None else now
    # what occurred_at is checked against: the time the line says the entry was recorded
    said = now if claimed is None else claimed

    if kind == RECORD:
        type_name = _text(obj, "type")
        assert type_name is not None
        _known_type(type_name, rules, "type")
        subject_kind = _kind_of(obj, "subject_kind")
        if rules is not None and (
            subject_kind in rules.record_types[type_name] or gives_kind(obj, "subject_kind")
        ):
            _kind_allowed(type_name, subject_kind, rules)
        occurred = _time(obj, "occurred_at")
        assert occurred is not None
        _in_order(occurred, said, given, obj, "a record cannot precede its event", now)
        if rules is not None and type_name in rules.amounts:
            amount = _number(obj, "amount")
            if amount is None or amount <= 0:
                raise EntryError(
                    "amount",
                    f"a positive amount is required: {rules.amounts[type_name]} (got "
                    f"{'none' if amount is None else shown(obj.get('amount'))})",
                )
        term = _span(obj, "term", required=False)
        if term is not None and rules is not None:
            problem = term_problem(type_name, term[1], rules)
            if problem is not None:
                raise EntryError("term", problem)
        amount = _number(obj, "amount")
        if rules is not None and type_name in rules.ratings:
            _rating_fits(type_name, source, _text(obj, "subject"), amount, rules)
        return Entry(
            kind,
            source,
            entry_id,
            _text(obj, "subject"),
            subject_kind,
            type_name,
            occurred,
            recorded,
            amount,
            _text(obj, "evidence", required=False),
            None,
            None,
            None,
            0,
            None,
            orjson.dumps({"term": term[0]}).decode() if term is not None else None,
            claimed,
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
        relation = _text(obj, "relation")
        assert relation is not None
        declared = rules.relations.get(relation, (0, 0)) if rules is not None else (0, 0)
        subject_kind = _kind_of(obj, "subject_kind", declared[0])
        related_kind = _kind_of(obj, "related_kind", declared[1])
        _relation_allowed(relation, subject_kind, related_kind, rules)
        return Entry(
            kind,
            source,
            entry_id,
            subject,
            subject_kind,
            relation,
            start,
            recorded,
            None,
            None,
            None,
            None,
            related,
            related_kind,
            until,
            None,
            claimed,
        )
    if is_fact(kind):
        return _fact(obj, kind, source, entry_id, rules, now, said, given, recorded, claimed)
    occurred = _time(obj, "occurred_at")
    assert occurred is not None
    _in_order(occurred, said, given, obj, "", now)
    details: dict[str, Any] = {}
    reason = _text(obj, "reason", required=False)
    if reason:
        details["reason"] = reason
    new_type = None
    amount = None
    if kind_name == "rectify":
        new_type = _text(obj, "type", required=False)
        if new_type is not None:
            _known_type(new_type, rules, "type")
        corrected = _time(obj, "corrected_occurred_at", required=False)
        amount = _number(obj, "amount")
        if new_type is None and corrected is None and amount is None:
            raise EntryError(
                "", "a rectify entry must correct type, corrected_occurred_at or amount"
            )
        if corrected is not None:
            # the same rule as a record's own occurred_at
            why = "a record cannot precede its event"
            _in_order(corrected, said, given, obj, why, now, "corrected_occurred_at")
            details["corrected_occurred_at"] = corrected
    if kind_name == "extend":
        by = _span(obj, "by", required=True)
        assert by is not None
        details["by"] = by[0]
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
        claimed,
    )


def _fact(
    obj: dict[str, Any],
    kind: int,
    source: str,
    entry_id: str,
    rules: IngestRules | None,
    now: int,
    said: int,
    given: int | None,
    recorded: int,
    claimed: int | None,
) -> Entry:
    """An exemption or attribute entry: a subject, a validity period and the fact's details
    (stored as JSON: an exemption's services, reason, approver and approval time; an
    attribute's value). The entry's ``type`` is the attribute's name (None: exemption)."""
    # a line with several faults is refused for the first in the order of its fields
    # (subject, what the fact is, its period, then an exemption's reason and approval), as a
    # record is for its type before its dates
    subject = _text(obj, "subject")
    subject_kind = _kind_of(obj, "subject_kind")
    details: dict[str, Any] = {}
    name = None
    if kind == EXEMPTION:
        details["services"] = _services(obj, rules)
    else:
        name = _text(obj, "attribute")
        assert name is not None
        details["value"] = _attribute_value(obj, name, subject_kind, rules, said)
    start = _time(obj, "valid_from")
    assert start is not None
    until = _time(obj, "valid_until", required=False)
    if until is not None and until <= start:
        raise EntryError("valid_until", f"{to_iso(until)} is not after valid_from {to_iso(start)}")
    if kind == EXEMPTION:
        details["reason"] = _text(obj, "reason")
        details["approved_by"] = _text(obj, "approved_by")
        approved = _time(obj, "approved_at", required=False)
        if approved is not None:
            why = "an exemption cannot be approved after the ledger received it"
            _in_order(approved, said, given, obj, why, now, "approved_at")
            details["approved_at"] = approved
    return Entry(
        kind,
        source,
        entry_id,
        subject,
        subject_kind,
        name,
        start,
        recorded,
        None,
        None,
        None,
        None,
        None,
        0,
        until,
        orjson.dumps(details).decode(),
        claimed,
    )


def _services(obj: dict[str, Any], rules: IngestRules | None) -> str:
    """An exemption's services, checked: a list of service ids or text separated by commas;
    each known to the active policy. Returned joined by commas."""
    value = obj.get("services")
    if value is None or value == "" or value == []:
        raise EntryError("services", "is required (the services the exemption allows)")
    if type(value) is list:
        if not all(type(v) is str for v in value):
            raise EntryError("services", f"expected service ids as text, got {shown(value)}")
    elif type(value) is not str:
        raise EntryError("services", f"expected a list of service ids, got {shown(value)}")
    names = service_names(value)
    if not names:
        raise EntryError("services", "is required (the services the exemption allows)")
    for name in names:
        problem = text_problem(name)
        if problem is not None:
            raise EntryError("services", f"{shown(name)} {problem}")
        if rules is not None and rules.services is not None and name not in rules.services:
            hint = _did_you_mean(name, rules.services)
            raise EntryError("services", f"unknown service {name!r} for the active policy{hint}")
    joined = ",".join(dict.fromkeys(names))
    if len(joined) > MAX_TEXT:
        raise EntryError("services", f"are longer than {MAX_TEXT} characters in all")
    return joined


def _attribute_value(
    obj: dict[str, Any], name: str, subject_kind: int, rules: IngestRules | None, said: int
) -> str:
    """An attribute's value as stored (text): checked against the type the active policy
    declares for the attribute (a date ``YYYY-MM-DD``, a number, text). A date the policy
    counts an age from may not lie after ``said``, the time the line says it was recorded."""
    value = obj.get("value")
    known = rules.attributes if rules is not None else None
    declared = known.get(name) if known is not None else None
    if known is not None and declared is None:
        if not known:
            raise EntryError(
                "attribute",
                f"unknown attribute {name!r}: the active policy declares no attributes",
            )
        hint = _did_you_mean(name, known)
        raise EntryError("attribute", f"unknown attribute {name!r} for the active policy{hint}")
    if declared is not None and subject_kind not in declared[1]:
        kinds = " and ".join(k for i, k in enumerate(SUBJECT_KINDS) if i in declared[1])
        raise EntryError(
            "subject_kind",
            f"attribute {name!r} applies to {kinds} subjects only, not to {a_kind(subject_kind)}",
        )
    if value is None or value == "":
        raise EntryError("value", "is required")
    kind = declared[0] if declared is not None else "text"
    if kind == "date":
        day = _iso_date(value) if type(value) is str else None
        if type(value) is not str or day is None:
            raise EntryError(
                "value", f"{shown(value)} is not a date like 2008-02-29 (attribute {name!r})"
            )
        assert rules is not None
        # the date's local midnight, in the policy's time: a child born today is no error
        if name in rules.ages and day - rules.calendar.offset > said:
            raise EntryError(
                "value",
                f"{value} is after this line was recorded ({to_iso(said)}): attribute "
                f"{name!r} is a date the policy counts an age from, which cannot lie in "
                "the future",
            )
        return value
    if kind == "number":
        number = _number(obj, "value")
        assert number is not None
        return str(int(number)) if number.is_integer() else repr(number)
    if declared is not None and type(value) is not str:
        raise EntryError(
            "value",
            f"expected text (attribute {name!r} is of type text), got "
            f"{type(value).__name__} {shown(value)}; quote it if it is meant as text",
        )
    if type(value) is int or type(value) is float:
        value = str(value)
    if type(value) is not str:
        raise EntryError("value", f"expected text, got {type(value).__name__} {shown(value)}")
    if value.isspace():
        raise EntryError("value", f"is required; got only blank space {shown(value)}")
    problem = text_problem(value)
    if problem is not None:
        raise EntryError("value", problem)
    return value
