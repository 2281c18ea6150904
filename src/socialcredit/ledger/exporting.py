"""The ledger's entries in the ingestion format, in ledger order (what ``export`` writes)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

import orjson

from socialcredit.columns import (
    EXEMPTION,
    KIND_CODES,
    KIND_NAMES,
    RECORD,
    RELATION,
    SUBJECT_KINDS,
    is_correction,
    is_fact,
)
from socialcredit.timeutil import to_iso

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def iter_entries(engine: Engine, kinds: Collection[str] | None = None) -> Iterator[dict[str, Any]]:
    """Every entry in ledger order, in the ingestion format (export → ingest round-trips).

    ``kinds``: only entries of these kinds (``record``, ``relation``, ``resolve``, …);
    None = all. Corrections still name their targets by source and id.

    ``recorded_at`` is the time the ledger learned the entry (what time travel counts
    from), so an ``ingest --backfill`` of the export answers every question as this ledger
    does; the source's own claim, when it differs, is ``claimed_recorded_at``.
    """
    wanted = None
    if kinds is not None:
        unknown = set(kinds) - set(KIND_CODES)
        if unknown:
            raise ValueError(
                f"unknown entry kinds {sorted(unknown)}; expected {', '.join(KIND_CODES)}"
            )
        wanted = {KIND_CODES[k] for k in kinds}
    with engine.connect() as conn:
        names: dict[int, str] = {}
        kind_of: dict[int, int] = {}
        for sid, name, kind in conn.exec_driver_sql("SELECT id, name, kind FROM subjects"):
            names[int(sid)] = str(name)
            kind_of[int(sid)] = int(kind)
        targets: dict[int, tuple[str, str]] = {}
        result = conn.execution_options(stream_results=True, yield_per=10_000).exec_driver_sql(
            "SELECT seq, source, entry_id, kind, subject_id, type, occurred_at, recorded_at, "
            "amount, evidence, target_seq, related_subject_id, valid_until, details, "
            "claimed_recorded_at "
            "FROM entries ORDER BY seq"
        )
        for row in result:
            (
                seq,
                source,
                eid,
                kind,
                sid,
                typ,
                occ,
                rec,
                amount,
                evidence,
                target,
                rel,
                until,
                details,
                claimed,
            ) = row
            if kind in (RECORD, RELATION) or is_fact(kind):
                targets[seq] = (source, eid)
            if wanted is not None and kind not in wanted:
                continue
            out: dict[str, Any] = {"kind": KIND_NAMES[kind], "id": eid, "source": source}
            if kind == RECORD:
                out.update(
                    subject=names[sid],
                    subject_kind=SUBJECT_KINDS[kind_of[sid]],
                    type=typ,
                    occurred_at=to_iso(occ),
                    recorded_at=to_iso(rec),
                )
                if amount is not None:
                    out["amount"] = amount
                if evidence is not None:
                    out["evidence"] = evidence
                term = (orjson.loads(details) if details else {}).get("term")
                if term is not None:
                    out["term"] = term
            elif kind == RELATION:
                out.update(
                    subject=names[sid],
                    subject_kind=SUBJECT_KINDS[kind_of[sid]],
                    relation=typ,
                    related_subject=names[rel],
                    related_kind=SUBJECT_KINDS[kind_of[rel]],
                    valid_from=to_iso(occ),
                    recorded_at=to_iso(rec),
                )
                if until is not None:
                    out["valid_until"] = to_iso(until)
            elif is_fact(kind):
                out.update(
                    subject=names[sid],
                    subject_kind=SUBJECT_KINDS[kind_of[sid]],
                    valid_from=to_iso(occ),
                    recorded_at=to_iso(rec),
                )
                if until is not None:
                    out["valid_until"] = to_iso(until)
                extra = orjson.loads(details) if details else {}
                if kind == EXEMPTION:
                    out["services"] = extra.get("services", "")
                    out["reason"] = extra.get("reason", "")
                    out["approved_by"] = extra.get("approved_by", "")
                    if "approved_at" in extra:
                        out["approved_at"] = to_iso(extra["approved_at"])
                else:
                    out["attribute"] = typ
                    out["value"] = extra.get("value", "")
            elif is_correction(kind):
                tsrc, tid = targets[target]
                out.update(
                    target_source=tsrc,
                    target_id=tid,
                    occurred_at=to_iso(occ),
                    recorded_at=to_iso(rec),
                )
                extra = orjson.loads(details) if details else {}
                if "reason" in extra:
                    out["reason"] = extra["reason"]
                if typ is not None:
                    out["type"] = typ
                if amount is not None:
                    out["amount"] = amount
                if "corrected_occurred_at" in extra:
                    out["corrected_occurred_at"] = to_iso(extra["corrected_occurred_at"])
                if "by" in extra:
                    out["by"] = extra["by"]
            if claimed is not None and claimed != rec:
                out["claimed_recorded_at"] = to_iso(claimed)
            yield out
