"""Reading the ledger into ``LedgerColumns``: everyone (the bulk fast paths) or some subjects.

Used by ``Ledger.columns``, through DBAPI connections that ``connect`` (``Ledger.reading``)
gives for a ``with`` block. Query results become columns through
``LedgerColumns.from_named``, the one place columns are built.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, NamedTuple

import numpy as np
import orjson

from socialcredit.columns import (
    ATTRIBUTE,
    CORRECTION_BASE,
    EXEMPTION,
    FACT_KINDS,
    RECORD,
    RELATION,
    LedgerColumns,
    is_correction,
    is_fact,
)
from socialcredit.ledger.database import placeholders
from socialcredit.timeutil import NEVER

log = logging.getLogger("socialcredit.ledger")

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
        "group_concat(CASE WHEN details IS NOT NULL THEN seq END), "
        "group_concat(details, char(30)) FILTER (WHERE details IS NOT NULL), "
        + ", ".join(f"group_concat({t}, char(30))" for t in texts)
        + f" FROM entries WHERE kind = {RECORD} AND seq > {after} AND seq <= {upto}"
    )
    count, *joined = cursor.fetchone()
    if not count:
        empty = [np.empty(0, dtype=np.int64) for _ in range(4)]
        nothing = np.empty(0, dtype=object)
        return [*empty, np.empty(0), nothing, *(np.empty(0, dtype=object) for _ in texts)]

    def numbers(text: str) -> Any:
        return np.array(text.split(","), dtype=np.int64) if count < 1000 else parse_ints(text)

    seq, subject, occurred, recorded = (numbers(t) for t in joined[:4])
    amount_seq, amount_text = joined[4:6]
    details_seq, details_text = joined[6:8]
    coded = categories(joined[8], count)  # the types: few names, each repeated
    if coded is None:
        return None
    strings = []
    for joined_text in joined[9:]:
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
        coded = Coded(coded.codes[order], coded.names)
    amount = np.full(count, np.nan)
    if amount_seq:
        values = np.array(amount_text.split(","), dtype=np.float64)
        at = np.array(amount_seq.split(","), dtype=np.int64)
        if len(values) != len(at):
            return None
        amount[np.searchsorted(seq, at)] = values
    terms = np.full(count, "", dtype=object)
    if details_seq:
        found = details_text.split(_SEP)
        at = np.array(details_seq.split(","), dtype=np.int64)
        if len(found) != len(at):
            return None
        terms[np.searchsorted(seq, at)] = [_term_of(d) for d in found]
    return [seq, subject, occurred, recorded, amount, terms, coded, *strings]


class Coded(NamedTuple):
    """A text column as int32 codes into its distinct values (``names[codes]``)."""

    codes: Any
    names: list[str]


def categories(joined: str, count: int) -> Coded | None:
    """The ``count`` values joined by the separator in ``joined`` as codes into their
    distinct values, cut and encoded by Arrow in C; None when there are not ``count``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = pc.split_pattern(pa.array([joined], type=pa.large_string()), _SEP).values
    if len(parts) != count:
        return None
    encoded = parts.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return Coded(codes, encoded.dictionary.to_pylist())


def _term_of(details: str | None) -> str:
    """A record's own term from its stored details ("" = none)."""
    if not details:
        return ""
    term = orjson.loads(details).get("term")
    return str(term) if term else ""


def sqlite_fact_columns(cursor: Any, upto: int) -> tuple[list[Any], dict[str, Any]] | None:
    """Exemptions and attributes up to seq ``upto``, read as ``sqlite_record_columns``
    reads records: each column joined by SQLite and cut up again, no tuple per row.
    Attributes, the many rows (a birth date and a residence per person), come as
    ``att_*`` columns (``att_subject`` still the ledger's subject ids), their values read
    from the stored details by SQLite; exemptions, the few, as rows for ``fact_columns``.
    Returns None when a text value contains the separator (the caller reads rows).
    """
    texts = [
        "COALESCE(type, '')",
        "source",
        "entry_id",
        f"CASE WHEN kind = {ATTRIBUTE} THEN COALESCE(json_extract(details, '$.value'), '') "
        "ELSE '' END",
        f"CASE WHEN kind = {EXEMPTION} THEN COALESCE(details, '') ELSE '' END",
    ]
    cursor.execute(
        "SELECT count(*), group_concat(seq), group_concat(kind), group_concat(subject_id), "
        f"group_concat(occurred_at), group_concat(COALESCE(valid_until, {NEVER})), "
        "group_concat(recorded_at), "
        + ", ".join(f"group_concat({t}, char(30))" for t in texts)
        + f" FROM entries WHERE {FACTS_WHERE} AND seq <= {upto}"
    )
    count, *joined = cursor.fetchone()
    if not count:
        return [], {}
    ints = [np.array(t.split(","), dtype=np.int64) for t in joined[:6]]
    strings = []
    for text in joined[6:]:
        parts = text.split(_SEP)
        if len(parts) != count:
            return None
        column = np.empty(count, dtype=object)
        column[:] = parts
        strings.append(column)
    seq = ints[0]
    if count > 1 and not bool(np.all(seq[1:] > seq[:-1])):
        order = np.argsort(seq, kind="stable")  # the index is scanned in seq order; in case
        ints = [a[order] for a in ints]
        strings = [a[order] for a in strings]
    seq, kind, subject, valid_from, valid_until, recorded = ints
    name, source, entry_id, value, details = strings
    exm = np.flatnonzero(kind == EXEMPTION).tolist()
    exm_rows = [
        (
            int(seq[i]),
            EXEMPTION,
            int(subject[i]),
            name[i],
            int(valid_from[i]),
            int(valid_until[i]),
            int(recorded[i]),
            details[i],
            source[i],
            entry_id[i],
        )
        for i in exm
    ]
    att = kind == ATTRIBUTE
    attributes: dict[str, Any] = {}
    if att.any():
        attributes = {
            "att_seq": seq[att],
            "att_subject": subject[att],
            "att_name": name[att],
            "att_value": value[att],
            "att_valid_from": valid_from[att],
            "att_valid_until": valid_until[att],
            "att_recorded_at": recorded[att],
            "att_source": source[att],
            "att_id": entry_id[att],
        }
    return exm_rows, attributes


def parse_ints(text: str) -> Any:
    # np.fromstring with a separator parses in C (only its binary mode is deprecated)
    return np.fromstring(text, dtype=np.int64, sep=",")


def bulk_to_columns(fetched: dict[str, Any], with_ids: bool) -> LedgerColumns:
    """Columns from ``load_everyone``'s transposed query results (or ready arrays)."""

    def floats(values: Any) -> Any:
        if isinstance(values, np.ndarray):
            return values
        out = np.array(values, dtype=np.float64) if values else np.empty(0, dtype=np.float64)
        out[np.isinf(out)] = np.nan  # NULL came as infinity; stored amounts are finite
        return out

    sid, names, kinds = fetched["subjects"]
    lookup = _position_lookup(np.asarray(sid, dtype=np.int64) if sid else np.empty(0, np.int64))
    recs = fetched["records"]
    rels = fetched["relations"]
    cors = fetched["corrections"]
    details = [orjson.loads(d) if d else {} for d in cors[7]]
    terms = recs[5]
    if not isinstance(terms, np.ndarray):  # stored details, from the row-by-row read
        terms = [_term_of(d) for d in terms]
    named: dict[str, Any] = {
        "rec_seq": recs[0],
        "rec_subject": lookup[np.asarray(recs[1], dtype=np.int64)],
        "rec_occurred_at": recs[2],
        "rec_recorded_at": recs[3],
        "rec_amount": floats(recs[4]),
        "rec_term": terms,
        "cor_seq": cors[0],
        "cor_target": cors[1],
        "cor_action": np.asarray(cors[2], dtype=np.int64) - CORRECTION_BASE,
        "cor_occurred_at": cors[3],
        "cor_recorded_at": cors[4],
        "cor_amount": floats(cors[5]),
        "cor_type": cors[6],
        "cor_new_occurred_at": [d.get("corrected_occurred_at", -1) for d in details],
        "cor_reason": [d.get("reason", "") for d in details],
        "cor_term": [d.get("by", "") for d in details],
        "cor_source": cors[8],
        "cor_id": cors[9],
        "rel_seq": rels[0],
        "rel_subject": lookup[np.asarray(rels[1], dtype=np.int64)],
        "rel_related": lookup[np.asarray(rels[2], dtype=np.int64)],
        "rel_valid_from": rels[3],
        "rel_valid_until": rels[4],
        "rel_recorded_at": rels[5],
        "rel_type": rels[6],
        "rel_source": rels[7],
    }
    type_codes = None
    if isinstance(recs[6], Coded):  # from sqlite_record_columns
        type_codes = (recs[6].codes, recs[6].names)
    else:
        named["rec_type"] = recs[6]
    if with_ids:
        named["rec_source"] = recs[7]
        named["rec_id"] = recs[8]
    facts = fetched.get("facts")
    if isinstance(facts, tuple):  # from sqlite_fact_columns
        exm_rows, attributes = facts
        if exm_rows:
            named.update(fact_columns(exm_rows, lookup))
        if attributes:
            named.update(attributes, att_subject=lookup[attributes["att_subject"]])
    elif facts and facts[0]:
        named.update(fact_columns(list(zip(*facts, strict=True)), lookup))
    return LedgerColumns.from_named(list(names), kinds, named, rec_type_codes=type_codes)


FACTS_WHERE = f"kind IN ({', '.join(str(k) for k in FACT_KINDS)})"
"""The exemptions and attributes (migration 0007 indexes exactly these rows)."""


def fact_columns(rows: Sequence[Any], position: Any) -> dict[str, Any]:
    """``exm_*`` and ``att_*`` columns from fact rows ``(seq, kind, subject_id, type,
    valid_from, valid_until or None, recorded_at, details, source, entry_id)`` in seq order;
    ``position`` maps ledger subject ids to positions."""
    named: dict[str, Any] = {}
    exm = [r for r in rows if r[1] == EXEMPTION]
    att = [r for r in rows if r[1] == ATTRIBUTE]
    if exm:
        details = [orjson.loads(r[7]) if r[7] else {} for r in exm]
        named.update(
            exm_seq=[r[0] for r in exm],
            exm_subject=position[np.array([r[2] for r in exm], dtype=np.int64)],
            exm_services=[d.get("services", "") for d in details],
            exm_valid_from=[r[4] for r in exm],
            exm_valid_until=[NEVER if r[5] is None else r[5] for r in exm],
            exm_recorded_at=[r[6] for r in exm],
            exm_source=[r[8] for r in exm],
            exm_id=[r[9] for r in exm],
            exm_reason=[d.get("reason", "") for d in details],
            exm_approved_by=[d.get("approved_by", "") for d in details],
            exm_approved_at=[d.get("approved_at", -1) for d in details],
        )
    if att:
        named.update(
            att_seq=[r[0] for r in att],
            att_subject=position[np.array([r[2] for r in att], dtype=np.int64)],
            att_name=[r[3] for r in att],
            att_value=[(orjson.loads(r[7]) if r[7] else {}).get("value", "") for r in att],
            att_valid_from=[r[4] for r in att],
            att_valid_until=[NEVER if r[5] is None else r[5] for r in att],
            att_recorded_at=[r[6] for r in att],
            att_source=[r[8] for r in att],
            att_id=[r[9] for r in att],
        )
    return named


def _position_lookup(ids: Any) -> Any:
    """An array mapping ledger subject ids (>= 0) to their positions in ``ids``."""
    known = ids >= 0
    positive = ids[known]
    lookup = np.full(int(positive.max()) + 1 if len(positive) else 1, -1, dtype=np.int32)
    lookup[positive] = np.flatnonzero(known).astype(np.int32)
    return lookup


class _FewPositions:
    """``_position_lookup`` for a few subjects (one person's explanation): found by binary
    search rather than an array as long as the highest subject id, made for every call."""

    def __init__(self, ids: Any) -> None:
        known = np.flatnonzero(ids >= 0)
        order = np.argsort(ids[known], kind="stable")
        self.ids = ids[known][order]
        self.positions = known[order].astype(np.int32)

    def __getitem__(self, wanted: Any) -> Any:
        wanted = np.asarray(wanted, dtype=np.int64)
        if not len(self.ids):
            return np.full(len(wanted), -1, dtype=np.int32)
        at = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        return np.where(self.ids[at] == wanted, self.positions[at], -1).astype(np.int32)


def rows_to_columns(
    subj_rows: Sequence[Any],
    recs: Sequence[Any],
    rels: Sequence[Any],
    cors: Sequence[Any],
    with_ids: bool,
    facts: Sequence[Any] = (),
) -> LedgerColumns:
    """Columns from rows (``load_subjects``); subject rows are (id, name, kind),
    ids below 0 stand for names the ledger does not know (listed, without rows)."""
    lookup = _FewPositions(np.array([r[0] for r in subj_rows], dtype=np.int64))

    def col(rows: Sequence[Any], i: int, null: Any = None) -> list[Any]:
        if null is None:
            return [r[i] for r in rows]
        return [null if r[i] is None else r[i] for r in rows]

    def subject_positions(rows: Sequence[Any], i: int) -> Any:
        return lookup[np.array(col(rows, i), dtype=np.int64)] if rows else ()

    details = [orjson.loads(r[7]) if r[7] else {} for r in cors]
    named: dict[str, Any] = {
        "rec_seq": col(recs, 0),
        "rec_subject": subject_positions(recs, 1),
        "rec_type": col(recs, 2),
        "rec_occurred_at": col(recs, 3),
        "rec_recorded_at": col(recs, 4),
        "rec_amount": col(recs, 5, np.nan),
        "rec_term": [_term_of(r[8]) for r in recs],
        "cor_seq": col(cors, 0),
        "cor_target": col(cors, 1),
        "cor_action": [k - CORRECTION_BASE for k in col(cors, 2)],
        "cor_occurred_at": col(cors, 3),
        "cor_recorded_at": col(cors, 4),
        "cor_type": col(cors, 5, ""),
        "cor_new_occurred_at": [d.get("corrected_occurred_at", -1) for d in details],
        "cor_amount": col(cors, 6, np.nan),
        "cor_source": col(cors, 8),
        "cor_id": col(cors, 9),
        "cor_reason": [d.get("reason", "") for d in details],
        "cor_term": [d.get("by", "") for d in details],
        "rel_seq": col(rels, 0),
        "rel_subject": subject_positions(rels, 1),
        "rel_related": subject_positions(rels, 2),
        "rel_type": col(rels, 3),
        "rel_valid_from": col(rels, 4),
        "rel_valid_until": col(rels, 5, NEVER),
        "rel_recorded_at": col(rels, 6),
        "rel_source": col(rels, 7),
    }
    if with_ids:
        named["rec_source"] = col(recs, 6)
        named["rec_id"] = col(recs, 7)
    if facts:
        named.update(fact_columns(facts, lookup))
    return LedgerColumns.from_named([r[1] for r in subj_rows], [r[2] for r in subj_rows], named)


Connect = Callable[[], AbstractContextManager[Any]]


def load_everyone(connect: Connect, is_sqlite: bool, with_ids: bool) -> LedgerColumns:
    """Every subject, record, correction and relation (see ``Ledger.columns``)."""
    from concurrent.futures import ThreadPoolExecutor  # only the bulk read uses a thread

    # The fast path for everyone: plain DBAPI cursors (no SQLAlchemy row objects), rows
    # turned into columns with zip (in C), NULLs replaced in SQL so that every column
    # converts to NumPy in one call, and the cycle collector paused while a million
    # tuples are created (they hold no cycles). Records are read on this thread while a
    # second connection reads subjects, relations and corrections; the drivers release
    # the GIL while the database works. Both read the entries up to one seq: as entries
    # are only ever appended, that is one consistent state of the ledger.
    inf = "9e999" if is_sqlite else "'Infinity'::float8"
    ids = ", source, entry_id" if with_ids else ""
    fetched: dict[str, Any] = {}
    collecting = gc.isenabled()
    gc.disable()
    try:
        with connect() as conn:
            cursor = conn.cursor()
            try:
                cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM entries")
                (upto,) = cursor.fetchone() or (0,)
                others = {
                    "subjects": "SELECT id, name, kind FROM subjects",
                    "relations": "SELECT seq, subject_id, related_subject_id, occurred_at, "
                    f"COALESCE(valid_until, {NEVER}), recorded_at, type, source FROM entries "
                    # "+seq": sort the few rows the partial index finds, not scan in order
                    f"WHERE related_subject_id IS NOT NULL AND seq <= {upto} ORDER BY +seq",
                    "corrections": "SELECT seq, target_seq, kind, occurred_at, recorded_at, "
                    f"COALESCE(amount, {inf}), COALESCE(type, ''), details, source, entry_id "
                    f"FROM entries WHERE target_seq IS NOT NULL AND seq <= {upto} "
                    "ORDER BY +seq",
                    # exemptions and attributes: the partial index ix_entries_facts (0007)
                    "facts": "SELECT seq, kind, subject_id, type, occurred_at, valid_until, "
                    "recorded_at, details, source, entry_id FROM entries "
                    f"WHERE {FACTS_WHERE} AND seq <= {upto} ORDER BY seq",
                }
                with ThreadPoolExecutor(1) as pool:
                    rest = pool.submit(_fetch_columns, connect, others, is_sqlite, upto)
                    fast = None
                    if is_sqlite:
                        fast = sqlite_record_columns(cursor, with_ids, 0, upto)
                    if fast is None:
                        log.debug("reading records row by row (a text value holds the separator)")
                        fast = fetch_transposed(
                            cursor,
                            "SELECT seq, subject_id, occurred_at, recorded_at, "
                            f"COALESCE(amount, {inf}), details, type{ids} FROM entries "
                            f"WHERE kind = {RECORD} AND seq <= {upto} ORDER BY seq",
                        )
                    fetched["records"] = fast
                    fetched.update(rest.result())
            finally:
                cursor.close()
    finally:
        if collecting:
            gc.enable()
    return bulk_to_columns(fetched, with_ids)


def _fetch_columns(
    connect: Connect, queries: dict[str, str], is_sqlite: bool, upto: int
) -> dict[str, Any]:
    with connect() as conn:
        cursor = conn.cursor()
        try:
            out: dict[str, Any] = {}
            for name, sql in queries.items():
                if name == "facts" and is_sqlite:
                    fast = sqlite_fact_columns(cursor, upto)
                    if fast is not None:
                        out[name] = fast
                        continue
                    log.debug("reading facts row by row (a text value holds the separator)")
                out[name] = fetch_transposed(cursor, sql)
            return out
        finally:
            cursor.close()


def load_subjects(
    connect: Connect, is_sqlite: bool, names: list[str], follow_relations: bool
) -> LedgerColumns:
    """What scoring needs about the named subjects (see ``Ledger.columns``)."""
    recs: list[tuple[Any, ...]] = []
    rels: list[tuple[Any, ...]] = []
    cors: list[tuple[Any, ...]] = []
    facts: list[tuple[Any, ...]] = []
    read: set[tuple[str, str]] = set()  # (source, entry id) of every entry read
    claimed: dict[tuple[str, str], tuple[int, int]] = {}  # ... whose source claimed a time
    with connect() as conn:
        cursor = conn.cursor()

        def lookup(column: str, values: Sequence[Any]) -> list[tuple[int, str, int]]:
            if not values:
                return []
            cursor.execute(
                f"SELECT id, name, kind FROM subjects WHERE {column} IN ({placeholders(is_sqlite, len(values))})",
                tuple(values),
            )
            return [(int(r[0]), str(r[1]), int(r[2])) for r in cursor.fetchall()]

        def load(ids: list[int], keep_relations: bool) -> None:
            if not ids:
                return
            cursor.execute(
                "SELECT seq, kind, subject_id, type, occurred_at, recorded_at, amount, source, "
                "entry_id, target_seq, related_subject_id, valid_until, details, "
                "claimed_recorded_at FROM entries "
                f"WHERE subject_id IN ({placeholders(is_sqlite, len(ids))}) ORDER BY seq",
                tuple(ids),
            )
            for (
                seq,
                kind,
                sid,
                typ,
                occ,
                rec,
                amount,
                src,
                eid,
                target,
                rel,
                until,
                det,
                claim,
            ) in cursor.fetchall():
                key = (str(src), str(eid))
                read.add(key)
                if claim is not None and claim != rec:  # (as ``Ledger.claims`` asks)
                    claimed[key] = (int(claim), int(rec))
                if kind == RECORD:
                    recs.append((seq, sid, typ, occ, rec, amount, src, eid, det))
                elif kind == RELATION:
                    if keep_relations:
                        rels.append((seq, sid, rel, typ, occ, until, rec, src))
                elif is_fact(kind):
                    facts.append((seq, kind, sid, typ, occ, until, rec, det, src, eid))
                elif is_correction(kind):
                    cors.append((seq, target, kind, occ, rec, typ, amount, det, src, eid))

        found = {r[1]: r for r in lookup("name", names)}
        subj_rows = [found.get(n) or (-1 - i, n, 0) for i, n in enumerate(names)]
        known = [r[0] for r in subj_rows if r[0] >= 0]
        load(known, keep_relations=True)
        extra = sorted({int(r[2]) for r in rels} - set(known))
        if extra:
            subj_rows += lookup("id", extra)
            if follow_relations:
                load(extra, keep_relations=False)
    if follow_relations:
        recs.sort()
        cors.sort()
        facts.sort()
    columns = rows_to_columns(subj_rows, recs, rels, cors, True, facts)
    # every entry about these subjects was read: what their sources claimed is known too
    object.__setattr__(columns, "entry_claims", (frozenset(read), claimed))
    return columns
