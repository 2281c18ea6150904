"""Turning decoded lines into chunks ready to write: validation, grouping, problems.

This part is pure Python and CPU-bound, so for large files it runs in child processes
(``socialcredit.ledger.workers``) while the parent writes to the database. It has nothing
to do with scoring's ``Prepared``: it parses ingestion input.

Row layouts (what the writer inserts, one tuple per entry). ``recorded`` is the entry's
``recorded_at``, the time the ledger learned it: None for the ingest time (``now``, the
batch's start), which is every entry's unless the ingest is a backfill and the line gives
``recorded_at``. ``claimed`` is the ``recorded_at`` the source gave (None: none), kept as
its claim in ``claimed_recorded_at``:

- record: ``(source, id, kind, subject, type, occurred, recorded, amount, evidence, details,
  claimed, line)`` (details: JSON with the record's own ``term``, or None)
- relation: ``(source, id, kind, subject, relation, valid_from, recorded, None, None,
  related_subject, valid_until, claimed, line)``
- exemption and attribute (facts, written with the relations): ``(source, id, kind,
  subject, attribute name or None, valid_from, recorded, None, details, None, valid_until,
  claimed, line)``; ``details`` is the JSON the entry's ``details`` column stores
- correction values: ``(source, id, kind, type, occurred, recorded, amount, details,
  claimed)``
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson

from socialcredit.columns import KIND_CODES, KIND_NAMES, RECORD, RELATION, is_fact
from socialcredit.ledger.entries import (
    MAX_AMOUNT,
    MAX_CLOCK_SKEW,
    MAX_TEXT,
    Entry,
    EntryError,
    gives_kind,
    validate_entry,
    with_article,
)
from socialcredit.ledger.fast_attributes import fast_attribute
from socialcredit.ledger.files import BLANK, TRIMMED, FieldError
from socialcredit.ledger.rules import IngestRules
from socialcredit.ledger.shared_text import let_go, share
from socialcredit.timeutil import EPOCH, MAX_TIME, MIN_TIME, NAIVE_EPOCH, to_iso

if TYPE_CHECKING:
    from socialcredit.policy.sources import SourceGrant

CHUNK = 100_000
log = logging.getLogger("socialcredit.ledger")
_ANNUL = KIND_CODES["annul"]


@dataclass(frozen=True)
class IngestProblem:
    """A line worth telling about: where, which field (or ""), what.

    Used for rejected lines, conflicts and entries accepted without effect; the list it is
    in says which.
    """

    file: str
    line: int
    field: str
    message: str

    @property
    def reason(self) -> str:
        """What is wrong or worth knowing (the same as ``message``)."""
        return self.message

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


Row = tuple[Any, ...]


@dataclass
class PreparedChunk:
    """Validated entries of up to ``CHUNK`` lines, grouped the way the writer inserts them."""

    lines: int = 0
    problems: list[IngestProblem] = field(default_factory=list)  # rejected lines
    subjects: list[tuple[str, int]] = field(default_factory=list)  # first seen in this ingest
    rows: list[Row] = field(default_factory=list)  # records
    relations: list[Row] = field(default_factory=list)
    # (line, kind, target_source, target_id, values without subject and target, whether
    # the target is an earlier line of this chunk: if not, it must be in the ledger already)
    corrections: list[tuple[int, int, str, str, Row, bool]] = field(default_factory=list)
    # lines repeating the (source, id) of an earlier line of the chunk (records, relations
    # and corrections as repeats, see the module docstring): the writer compares each with
    # what is stored, which is that earlier line unless it repeated the ledger itself
    repeats: list[Row] = field(default_factory=list)
    skipped: int = 0  # blank lines
    trimmed: list[int] = field(default_factory=list)  # lines whose fields had spaces trimmed
    # The subject kinds lines state, for the writer to check against the kinds the ledger
    # records, with bookkeeping per distinct subject rather than per line. Records: the kind
    # code (-1: none stated) the chunk's first record about each subject states; lines that
    # state another, or leave their type's kinds to the writer (no kind stated, a type that
    # does not apply to persons), as line -> (subject, stated kind code or -1).
    record_kinds: dict[str, int] = field(default_factory=dict)
    kind_exceptions: dict[int, tuple[str, int]] = field(default_factory=dict)
    # relations stating subject_kind (0) or related_kind (1): (name, kind, 0/1) -> lines
    claims: dict[tuple[str, int, int], list[int]] = field(default_factory=dict)
    first_lines: dict[str, int] = field(default_factory=dict)  # of the names in ``subjects``


def prepare_chunks(
    lines: Iterable[tuple[int, Any, str | None]],
    origin: str,
    rules: IngestRules | None,
    now: int,
    seen: set[str] | None = None,
    backfill: bool = False,
) -> Iterator[PreparedChunk]:
    """Validate lines into chunks; every line ends up as a row, a problem, a repeat of an
    earlier line's (source, id), or a skipped blank line.

    ``seen``: subject names already listed in earlier chunks (updated here). ``backfill``:
    lines keep their own ``recorded_at`` (see ``validate_entry``).
    """
    if seen is None:
        seen = set()
    chunk = PreparedChunk()
    # Rows are reordered for the database's sake, so a (source, id) repeated within a chunk
    # is set aside here: the first line wins, as it does across chunks.
    keys: set[tuple[str, str]] = set()
    types = rules.record_types if rules is not None else None
    amounts = rules.amounts if rules is not None else None
    submitter = rules.submitter if rules is not None else None
    ratings = rules.ratings if rules is not None else None
    record_kinds = chunk.record_kinds
    rows = chunk.rows
    for number, obj, error in lines:
        chunk.lines += 1
        if error is not None:
            if error is TRIMMED:
                chunk.trimmed.append(number)
            elif error is BLANK:
                chunk.skipped += 1
                continue
            else:
                where = error.field if isinstance(error, FieldError) else ""
                chunk.problems.append(IngestProblem(origin, number, where, str(error)))
                continue
        row = fast_record(obj, types, now, number, backfill, amounts)
        if row is not None and ratings and row[4] in ratings:
            row = None  # a rating is checked in full (no self-rating, its range)
        if row is not None:
            if submitter is not None:
                refused = submitter.refusal("record", row[0], row[4])
                if refused is not None:
                    chunk.problems.append(IngestProblem(origin, number, *refused))
                    continue
            key = (row[0], row[1])
            if key in keys:
                chunk.repeats.append(row)
            else:
                keys.add(key)
                name = row[3]
                stated = obj.get("subject_kind")  # None, "", person or organisation here
                code = _KINDS[stated] if stated else -1
                first = record_kinds.get(name)
                if first is None:
                    record_kinds[name] = code
                elif first != code:
                    chunk.kind_exceptions[number] = (name, code)
                if name not in seen:
                    seen.add(name)
                    chunk.subjects.append((name, code if stated else 0))  # else a person
                    chunk.first_lines[name] = number
                rows.append(row)
            if chunk.lines >= CHUNK:
                yield _finish(chunk)
                chunk = PreparedChunk()
                record_kinds = chunk.record_kinds
                rows = chunk.rows
                keys = set()
            continue
        fact = fast_attribute(obj, rules, now, number, backfill) if submitter is None else None
        if fact is not None:
            _add_fact(chunk, keys, seen, fact[0], fact[1], gives_kind(obj, "subject_kind"))
            if chunk.lines >= CHUNK:
                yield _finish(chunk)
                chunk = PreparedChunk()
                record_kinds = chunk.record_kinds
                rows = chunk.rows
                keys = set()
            continue
        try:
            e = validate_entry(obj, rules, now, backfill)
        except EntryError as exc:
            chunk.problems.append(IngestProblem(origin, number, exc.field, exc.reason))
            continue
        except Exception as exc:  # a shape the checks above did not foresee: refuse the line
            log.warning("%s:%d: unforeseen line: %r", origin, number, exc)
            message = f"cannot be read as an entry ({type(exc).__name__}: {exc})"
            chunk.problems.append(IngestProblem(origin, number, "", message[:300]))
            continue
        if submitter is not None:
            refused = submitter_refusal(submitter, e)
            if refused is not None:
                chunk.problems.append(IngestProblem(origin, number, *refused))
                continue
        recorded = None if e.recorded_at == now else e.recorded_at
        key = (e.source, e.entry_id)
        if is_fact(e.kind):
            row = (
                e.source,
                e.entry_id,
                e.kind,
                e.subject,
                e.type,
                e.occurred_at,
                recorded,
                None,
                e.details,
                None,
                e.valid_until,
                e.claimed_recorded_at,
                number,
            )
            _add_fact(chunk, keys, seen, row, e.subject_kind, gives_kind(obj, "subject_kind"))
        elif e.kind == RECORD or e.kind == RELATION:
            row = (
                e.source,
                e.entry_id,
                e.kind,
                e.subject,
                e.type,
                e.occurred_at,
                recorded,
                e.amount,
                e.evidence,
            )
            if e.kind == RECORD:
                row = (*row, e.details, e.claimed_recorded_at, number)
            else:
                row = (*row, e.related_subject, e.valid_until, e.claimed_recorded_at, number)
            if key in keys:
                chunk.repeats.append(row)
            else:
                keys.add(key)
                for which, name, kind, field_name in (
                    (0, e.subject, e.subject_kind, "subject_kind"),
                    (1, e.related_subject, e.related_kind, "related_kind"),
                ):
                    if name is None:
                        continue
                    creates = True
                    gives = gives_kind(obj, field_name)
                    if e.kind == RECORD:
                        code = kind if gives else -1
                        # about a person unless the ledger knows the subject: a type that
                        # does not apply to persons cannot make the subject one
                        creates = gives or types is None or kind in types[e.type or ""]
                        first = record_kinds.get(name)
                        if first is None and creates:
                            record_kinds[name] = code
                        elif first != code or not creates:
                            chunk.kind_exceptions[number] = (name, code)
                    elif gives:
                        chunk.claims.setdefault((name, kind, which), []).append(number)
                    if creates and name not in seen:
                        seen.add(name)
                        chunk.subjects.append((name, kind))
                        chunk.first_lines[name] = number
                (chunk.rows if e.kind == RECORD else chunk.relations).append(row)
        else:
            assert e.target_source is not None and e.target_id is not None
            values = (
                e.source,
                e.entry_id,
                e.kind,
                e.type,
                e.occurred_at,
                recorded,
                e.amount,
                e.details,
                e.claimed_recorded_at,
            )
            if key in keys:
                chunk.repeats.append((*values, e.target_source, e.target_id, number))
            else:
                earlier = (e.target_source, e.target_id) in keys
                keys.add(key)
                chunk.corrections.append(
                    (number, e.kind, e.target_source, e.target_id, values, earlier)
                )
        if chunk.lines >= CHUNK:
            yield _finish(chunk)
            chunk = PreparedChunk()
            record_kinds = chunk.record_kinds
            rows = chunk.rows
            keys = set()
    if chunk.lines:
        yield _finish(chunk)


def _add_fact(
    chunk: PreparedChunk,
    keys: set[tuple[str, str]],
    seen: set[str],
    row: Row,
    subject_kind: int,
    gives: bool,
) -> None:
    """Add an exemption's or attribute's row (``gives``: the line states its subject's
    kind, a claim the writer checks)."""
    key = (row[0], row[1])
    if key in keys:
        chunk.repeats.append(row)
        return
    keys.add(key)
    name = row[3]
    number = row[-1]
    if gives:
        chunk.claims.setdefault((name, subject_kind, 0), []).append(number)
    if name not in seen:
        seen.add(name)
        chunk.subjects.append((name, subject_kind))
        chunk.first_lines[name] = number
    chunk.relations.append(row)


def submitter_refusal(submitter: SourceGrant, e: Entry) -> tuple[str, str] | None:
    """Why the restricted submitter may not submit the valid entry ``e`` (field, reason),
    or None (see ``SourceGrant.refusal``)."""
    services: tuple[str, ...] = ()
    if e.kind == KIND_CODES["exemption"] and e.details:
        services = tuple(str(orjson.loads(e.details)["services"]).split(","))
    return submitter.refusal(KIND_NAMES[e.kind], e.source, e.type, e.target_source, services)


def _gives(obj: Any, name: str) -> bool:
    value = obj.get(name)
    return value is not None and value != ""


# ---------------------------------------------------------------------- same content

# What "the same content" means: the fields an entry stores, compared after parsing (so
# "2025-01-01" and "2025-01-01T00:00:00Z" are the same time, 5000 and 5000.0 the same
# amount). The time the ledger received an entry is not its content: recorded_at is
# compared only when a backfill line gives one, and the source's claimed recorded_at only
# when the repeating line gives one (an entry stored without a claim is compared with the
# time it was recorded at, as the claim of a line exported from it is). Subject kinds
# belong to subjects, not entries, and are not compared.


def content_of(row: Row) -> dict[str, Any]:
    """The comparable content of a parsed row (a record, relation or correction row as
    laid out in this module's docstring; corrections with target source and id and the
    line number appended, as in ``PreparedChunk.repeats``)."""
    kind = row[2]
    if kind == RECORD:
        return {
            "kind": kind,
            "subject": row[3],
            "type": row[4],
            "occurred_at": row[5],
            "recorded_at": row[6],
            "claimed_recorded_at": row[10],
            "amount": row[7],
            "evidence": row[8],
            **term_content(row[9]),
        }
    if is_fact(kind):
        return {
            "kind": kind,
            "subject": row[3],
            "attribute": row[4],
            "valid_from": row[5],
            "recorded_at": row[6],
            "claimed_recorded_at": row[11],
            "valid_until": row[10],
            **fact_content(row[8]),
        }
    if kind == RELATION:
        return {
            "kind": kind,
            "subject": row[3],
            "relation": row[4],
            "valid_from": row[5],
            "recorded_at": row[6],
            "claimed_recorded_at": row[11],
            "related_subject": row[9],
            "valid_until": row[10],
        }
    return {
        "kind": kind,
        "target": f"{row[9]}/{row[10]}",
        "type": row[3],
        "occurred_at": row[4],
        "recorded_at": row[5],
        "claimed_recorded_at": row[8],
        "amount": row[6],
        **details_content(row[7]),
    }


def details_content(details: str | None) -> dict[str, Any]:
    """A correction's stored details (JSON) as comparable fields: its reason, corrected
    time and extension (None when absent)."""
    extra = orjson.loads(details) if details else {}
    out = {
        "reason": extra.get("reason"),
        "corrected_occurred_at": extra.get("corrected_occurred_at"),
    }
    if extra.get("by") is not None:
        out["by"] = extra["by"]
    return out


def term_content(details: str | None) -> dict[str, Any]:
    """A record's stored details (JSON) as comparable fields: its own term, when it has one."""
    extra = orjson.loads(details) if details else {}
    return {"term": extra["term"]} if extra.get("term") is not None else {}


def fact_content(details: str | None) -> dict[str, Any]:
    """An exemption's or attribute's stored details (JSON) as comparable fields."""
    extra = orjson.loads(details) if details else {}
    return {
        name: extra.get(name)
        for name in ("services", "reason", "approved_by", "approved_at", "value")
        if name in extra
    }


_TIMES = {
    "occurred_at",
    "recorded_at",
    "claimed_recorded_at",
    "valid_from",
    "valid_until",
    "corrected_occurred_at",
    "approved_at",
}


def content_differences(
    new: dict[str, Any], first: dict[str, Any], now: int, where: str = "there"
) -> list[str]:
    """What differs between a repeating line's content and the first one's (empty: the
    same content). ``first``'s recorded_at None means the ingest time ``now``; its
    claimed_recorded_at None means its recorded_at."""
    out = []
    for name in new.keys() | first.keys():
        value, kept = new.get(name), first.get(name)
        if name == "recorded_at":
            if value is None or value == new.get("claimed_recorded_at"):
                continue  # a backfill line's recorded_at is also its claim, compared below
            kept = now if kept is None else kept
        elif name == "claimed_recorded_at":
            if value is None:
                continue
            if kept is None:
                kept = first.get("recorded_at")
                kept = now if kept is None else kept
            name = "recorded_at"  # the field a line gives it in
        if value != kept:
            out.append(f"{name} {_show(name, value)} here, {_show(name, kept)} {where}")
    return sorted(out)


def _show(name: str, value: Any) -> str:
    if value is None:
        return "none"
    if name == "kind":
        return KIND_NAMES[int(value)]
    if name in _TIMES:
        return to_iso(int(value)) or "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def conflict_message(source: str, entry_id: str, differences: list[str], first: str) -> str:
    """The report of a conflicting repeat of ``source``/``entry_id``; ``first`` says where
    the kept entry was given (e.g. "on line 3")."""
    return (
        f"{source}/{entry_id} was first given {first} with different content "
        f"({'; '.join(differences)}); the ledger keeps the first and ignores this line"
    )


# ---------------------------------------------------------------------- fast path

_RECORD_KEYS = frozenset(
    {"kind", "id", "source", "subject", "subject_kind", "type", "occurred_at", "recorded_at"}
    | {"amount", "evidence"}
)
_record_keys = _RECORD_KEYS.issuperset  # of a dict: whether it has no other keys
_KINDS = {"person": 0, "organisation": 1}
fromisoformat = datetime.fromisoformat


def fast_record(
    obj: Any,
    types: Any,
    now: int,
    line: int = 0,
    backfill: bool = False,
    amounts: Any = None,
) -> Row | None:
    """The row for a plain, valid record, or None to leave the line to ``validate_entry``.

    The common case of bulk ingestion, without the general validator's bookkeeping. It
    accepts only what ``validate_entry`` accepts with the same result (a test checks this);
    anything unusual or wrong returns None so the general path can say precisely what.
    ``types``: the rules' ``record_types`` (type name to subject kind codes), or None to
    accept any type. ``line`` ends the row (see the module docstring for the layout);
    ``backfill``: the line's ``recorded_at`` is kept as the entry's (see ``validate_entry``).
    ``amounts``: the rules' ``amounts`` (types whose records need a positive amount).
    """
    if type(obj) is not dict or not _record_keys(obj):
        return None
    get = obj.get
    kind = get("kind")
    if kind is not None and kind != "record":
        return None
    source = get("source")
    entry_id = get("id")
    subject = get("subject")
    type_name = get("type")
    evidence = get("evidence")
    if not (
        type(source) is str
        and type(entry_id) is str
        and type(subject) is str
        and type(type_name) is str
        and (evidence is None or (type(evidence) is str and evidence))
        and source
        and entry_id
        and subject
        and type_name
        and not source.isspace()
        and not entry_id.isspace()
        and not subject.isspace()
        and not type_name.isspace()
    ):
        return None
    # one look at all the text: no NUL (PostgreSQL refuses it), valid Unicode, and (when
    # all of it fits) no field longer than MAX_TEXT
    text = f"{source}{entry_id}{subject}{type_name}{evidence or ''}"
    if len(text) > MAX_TEXT and (
        len(source) > MAX_TEXT
        or len(entry_id) > MAX_TEXT
        or len(subject) > MAX_TEXT
        or len(type_name) > MAX_TEXT
        or (evidence is not None and len(evidence) > MAX_TEXT)
    ):
        return None
    if "\x00" in text or not (text.isascii() or _encodes(text)):
        return None
    stated = get("subject_kind")
    subject_kind: int | None = 0  # as validate_entry: none (None, "") is a person, but
    if stated is not None and stated != "":  # 0, False or [] are errors
        subject_kind = _KINDS.get(stated) if type(stated) is str else None
        if subject_kind is None:
            return None
    if types is not None:
        allowed = types.get(type_name)
        if allowed is None or subject_kind not in allowed:
            return None
    occurred_text = get("occurred_at")
    recorded_text = get("recorded_at")
    amount = get("amount")
    if (
        type(occurred_text) is not str
        or not (recorded_text is None or type(recorded_text) is str)
        or not (amount is None or type(amount) is int or type(amount) is float)
    ):
        return None
    try:
        when = fromisoformat(occurred_text)
        occurred = int((when - (EPOCH if when.tzinfo else NAIVE_EPOCH)).total_seconds())
        recorded = None
        if recorded_text:
            when = fromisoformat(recorded_text)
            recorded = int((when - (EPOCH if when.tzinfo else NAIVE_EPOCH)).total_seconds())
    except (ValueError, OverflowError):
        return None  # the general path says what is wrong
    if recorded is None:
        if not MIN_TIME <= occurred <= now:
            return None
    elif not (MIN_TIME <= occurred <= recorded <= MAX_TIME and recorded <= now + MAX_CLOCK_SKEW):
        return None
    if occurred > MAX_TIME:
        return None
    if amount is not None:
        if not -MAX_AMOUNT <= amount <= MAX_AMOUNT:  # False for NaN too
            return None
        amount = float(amount)
    if amounts and type_name in amounts and not (amount is not None and amount > 0):
        return None
    return (
        share(source, source),
        entry_id,
        RECORD,
        subject,
        share(type_name, type_name),
        occurred,
        recorded if backfill else None,
        amount,
        evidence,
        None,
        recorded,
        line,
    )


def _encodes(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _finish(chunk: PreparedChunk) -> PreparedChunk:
    let_go()
    # new subjects in name order get ids in that order, and rows in subject order then keep
    # the subject index's pages warm while inserting
    chunk.subjects.sort()
    chunk.rows.sort(key=_SUBJECT)
    return chunk


_SUBJECT = itemgetter(3)  # of a row


_DONE = {"resolve": "resolved", "annul": "annulled", "dispute": "disputed"}
_DONE |= {"uphold": "upheld", "rectify": "rectified", "extend": "extended", "end": "ended"}


def target_problem(
    target: Any,
    kind: int,
    source: str,
    entry_id: str,
    occurred: int | None = None,
    corrects: tuple[str, str] | None = None,
) -> tuple[str, str] | None:
    """Why a correction of ``kind`` cannot apply to ``target`` (a (seq, subject_id, kind,
    recorded_at, occurred_at, …) row, or None when there is no such entry), as (field,
    reason), or None. ``occurred``: the correction's occurred_at (it cannot precede the
    record's); ``corrects``: when the target is itself a correction, the (source, id) of
    the entry that one corrects."""
    what = KIND_NAMES[kind]
    if target is None:
        return (
            "target_id",
            f"no entry {source}/{entry_id} in the ledger or on an earlier line to {what}",
        )
    target_kind = int(target[2])
    if target_kind == RECORD:
        if occurred is not None and len(target) > 4 and occurred < int(target[4]):
            return (
                "occurred_at",
                f"{to_iso(occurred)} is before {source}/{entry_id} occurred "
                f"({to_iso(int(target[4]))}): {with_article(what)} cannot precede the record it corrects",
            )
        return None
    if target_kind == RELATION or is_fact(target_kind):
        if kind == _ANNUL:
            return None
        name = KIND_NAMES[target_kind]
        return (
            "target_id",
            f"{source}/{entry_id} is {with_article(name)} entry; {with_article(name)} can be "
            f"annulled, not {_DONE[what]}",
        )
    of = f" of {corrects[0]}/{corrects[1]}" if corrects is not None else ""
    to_that = (
        f": to {what} that record, give target_source {corrects[0]} and target_id {corrects[1]}"
        if corrects is not None
        else ""
    )
    return (
        "target_id",
        f"{source}/{entry_id} is {with_article(KIND_NAMES[target_kind])} entry (a correction{of}), not a "
        f"record; only records can be {_DONE[what]}{to_that}",
    )
