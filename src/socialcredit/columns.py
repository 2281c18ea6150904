"""The column form of ledger contents that scoring reads: plain NumPy arrays, no storage.

This is the contract between storage (``socialcredit.ledger``) and the pure core
(``socialcredit.scoring``); it imports no storage library. Bulk loads and per-subject loads return the same shape, so one
scoring implementation serves a single person and a whole nation.

All times are int64 epoch seconds (UTC). ``NEVER`` (see ``socialcredit.timeutil``) marks
"no end". Subject indices are positions in ``subjects``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
RESOLVE, ANNUL, DISPUTE, UPHOLD, RECTIFY = 0, 1, 2, 3, 4
CORRECTION_ACTIONS = ("resolve", "annul", "dispute", "uphold", "rectify")

# Entry kinds as the ledger stores them. Corrections are CORRECTION_BASE + their index in
# CORRECTION_ACTIONS.
RECORD, RELATION = 0, 1
KIND_NAMES = ("record", "relation", *CORRECTION_ACTIONS)
KIND_CODES = {name: code for code, name in enumerate(KIND_NAMES)}
CORRECTION_BASE = 2


def _empty(dtype: type) -> Any:
    return np.empty(0, dtype=dtype)


@dataclass(frozen=True)
class LedgerColumns:
    """Everything the ledger knows about a set of subjects, as columns.

    records: one row per record entry (``rec_*``), in ledger order (``rec_seq`` ascending).
    corrections: one row per correction entry (``cor_*``); ``cor_target`` is the ledger seq of
    the record or relation it changes. For ``rectify`` the replacement values are in
    ``cor_type`` (or ``""`` = unchanged), ``cor_new_occurred_at`` (or -1) and
    ``cor_amount`` (NaN = unchanged).
    relations: one row per relation entry (``rel_*``): ``rel_subject`` stands in relation
    ``rel_type`` to ``rel_related`` (e.g. subject ``child_of`` related) from ``rel_valid_from``
    until ``rel_valid_until``.
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

    rel_seq: I64 = field(default_factory=lambda: _empty(np.int64))
    rel_subject: I32 = field(default_factory=lambda: _empty(np.int32))
    rel_related: I32 = field(default_factory=lambda: _empty(np.int32))
    rel_type: Obj = field(default_factory=lambda: _empty(np.object_))
    rel_valid_from: I64 = field(default_factory=lambda: _empty(np.int64))
    rel_valid_until: I64 = field(default_factory=lambda: _empty(np.int64))  # NEVER = open
    rel_recorded_at: I64 = field(default_factory=lambda: _empty(np.int64))
    rel_source: Obj = field(default_factory=lambda: _empty(np.object_))

    @property
    def n_subjects(self) -> int:
        """How many subjects the columns describe."""
        return len(self.subjects)

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

    seq_of: dict[tuple[str, str], int] = {}
    rec: dict[str, list[object]] = {
        k: [] for k in ("seq", "sub", "type", "occ", "rec", "amt", "src", "id")
    }
    cor: dict[str, list[object]] = {
        k: []
        for k in (
            "seq",
            "target",
            "action",
            "occ",
            "rec",
            "type",
            "newocc",
            "amt",
            "src",
            "id",
            "why",
        )
    }
    rel: dict[str, list[object]] = {
        k: [] for k in ("seq", "sub", "related", "type", "from", "until", "rec", "src")
    }
    for seq, entry in enumerate(entries, start=1):
        kind = str(entry.get("kind", "record"))
        source, eid = str(entry["source"]), str(entry["id"])
        seq_of[(source, eid)] = seq
        if kind == "record":
            occ = ts(entry["occurred_at"])
            rec["seq"].append(seq)
            rec["sub"].append(subject(entry["subject"], entry.get("subject_kind")))
            rec["type"].append(str(entry["type"]))
            rec["occ"].append(occ)
            rec["rec"].append(ts(entry.get("recorded_at", occ)))
            amount = entry.get("amount")
            rec["amt"].append(float(amount) if amount is not None else np.nan)  # type: ignore[arg-type]
            rec["src"].append(source)
            rec["id"].append(eid)
        elif kind == "relation":
            start = ts(entry["valid_from"])
            until = entry.get("valid_until")
            rel["seq"].append(seq)
            rel["sub"].append(subject(entry["subject"], entry.get("subject_kind")))
            rel["related"].append(subject(entry["related_subject"], entry.get("related_kind")))
            rel["type"].append(str(entry["relation"]))
            rel["from"].append(start)
            rel["until"].append(ts(until) if until is not None else NEVER)
            rel["rec"].append(ts(entry.get("recorded_at", start)))
            rel["src"].append(source)
        else:
            occ = ts(entry["occurred_at"])
            cor["seq"].append(seq)
            cor["target"].append(seq_of[(str(entry["target_source"]), str(entry["target_id"]))])
            cor["action"].append(CORRECTION_ACTIONS.index(kind))
            cor["occ"].append(occ)
            cor["rec"].append(ts(entry.get("recorded_at", occ)))
            cor["type"].append(str(entry.get("type") or ""))
            new_occ = entry.get("corrected_occurred_at")
            cor["newocc"].append(ts(new_occ) if new_occ is not None else -1)
            amount = entry.get("amount")
            cor["amt"].append(float(amount) if amount is not None else np.nan)  # type: ignore[arg-type]
            cor["src"].append(source)
            cor["id"].append(eid)
            cor["why"].append(str(entry.get("reason") or ""))

    def arr(values: list[object], dtype: type) -> Any:
        return np.array(values, dtype=dtype) if values else np.empty(0, dtype=dtype)

    return LedgerColumns(
        subjects=list(subjects),
        subject_kind=np.array(kinds, dtype=np.int8),
        rec_seq=arr(rec["seq"], np.int64),
        rec_subject=arr(rec["sub"], np.int32),
        rec_type=arr(rec["type"], np.object_),
        rec_occurred_at=arr(rec["occ"], np.int64),
        rec_recorded_at=arr(rec["rec"], np.int64),
        rec_amount=arr(rec["amt"], np.float64),
        rec_source=arr(rec["src"], np.object_),
        rec_id=arr(rec["id"], np.object_),
        cor_seq=arr(cor["seq"], np.int64),
        cor_target=arr(cor["target"], np.int64),
        cor_action=arr(cor["action"], np.int8),
        cor_occurred_at=arr(cor["occ"], np.int64),
        cor_recorded_at=arr(cor["rec"], np.int64),
        cor_type=arr(cor["type"], np.object_),
        cor_new_occurred_at=arr(cor["newocc"], np.int64),
        cor_amount=arr(cor["amt"], np.float64),
        cor_source=arr(cor["src"], np.object_),
        cor_id=arr(cor["id"], np.object_),
        cor_reason=arr(cor["why"], np.object_),
        rel_seq=arr(rel["seq"], np.int64),
        rel_subject=arr(rel["sub"], np.int32),
        rel_related=arr(rel["related"], np.int32),
        rel_type=arr(rel["type"], np.object_),
        rel_valid_from=arr(rel["from"], np.int64),
        rel_valid_until=arr(rel["until"], np.int64),
        rel_recorded_at=arr(rel["rec"], np.int64),
        rel_source=arr(rel["src"], np.object_),
    )
