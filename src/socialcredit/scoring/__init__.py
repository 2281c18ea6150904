"""Scoring: pure functions from (ledger columns, compiled policy, time) to standings."""

from socialcredit.scoring.standing import (
    BulkStandings,
    Measure,
    Membership,
    Prepared,
    RecordLine,
    Standing,
    bulk_standings,
    standing,
)

__all__ = [
    "BulkStandings",
    "Measure",
    "Membership",
    "Prepared",
    "RecordLine",
    "Standing",
    "bulk_standings",
    "standing",
]
