"""Migration 0006: an ingest batch row keeps its provenance against raw SQL (issue 6 trial).

Erasing a batch or its ``backfill`` flag would make back-dated history read as known at the
time, so DELETE (and TRUNCATE) is refused, and so is any UPDATE of ``id``, ``origin``,
``started_at`` or ``backfill``; the counts and ``finished_at`` change only while the batch
runs (``finished_at`` NULL), as the writer does after every chunk.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from socialcredit.ledger import Ledger
from socialcredit.timeutil import parse_timestamp

NOW = parse_timestamp("2026-01-01")
ENTRY = {
    "id": "1",
    "source": "court",
    "subject": "alice",
    "type": "fine",
    "occurred_at": "2025-01-01",
    "recorded_at": "2025-01-02",
    "amount": 5,
}

CHANGES = [
    "DELETE FROM ingest_batches",
    "UPDATE ingest_batches SET backfill = 0",
    "UPDATE ingest_batches SET origin = 'elsewhere'",
    "UPDATE ingest_batches SET started_at = 0",
    "UPDATE ingest_batches SET id = id + 100",
    "UPDATE ingest_batches SET accepted = 0",
    "UPDATE ingest_batches SET finished_at = NULL",
]


def _batches(ledger: Ledger) -> list[object]:
    with ledger.engine.connect() as conn:
        return list(conn.exec_driver_sql("SELECT * FROM ingest_batches ORDER BY id").all())


def _refused(ledger: Ledger, sql: str) -> None:
    with pytest.raises(sa.exc.DatabaseError, match="provenance is fixed"):  # noqa: SIM117
        with ledger.engine.begin() as conn:
            conn.exec_driver_sql(sql)


@pytest.mark.parametrize("sql", CHANGES)
def test_a_finished_batch_row_cannot_be_changed_or_deleted(ledger: Ledger, sql: str) -> None:
    result = ledger.ingest_entries([ENTRY], now=NOW, backfill=True)
    assert result.accepted == 1
    before = _batches(ledger)
    assert len(before) == 1
    _refused(ledger, sql)
    assert _batches(ledger) == before


@pytest.mark.postgres
def test_truncate_of_the_batches_is_refused_on_postgresql(pg_ledger: Ledger) -> None:
    pg_ledger.ingest_entries([ENTRY], now=NOW, backfill=True)
    _refused(pg_ledger, "TRUNCATE ingest_batches CASCADE")
    assert len(_batches(pg_ledger)) == 1


def test_a_running_batch_updates_its_counts_then_is_frozen(ledger: Ledger) -> None:
    with ledger.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO ingest_batches (origin, started_at, lines, accepted, duplicates, "
            "rejected) VALUES ('f.jsonl', 1, 0, 0, 0, 0)"
        )
    with ledger.engine.begin() as conn:  # what the writer does after a chunk, and at the end
        conn.exec_driver_sql("UPDATE ingest_batches SET lines = 3, accepted = 2")
        conn.exec_driver_sql("UPDATE ingest_batches SET lines = 5, accepted = 4, finished_at = 9")
    _refused(ledger, "UPDATE ingest_batches SET accepted = 5")
    _refused(ledger, "UPDATE ingest_batches SET backfill = 1")
    (row,) = _batches(ledger)
    assert (row.lines, row.accepted, row.finished_at, row.backfill) == (5, 4, 9, 0)
