"""Measures in a policy: the black and red lists, and the sanctions and rewards at service
points with how long they last, whom they reach and when they start.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, SerializerFunctionWrapHandler, Tag, model_serializer

from socialcredit.policy.conditions import Predicate
from socialcredit.policy.due_process import DueProcessOverride, StartsAfter
from socialcredit.policy.durations import Duration, PositiveDuration
from socialcredit.policy.fields import Name, StrictModel, absent_field, omit_when_default
from socialcredit.policy.lint_settings import LintSettings, MeasureSeverity
from socialcredit.policy.services import AttributeCondition, Service
from socialcredit.policy.subjects import EligibilityCondition
from socialcredit.spans import Span


class ListDef(StrictModel):
    """A black list (adverse) or red list (favourable) defined by a condition."""

    kind: Literal["black", "red"]
    display_name: str = Field(
        "", max_length=120, description="How people are told the list's name; default: its id."
    )
    description: str = ""
    when: Predicate
    delist_after_resolution: Duration = Field(
        Span(),
        description="Delay between a record being resolved and the listing being lifted.",
        json_schema_extra={"default": "P0D"},
    )
    legal_basis: str = ""
    due_process: DueProcessOverride | None = Field(
        None,
        exclude_if=absent_field,
        description="Due process for the record types this list's condition names, "
        "overriding the policy-wide block (a record type's own block overrides this one).",
    )
    eligible: list[EligibilityCondition] = Field(
        default_factory=list,
        description="Only subjects for whom every condition holds may be on the list.",
    )
    lint: LintSettings | None = Field(
        None, exclude_if=absent_field, description="Lint rules silenced for this list."
    )

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        omit_when_default(data, self, ("eligible",))  # second edition (issue 7)
        return data


class FixedDuration(StrictModel):
    """The measure lasts a fixed period from when its trigger started."""

    fixed: PositiveDuration


class AfterResolution(StrictModel):
    """The measure lasts from when its trigger started until this long after the records
    that triggered it are resolved (the last of them); it has no end while one is not.
    The trigger is not tested again: the end comes from the triggering records alone."""

    after_resolution: Duration


def _duration_rule_tag(value: Any) -> str:
    if isinstance(value, AfterResolution) or (
        isinstance(value, dict) and "after_resolution" in value
    ):
        return "<after>"
    return "<fixed>" if isinstance(value, dict | FixedDuration) else "<while>"


# A tagged union, so that a bad `{fixed: ...}` is reported once, at its own path, rather than
# also as "not 'while_triggered'".
DurationRule = Annotated[
    Annotated[Literal["while_triggered"], Tag("<while>")]
    | Annotated[FixedDuration, Tag("<fixed>")]
    | Annotated[AfterResolution, Tag("<after>")],
    Discriminator(_duration_rule_tag),
]


class Reach(StrictModel):
    """Extends a measure to subjects who stand in ``relation`` to the subject it applies to."""

    relation: Name


class Sanction(StrictModel):
    """A measure at a service point: a denial (sanction) or a benefit (reward)."""

    description: str = ""
    when: Predicate
    service: Service
    effect: Literal["deny", "benefit"]
    duration: DurationRule = "while_triggered"
    max_duration: PositiveDuration | None = Field(
        None, description="Upper bound: the measure ends this long after it started."
    )
    reach: list[Reach] = Field(default_factory=list)
    reason_code: str = Field("", max_length=40)
    legal_basis: str = ""
    applies_to: list[AttributeCondition] = Field(
        default_factory=list,
        description="Limit the measure to requests whose attributes match every condition "
        "(attributes the service declares); default: every request.",
    )
    starts_after: StartsAfter | None = Field(
        None,
        exclude_if=absent_field,
        description="A publicity period: the measure starts when it ends, unless an "
        "objection is upheld.",
    )
    severity: MeasureSeverity | None = Field(
        None,
        exclude_if=absent_field,
        description="How hard the measure hits: low, medium or high (read by the linter's "
        "proportionality rules, which compare it with the triggering records' severity).",
    )
    lint: LintSettings | None = Field(
        None, exclude_if=absent_field, description="Lint rules silenced for this measure."
    )

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        omit_when_default(data, self, ("applies_to",))  # second edition (issue 7)
        return data
