"""What the ledger received after a point: entries by ``seq``, for readers that keep up
with it (the enforcement index) without reading everything again.

Entries are numbered by ``seq`` in the order their inserts ran; on PostgreSQL concurrent
writers commit out of that order, so a reader that saw ``seq`` 101 may see 100 later. The
reader asks again for the numbers it has not seen (``ranges``) until it gives up on them
(a rolled-back insert leaves a number unused forever).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    """One entry as a reader keeping up needs it: its number, kind (``columns`` codes), the
    subject it is about (for a correction: its target's subject), the related subject of a
    relation, when the ledger received it and when its batch was loaded (and whether as a
    backfill)."""

    seq: int
    kind: int
    subject: str
    related: str | None
    recorded_at: int
    loaded_at: int | None
    backfill: bool


def changes_after(
    conn: Any, is_sqlite: bool, after: int, ranges: Sequence[tuple[int, int]], limit: int
) -> list[Change]:
    """Entries with ``seq`` above ``after``, or within one of ``ranges`` (inclusive), in
    ``seq`` order, at most ``limit`` of those above ``after`` (all of those in ``ranges``)."""
    p = "?" if is_sqlite else "%s"
    select = (
        "SELECT e.seq, e.kind, s.name, r.name, e.recorded_at, b.started_at, b.backfill "
        "FROM entries e JOIN subjects s ON s.id = e.subject_id "
        "LEFT JOIN subjects r ON r.id = e.related_subject_id "
        "LEFT JOIN ingest_batches b ON b.id = e.batch_id "
    )
    out: list[Change] = []
    cursor = conn.cursor()
    try:
        cursor.execute(select + f"WHERE e.seq > {p} ORDER BY e.seq LIMIT {p}", (after, limit))
        rows = list(cursor.fetchall())
        if ranges:
            where = " OR ".join(f"e.seq BETWEEN {p} AND {p}" for _ in ranges)
            cursor.execute(
                select + f"WHERE {where} ORDER BY e.seq", tuple(x for r in ranges for x in r)
            )
            rows += list(cursor.fetchall())
    finally:
        cursor.close()
    for seq, kind, subject, related, recorded, loaded, backfill in rows:
        out.append(
            Change(
                int(seq),
                int(kind),
                str(subject),
                None if related is None else str(related),
                int(recorded),
                None if loaded is None else int(loaded),
                bool(backfill),
            )
        )
    out.sort(key=lambda c: c.seq)
    return out


@dataclass(frozen=True)
class HighWater:
    """Where the ledger stands: its highest ``seq`` (0: empty), how many policy activations
    it holds and the highest version number (0: none)."""

    seq: int
    activations: int
    policy_version: int


def high_water(conn: Any) -> HighWater:
    """The ledger's ``HighWater`` (two small queries)."""
    cursor = conn.cursor()
    try:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM entries")
        seq = int(cursor.fetchone()[0])
        cursor.execute("SELECT COUNT(*), COALESCE(MAX(version), 0) FROM policies")
        count, version = cursor.fetchone()
    finally:
        cursor.close()
    return HighWater(seq, int(count), int(version))


def policy_water(conn: Any) -> tuple[int, int]:
    """(activations, highest version) of the policy history."""
    cursor = conn.cursor()
    try:
        cursor.execute("SELECT COUNT(*), COALESCE(MAX(version), 0) FROM policies")
        count, version = cursor.fetchone()
    finally:
        cursor.close()
    return int(count), int(version)


def backfills_loaded(conn: Any) -> int | None:
    """When the last backfill batch was loaded (None: none)."""
    cursor = conn.cursor()
    try:
        cursor.execute("SELECT MAX(started_at) FROM ingest_batches WHERE backfill = 1")
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None or row[0] is None else int(row[0])


def seqs_above(conn: Any, is_sqlite: bool, low: int) -> list[int]:
    """The ``seq`` of every committed entry above ``low`` (an index range scan)."""
    p = "?" if is_sqlite else "%s"
    cursor = conn.cursor()
    try:
        cursor.execute(f"SELECT seq FROM entries WHERE seq > {p}", (low,))
        return [int(r[0]) for r in cursor.fetchall()]
    finally:
        cursor.close()


def transaction_horizon(conn: Any) -> tuple[int, int]:
    """PostgreSQL: (xmin, xmax) of a snapshot taken now: every transaction numbered below
    xmin has ended; every one that started before now is numbered below xmax. A writer
    in flight now has ended once a later snapshot's xmin reaches this xmax."""
    cursor = conn.cursor()
    try:
        cursor.execute(
            "SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text "
            "FROM pg_current_snapshot() AS s"
        )
        lo, hi = cursor.fetchone()
    finally:
        cursor.close()
    return int(lo), int(hi)
