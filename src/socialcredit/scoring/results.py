"""What scoring says about a subject: score, grade, lists, measures and the record breakdown."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from socialcredit.timeutil import to_iso


@dataclass(frozen=True)
class RecordLine:
    """One record version and what it does to the score at the time of the standing."""

    row: int
    source: str
    id: str
    type: str
    occurred_at: int
    recorded_at: int
    points: float  # the policy's full points for this type
    contribution: float  # what it adds now (after decay; 0 unless it counts)
    status: str
    expires_at: int | None
    resolved_at: int | None
    disputed_at: int | None
    rectified: bool
    amount: float | None


@dataclass(frozen=True)
class Membership:
    """Being on a list: since when, until when (if nothing else happens), and the records behind it."""

    name: str
    kind: str
    since: int | None
    until: int | None
    records: list[str]


@dataclass(frozen=True)
class Measure:
    """A sanction or reward in force for the subject."""

    name: str
    service: str
    effect: str
    reason_code: str
    since: int | None
    until: int | None
    lists: list[str]
    via_relation: str | None = None
    via_subject: str | None = None
    legal_basis: str = ""
    description: str = ""


@dataclass(frozen=True)
class Standing:
    """Everything the policy says about one subject at ``at``, with what was known at ``at``."""

    subject: str
    kind: str
    at: int
    policy_version: str
    policy_hash: str
    score: float
    grade: str
    lists: list[Membership]
    measures: list[Measure]
    breakdown: list[RecordLine]
    base: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def sanctions(self) -> list[Measure]:
        """Measures that deny a service."""
        return [m for m in self.measures if m.effect == "deny"]

    @property
    def rewards(self) -> list[Measure]:
        """Measures that grant a benefit."""
        return [m for m in self.measures if m.effect == "benefit"]

    def to_json(self) -> dict[str, Any]:
        """The ``score --json`` contract: plain JSON types, ISO 8601 times."""

        def times(d: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
            for key in keys:
                if key in d:
                    d[key] = to_iso(d[key])
            return d

        return {
            "subject": self.subject,
            "kind": self.kind,
            "at": to_iso(self.at),
            "policy_version": self.policy_version,
            "policy_hash": self.policy_hash,
            "score": round(self.score, 4),
            "grade": self.grade,
            "lists": [m.name for m in self.lists],
            "memberships": [times(asdict(m), ("since", "until")) for m in self.lists],
            "sanctions": [times(asdict(m), ("since", "until")) for m in self.measures],
            "breakdown": {
                "base": self.base,
                "records": [
                    times(
                        {k: v for k, v in asdict(line).items() if k != "row"},
                        ("occurred_at", "recorded_at", "expires_at", "resolved_at", "disputed_at"),
                    )
                    for line in self.breakdown
                ],
            },
            "notes": self.notes,
        }
