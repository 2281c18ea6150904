"""The ledger: append-only storage of records, relations, corrections and policy versions.

Names are imported on first use, so a read (``Ledger``, ``PolicyVersion``) does not load the
ingestion modules, and nothing here loads SQLAlchemy until an engine is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialcredit._lazy import lazy_exports

if TYPE_CHECKING:
    from socialcredit.columns import LedgerColumns, columns_from_entries
    from socialcredit.ledger.database import LedgerError, normalise_url
    from socialcredit.ledger.entries import Entry, EntryError, validate_entry
    from socialcredit.ledger.files import CsvOptions, FileFormatError, read_lines
    from socialcredit.ledger.parsing import IngestProblem
    from socialcredit.ledger.policies import (
        PastActivationError,
        PolicyVersion,
        PolicyVersionConflict,
    )
    from socialcredit.ledger.results import IngestResult
    from socialcredit.ledger.rules import IngestRules
    from socialcredit.ledger.store import Ledger

_WHERE = {
    "CsvOptions": "socialcredit.ledger.files",
    "Entry": "socialcredit.ledger.entries",
    "EntryError": "socialcredit.ledger.entries",
    "FileFormatError": "socialcredit.ledger.files",
    "IngestProblem": "socialcredit.ledger.parsing",
    "IngestResult": "socialcredit.ledger.results",
    "IngestRules": "socialcredit.ledger.rules",
    "Ledger": "socialcredit.ledger.store",
    "LedgerColumns": "socialcredit.columns",
    "LedgerError": "socialcredit.ledger.database",
    "PolicyVersion": "socialcredit.ledger.policies",
    "PolicyVersionConflict": "socialcredit.ledger.policies",
    "PastActivationError": "socialcredit.ledger.policies",
    "columns_from_entries": "socialcredit.columns",
    "normalise_url": "socialcredit.ledger.database",
    "read_lines": "socialcredit.ledger.files",
    "validate_entry": "socialcredit.ledger.entries",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "CsvOptions",
    "Entry",
    "EntryError",
    "FileFormatError",
    "IngestProblem",
    "IngestResult",
    "IngestRules",
    "Ledger",
    "LedgerColumns",
    "LedgerError",
    "PastActivationError",
    "PolicyVersion",
    "PolicyVersionConflict",
    "columns_from_entries",
    "normalise_url",
    "read_lines",
    "validate_entry",
]
