"""Services in a policy: the service points measures apply to (``ServiceDef``), the request
attributes a check may carry, and the conditions on them a measure ``applies_to``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from socialcredit.policy.fields import (
    Context,
    Name,
    Number,
    StrictModel,
    absent_field,
    omit_when_default,
)
from socialcredit.policy.lint_settings import LintSettings

Service = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


AttributeValue = Annotated[str, Field(min_length=1, max_length=80)]


class ServiceAttribute(StrictModel):
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


class AttributeCondition(StrictModel):
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


class ServiceDef(StrictModel):
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
    granted: bool = Field(
        False,
        description="The service is itself what a benefit gives (a parliament seat, a "
        "deposit-free rental): explanations say whether a benefit gives it to the subject, "
        "never that they may use it because nothing stops them.",
    )
    lint: LintSettings | None = Field(
        None, exclude_if=absent_field, description="Lint rules silenced for this service."
    )

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        omit_when_default(data, self, ("parent", "context", "attributes"))  # issue 7
        omit_when_default(data, self, ("granted",))  # issue 11
        return data
