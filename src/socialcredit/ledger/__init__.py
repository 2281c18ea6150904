"""The ledger: append-only storage of records, relations, corrections and policy versions."""

from socialcredit.columns import LedgerColumns, columns_from_entries
from socialcredit.ledger.database import LedgerError, normalise_url
from socialcredit.ledger.entries import Entry, EntryError, validate_entry
from socialcredit.ledger.files import CsvOptions, FileFormatError, read_lines
from socialcredit.ledger.parsing import IngestProblem
from socialcredit.ledger.policies import PolicyVersion, PolicyVersionConflict
from socialcredit.ledger.rules import IngestRules
from socialcredit.ledger.store import Ledger
from socialcredit.ledger.writing import IngestResult

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
    "PolicyVersion",
    "PolicyVersionConflict",
    "columns_from_entries",
    "normalise_url",
    "read_lines",
    "validate_entry",
]
