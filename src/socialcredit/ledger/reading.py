"""Turning query results into ``LedgerColumns``: the bulk fast paths and the general one.

Used by ``Ledger.columns``; no connection handling here, only cursors handed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from socialcredit.columns import CORRECTION_BASE, RECORD, LedgerColumns
from socialcredit.timeutil import NEVER

_SEP = "\x1e"  # joins text values in the SQLite fast path; a value containing it is detected


def fetch_transposed(cursor: Any, sql: str) -> list[Any]:
    """The columns of a query's result, as tuples (as many empty ones if no rows)."""
    cursor.execute(sql)
    rows = cursor.fetchall()
    if not rows:
        return [()] * len(cursor.description or ())
    return list(zip(*rows, strict=True))


def sqlite_record_columns(cursor: Any, with_ids: bool, after: int, upto: int) -> list[Any] | None:
    """Record columns as arrays, each built in one piece: SQLite joins a column's values into
    one string (group_concat, in C) and NumPy or ``str.split`` cut it up again, which avoids
    a Python tuple per row. Amounts come with the seq of their record (NULLs are skipped)
    and as ``quote()`` text, which SQLite writes so that it reads back as the same float.
    Returns None when a text value contains the separator, so the caller falls back to rows.
    """
    texts = ["type", *(("source", "entry_id") if with_ids else ())]
    cursor.execute(
        "SELECT count(*), group_concat(seq), group_concat(subject_id), group_concat(occurred_at), "
        "group_concat(recorded_at), group_concat(CASE WHEN amount IS NOT NULL THEN seq END), "
        "group_concat(quote(amount)) FILTER (WHERE amount IS NOT NULL), "
        + ", ".join(f"group_concat({t}, char(30))" for t in texts)
        + f" FROM entries WHERE kind = {RECORD} AND seq > {after} AND seq <= {upto}"
    )
    count, *joined = cursor.fetchone()
    if not count:
        empty = [np.empty(0, dtype=np.int64) for _ in range(4)]
        return [*empty, np.empty(0), *(np.empty(0, dtype=object) for _ in texts)]

    def numbers(text: str) -> Any:
        return np.array(text.split(","), dtype=np.int64) if count < 1000 else parse_ints(text)

    seq, subject, occurred, recorded = (numbers(t) for t in joined[:4])
    amount_seq, amount_text = joined[4:6]
    strings = []
    for joined_text in joined[6:]:
        parts = joined_text.split(_SEP)
        if len(parts) != count:
            return None
        column = np.empty(count, dtype=object)
        column[:] = parts
        strings.append(column)
    if len(seq) != count:
        return None
    order = None
    if count > 1 and not bool(np.all(seq[1:] > seq[:-1])):
        order = np.argsort(seq, kind="stable")  # a table scan is in seq order; just in case
    if order is not None:
        seq, subject, occurred, recorded = (a[order] for a in (seq, subject, occurred, recorded))
        strings = [s[order] for s in strings]
    amount = np.full(count, np.nan)
    if amount_seq:
        values = np.array(amount_text.split(","), dtype=np.float64)
        at = np.array(amount_seq.split(","), dtype=np.int64)
        if len(values) != len(at):
            return None
        amount[np.searchsorted(seq, at)] = values
    return [seq, subject, occurred, recorded, amount, *strings]


def parse_ints(text: str) -> Any:
    # np.fromstring with a separator parses in C (only its binary mode is deprecated)
    return np.fromstring(text, dtype=np.int64, sep=",")


def bulk_to_columns(fetched: dict[str, list[Any]], with_ids: bool) -> LedgerColumns:
    """Columns from ``Ledger._bulk_columns``' transposed query results (or ready arrays)."""

    def ints(values: Any, dtype: Any = np.int64) -> Any:
        if isinstance(values, np.ndarray):
            return values.astype(dtype, copy=False)
        return np.array(values, dtype=dtype) if values else np.empty(0, dtype=dtype)

    def floats(values: Any) -> Any:
        if isinstance(values, np.ndarray):
            return values
        out = np.array(values, dtype=np.float64) if values else np.empty(0, dtype=np.float64)
        out[np.isinf(out)] = np.nan  # NULL came as infinity; stored amounts are finite
        return out

    def texts(values: Any) -> Any:
        if isinstance(values, np.ndarray):
            return values
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out

    sid, names, kinds = fetched["subjects"]
    ids = ints(sid)
    lookup = np.full(int(ids.max()) + 1 if len(ids) else 1, -1, dtype=np.int32)
    lookup[ids] = np.arange(len(ids), dtype=np.int32)

    recs = fetched["records"]
    n = len(recs[0])
    empty = np.full(n, "", dtype=object)
    rels = fetched["relations"]
    cors = fetched["corrections"]
    details = [orjson.loads(d) if d else {} for d in cors[7]]
    return LedgerColumns(
        subjects=list(names),
        subject_kind=ints(kinds, np.int8),
        rec_seq=ints(recs[0]),
        rec_subject=lookup[ints(recs[1])],
        rec_occurred_at=ints(recs[2]),
        rec_recorded_at=ints(recs[3]),
        rec_amount=floats(recs[4]),
        rec_type=texts(recs[5]),
        rec_source=texts(recs[6]) if with_ids else empty,
        rec_id=texts(recs[7]) if with_ids else empty.copy(),
        cor_seq=ints(cors[0]),
        cor_target=ints(cors[1]),
        cor_action=(ints(cors[2]) - CORRECTION_BASE).astype(np.int8),
        cor_occurred_at=ints(cors[3]),
        cor_recorded_at=ints(cors[4]),
        cor_amount=floats(cors[5]),
        cor_type=texts(cors[6]),
        cor_new_occurred_at=ints(tuple(d.get("corrected_occurred_at", -1) for d in details)),
        cor_reason=texts(tuple(d.get("reason", "") for d in details)),
        cor_source=texts(cors[8]),
        cor_id=texts(cors[9]),
        rel_seq=ints(rels[0]),
        rel_subject=lookup[ints(rels[1])],
        rel_related=lookup[ints(rels[2])],
        rel_valid_from=ints(rels[3]),
        rel_valid_until=ints(rels[4]),
        rel_recorded_at=ints(rels[5]),
        rel_type=texts(rels[6]),
        rel_source=texts(rels[7]),
    )


def rows_to_columns(
    subj_rows: Sequence[Any],
    recs: Sequence[Any],
    rels: Sequence[Any],
    cors: Sequence[Any],
    with_ids: bool,
) -> LedgerColumns:
    """Columns from rows (``Ledger._subject_columns``); subject rows are (id, name, kind),
    ids below 0 stand for names the ledger does not know (listed, without rows)."""
    sid = np.array([r[0] for r in subj_rows], dtype=np.int64)
    names = [r[1] for r in subj_rows]
    kinds = np.array([r[2] for r in subj_rows], dtype=np.int8)
    # map ledger subject ids to positions
    positive = sid[sid >= 0]
    lookup = np.full(int(positive.max()) + 1 if len(positive) else 1, -1, dtype=np.int32)
    lookup[positive] = np.flatnonzero(sid >= 0).astype(np.int32)

    def col(rows: Sequence[Any], i: int, dtype: Any) -> Any:
        if not rows:
            return np.empty(0, dtype=dtype)
        if dtype is object:
            out = np.empty(len(rows), dtype=object)
            out[:] = [r[i] for r in rows]
            return out
        return np.fromiter((r[i] for r in rows), dtype=dtype, count=len(rows))

    def nullable(rows: Sequence[Any], i: int, dtype: Any, null: Any) -> Any:
        if not rows:
            return np.empty(0, dtype=dtype)
        return np.fromiter(
            (null if r[i] is None else r[i] for r in rows), dtype=dtype, count=len(rows)
        )

    n = len(recs)
    details = [orjson.loads(r[7]) if r[7] else {} for r in cors]
    empty_text = np.full(n, "", dtype=object)
    return LedgerColumns(
        subjects=names,
        subject_kind=kinds,
        rec_seq=col(recs, 0, np.int64),
        rec_subject=lookup[col(recs, 1, np.int64)] if n else np.empty(0, dtype=np.int32),
        rec_type=col(recs, 2, object),
        rec_occurred_at=col(recs, 3, np.int64),
        rec_recorded_at=col(recs, 4, np.int64),
        rec_amount=nullable(recs, 5, np.float64, np.nan),
        rec_source=col(recs, 6, object) if with_ids else empty_text,
        rec_id=col(recs, 7, object) if with_ids else empty_text,
        cor_seq=col(cors, 0, np.int64),
        cor_target=col(cors, 1, np.int64),
        cor_action=(col(cors, 2, np.int64) - CORRECTION_BASE).astype(np.int8),
        cor_occurred_at=col(cors, 3, np.int64),
        cor_recorded_at=col(cors, 4, np.int64),
        cor_type=nullable(cors, 5, object, ""),
        cor_new_occurred_at=np.array(
            [d.get("corrected_occurred_at", -1) for d in details], dtype=np.int64
        ),
        cor_amount=nullable(cors, 6, np.float64, np.nan),
        cor_source=col(cors, 8, object),
        cor_id=col(cors, 9, object),
        cor_reason=np.array([d.get("reason", "") for d in details], dtype=object),
        rel_seq=col(rels, 0, np.int64),
        rel_subject=lookup[col(rels, 1, np.int64)] if rels else np.empty(0, dtype=np.int32),
        rel_related=lookup[col(rels, 2, np.int64)] if rels else np.empty(0, dtype=np.int32),
        rel_type=col(rels, 3, object),
        rel_valid_from=col(rels, 4, np.int64),
        rel_valid_until=nullable(rels, 5, np.int64, NEVER),
        rel_recorded_at=col(rels, 6, np.int64),
        rel_source=col(rels, 7, object),
    )
