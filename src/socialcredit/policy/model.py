"""The policy language: what a published policy may say, as pydantic models.

A policy is data. It names record types and what they are worth, the grade bands, the
black and red lists (as declarative predicates), the sanctions and rewards the lists or
grades trigger, and the due-process guarantees. Nothing here runs code from the policy.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Tag,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)

from socialcredit.calendars import available as available_calendars
from socialcredit.spans import AVERAGE_MONTH, Span, legacy_seconds, parse_span
from socialcredit.timeutil import TimeFormatError

MAX_DURATION = 1000 * 12 * AVERAGE_MONTH  # 1000 years: beyond any rule's horizon, inside int64

MAX_POINTS = 1_000_000_000
"""The largest magnitude of any number in a policy's scoring (points, base, min, max, grade
floors, score conditions) and of a records condition's count. Real policies use thousands;
a score sums a base and the points of a subject's records, so even a billion records at the
limit stay near 1e18, far inside a float (1.8e308): no sum overflows to infinity."""


def _within_points_range(value: Any) -> Any:
    # an integer too large for a float would otherwise be "not a valid number"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_POINTS:
        raise ValueError(f"Input should be between -{MAX_POINTS} and {MAX_POINTS}")
    return value


Number = Annotated[
    float, Field(ge=-MAX_POINTS, le=MAX_POINTS), BeforeValidator(_within_points_range)
]
"""A finite number in [-MAX_POINTS, MAX_POINTS]."""


def _duration(value: Any) -> Span:
    if isinstance(value, Span):
        return value
    if isinstance(value, str):
        try:
            span = parse_span(value)
        except TimeFormatError as exc:
            raise ValueError(str(exc)) from None
        if span.nominal() > MAX_DURATION:
            raise ValueError(f"{value!r} is longer than 1000 years; write 'never' for no end")
        return span
    # a bare number is ambiguous (days? seconds?), so durations are always written with a unit
    raise ValueError(
        f"{value!r} is not a duration; write it with a unit, e.g. 'P180D', '2 years' or '30d'"
    )


def _positive_duration(value: Any) -> Span:
    span = _duration(value)
    if span.zero:
        raise ValueError(f"{value!r} is a zero duration; this one must be longer, e.g. 'P1D'")
    return span


def _duration_or_never(value: Any) -> Span | None:
    if isinstance(value, str) and value.strip().lower() == "never":
        return None
    if value is None:
        raise ValueError("expected a duration such as 'P2Y', or 'never' (say it explicitly)")
    return _positive_duration(value)


def _dump_span(span: Span | None, info: SerializationInfo) -> int | str | None:
    # the content hash's form of a span; with context {"legacy": True}, the seconds it had
    # when a year was 365 days and a month 30 (to recognise policies stored before)
    if span is None:
        return None
    if info.context and info.context.get("legacy"):
        return legacy_seconds(span)
    return span.canonical()


def _either_case(word: str) -> str:
    # JSON Schema patterns (ECMA-262) have no case-insensitive flag
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


_ISO = (
    rf"{_either_case('p')}(?=[^\s]*\d)(?:\d+{_either_case('y')})?(?:\d+{_either_case('m')})?"
    rf"(?:\d+{_either_case('w')})?(?:\d+{_either_case('d')})?(?:{_either_case('t')}"
    rf"(?:\d+{_either_case('h')})?(?:\d+{_either_case('m')})?(?:\d+{_either_case('s')})?)?"
)
_UNITS = "|".join(
    [f"{_either_case('working')}\\s+{_either_case('day')}{_either_case('s')}?",
     f"{_either_case('wd')}"]
    + [f"{_either_case(short)}(?:{_either_case(rest)}{_either_case(plural)}?)?"
       for short, rest, plural in (("y", "ear", "s"), ("mo", "nth", "s"), ("w", "eek", "s"),
                                   ("d", "ay", "s"), ("h", "our", "s"))]
)  # fmt: skip
DURATION_PATTERN = rf"^\s*(?:{_ISO}|\d+\s*(?:{_UNITS}))\s*$"
"""What ``parse_span`` reads, as a JSON Schema (ECMA-262) pattern: ISO 8601 or '180d'."""
DURATION_OR_NEVER_PATTERN = rf"^\s*(?:{_ISO}|\d+\s*(?:{_UNITS})|{_either_case('never')})\s*$"

_DURATION_HELP = (
    "A duration with a unit: ISO 8601 ('P180D', 'P2Y', 'P1Y6M', 'PT12H') or a number and a "
    "unit ('180d', '3 years', '6 months', '2w', '3 working days', '3wd'); never a bare "
    "number. Years and months are calendar months; working days need a calendar."
)
Duration = Annotated[
    Span,
    PlainValidator(_duration),
    PlainSerializer(_dump_span),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": _DURATION_HELP,
            "examples": ["P180D", "P2Y", "30d", "2 years"],
        }
    ),
]
"""A ``Span``; written in YAML as ISO 8601 ('P180D') or '180d' / '2 years' / '3 working days'."""

# a duration is longer than zero exactly when one of its numbers has a digit other than 0
_NONZERO = r"^(?=[^1-9]*[1-9])"
PositiveDuration = Annotated[
    Span,
    PlainValidator(_positive_duration),
    PlainSerializer(_dump_span),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _NONZERO + DURATION_PATTERN[1:],
            "description": _DURATION_HELP + " Longer than zero.",
            "examples": ["P180D", "P2Y", "30d", "2 years"],
        }
    ),
]
"""A ``Span`` longer than zero (a zero duration would make the rule do nothing)."""

OptionalDuration = Annotated[
    Span | None,
    PlainValidator(_duration_or_never),
    PlainSerializer(_dump_span),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _NONZERO[:-1]
            + "|\\s*[Nn][Ee][Vv][Ee][Rr]\\s*$)"
            + DURATION_OR_NEVER_PATTERN[1:],
            "description": _DURATION_HELP + " Longer than zero; 'never' means no end.",
            "examples": ["P2Y", "180d", "never"],
        }
    ),
]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]

Context = Literal[
    "courts", "transit", "tax", "finance", "civic", "health", "commerce", "online", "education"
]
Category = Literal[
    "judicial", "financial", "conduct", "expression", "association", "prosocial", "health"
]
Evidence = Literal["court_order", "official_record", "third_party_report", "self_reported"]
SubjectKind = Literal["person", "organisation"]
Service = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


def _omit_when_default(data: dict[str, Any], model: BaseModel, names: tuple[str, ...]) -> None:
    """Drop the fields ``names`` from ``data`` (a dump of ``model``) while they hold their
    defaults: fields added to the language later, so that a policy that does not use them
    dumps, and so hashes (``content_hash``), exactly as before they existed. A ledger keeps
    each activation's content hash and refuses a stored policy whose hash no longer
    matches: a new field with a default must never change an old policy's hash."""
    fields = type(model).model_fields
    for name in names:
        info = fields[name]
        default = info.get_default(call_default_factory=True)
        if getattr(model, name) == default:
            data.pop(info.alias or name, None)


class _Strict(BaseModel):
    # strict: a number or a yes/no is written as one, never as a string ('5', 'yes'), so that
    # the JSON Schema (`policy schema`) accepts exactly the types validation accepts
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False, strict=True
    )


def _exactly_one_of(keys: tuple[str, ...]) -> dict[str, Any]:
    """JSON Schema for "exactly one of ``keys`` is given and not null" (the others absent or null)."""
    return {
        "oneOf": [
            {
                "required": [key],
                "properties": {
                    other: {"not": {"type": "null"}} if other == key else {"type": "null"}
                    for other in keys
                },
            }
            for key in keys
        ]
    }


class Meta(_Strict):
    """Who publishes the policy and on what basis."""

    title: str
    description: str = ""
    jurisdiction: str = ""
    sources: list[str] = Field(default_factory=list)


class PointsScore(_Strict):
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


class Grade(_Strict):
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


class CleanYear(_Strict):
    """Points for every whole calendar year (UTC), from ``first_year`` on, in which the
    subject has no record of ``types`` (or of ``category``): the reward appears on 1 January
    of the next year. A record counts against its year once the ledger knows it, unless it is
    annulled, rectified away, suspended or deleted; an expired record still made its year
    unclean."""

    model_config = ConfigDict(json_schema_extra=_exactly_one_of(("types", "category")))

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


class Component(_Strict):
    """One part of a named score: the points of some records (``types`` or ``category``), or a
    clean-year reward (``clean_year``); started at ``base``, held within ``min``/``max`` (a
    cap), then multiplied by ``weight`` before it is added to the score."""

    model_config = ConfigDict(
        json_schema_extra=_exactly_one_of(("types", "category", "clean_year"))
    )

    display_name: str = Field("", max_length=120, description="How people are told its name.")
    description: str = ""
    types: list[Name] | None = Field(None, min_length=1)
    category: Category | None = None
    clean_year: CleanYear | None = None
    base: Number = 0
    min: Number | None = None
    max: Number | None = None
    weight: Number = 1

    @model_validator(mode="after")
    def _check(self) -> Component:
        given = [k for k in ("types", "category", "clean_year") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'types', 'category' or 'clean_year'")
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


class NamedScore(_Strict):
    """A named score (``scores:``): base plus its components' (bounded, weighted) values, or,
    without components, plus the points of every record, as the unnamed score; clamped to
    min/max and banded by its own ``grades``."""

    display_name: str = Field(
        "", max_length=120, description="How people are told its name; default: its id."
    )
    description: str = ""
    form: Literal["points"] = "points"
    base: Number = 0
    min: Number | None = None
    max: Number | None = None
    components: dict[Name, Component] = Field(default_factory=dict)
    grades: list[Grade] = Field(min_length=1)

    @model_validator(mode="after")
    def _bounds(self) -> NamedScore:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


class ScoreThreshold(_Strict):
    """``score_below`` / ``score_at_least`` on a named score: ``{score: jasmine, value: 550}``."""

    score: Name
    value: Number


class GradeChoice(_Strict):
    """``grade_in`` on a named score: ``{score: jasmine, grades: [A, B]}``."""

    score: Name
    grades: list[str] = Field(min_length=1)


class TermExtension(_Strict):
    """How far a record's term may be extended by ``extend`` corrections."""

    min: PositiveDuration = Field(description="Each extension is at least this long.")
    max: PositiveDuration = Field(description="All extensions of a record together at most.")

    @model_validator(mode="after")
    def _ordered(self) -> TermExtension:
        if self.min > self.max:
            raise ValueError("extension min is longer than extension max")
        return self


class TermBounds(_Strict):
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


OnOverdue = Literal["delete", "keep", "flag"]


def _absent(value: Any) -> bool:
    # a field added in the second edition is left out of the canonical form (and so of the
    # content hash) while it is not given: policies activated before it keep their hashes
    return value is None


class Reconsideration(_Strict):
    """A second stage after a review that upheld the record (cf. SPC Art. 12): the subject
    may apply within ``file_within`` of the review's decision; the application is decided
    within ``decide_within``."""

    file_within: PositiveDuration = Field(
        description="How long after the review upheld the record a reconsideration can be "
        "applied for (a second dispute entry)."
    )
    decide_within: PositiveDuration = Field(
        description="How long after it was applied for a reconsideration must be decided."
    )


class DueProcessOverride(_Strict):
    """Due process for one record type (or the record types a list counts), overriding the
    policy-wide ``due_process`` field by field; a field not given is the policy-wide one."""

    appeal_window: PositiveDuration | None = Field(
        None, description="How long after a record is known it can be disputed."
    )
    reinvestigation_deadline: PositiveDuration | None = Field(
        None, description="Within how long a dispute must be reviewed (decided)."
    )
    disputed_records_count: bool | None = Field(
        None, description="Whether a record counts while its dispute is open."
    )
    on_overdue: OnOverdue | None = Field(
        None,
        description="What a missed deadline does: delete the record, keep it, or keep it "
        "and report it as overdue (flag).",
    )
    reconsideration: Reconsideration | None = Field(None, exclude_if=_absent)


AttributeType = Literal["date", "number", "text"]


class AttributeDef(_Strict):
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


class EligibilityCondition(_Strict):
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


class RecordType(_Strict):
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
        exclude_if=_absent,
        description="Due process for records of this type, overriding the policy-wide block.",
    )
    eligible: list[EligibilityCondition] = Field(
        default_factory=list,
        description="Records of this type count only while every condition holds for the subject.",
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
        if low is not None and high is not None and low > high:
            raise ValueError("term: min is longer than max")
        if default is not None and (
            (low is not None and default < low) or (high is not None and default > high)
        ):
            raise ValueError("term: expires_after (the default term) lies outside [min, max]")
        if default is None and term.extension is not None and term.max is None:
            raise ValueError(
                "term: a record that never expires cannot be extended; give term.max for "
                "records that carry their own term"
            )
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        _omit_when_default(data, self, ("term", "eligible"))  # second edition (issue 7)
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


class Anchor(_Strict):
    """The event a records condition's window starts at: the resolution of a record of a
    type (``resolution_of``) or another record of a type (``record_of``)."""

    model_config = ConfigDict(json_schema_extra=_exactly_one_of(("resolution_of", "record_of")))

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


class RecordCondition(_Strict):
    """Holds when the subject has at least ``at_least`` active records matching the filters."""

    model_config = ConfigDict(json_schema_extra=_exactly_one_of(("type", "types", "category")))

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
        _omit_when_default(data, self, ("after",))  # second edition (issue 7)
        return data

    def type_names(self) -> list[str]:
        """The record type names this condition names explicitly (empty for a category)."""
        if self.type is not None:
            return [self.type]
        return list(self.types or [])


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


class Predicate(_Strict):
    """A declarative condition; exactly one key is set. Combine with all / any / not."""

    model_config = ConfigDict(
        json_schema_extra=_exactly_one_of(
            ("all", "any", "not", "records", "score_below", "score_at_least", "grade_in", "list")
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

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        if isinstance(data, dict):
            keys = [k for k in data if data[k] is not None]
            if len(keys) != 1:
                allowed = "all, any, not, records, score_below, score_at_least, grade_in, list"
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
            p.score_below is not None or p.score_at_least is not None or p.grade_in is not None
            for p in self.walk()
        )


class ListDef(_Strict):
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
        exclude_if=_absent,
        description="Due process for the record types this list's condition names, "
        "overriding the policy-wide block (a record type's own block overrides this one).",
    )
    eligible: list[EligibilityCondition] = Field(
        default_factory=list,
        description="Only subjects for whom every condition holds may be on the list.",
    )

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        _omit_when_default(data, self, ("eligible",))  # second edition (issue 7)
        return data


class FixedDuration(_Strict):
    """The measure lasts a fixed period from when its trigger started."""

    fixed: PositiveDuration


class AfterResolution(_Strict):
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


class StartsAfter(_Strict):
    """A publicity period before a measure starts (cf. the railway's and aviation's 2018
    rules): the person is notified when its condition begins to hold (publication), may
    object (a ``dispute`` of a record behind it) until ``notice`` has passed, and the
    measure starts at the end of the period; its term runs from then."""

    notice: PositiveDuration = Field(
        description="How long after publication objections may be made; the measure "
        "starts when it ends."
    )
    objection_blocks: bool = Field(
        True,
        description="Whether an objection still pending at the end of the period holds the "
        "start back until it is decided (an upheld objection annuls the record, so the "
        "measure never starts).",
    )


class Reach(_Strict):
    """Extends a measure to subjects who stand in ``relation`` to the subject it applies to."""

    relation: Name


AttributeValue = Annotated[str, Field(min_length=1, max_length=80)]


class ServiceAttribute(_Strict):
    """A request attribute a check on a service may carry (price, class, payer …)."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"type": {"const": "one_of"}}, "required": ["type"]},
            "then": {"required": ["values"], "properties": {"values": {"type": "array"}}},
            "else": {
                "properties": {"values": {"type": "null"}, "value_names": {"maxProperties": 0}}
            },
        }
    )

    type: Literal["number", "one_of", "text"]
    values: list[AttributeValue] | None = Field(
        None, min_length=1, description="For type one_of: the values a request may give."
    )
    display_name: str = Field(
        "", max_length=120, description="How sentences name it, e.g. 'the seat class'."
    )
    unit: str = Field("", max_length=20, description="For a number, e.g. 'CNY'.")
    value_names: dict[str, str] = Field(
        default_factory=dict,
        description="For type one_of: how sentences say a value, e.g. {debtor: you}.",
    )
    description: str = ""

    @model_validator(mode="after")
    def _values_iff_one_of(self) -> ServiceAttribute:
        if self.type == "one_of" and self.values is None:
            raise ValueError("an attribute of type one_of lists its values")
        if self.type != "one_of" and (self.values is not None or self.value_names):
            raise ValueError(f"only an attribute of type one_of has values (this is {self.type})")
        return self


class AttributeCondition(_Strict):
    """A condition on one request attribute: ``in`` (listed values) or a number range."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["in"],
                    "properties": {
                        "in": {"type": "array"},
                        "at_least": {"type": "null"},
                        "below": {"type": "null"},
                    },
                },
                {
                    "properties": {"in": {"type": "null"}},
                    "anyOf": [
                        {"required": ["at_least"], "properties": {"at_least": {"type": "number"}}},
                        {"required": ["below"], "properties": {"below": {"type": "number"}}},
                    ],
                },
            ]
        }
    )

    attribute: Name
    in_: list[AttributeValue] | None = Field(None, alias="in", min_length=1)
    at_least: Number | None = None
    below: Number | None = None

    @model_validator(mode="after")
    def _one_form(self) -> AttributeCondition:
        if self.in_ is not None and (self.at_least is not None or self.below is not None):
            raise ValueError("give either 'in' (values) or 'at_least'/'below' (a number), not both")
        if self.in_ is None and self.at_least is None and self.below is None:
            raise ValueError("give 'in' (values) or 'at_least' and/or 'below' (a number)")
        if self.at_least is not None and self.below is not None and self.at_least >= self.below:
            raise ValueError(f"at_least ({self.at_least:g}) must be below below ({self.below:g})")
        return self

    def holds(self, value: float | str) -> bool:
        """Whether a request's (validated) value of the attribute meets the condition."""
        if self.in_ is not None:
            return value in self.in_
        if isinstance(value, str):
            return False  # validation gives numbers to number attributes; be safe
        return (self.at_least is None or value >= self.at_least) and (
            self.below is None or value < self.below
        )


class Sanction(_Strict):
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
        exclude_if=_absent,
        description="A publicity period: the measure starts when it ends, unless an "
        "objection is upheld.",
    )

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        _omit_when_default(data, self, ("applies_to",))  # second edition (issue 7)
        return data


class ServiceDef(_Strict):
    """A service point that measures apply to, as people are told about it."""

    display_name: str = Field(
        "", max_length=120, description="e.g. 'high-speed rail tickets'; default: the id."
    )
    action: str = Field(
        "",
        max_length=160,
        description="What a person does there, completing 'You cannot …' / 'You may …', "
        "e.g. 'buy high-speed rail tickets'; default: 'use' + the display name.",
    )
    description: str = ""
    parent: Name | None = Field(
        None,
        description="The service this one is part of (a G-train seat is a train ticket): a "
        "measure on the parent covers this service too, not the other way round.",
    )
    context: Context | None = Field(
        None, description="The domain of the service, in the vocabulary of record contexts."
    )
    attributes: dict[Name, ServiceAttribute] = Field(
        default_factory=dict,
        description="Request attributes a check may carry (a child inherits its parent's).",
    )

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        _omit_when_default(data, self, ("parent", "context", "attributes"))  # issue 7
        return data


class RelationDef(_Strict):
    """A relation between subjects that the ledger may record (e.g. child_of)."""

    description: str = ""
    from_kind: SubjectKind = "person"
    to_kind: SubjectKind = "person"


class DueProcess(_Strict):
    """What the system promises the people it scores, and enforces on itself."""

    notice_before_sanction: bool = True
    appeal_window: PositiveDuration = Field(
        description="How long after a record is known it can be disputed."
    )
    reinvestigation_deadline: PositiveDuration = Field(
        description="A dispute not decided by then deletes the disputed record."
    )
    disputed_records_count: bool = Field(
        description="Whether a record counts while its dispute is open."
    )
    human_review: bool = True
    on_overdue: OnOverdue = Field(
        "delete",
        exclude_if=lambda v: v == "delete",
        description="What a missed deadline does: delete the record, keep it, or keep it "
        "and report it as overdue (flag).",
    )
    reconsideration: Reconsideration | None = Field(None, exclude_if=_absent)


_CALENDAR_NAMES: dict[str, Any] = {"enum": available_calendars()}


class CalendarDef(_Strict):
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
        pattern=r"^[+-](?:[01]\d|2[0-3]):[0-5]\d$",
        description="The local time days and months are counted in, e.g. '+08:00'.",
    )
    first_day_counted: bool = Field(
        False,
        description="Whether the day a working-day period starts from counts as its first "
        "day (false: 'within 3 working days' of a Friday ends with the third working day "
        "after it).",
    )

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


class Policy(_Strict):
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
    calendar: CalendarDef | None = Field(
        None,
        description="How days are counted: the local time months and working days are "
        "counted in, and the holiday calendar behind working days (required when a "
        "duration is in working days).",
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
        _omit_when_default(data, self, ("calendar", "attributes", "scores"))
        return data

    def label(self) -> str:
        """``policy@version``, the name decisions use for this policy."""
        return f"{self.policy}@{self.version}"

    def subject_kinds_by_type(self) -> dict[str, list[str]]:
        """Each record type and the subject kinds it may be about (what ingestion checks)."""
        return {name: list(rt.subject_kinds) for name, rt in self.record_types.items()}
