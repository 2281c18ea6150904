"""The building blocks of the policy language: the strict base model, numbers, names and
the vocabularies (contexts, categories, evidence, subject kinds), and the rule that fields
added later leave old policies' dumps (and content hashes) as they were.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

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


Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]

Context = Literal[
    "courts", "transit", "tax", "finance", "civic", "health", "commerce", "online", "education"
]
Category = Literal[
    "judicial", "financial", "conduct", "expression", "association", "prosocial", "health"
]
Evidence = Literal["court_order", "official_record", "third_party_report", "self_reported"]
SubjectKind = Literal["person", "organisation"]


def omit_when_default(data: dict[str, Any], model: BaseModel, names: tuple[str, ...]) -> None:
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


class StrictModel(BaseModel):
    # strict: a number or a yes/no is written as one, never as a string ('5', 'yes'), so that
    # the JSON Schema (`policy schema`) accepts exactly the types validation accepts
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False, strict=True
    )


def exactly_one_of(keys: tuple[str, ...]) -> dict[str, Any]:
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


def absent_field(value: Any) -> bool:
    """Whether an optional field is not given (``exclude_if``): a field added in the second
    edition is left out of the canonical form (and so of the content hash) while it is not
    given, so policies activated before it keep their hashes."""
    return value is None
