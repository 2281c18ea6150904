"""Where time travel crosses a backfill.

An ordinary ingest never changes an answer about a time before it: its entries count from
the time the ledger received them. A backfill (``ingest --backfill``: loading history, such
as the demo or a migration from another system) keeps each line's own ``recorded_at``, so
an answer about a time T before the backfill was loaded may count entries the ledger did
not have at T (an answer given at T did not count them). Such answers say so, with
the batches and how many of their entries they count (``Backfill``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from socialcredit.timeutil import to_iso


@dataclass(frozen=True)
class Backfill:
    """A backfill batch, loaded at ``loaded_at``, of which ``entries`` count in an answer
    about a time before ``loaded_at``; or (``policy`` set, ``batch`` None) the policy the
    answer is under, activated at ``loaded_at`` as in force from an earlier time."""

    batch: int | None
    loaded_at: int
    entries: int = 0
    policy: str | None = None  # policy id@version of a backfilled activation

    def to_json(self) -> dict[str, Any]:
        """``{"batch", "loaded_at" (ISO 8601), "entries"}``, or for a policy
        ``{"policy_version", "loaded_at"}``."""
        if self.policy is not None:
            return {"policy_version": self.policy, "loaded_at": to_iso(self.loaded_at)}
        return {"batch": self.batch, "loaded_at": to_iso(self.loaded_at), "entries": self.entries}


def crossed(
    conn: Any, is_sqlite: bool, at: int, subjects: Sequence[str] | None = None
) -> list[Backfill]:
    """The backfill batches loaded after ``at`` with entries recorded at or before ``at``
    (entries an answer about ``at`` counts), oldest batch first, read through the DBAPI
    connection ``conn``. ``subjects``: only entries about these subjects (their records,
    the corrections of those, the relations they are the subject of); None: every entry."""
    p = "?" if is_sqlite else "%s"
    cursor = conn.cursor()
    try:
        cursor.execute(
            f"SELECT id, started_at FROM ingest_batches WHERE backfill = 1 AND started_at > {p} "
            "ORDER BY id",
            (at,),
        )
        batches = [(int(b), int(s)) for b, s in cursor.fetchall()]
        if not batches or subjects == []:
            return []
        found = []
        for batch, loaded_at in batches:
            sql = f"SELECT COUNT(*) FROM entries WHERE batch_id = {p} AND recorded_at <= {p}"
            params: tuple[Any, ...] = (batch, at)
            if subjects is not None:
                names = list(subjects)
                sql += (
                    " AND subject_id IN (SELECT id FROM subjects WHERE name IN "
                    f"({', '.join([p] * len(names))}))"
                )
                params += tuple(names)
            cursor.execute(sql, params)
            count = int(cursor.fetchone()[0])
            if count:
                found.append(Backfill(batch, loaded_at, count))
        return found
    finally:
        cursor.close()


def sentence(
    at: int, backfilled: Sequence[Backfill], whose: str = "", every: bool = False
) -> str | None:
    """The plain sentence an answer about ``at`` carries when it crosses backfills (None
    when it does not). ``whose``: e.g. "about wang" (the entries' subjects). ``every``: said
    once of all the figures and answers that follow (the demo's report)."""
    if not backfilled:
        return None
    about = f" {whose}" if whose else ""
    parts = [
        f"{b.entries:,} entr{'y' if b.entries == 1 else 'ies'} of backfill batch {b.batch}, "
        f"loaded on {to_iso(b.loaded_at)}"
        for b in backfilled
        if b.policy is None
    ]
    parts = [f"{'; '.join(parts)}{about}"] if parts else []
    parts += [
        f"the policy {b.policy}, activated on {to_iso(b.loaded_at)} as in force from earlier"
        for b in backfilled
        if b.policy is not None
    ]
    return (
        f"Note: {'the figures and answers below' if every else 'this answer'} about "
        f"{to_iso(at)} count{'' if every else 's'} history loaded later: "
        f"{'; '.join(parts)}. The ledger did not have it at that time: an answer given "
        "then did not count it."
    )
