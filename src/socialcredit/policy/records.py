"""Record types in a policy: what a record is worth, how long it counts, the terms and
extensions it may carry, its due process and eligibility.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from socialcredit.policy.due_process import DueProcessOverride
from socialcredit.policy.durations import OptionalDuration, PositiveDuration
from socialcredit.policy.fields import (
    Category,
    Context,
    Evidence,
    Number,
    StrictModel,
    SubjectKind,
    absent_field,
    omit_when_default,
)
from socialcredit.policy.lint_settings import LintSettings, RecordSeverity
from socialcredit.policy.subjects import EligibilityCondition
from socialcredit.spans import Span


class TermExtension(StrictModel):
    """How far a record's term may be extended by ``extend`` corrections."""

    min: PositiveDuration = Field(description="Each extension is at least this long.")
    max: PositiveDuration = Field(description="All extensions of a record together at most.")

    @model_validator(mode="after")
    def _ordered(self) -> TermExtension:
        if self.min > self.max:
            raise ValueError("extension min is longer than extension max")
        return self


class TermBounds(StrictModel):
    """The terms a record of this type may carry: its own term within [min, max] (both
    default to ``expires_after``), and the extensions courts may add."""

    min: PositiveDuration | None = Field(
        None, description="A record's own term is at least this long (default: expires_after)."
    )
    max: PositiveDuration | None = Field(
        None, description="A record's own term is at most this long (default: expires_after)."
    )
    extension: TermExtension | None = Field(
        None, description="How far extend corrections may lengthen the term (none: not at all)."
    )


class RecordType(StrictModel):
    """A kind of record a source may submit, and what it does to a subject's standing."""

    description: str = ""
    points: Number = 0
    expires_after: OptionalDuration = Field(
        description="How long a record counts, from when it occurred; 'never' must be explicit."
    )
    decay: Literal["none", "linear"] = "none"
    context: Context
    category: Category
    evidence: Evidence
    subject_kinds: list[SubjectKind] = Field(
        default_factory=lambda: list[SubjectKind](["person", "organisation"])
    )
    resolvable: bool = Field(
        False, description="Whether the subject can resolve it (e.g. by paying the debt)."
    )
    term: TermBounds | None = Field(
        None,
        description="Terms set per case and extensions: the bounds a record's own term and "
        "extend corrections must keep (none: every record lasts expires_after).",
    )
    due_process: DueProcessOverride | None = Field(
        None,
        exclude_if=absent_field,
        description="Due process for records of this type, overriding the policy-wide block.",
    )
    eligible: list[EligibilityCondition] = Field(
        default_factory=list,
        description="Records of this type count only while every condition holds for the subject.",
    )
    severity: RecordSeverity | None = Field(
        None,
        exclude_if=absent_field,
        description="How grave the recorded behaviour is: minor, moderate or serious (read "
        "by the linter's proportionality rules; default: judged from negative points).",
    )
    lint: LintSettings | None = Field(
        None, exclude_if=absent_field, description="Lint rules silenced for this record type."
    )

    @model_validator(mode="after")
    def _decay_needs_expiry(self) -> RecordType:
        if self.decay == "linear" and self.expires_after is None:
            raise ValueError("decay 'linear' needs a finite expires_after to decay over")
        return self

    @model_validator(mode="after")
    def _term_bounds(self) -> RecordType:
        term = self.term
        if term is None:
            return self
        default = self.expires_after
        low = term.min if term.min is not None else default
        high = term.max if term.max is not None else default
        # each message starts with the field it is about: the loader reports it there
        if low is not None and high is not None and low > high:
            if term.min is not None and term.max is not None:
                raise ValueError("term.min: is longer than term.max")
            if term.min is not None:
                raise ValueError(
                    "term.min: is longer than expires_after (the longest term when term.max "
                    "is not given)"
                )
            raise ValueError(
                "term.max: is shorter than expires_after (the shortest term when term.min "
                "is not given)"
            )
        if default is not None and low is not None and default < low:
            raise ValueError("term.min: is longer than expires_after (the default term)")
        if default is not None and high is not None and default > high:
            raise ValueError("term.max: is shorter than expires_after (the default term)")
        if default is None and term.extension is not None and term.max is None:
            raise ValueError(
                "term.extension: a record that never expires cannot be extended; give "
                "term.max for records that carry their own term"
            )
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        omit_when_default(data, self, ("term", "eligible"))  # second edition (issue 7)
        return data

    def term_bounds(self) -> tuple[Span | None, Span | None, Span, Span]:
        """(shortest own term, longest own term, shortest extension, longest total extension);
        None = never ends; extensions zero spans when none is allowed. Compared with each
        other at average lengths (``Span.nominal``); scoring clamps on the dates."""
        default = self.expires_after
        term = self.term
        if term is None:
            return default, default, Span(), Span()
        low = term.min if term.min is not None else default
        high = term.max if term.max is not None else default
        ext = term.extension
        return low, high, (ext.min if ext else Span()), (ext.max if ext else Span())
