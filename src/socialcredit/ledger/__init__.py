"""The ledger: append-only storage of records, relations, corrections and policy versions."""

from socialcredit.columns import LedgerColumns, columns_from_entries
from socialcredit.ledger.entries import Entry, EntryError, validate_entry
from socialcredit.ledger.ingest import FileFormatError, read_lines
from socialcredit.ledger.store import (
    IngestProblem,
    IngestResult,
    Ledger,
    LedgerError,
    PolicyVersion,
    normalise_url,
)

__all__ = [
    "Entry",
    "EntryError",
    "FileFormatError",
    "IngestProblem",
    "IngestResult",
    "Ledger",
    "LedgerColumns",
    "LedgerError",
    "PolicyVersion",
    "columns_from_entries",
    "normalise_url",
    "read_lines",
    "validate_entry",
]
