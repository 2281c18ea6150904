"""Conditions in a policy: the declarative predicates (``all`` / ``any`` / ``not``, records
conditions with their windows and anchors, score and grade limits, list membership) that
lists and measures are defined by.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    model_serializer,
    model_validator,
)

from socialcredit.policy.durations import PositiveDuration
from socialcredit.policy.fields import (
    MAX_POINTS,
    Category,
    Name,
    Number,
    StrictModel,
    exactly_one_of,
    omit_when_default,
)
from socialcredit.policy.scores import GradeChoice, ScoreThreshold


class Anchor(StrictModel):
    """The event a records condition's window starts at: the resolution of a record of a
    type (``resolution_of``) or another record of a type (``record_of``)."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of(("resolution_of", "record_of")))

    resolution_of: Name | None = Field(
        None, description="The window starts when a record of this (resolvable) type is resolved."
    )
    record_of: Name | None = Field(
        None, description="The window starts when a record of this type occurred."
    )

    @model_validator(mode="after")
    def _one(self) -> Anchor:
        if (self.resolution_of is None) == (self.record_of is None):
            raise ValueError("give exactly one of 'resolution_of' or 'record_of'")
        return self

    @property
    def type_name(self) -> str:
        """The record type whose records anchor the window."""
        name = self.resolution_of if self.resolution_of is not None else self.record_of
        assert name is not None
        return name


class RecordCondition(StrictModel):
    """Holds when the subject has at least ``at_least`` active records matching the filters."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of(("type", "types", "category")))

    type: Name | None = None
    types: list[Name] | None = None
    category: Category | None = None
    at_least: int = Field(1, ge=1, le=MAX_POINTS, strict=False)  # 2.0 is a count, as in JSON Schema
    unresolved: bool = Field(False, description="Count only records not (yet) resolved.")
    within: PositiveDuration | None = Field(
        None,
        description="Count only records this recent; with 'after', only records that occurred "
        "within this long after the anchoring event.",
    )
    after: Anchor | None = Field(
        None,
        description="Count only records that occurred after an anchoring event (the "
        "resolution of a record of a type, or another record of a type), within 'within' of it.",
    )

    @model_validator(mode="after")
    def _one_filter(self) -> RecordCondition:
        given = [k for k in ("type", "types", "category") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'type', 'types' or 'category'")
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        omit_when_default(data, self, ("after",))  # second edition (issue 7)
        return data

    def type_names(self) -> list[str]:
        """The record type names this condition names explicitly (empty for a category)."""
        if self.type is not None:
            return [self.type]
        return list(self.types or [])


class RankCondition(StrictModel):
    """``rank_top``: the subject is among the ``seats`` highest of every subject of ``kind``
    ranked by score ``score`` at the same time (a bulk predicate: it needs everyone's score).

    Candidates are the subjects of that kind with at least ``min_ratings`` ratings counted
    by the score (a score of the ``rating`` form) or, for another form, every subject of
    that kind the ledger holds. Ties are broken by ``ties``: ``subject_id`` (the lower
    subject identifier in Unicode code point order first) or ``more_ratings`` (more
    ratings counted first, then the lower subject identifier).
    """

    score: Name = Field(description="The score ranked (highest first).")
    seats: int = Field(ge=1, le=MAX_POINTS, description="How many are taken from the top.")
    kind: Literal["person", "organisation"] = Field(
        "person", description="The subjects ranked: persons or organisations."
    )
    min_ratings: int = Field(
        1,
        ge=0,
        le=MAX_POINTS,
        description="A candidate needs at least this many counted ratings (rating form only).",
    )
    ties: Literal["subject_id", "more_ratings"] = Field(
        description="The declared, deterministic rule that orders equal scores: 'subject_id' "
        "(lower identifier first) or 'more_ratings' (more ratings first, then identifier)."
    )


def _named_tag(value: Any) -> str:
    return "<named>" if isinstance(value, dict | ScoreThreshold | GradeChoice) else "<plain>"


# tagged unions: a bad plain value is reported once, at its own path
ScoreLimit = Annotated[
    Annotated[Number, Tag("<plain>")] | Annotated[ScoreThreshold, Tag("<named>")],
    Discriminator(_named_tag),
]
GradeSet = Annotated[
    Annotated[list[str], Field(min_length=1), Tag("<plain>")]
    | Annotated[GradeChoice, Tag("<named>")],
    Discriminator(_named_tag),
]


class Predicate(StrictModel):
    """A declarative condition; exactly one key is set. Combine with all / any / not."""

    model_config = ConfigDict(
        json_schema_extra=exactly_one_of(
            (
                "all",
                "any",
                "not",
                "records",
                "score_below",
                "score_at_least",
                "grade_in",
                "list",
                "rank_top",
            )
        )
    )

    all_: list[Predicate] | None = Field(None, alias="all", min_length=1)
    any_: list[Predicate] | None = Field(None, alias="any", min_length=1)
    not_: Predicate | None = Field(None, alias="not")
    records: RecordCondition | None = None
    score_below: ScoreLimit | None = None
    score_at_least: ScoreLimit | None = None
    grade_in: GradeSet | None = None
    on_list: str | None = Field(None, alias="list")
    rank_top: RankCondition | None = Field(
        None,
        description="The subject is among the top 'seats' of its kind by a score, ranked for "
        "everyone at the same time (needs 'reevaluation').",
    )

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        omit_when_default(data, self, ("rank_top",))  # issue 11: old policies hash as before
        return data

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        if isinstance(data, dict):
            keys = [k for k in data if data[k] is not None]
            if len(keys) != 1:
                allowed = (
                    "all, any, not, records, score_below, score_at_least, grade_in, list, rank_top"
                )
                raise ValueError(
                    f"a condition has exactly one of: {allowed}; got {sorted(map(str, keys)) or 'none'}"
                )
        return data

    def walk(self) -> list[Predicate]:
        """This predicate and every predicate nested in it, depth first."""
        out: list[Predicate] = [self]
        for child in (self.all_ or []) + (self.any_ or []) + ([self.not_] if self.not_ else []):
            out.extend(child.walk())
        return out

    def score_named(self) -> str | None:
        """The named score this score or grade condition tests (None: the first score)."""
        for value in (self.score_below, self.score_at_least, self.grade_in):
            if isinstance(value, ScoreThreshold | GradeChoice):
                return value.score
        if self.rank_top is not None:
            return self.rank_top.score
        return None

    def threshold(self) -> float | None:
        """The number a ``score_below`` / ``score_at_least`` condition compares with."""
        value = self.score_below if self.score_below is not None else self.score_at_least
        if isinstance(value, ScoreThreshold):
            return value.value
        return value

    def grades(self) -> list[str]:
        """The grades a ``grade_in`` condition names (empty for any other condition)."""
        if isinstance(self.grade_in, GradeChoice):
            return list(self.grade_in.grades)
        return list(self.grade_in or [])

    def uses_score(self) -> bool:
        """Whether the condition depends on the score or grade (and so may change with decay)."""
        return any(
            p.score_below is not None
            or p.score_at_least is not None
            or p.grade_in is not None
            or p.rank_top is not None
            for p in self.walk()
        )
