"""Subjects in a policy: the attributes the ledger may record about them, the eligibility
conditions that test those attributes, and the relations between subjects.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from socialcredit.policy.durations import PositiveDuration
from socialcredit.policy.fields import Name, StrictModel, SubjectKind, absent_field
from socialcredit.policy.lint_settings import LintSettings, RelationNature

AttributeType = Literal["date", "number", "text"]


class AttributeDef(StrictModel):
    """A subject attribute the ledger may record (``attribute`` entries) and eligibility
    conditions may test, e.g. ``birth_date`` or ``residence``."""

    type: AttributeType = Field(
        description="date (YYYY-MM-DD), number or text: ingestion checks every value"
    )
    subject_kinds: list[SubjectKind] = Field(
        default_factory=lambda: list[SubjectKind](["person", "organisation"]),
        description="Who can have it; a condition on it does not apply to other kinds.",
    )
    description: str = ""


class EligibilityCondition(StrictModel):
    """One condition on a subject's attributes, at the time of evaluation, with what the
    ledger knew then. ``attribute`` and one test: ``age_at_least`` (whole years since a
    date), ``equals`` / ``one_of`` (the value in force), optionally with ``held_for`` (that
    value in force for at least this long); or ``held_for`` alone (any value)."""

    attribute: Name
    age_at_least: int | None = Field(
        None, ge=1, le=200, description="Whole calendar years since the date (an age)."
    )
    equals: str | float | None = None
    one_of: list[str | float] | None = Field(None, min_length=1)
    held_for: PositiveDuration | None = Field(
        None, description="The value has been in force at least this long."
    )
    if_unknown: Literal["ineligible", "eligible"] = Field(
        "ineligible",
        description="When the ledger knows no value in force: not eligible (default) or eligible.",
    )

    @model_validator(mode="after")
    def _one_test(self) -> EligibilityCondition:
        tests = [k for k in ("age_at_least", "equals", "one_of") if getattr(self, k) is not None]
        if len(tests) > 1:
            raise ValueError(f"give at most one of age_at_least, equals, one_of; got {tests}")
        if not tests and self.held_for is None:
            raise ValueError("give one of age_at_least, equals, one_of or held_for")
        if self.age_at_least is not None and self.held_for is not None:
            raise ValueError("held_for does not go with age_at_least")
        return self


class RelationDef(StrictModel):
    """A relation between subjects that the ledger may record (e.g. child_of)."""

    description: str = ""
    from_kind: SubjectKind = "person"
    to_kind: SubjectKind = "person"
    nature: RelationNature | None = Field(
        None,
        exclude_if=absent_field,
        description="Who the related subject is: child, family, officer or other (the "
        "linter treats a measure reaching children as an error; default: judged from the "
        "relation's name).",
    )
    lint: LintSettings | None = Field(
        None, exclude_if=absent_field, description="Lint rules silenced for this relation."
    )
