"""What an ingest reports: how every line of the input ended up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from socialcredit.ledger.parsing import IngestProblem


@dataclass
class IngestResult:
    """What one ingestion did with every line of its input.

    ``lines == accepted + duplicates + conflicts + rejected + skipped``. ``problems``: the
    rejected lines; ``conflict_lines``: repeats of a stored (source, id) with different
    content (the ledger keeps what it has); ``no_effect_lines``: accepted disputes that
    change nothing; ``trimmed_lines``: CSV lines whose fields had surrounding spaces
    (trimmed, then read as usual).
    """

    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    skipped: int = 0
    problems: list[IngestProblem] = field(default_factory=list)
    conflict_lines: list[IngestProblem] = field(default_factory=list)
    no_effect_lines: list[IngestProblem] = field(default_factory=list)
    trimmed_lines: list[int] = field(default_factory=list)

    @property
    def no_effect(self) -> int:
        """How many accepted entries change nothing (see ``no_effect_lines``)."""
        return len(self.no_effect_lines)

    @property
    def trimmed(self) -> int:
        """How many lines had spaces trimmed from their fields."""
        return len(self.trimmed_lines)

    def to_json(self) -> dict[str, Any]:
        """Counts, every problem, conflict and notice, for ``ingest --json``."""
        return {
            "lines": self.lines,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "no_effect": self.no_effect,
            "trimmed": self.trimmed,
            "problems": [p.__dict__ for p in self.problems],
            "conflict_lines": [p.__dict__ for p in self.conflict_lines],
            "no_effect_lines": [p.__dict__ for p in self.no_effect_lines],
            "trimmed_lines": self.trimmed_lines,
        }


# The write-ahead log is brought back to its start (``wal_checkpoint(RESTART)``, between
# chunks, by the writer) once it is larger than this: a large import cannot fill the disk
# with it. Between restarts a background checkpoint copies committed pages meanwhile.
