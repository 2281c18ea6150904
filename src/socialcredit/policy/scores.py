"""Scores in a policy: the unnamed score's form, grade bands, named scores with their
components and clean-year rewards, and the score/grade references conditions make.
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

from socialcredit.policy.fields import (
    Category,
    Name,
    Number,
    StrictModel,
    absent_field,
    exactly_one_of,
    omit_when_default,
)
from socialcredit.policy.wallets import Wallet


class PointsScore(StrictModel):
    """Score = base + the points of every active record (decayed where declared), clamped."""

    form: Literal["points"] = "points"
    base: Number = 0
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _bounds(self) -> PointsScore:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


ScoreForm = PointsScore  # later forms join as a union discriminated by `form`


UNPUBLISHED = "unpublished"
"""A grade band's floor that the rule book does not publish (``at_least: unpublished``)."""


def _floor_tag(value: Any) -> str:
    return "<unpublished>" if isinstance(value, str) else "<number>"


# tagged, so that a bad number is reported once (not also as "not 'unpublished'")
GradeFloor = Annotated[
    Annotated[Number, Tag("<number>")] | Annotated[Literal["unpublished"], Tag("<unpublished>")],
    Discriminator(_floor_tag),
]


class Grade(StrictModel):
    """One grade band: scores at or above ``at_least`` (down to the next band) get ``name``.

    ``at_least: unpublished``: the band exists but its cut-off is not public. Nobody is
    placed in it; a score that may fall in it gets no grade ("not determinable").
    """

    name: str = Field(min_length=1, max_length=20)
    at_least: GradeFloor | None = None
    description: str = ""

    @property
    def unpublished(self) -> bool:
        """Whether this band's cut-off is not published."""
        return self.at_least == UNPUBLISHED


class CleanYear(StrictModel):
    """Points for every whole calendar year (UTC), from ``first_year`` on, in which the
    subject has no record of ``types`` (or of ``category``): the reward appears on 1 January
    of the next year. A record counts against its year once the ledger knows it, unless it is
    annulled, rectified away, suspended or deleted; an expired record still made its year
    unclean."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of(("types", "category")))

    types: list[Name] | None = Field(None, min_length=1)
    category: Category | None = None
    points: Number = Field(description="Points for each clean year.")
    first_year: int = Field(
        ge=1900, le=9999, description="The first calendar year that can earn the reward."
    )

    @model_validator(mode="after")
    def _one_filter(self) -> CleanYear:
        if (self.types is None) == (self.category is None):
            raise ValueError("give exactly one of 'types' or 'category'")
        return self


class RelatedScore(StrictModel):
    """A component valued by the scores of related subjects (``related:``): the mean, over
    the subjects the subject stands in ``relation`` to (valid and known at the time), of
    their score ``score`` computed without any ``related`` component (so nobody's score
    depends on their own), less that score's ``base``. With nobody related, the component
    is its ``base``."""

    relation: Name = Field(description="The declared relation followed (e.g. friend_of).")
    score: Name = Field(description="The related subjects' score that is averaged.")


class Component(StrictModel):
    """One part of a named score: the points of some records (``types`` or ``category``), or a
    clean-year reward (``clean_year``); started at ``base``, held within ``min``/``max`` (a
    cap), then multiplied by ``weight`` before it is added to the score."""

    model_config = ConfigDict(
        json_schema_extra=exactly_one_of(("types", "category", "clean_year", "related"))
    )

    display_name: str = Field("", max_length=120, description="How people are told its name.")
    description: str = ""
    types: list[Name] | None = Field(None, min_length=1)
    category: Category | None = None
    clean_year: CleanYear | None = None
    related: RelatedScore | None = Field(
        None,
        description="Valued by related subjects' scores: the mean of their score (without "
        "its related components) less its base; with nobody related, 'base'.",
    )
    base: Number = 0
    min: Number | None = None
    max: Number | None = None
    weight: Number = 1

    @model_validator(mode="after")
    def _check(self) -> Component:
        kinds = ("types", "category", "clean_year", "related")
        given = [k for k in kinds if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'types', 'category', 'clean_year' or 'related'")
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        omit_when_default(data, self, ("related",))  # issue 11: old policies hash as before
        return data


class RatingRule(StrictModel):
    """How a ``rating`` score aggregates ratings: a Bayesian average with a declared prior.

    Each record of ``types`` is one rating of its subject by its ``source`` (the rater), with
    the rating in its ``amount``. Only the ratings of the last whole re-evaluation period
    (the policy's ``reevaluation``: the term) count, one per rater and subject: the one that
    occurred last (then the one the ledger received last). A rating of oneself never counts
    (ingestion refuses it). The score is
    ``(prior_weight * prior_mean + sum of ratings) / (prior_weight + number of ratings)``:
    a subject rated by few stays near the prior, so three enthusiasts cannot outrank a
    subject rated well by thousands.
    """

    types: list[Name] = Field(min_length=1, description="The record types that are ratings.")
    lowest: Number = Field(description="The lowest rating a rater may give.")
    highest: Number = Field(description="The highest rating a rater may give.")
    prior_mean: Number = Field(description="The score of a subject nobody rated.")
    prior_weight: Number = Field(
        gt=0, description="How many ratings the prior counts as (pseudo-ratings)."
    )

    @model_validator(mode="after")
    def _range(self) -> RatingRule:
        if self.lowest >= self.highest:
            raise ValueError(f"lowest ({self.lowest}) must be below highest ({self.highest})")
        if not self.lowest <= self.prior_mean <= self.highest:
            raise ValueError(f"prior_mean ({self.prior_mean}) must lie between lowest and highest")
        return self


class NamedScore(StrictModel):
    """A named score (``scores:``): base plus its components' (bounded, weighted) values, or,
    without components, plus the points of every record, as the unnamed score; clamped to
    min/max and banded by its own ``grades``. ``form: wallet``: the balance of a points
    wallet (``wallet:``, see ``policy.wallets``), banded by its grades."""

    display_name: str = Field(
        "", max_length=120, description="How people are told its name; default: its id."
    )
    description: str = ""
    form: Literal["points", "wallet", "rating"] = "points"
    base: Number = 0
    min: Number | None = None
    max: Number | None = None
    components: dict[Name, Component] = Field(default_factory=dict)
    wallet: Wallet | None = Field(
        None,
        exclude_if=absent_field,
        description="The wallet's rules (form 'wallet' only): what earns, what spends, "
        "caps per period and when unspent points expire.",
    )
    rating: RatingRule | None = Field(
        None, description="For form 'rating': which records are ratings and the prior."
    )
    grades: list[Grade] = Field(min_length=1)

    @model_validator(mode="after")
    def _wallet(self) -> NamedScore:
        if self.form == "wallet":
            if self.wallet is None:
                raise ValueError("form 'wallet' needs a 'wallet:' block (earn, expire_after)")
            given = [k for k in ("base", "min", "max") if getattr(self, k) not in (0, None)]
            if self.components or given:
                parts = ", ".join(["components", *given] if self.components else given)
                raise ValueError(
                    f"a wallet's balance is what was earned less what was spent and expired "
                    f"(never below zero): {parts} do not apply to form 'wallet'"
                )
        elif self.wallet is not None:
            raise ValueError("'wallet:' needs 'form: wallet'")
        return self

    @model_validator(mode="after")
    def _bounds(self) -> NamedScore:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        if self.form == "rating":
            if self.rating is None:
                raise ValueError("a score of form 'rating' needs 'rating' (types and prior)")
            if self.components:
                raise ValueError("a score of form 'rating' has no components")
        elif self.rating is not None:
            raise ValueError("'rating' is for a score of form 'rating'")
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        omit_when_default(data, self, ("rating",))  # issue 11: old policies hash as before
        return data


class ScoreThreshold(StrictModel):
    """``score_below`` / ``score_at_least`` on a named score: ``{score: jasmine, value: 550}``."""

    score: Name
    value: Number


class GradeChoice(StrictModel):
    """``grade_in`` on a named score: ``{score: jasmine, grades: [A, B]}``."""

    score: Name
    grades: list[str] = Field(min_length=1)
