"""The column form of ledger contents that scoring reads: plain NumPy arrays, no storage.

This is the contract between storage (``socialcredit.ledger``) and the pure core
(``socialcredit.scoring``); it imports no storage library. Bulk loads and per-subject loads return the same shape, so one
scoring implementation serves a single person and a whole nation.

All times are int64 epoch seconds (UTC). ``NEVER`` (see ``socialcredit.timeutil``) marks
"no end". Subject indices are positions in ``subjects``.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
F64 = npt.NDArray[np.float64]
Obj = npt.NDArray[np.object_]

SUBJECT_KINDS = ("person", "organisation")

# Correction actions, as stored in ``LedgerColumns.cor_action``.
RESOLVE, ANNUL, DISPUTE, UPHOLD, RECTIFY, EXTEND, END = 0, 1, 2, 3, 4, 5, 6
CORRECTION_ACTIONS = ("resolve", "annul", "dispute", "uphold", "rectify", "extend", "end")
# ``extend`` lengthens a record's term by ``cor_term``; ``end`` ends it at ``cor_occurred_at``
# (the court deletes the record early). Both change the record from when they are known.

# Entry kinds as the ledger stores them (the codes are stored: never renumber). Corrections
# are CORRECTION_BASE + their index in CORRECTION_ACTIONS; exemptions and attributes are
# facts about a subject with a validity period, not corrections of another entry.
RECORD, RELATION = 0, 1
CORRECTION_BASE = 2
EXEMPTION, ATTRIBUTE = 9, 10
FACT_KINDS = (EXEMPTION, ATTRIBUTE)
KIND_NAMES: dict[int, str] = {
    RECORD: "record",
    RELATION: "relation",
    **{CORRECTION_BASE + i: action for i, action in enumerate(CORRECTION_ACTIONS)},
    EXEMPTION: "exemption",
    ATTRIBUTE: "attribute",
}
"""Entry kind code -> name (``KIND_NAMES[code]``), in code order."""
KIND_CODES = {name: code for code, name in KIND_NAMES.items()}


def is_correction(kind: int) -> bool:
    """Whether entry kind ``kind`` is a correction of another entry (it has a target)."""
    return CORRECTION_BASE <= kind < CORRECTION_BASE + len(CORRECTION_ACTIONS)


def is_fact(kind: int) -> bool:
    """Whether entry kind ``kind`` is a fact about a subject for a period (an exemption or
    an attribute): it names a subject, like a record, and no target."""
    return kind in (EXEMPTION, ATTRIBUTE)


COLUMN_DTYPES: dict[str, Any] = {
    "rec_seq": np.int64,
    "rec_subject": np.int32,
    "rec_type": np.object_,
    "rec_occurred_at": np.int64,
    "rec_recorded_at": np.int64,
    "rec_amount": np.float64,
    "rec_source": np.object_,
    "rec_id": np.object_,
    "rec_term": np.object_,
    "cor_seq": np.int64,
    "cor_target": np.int64,
    "cor_action": np.int8,
    "cor_occurred_at": np.int64,
    "cor_recorded_at": np.int64,
    "cor_type": np.object_,
    "cor_new_occurred_at": np.int64,
    "cor_amount": np.float64,
    "cor_source": np.object_,
    "cor_id": np.object_,
    "cor_reason": np.object_,
    "cor_term": np.object_,
    "rel_seq": np.int64,
    "rel_subject": np.int32,
    "rel_related": np.int32,
    "rel_type": np.object_,
    "rel_valid_from": np.int64,
    "rel_valid_until": np.int64,
    "rel_recorded_at": np.int64,
    "rel_source": np.object_,
    "exm_seq": np.int64,
    "exm_subject": np.int32,
    "exm_services": np.object_,
    "exm_valid_from": np.int64,
    "exm_valid_until": np.int64,
    "exm_recorded_at": np.int64,
    "exm_source": np.object_,
    "exm_id": np.object_,
    "exm_reason": np.object_,
    "exm_approved_by": np.object_,
    "exm_approved_at": np.int64,
    "att_seq": np.int64,
    "att_subject": np.int32,
    "att_name": np.object_,
    "att_value": np.object_,
    "att_valid_from": np.int64,
    "att_valid_until": np.int64,
    "att_recorded_at": np.int64,
    "att_source": np.object_,
    "att_id": np.object_,
}
"""Every column of ``LedgerColumns`` (besides the subjects) and its NumPy dtype."""

# bulk scoring reads records without ids; terms are rare and default to none ("")
_OPTIONAL_TEXT = frozenset({"rec_source", "rec_id", "rec_term", "cor_term"})


# the columns of each group, in ``COLUMN_DTYPES`` order
_GROUPS = tuple(
    (prefix, tuple(name for name in COLUMN_DTYPES if name.startswith(prefix)))
    for prefix in ("rec_", "cor_", "rel_", "exm_", "att_")
)


# a missing column of an empty group: one shared empty array per column (nothing can be
# written into an array of no elements)
_EMPTY = {name: np.empty(0, dtype=dtype) for name, dtype in COLUMN_DTYPES.items()}


def _as_column(values: Any, dtype: Any) -> Any:
    if isinstance(values, np.ndarray):
        return values if values.dtype == dtype else values.astype(dtype)
    if dtype is np.object_:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    return np.array(values, dtype=dtype) if len(values) else np.empty(0, dtype=dtype)


def _empty(dtype: type) -> Any:
    return np.empty(0, dtype=dtype)


@dataclass(frozen=True)
class LedgerColumns:
    """Everything the ledger knows about a set of subjects, as columns.

    records: one row per record entry (``rec_*``), in ledger order (``rec_seq`` ascending).
    corrections: one row per correction entry (``cor_*``); ``cor_target`` is the ledger seq of
    the record or relation it changes. For ``rectify`` the replacement values are in
    ``cor_type`` (or ``""`` = unchanged), ``cor_new_occurred_at`` (or -1) and
    ``cor_amount`` (NaN = unchanged). For ``extend`` the extension is ``cor_term`` (a
    duration as written, e.g. ``P1Y6M``); an ``end`` ends the record's term at
    ``cor_occurred_at``. A record's own term (``rec_term``) is a duration as written too.
    relations: one row per relation entry (``rel_*``): ``rel_subject`` stands in relation
    ``rel_type`` to ``rel_related`` (e.g. subject ``child_of`` related) from ``rel_valid_from``
    until ``rel_valid_until``.
    exemptions: one row per exemption entry (``exm_*``): ``exm_subject`` may use the services
    ``exm_services`` (service ids joined by ``,``) from ``exm_valid_from`` until
    ``exm_valid_until`` (NEVER = open), approved by ``exm_approved_by`` at
    ``exm_approved_at`` (-1 = not given) for ``exm_reason``.
    attributes: one row per attribute entry (``att_*``): attribute ``att_name`` of
    ``att_subject`` has the value ``att_value`` (text as stored: a date ``YYYY-MM-DD``, a
    number, or text) from ``att_valid_from`` until ``att_valid_until`` (NEVER = open).
    """

    subjects: list[str]
    subject_kind: I8  # index into SUBJECT_KINDS, one per subject

    rec_seq: I64 = field(default_factory=lambda: _empty(np.int64))
    rec_subject: I32 = field(default_factory=lambda: _empty(np.int32))
    rec_type: Obj = field(default_factory=lambda: _empty(np.object_))  # record type name (str)
    rec_occurred_at: I64 = field(default_factory=lambda: _empty(np.int64))
    rec_recorded_at: I64 = field(default_factory=lambda: _empty(np.int64))
    rec_amount: F64 = field(default_factory=lambda: _empty(np.float64))  # NaN = none
    rec_source: Obj = field(default_factory=lambda: _empty(np.object_))
    rec_id: Obj = field(default_factory=lambda: _empty(np.object_))  # id given by the source
    # the record's own term as the source gave it (a duration, e.g. "P3Y"); "" = the type's
    rec_term: Obj = field(default_factory=lambda: _empty(np.object_))

    cor_seq: I64 = field(default_factory=lambda: _empty(np.int64))
    cor_target: I64 = field(default_factory=lambda: _empty(np.int64))
    cor_action: I8 = field(default_factory=lambda: _empty(np.int8))
    cor_occurred_at: I64 = field(default_factory=lambda: _empty(np.int64))
    cor_recorded_at: I64 = field(default_factory=lambda: _empty(np.int64))
    cor_type: Obj = field(default_factory=lambda: _empty(np.object_))
    cor_new_occurred_at: I64 = field(default_factory=lambda: _empty(np.int64))
    cor_amount: F64 = field(default_factory=lambda: _empty(np.float64))
    cor_source: Obj = field(default_factory=lambda: _empty(np.object_))
    cor_id: Obj = field(default_factory=lambda: _empty(np.object_))
    cor_reason: Obj = field(default_factory=lambda: _empty(np.object_))
    cor_term: Obj = field(default_factory=lambda: _empty(np.object_))  # extend: by how much

    rel_seq: I64 = field(default_factory=lambda: _empty(np.int64))
    rel_subject: I32 = field(default_factory=lambda: _empty(np.int32))
    rel_related: I32 = field(default_factory=lambda: _empty(np.int32))
    rel_type: Obj = field(default_factory=lambda: _empty(np.object_))
    rel_valid_from: I64 = field(default_factory=lambda: _empty(np.int64))
    rel_valid_until: I64 = field(default_factory=lambda: _empty(np.int64))  # NEVER = open
    rel_recorded_at: I64 = field(default_factory=lambda: _empty(np.int64))
    rel_source: Obj = field(default_factory=lambda: _empty(np.object_))

    exm_seq: I64 = field(default_factory=lambda: _empty(np.int64))
    exm_subject: I32 = field(default_factory=lambda: _empty(np.int32))
    exm_services: Obj = field(default_factory=lambda: _empty(np.object_))  # ids joined by ","
    exm_valid_from: I64 = field(default_factory=lambda: _empty(np.int64))
    exm_valid_until: I64 = field(default_factory=lambda: _empty(np.int64))  # NEVER = open
    exm_recorded_at: I64 = field(default_factory=lambda: _empty(np.int64))
    exm_source: Obj = field(default_factory=lambda: _empty(np.object_))
    exm_id: Obj = field(default_factory=lambda: _empty(np.object_))
    exm_reason: Obj = field(default_factory=lambda: _empty(np.object_))
    exm_approved_by: Obj = field(default_factory=lambda: _empty(np.object_))
    exm_approved_at: I64 = field(default_factory=lambda: _empty(np.int64))  # -1 = not given

    att_seq: I64 = field(default_factory=lambda: _empty(np.int64))
    att_subject: I32 = field(default_factory=lambda: _empty(np.int32))
    att_name: Obj = field(default_factory=lambda: _empty(np.object_))
    att_value: Obj = field(default_factory=lambda: _empty(np.object_))
    att_valid_from: I64 = field(default_factory=lambda: _empty(np.int64))
    att_valid_until: I64 = field(default_factory=lambda: _empty(np.int64))  # NEVER = open
    att_recorded_at: I64 = field(default_factory=lambda: _empty(np.int64))
    att_source: Obj = field(default_factory=lambda: _empty(np.object_))
    att_id: Obj = field(default_factory=lambda: _empty(np.object_))

    # ``rec_type`` as integer codes into distinct names (``rec_type == names[codes]``), when
    # the loader read it so; scoring then maps each name to the policy's type once instead
    # of once per record (see ``from_named``). None: not given.
    rec_type_codes: tuple[I32, tuple[str, ...]] | None = field(
        default=None, compare=False, repr=False
    )
    # the times sources claimed, read with the entries (``ledger.loading.load_subjects``):
    # (every (source, entry id) read, of any kind; those whose source claimed a recorded_at
    # other than the ledger's receipt -> (claimed, recorded_at)). None: not read with them.
    entry_claims: (
        tuple[frozenset[tuple[str, str]], dict[tuple[str, str], tuple[int, int]]] | None
    ) = field(default=None, compare=False, repr=False)

    def claims_of(self, records: Collection[str]) -> dict[str, tuple[int, int]] | None:
        """``Ledger.claims(records)`` answered from the entries read with these columns
        (None when they were not read so, or one of ``records`` is not among them)."""
        if self.entry_claims is None:
            return None
        read, claimed = self.entry_claims
        wanted = {tuple(r.split("/", 1)) for r in records if "/" in r}
        if not wanted <= read:
            return None
        found = sorted(k for k in wanted if k in claimed)
        return {f"{source}/{entry_id}": claimed[source, entry_id] for source, entry_id in found}

    @classmethod
    def from_named(
        cls,
        subjects: Sequence[str],
        subject_kind: Any,
        columns: Mapping[str, Any],
        rec_type_codes: tuple[Any, Sequence[str]] | None = None,
    ) -> LedgerColumns:
        """Columns from named sequences or arrays: the one place ``LedgerColumns`` is built.

        ``columns`` maps field names (``rec_seq``, ``cor_action``, …, see ``COLUMN_DTYPES``)
        to values in any form NumPy takes (lists, tuples, arrays); each becomes an array of
        its field's dtype (arrays already of that dtype are used as they are). A group whose
        columns are all missing is empty; ``rec_source`` and ``rec_id`` alone may be left out
        of a non-empty group, and are then empty strings (so may ``rec_term`` and ``cor_term``). Raises ``ValueError`` naming the
        column when a column is unknown or the columns of one group differ in length.

        ``rec_type_codes``: the record types as (codes, names) instead of a ``rec_type``
        column, which is then made from them (``names[codes]``), so the two always agree.
        """
        unknown = set(columns) - set(COLUMN_DTYPES)
        if unknown:
            raise ValueError(f"unknown ledger columns: {', '.join(sorted(unknown))}")
        categories = None
        if rec_type_codes is not None:
            if "rec_type" in columns:
                raise ValueError("give rec_type or rec_type_codes, not both")
            codes = np.asarray(rec_type_codes[0], dtype=np.int32)
            distinct = tuple(str(n) for n in rec_type_codes[1])
            if len(codes) and (int(codes.min()) < 0 or int(codes.max()) >= len(distinct)):
                raise ValueError(f"rec_type_codes: codes outside 0..{len(distinct) - 1}")
            table = np.empty(len(distinct), dtype=object)
            table[:] = distinct
            columns = {**columns, "rec_type": table[codes]}
            categories = (codes, distinct)
        values: dict[str, Any] = {}
        for prefix, group in _GROUPS:
            given = {
                name: _as_column(columns[name], COLUMN_DTYPES[name])
                for name in group
                if name in columns
            }
            lengths = {len(v) for v in given.values()}
            if len(lengths) > 1:
                detail = ", ".join(f"{name}={len(v)}" for name, v in given.items())
                raise ValueError(f"{prefix}* columns differ in length: {detail}")
            n = lengths.pop() if lengths else 0
            for name in group:
                if name in given:
                    values[name] = given[name]
                elif n == 0:
                    values[name] = _EMPTY[name]
                elif name in _OPTIONAL_TEXT:
                    values[name] = _as_column([""] * n, COLUMN_DTYPES[name])
                else:
                    raise ValueError(f"column {name} is missing ({prefix}* columns have {n} rows)")
        names = list(subjects)
        kinds = _as_column(subject_kind, np.int8)
        if len(kinds) != len(names):
            raise ValueError(f"{len(names)} subjects but {len(kinds)} subject kinds")
        return cls(subjects=names, subject_kind=kinds, **values, rec_type_codes=categories)

    def with_subjects(self, subjects: list[str], subject_kind: I8) -> LedgerColumns:
        """These columns (shared, not copied) for the subjects ``subjects`` of kinds
        ``subject_kind``: a shallow copy, which costs a fraction of ``dataclasses.replace``
        (that calls ``__init__`` with every one of the ~55 fields)."""
        if len(subjects) != len(subject_kind):
            raise ValueError(f"{len(subjects)} subjects but {len(subject_kind)} subject kinds")
        out = copy.copy(self)
        object.__setattr__(out, "subjects", subjects)
        object.__setattr__(out, "subject_kind", subject_kind)
        return out

    @property
    def n_subjects(self) -> int:
        """How many subjects the columns describe."""
        return len(self.subjects)

    def known_by(self, t: int) -> npt.NDArray[np.bool_]:
        """Per subject, whether the ledger had received an entry about it by ``t``: a
        record, a relation (on either side), an exemption or an attribute whose
        ``recorded_at`` is at or before ``t`` (what an answer about ``t`` may know of)."""
        known = np.zeros(self.n_subjects, dtype=bool)
        known[self.rec_subject[self.rec_recorded_at <= t]] = True
        rel = self.rel_recorded_at <= t
        known[self.rel_subject[rel]] = True
        known[self.rel_related[rel]] = True
        known[self.exm_subject[self.exm_recorded_at <= t]] = True
        known[self.att_subject[self.att_recorded_at <= t]] = True
        return known

    def subject_first(self, index: int) -> LedgerColumns:
        """The same columns with subject ``index`` renumbered 0 (and subject 0 ``index``):
        scoring asks about subject 0 of a load."""
        if index == 0:
            return self
        swap = np.arange(len(self.subjects), dtype=np.int32)
        swap[0], swap[index] = index, 0
        names = list(self.subjects)
        names[0], names[index] = names[index], names[0]
        kinds = self.subject_kind.copy()
        kinds[0], kinds[index] = kinds[index], kinds[0]
        return replace(
            self,
            subjects=names,
            subject_kind=kinds,
            rec_subject=swap[self.rec_subject],
            rel_subject=swap[self.rel_subject],
            rel_related=swap[self.rel_related],
            exm_subject=swap[self.exm_subject],
            att_subject=swap[self.att_subject],
        )

    def subject_index(self) -> dict[str, int]:
        """Map subject name to its index."""
        return {s: i for i, s in enumerate(self.subjects)}


def columns_from_entries(entries: list[dict[str, object]]) -> LedgerColumns:
    """Build columns in memory from entries in the ingestion format, in ledger order.

    For tests, examples and simulations that need no database. Entries are taken as valid
    (the ledger validates on ingestion); corrections name their target by
    ``target_source``/``target_id``. Missing ``recorded_at`` defaults to ``occurred_at``.
    """
    from socialcredit.timeutil import NEVER, parse_timestamp

    def ts(value: object) -> int:
        return parse_timestamp(value)  # type: ignore[arg-type]

    subjects: dict[str, int] = {}
    kinds: list[int] = []

    def subject(name: object, kind: object) -> int:
        key = str(name)
        if key not in subjects:
            subjects[key] = len(subjects)
            kinds.append(SUBJECT_KINDS.index(str(kind or "person")))
        return subjects[key]

    named: dict[str, list[Any]] = {name: [] for name in COLUMN_DTYPES}
    seq_of: dict[tuple[str, str], int] = {}
    for seq, entry in enumerate(entries, start=1):
        kind = str(entry.get("kind") or "record")
        source, eid = str(entry["source"]), str(entry["id"])
        seq_of[(source, eid)] = seq
        if kind == "exemption":
            start = ts(entry["valid_from"])
            until = entry.get("valid_until")
            approved = entry.get("approved_at")
            add(
                named,
                exm_seq=seq,
                exm_subject=subject(entry["subject"], entry.get("subject_kind")),
                exm_services=",".join(service_names(entry["services"])),
                exm_valid_from=start,
                exm_valid_until=ts(until) if until is not None else NEVER,
                exm_recorded_at=ts(entry.get("recorded_at", approved or start)),
                exm_source=source,
                exm_id=eid,
                exm_reason=str(entry.get("reason") or ""),
                exm_approved_by=str(entry.get("approved_by") or ""),
                exm_approved_at=ts(approved) if approved is not None else -1,
            )
        elif kind == "attribute":
            start = ts(entry["valid_from"])
            until = entry.get("valid_until")
            add(
                named,
                att_seq=seq,
                att_subject=subject(entry["subject"], entry.get("subject_kind")),
                att_name=str(entry["attribute"]),
                att_value=str(entry["value"]),
                att_valid_from=start,
                att_valid_until=ts(until) if until is not None else NEVER,
                att_recorded_at=ts(entry.get("recorded_at", start)),
                att_source=source,
                att_id=eid,
            )
        elif kind == "record":
            occ = ts(entry["occurred_at"])
            amount = entry.get("amount")
            add(
                named,
                rec_seq=seq,
                rec_subject=subject(entry["subject"], entry.get("subject_kind")),
                rec_type=str(entry["type"]),
                rec_occurred_at=occ,
                rec_recorded_at=ts(entry.get("recorded_at", occ)),
                rec_amount=float(amount) if amount is not None else np.nan,  # type: ignore[arg-type]
                rec_source=source,
                rec_id=eid,
                rec_term=str(entry.get("term") or ""),
            )
        elif kind == "relation":
            start = ts(entry["valid_from"])
            until = entry.get("valid_until")
            add(
                named,
                rel_seq=seq,
                rel_subject=subject(entry["subject"], entry.get("subject_kind")),
                rel_related=subject(entry["related_subject"], entry.get("related_kind")),
                rel_type=str(entry["relation"]),
                rel_valid_from=start,
                rel_valid_until=ts(until) if until is not None else NEVER,
                rel_recorded_at=ts(entry.get("recorded_at", start)),
                rel_source=source,
            )
        else:
            occ = ts(entry["occurred_at"])
            new_occ = entry.get("corrected_occurred_at")
            amount = entry.get("amount")
            add(
                named,
                cor_seq=seq,
                cor_target=seq_of[(str(entry["target_source"]), str(entry["target_id"]))],
                cor_action=CORRECTION_ACTIONS.index(kind),
                cor_occurred_at=occ,
                cor_recorded_at=ts(entry.get("recorded_at", occ)),
                cor_type=str(entry.get("type") or ""),
                cor_new_occurred_at=ts(new_occ) if new_occ is not None else -1,
                cor_amount=float(amount) if amount is not None else np.nan,  # type: ignore[arg-type]
                cor_source=source,
                cor_id=eid,
                cor_reason=str(entry.get("reason") or ""),
                cor_term=str(entry.get("by") or ""),
            )
    return LedgerColumns.from_named(list(subjects), kinds, named)


def service_names(value: object) -> tuple[str, ...]:
    """An exemption's services as a tuple of ids: from a list, or from text separated by
    commas or semicolons (as CSV and exports write them)."""
    if isinstance(value, str):
        parts = value.replace(";", ",").split(",")
    else:
        parts = [str(v) for v in value]  # type: ignore[attr-defined]
    return tuple(p.strip() for p in parts if p.strip())


def add(named: dict[str, list[Any]], **values: Any) -> None:
    """Append one row's values to the named columns (a helper for builders of columns)."""
    for name, value in values.items():
        named[name].append(value)
