"""What a policy tells the linter: rules silenced for one element, each with the reason
recorded (``lint: {ignore: {SC104: "why"}}``), and the severity vocabularies the
proportionality rules compare (a record type's ``severity``, a measure's ``severity``).

The linter itself (``socialcredit.lint``) reads these; nothing here changes a decision.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from socialcredit.policy.fields import StrictModel

RULE_ID_PATTERN = r"^SC[1-9][0-9][0-9]$"
RuleId = Annotated[str, Field(pattern=RULE_ID_PATTERN)]
"""A lint rule's stable id, e.g. ``SC104`` (docs/lint-rules.md lists them)."""

Justification = Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]

RecordSeverity = Literal["minor", "moderate", "serious"]
"""How grave the behaviour a record type records is (for the linter's proportionality
rules; without it, the linter reads the record's negative points)."""

MeasureSeverity = Literal["low", "medium", "high"]
"""How hard a measure hits the person it applies to (for the linter's proportionality
rules)."""

RelationNature = Literal["child", "family", "officer", "other"]
"""Who the related subject is: a child, another family member, an officer of an
organisation, or something else (the linter flags measures that reach children)."""


class LintSettings(StrictModel):
    """Lint rules silenced for the element this block is in, each with its justification
    (recorded, and listed in every lint report as silenced)."""

    ignore: dict[RuleId, Justification] = Field(
        default_factory=dict,
        description="Rule ids (SCnnn) silenced for this element, each with the reason why, "
        'e.g. {SC104: "the statute requires a ban on the first offence"}.',
    )
