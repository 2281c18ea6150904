"""Scoring: pure functions from (ledger columns, compiled policy, time) to standings.

Imports no storage library: the simulator's workers and the service's hot path use it alone.
"""

from socialcredit.scoring.bulk import BulkStandings, bulk_standings
from socialcredit.scoring.prepared import Prepared
from socialcredit.scoring.results import Measure, Membership, RecordLine, Standing
from socialcredit.scoring.standing import standing

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
