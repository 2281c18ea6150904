"""The policy language: what a published policy may say, as pydantic models.

A policy is data. It names record types and what they are worth, the grade bands, the
black and red lists (as declarative predicates), the sanctions and rewards the lists or
grades trigger, and the due-process guarantees. Nothing here runs code from the policy.

This module holds the whole document (``Policy``), its ``meta`` and ``calendar`` blocks, and
re-exports every part of the language from the module that defines it: ``fields`` (base
model, numbers, names, vocabularies), ``durations``, ``scores``, ``records``,
``conditions``, ``measures`` (lists and sanctions), ``services``, ``subjects``,
``due_process`` and ``sources``.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import (
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from socialcredit.calendars import available as available_calendars
from socialcredit.policy.conditions import (
    Anchor,
    GradeSet,
    Predicate,
    RankCondition,
    RecordCondition,
    ScoreLimit,
)
from socialcredit.policy.due_process import (
    DueProcess,
    DueProcessOverride,
    OnOverdue,
    Reconsideration,
    StartsAfter,
)
from socialcredit.policy.durations import (
    DURATION_OR_NEVER_PATTERN,
    DURATION_PATTERN,
    MAX_DURATION,
    Duration,
    OptionalDuration,
    PositiveDuration,
)
from socialcredit.policy.fields import (
    MAX_POINTS,
    Category,
    Context,
    Evidence,
    Name,
    Number,
    StrictModel,
    SubjectKind,
    absent_field,
    omit_when_default,
)
from socialcredit.policy.lint_settings import LintSettings
from socialcredit.policy.measures import (
    AfterResolution,
    DurationRule,
    FixedDuration,
    ListDef,
    Reach,
    Sanction,
)
from socialcredit.policy.records import (
    RecordType,
    TermBounds,
    TermExtension,
)
from socialcredit.policy.reevaluation import Reevaluation
from socialcredit.policy.scores import (
    UNPUBLISHED,
    CleanYear,
    Component,
    Grade,
    GradeChoice,
    GradeFloor,
    NamedScore,
    PointsScore,
    RatingRule,
    RelatedScore,
    ScoreForm,
    ScoreThreshold,
)
from socialcredit.policy.services import (
    AttributeCondition,
    AttributeValue,
    Service,
    ServiceAttribute,
    ServiceDef,
)
from socialcredit.policy.sources import SourceDef, SourceName
from socialcredit.policy.subjects import (
    AttributeDef,
    AttributeType,
    EligibilityCondition,
    RelationDef,
)
from socialcredit.policy.wallets import Wallet, WalletCap, WalletEarn

__all__ = [
    "DURATION_OR_NEVER_PATTERN",
    "DURATION_PATTERN",
    "MAX_DURATION",
    "MAX_POINTS",
    "UNPUBLISHED",
    "AfterResolution",
    "Anchor",
    "AttributeCondition",
    "AttributeDef",
    "AttributeType",
    "AttributeValue",
    "CalendarDef",
    "Category",
    "CleanYear",
    "Component",
    "Context",
    "DueProcess",
    "DueProcessOverride",
    "Duration",
    "DurationRule",
    "EligibilityCondition",
    "Evidence",
    "FixedDuration",
    "Grade",
    "GradeChoice",
    "GradeFloor",
    "GradeSet",
    "LintSettings",
    "ListDef",
    "Meta",
    "Name",
    "NamedScore",
    "Number",
    "OnOverdue",
    "OptionalDuration",
    "PointsScore",
    "Policy",
    "PositiveDuration",
    "Predicate",
    "RankCondition",
    "RatingRule",
    "Reach",
    "Reconsideration",
    "RecordCondition",
    "RecordType",
    "Reevaluation",
    "RelatedScore",
    "RelationDef",
    "Sanction",
    "ScoreForm",
    "ScoreLimit",
    "ScoreThreshold",
    "Service",
    "ServiceAttribute",
    "ServiceDef",
    "SourceDef",
    "SourceName",
    "StartsAfter",
    "SubjectKind",
    "TermBounds",
    "TermExtension",
    "Wallet",
    "WalletCap",
    "WalletEarn",
]


class Meta(StrictModel):
    """Who publishes the policy and on what basis."""

    title: str
    description: str = ""
    jurisdiction: str = ""
    sources: list[str] = Field(default_factory=list)


_CALENDAR_NAMES: dict[str, Any] = {"enum": available_calendars()}


_UTC_OFFSET = r"^[+-](?:[01]\d|2[0-3]):[0-5]\d$"


class CalendarDef(StrictModel):
    """How the policy counts days: its local time and, for working days, its holidays."""

    holidays: str = Field(
        "none",
        json_schema_extra=_CALENDAR_NAMES,
        description="A holiday calendar shipped with the engine, by name: 'prc' (public "
        "holidays of the People's Republic of China with the adjusted working days), or "
        "'none' (Monday to Friday, no holidays).",
    )
    utc_offset: str = Field(
        "+00:00",
        json_schema_extra={"pattern": _UTC_OFFSET},
        description="The local time days and months are counted in, e.g. '+08:00'.",
    )
    first_day_counted: bool = Field(
        False,
        description="Whether the day a working-day period starts from counts as its first "
        "day (false: 'within 3 working days' of a Friday ends with the third working day "
        "after it).",
    )

    @field_validator("utc_offset")
    @classmethod
    def _offset(cls, value: str) -> str:
        if not re.fullmatch(_UTC_OFFSET.strip("^$"), value):
            raise ValueError(
                'expected an offset from UTC written "+HH:MM" or "-HH:MM" (hours 00-23, '
                'minutes 00-59), e.g. "+08:00" for China'
            )
        return value

    @field_validator("holidays")
    @classmethod
    def _known_calendar(cls, value: str) -> str:
        if value not in available_calendars():
            names = ", ".join(available_calendars())
            raise ValueError(f"unknown holiday calendar {value!r} (shipped: {names})")
        return value

    def offset_seconds(self) -> int:
        """``utc_offset`` in seconds east of UTC."""
        sign = -1 if self.utc_offset.startswith("-") else 1
        hours, minutes = self.utc_offset[1:].split(":")
        return sign * (int(hours) * 3600 + int(minutes) * 60)


class Policy(StrictModel):
    """A whole policy document."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["score", "grades"]},
                {"required": ["scores"], "properties": {"scores": {"minProperties": 1}}},
            ],
            "dependentRequired": {"score": ["grades"], "grades": ["score"]},
        }
    )

    policy: str = Field(
        pattern=r"^[a-z][a-z0-9_-]*$",
        max_length=80,
        description="The policy's identifier: lower-case letters, digits, '-' and '_'.",
    )
    version: str = Field(min_length=1, max_length=40)
    meta: Meta
    score: ScoreForm | None = Field(
        None, description="The unnamed score (with grades); optional when scores are named."
    )
    grades: list[Grade] | None = Field(None, min_length=1)
    scores: dict[Name, NamedScore] = Field(
        default_factory=dict,
        description="Named scores, each with components and its own grades; the first score "
        "(the unnamed one if given, else the first named) is the one reported as 'score'.",
    )
    record_types: dict[Name, RecordType] = Field(min_length=1)
    services: dict[Name, ServiceDef] = Field(
        default_factory=dict,
        description="Service points, with the names people are told (optional; when given, "
        "every measure's service must be declared here).",
    )
    relations: dict[Name, RelationDef] = Field(default_factory=dict)
    attributes: dict[Name, AttributeDef] = Field(
        default_factory=dict,
        description="Subject attributes the ledger may record and eligibility conditions test.",
    )
    lists: dict[Name, ListDef] = Field(default_factory=dict)
    sanctions: dict[Name, Sanction] = Field(default_factory=dict)
    due_process: DueProcess
    sources: dict[SourceName, SourceDef] = Field(
        default_factory=dict,
        description="The authorities that submit entries, by the name their entries give as "
        "'source', and what each may submit (record types, relations, attributes, "
        "exemptions); each may also correct its own records. A submitter restricted to one "
        "source (an API key 'source:<name>', `ingest --source`) may submit nothing else.",
    )
    calendar: CalendarDef | None = Field(
        None,
        description="How days are counted: the local time months and working days are "
        "counted in, and the holiday calendar behind working days (required when a "
        "duration is in working days).",
    )
    reevaluation: Reevaluation | None = Field(
        None,
        description="Recompute every answer at fixed boundaries (every month, every year) "
        "instead of when each record arrives: an answer about any time is the one given at "
        "the last boundary, with what the ledger had received by then.",
    )
    lint: LintSettings | None = Field(
        None,
        exclude_if=absent_field,
        description="Lint rules silenced for the policy's own parts (its score and grades); "
        "each element (record type, list, measure, service, relation, due_process) has its own.",
    )

    @model_validator(mode="after")
    def _some_score(self) -> Policy:
        if (self.score is None) != (self.grades is None):
            missing = "grades" if self.grades is None else "score"
            raise ValueError(
                f"the unnamed score needs both 'score' and 'grades'; '{missing}' is missing"
            )
        if self.score is None and not self.scores:
            raise ValueError("declare a score: 'score' with 'grades', or named 'scores'")
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        # second edition (issue 7): a policy without them dumps (and hashes) as before
        omit_when_default(
            data, self, ("calendar", "attributes", "scores", "sources", "reevaluation")
        )
        return data

    def label(self) -> str:
        """``policy@version``, the name decisions use for this policy."""
        return f"{self.policy}@{self.version}"

    def service_name(self, service: str) -> str:
        """The service's display name (declared under ``services``), else its id in words."""
        declared = self.services.get(service)
        if declared is not None and declared.display_name:
            return declared.display_name
        return service.replace("_", " ")

    def subject_kinds_by_type(self) -> dict[str, list[str]]:
        """Each record type and the subject kinds it may be about (what ingestion checks)."""
        return {name: list(rt.subject_kinds) for name, rt in self.record_types.items()}
