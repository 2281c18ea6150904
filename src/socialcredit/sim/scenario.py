"""Scenario files: who the simulated population is and how it behaves, as validated data.

A scenario names population groups (their share, kind, ages, attributes and the yearly rate
of each record type), the relations between subjects (children of adults, legal
representatives of companies), how often a record lands on the wrong person, who disputes
and how reviews go, and how soon debts are paid. It is read like a policy file: every
problem is reported with file, line and field (``load_scenario``), and checked against the
policies it is run with (``check_against``): a record type, relation or attribute no policy
declares is an error at its line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from socialcredit.policy.checks import Path
from socialcredit.policy.compiled import CompiledPolicy
from socialcredit.policy.fields import Name, StrictModel, SubjectKind
from socialcredit.policy.loader import (
    PolicyError,
    PolicyProblem,
    located,
    read_yaml,
    validation_problems,
)

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, le=10_000.0)]
Years = Annotated[float, Field(ge=0.0, le=150.0)]


class Group(StrictModel):
    """One part of the population: its share, kind, ages, attributes and record rates."""

    share: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        description="Share of the population in this group; the shares add up to 1."
    )
    kind: SubjectKind = Field("person", description="person or organisation")
    description: str = ""
    age_years: Annotated[list[Years], Field(min_length=2, max_length=2)] | None = Field(
        None,
        description="Ages (uniform between the two, in years) at the start; written as the "
        "scenario's birth_date_attribute. Persons only.",
    )
    attributes: dict[Name, str] = Field(
        default_factory=dict,
        description="Attribute values every member holds (e.g. residence: rongcheng), each "
        "since a time drawn within held_for_years before the start.",
    )
    held_for_years: Annotated[list[Years], Field(min_length=2, max_length=2)] = Field(
        default_factory=lambda: [0.0, 20.0],
        description="How long before the start the attributes were acquired.",
    )
    rates: dict[Name, Rate] = Field(
        default_factory=dict,
        description="Expected records per member and year, by record type (a Poisson process).",
    )
    purchases: dict[Name, Rate] = Field(
        default_factory=dict,
        description="Expected uses of a service (ticket purchases, bookings) per member and "
        "year, by service: those made while the service is denied are counted as refused.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Group:
        for name in ("age_years", "held_for_years"):
            pair = getattr(self, name)
            if pair is not None and pair[0] > pair[1]:
                raise ValueError(f"{name}: the first bound is above the second")
        if self.age_years is not None and self.kind != "person":
            raise ValueError("age_years: only persons have ages")
        return self


class RelationRule(StrictModel):
    """Relations drawn between members of groups, within each block of agents."""

    relation: Name = Field(description="The policy's relation, e.g. child_of.")
    from_groups: list[Name] = Field(
        alias="from", min_length=1, description="Groups of the relation's subjects."
    )
    to_groups: list[Name] = Field(
        alias="to", min_length=1, description="Groups of the related subjects."
    )
    each: Literal["from", "to"] = Field(
        "from",
        description="Which side is enumerated: 'from' gives each subject of the from groups "
        "(with probability share) one related subject; 'to' gives each subject of the to "
        "groups one subject relating to it (a company its legal representative).",
    )
    share: Share = Field(1.0, description="Probability that an enumerated subject has one.")


class DataErrors(StrictModel):
    """Records attributed to the wrong person (mistaken identity, clerical errors)."""

    rate: Share = Field(
        0.0, description="Share of records that land on another subject of the same kind."
    )
    by_type: dict[Name, Share] = Field(
        default_factory=dict, description="Per record type, instead of rate."
    )


class Disputes(StrictModel):
    """Who disputes a record, when, and how the review goes, within the policy's process."""

    if_wrong: Share = Field(
        0.0, description="Probability that a wrongly recorded subject disputes."
    )
    if_right: Share = Field(
        0.0, description="Probability that a rightly recorded subject disputes."
    )
    within_days: Annotated[float, Field(gt=0.0, le=3650.0)] = Field(
        30.0,
        description="A dispute is filed uniformly within this many days of the record being "
        "known, or within the policy's appeal window for the record if that is shorter.",
    )
    finds_error: Share = Field(
        1.0, description="Probability that the review annuls a wrong record (else upholds it)."
    )
    on_time: Share = Field(
        1.0,
        description="Probability that the review is decided within the policy's "
        "reinvestigation deadline (otherwise up to late_days after it).",
    )
    late_days: Annotated[float, Field(ge=0.0, le=3650.0)] = 30.0


class Resolution(StrictModel):
    """How soon obligations of a resolvable record type are performed (debts paid)."""

    share: Share = Field(description="Probability that a (right) record is ever resolved.")
    mean_days: Annotated[float, Field(gt=0.0, le=36500.0)] = Field(
        description="Mean days from recording to resolution (exponential)."
    )


class Amount(StrictModel):
    """Amounts carried by records of a type (e.g. the sum a judgment orders): log-normal."""

    median: Annotated[float, Field(gt=0.0)]
    sigma: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0


class Behaviour(StrictModel):
    """How conduct responds to sanctions: misconduct falls while a denial is in force."""

    while_sanctioned: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        1.0,
        description="Multiplier of the rates of `types` for a subject under a denial at the "
        "end of the day before (1: no response, 0: none of that conduct while sanctioned).",
    )
    types: list[Name] = Field(
        default_factory=list, description="The record types whose conduct responds."
    )


class Exit(StrictModel):
    """Leaving (emigrating, dissolving a company) while sanctioned."""

    yearly_while_sanctioned: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.0,
        description="Probability of leaving within a year spent under a denial (a constant "
        "hazard per sanctioned day). Whoever has left produces no further records.",
    )


class Scenario(StrictModel):
    """A simulated population and its behaviour (see the module docstring)."""

    scenario: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=80, description="The scenario's identifier."
    )
    description: str = ""
    sources: list[str] = Field(
        default_factory=list, description="Where the rates come from, or ILLUSTRATIVE."
    )
    groups: dict[Name, Group] = Field(min_length=1)
    relations: list[RelationRule] = Field(default_factory=list)
    birth_date_attribute: Name | None = Field(
        None, description="The policy attribute (a date) that age_years is written as."
    )
    reporting_delay_days: Annotated[float, Field(ge=0.0, le=365.0)] = Field(
        0.0, description="A record is known uniformly within this many days of the event."
    )
    data_errors: DataErrors = Field(default_factory=DataErrors)
    disputes: Disputes = Field(default_factory=Disputes)
    resolution: dict[Name, Resolution] = Field(
        default_factory=dict, description="Per resolvable record type."
    )
    amounts: dict[Name, Amount] = Field(default_factory=dict)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    exit: Exit = Field(default_factory=Exit)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        total = sum(g.share for g in self.groups.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"groups: the shares add up to {total:g}, not 1")
        for i, rule in enumerate(self.relations):
            for side, names in (("from", rule.from_groups), ("to", rule.to_groups)):
                for name in names:
                    if name not in self.groups:
                        raise ValueError(
                            f"relations.{i}.{side}: no group named {name!r} "
                            f"(groups: {', '.join(self.groups)})"
                        )
        if any(g.age_years is not None for g in self.groups.values()) and (
            self.birth_date_attribute is None
        ):
            raise ValueError("birth_date_attribute: required when a group has age_years")
        return self

    def record_types(self) -> list[str]:
        """Every record type the scenario generates, in first-mention order."""
        seen: dict[str, None] = {}
        for g in self.groups.values():
            for name, rate in g.rates.items():
                if rate > 0:
                    seen.setdefault(name)
        return list(seen)


class ScenarioError(PolicyError):
    """A scenario that cannot be used; ``problems`` says every reason, with file and line."""


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with its source, text, field lines and content hash."""

    scenario: Scenario
    text: str
    source: str
    lines: dict[Path, int]
    content_hash: str


def parse_scenario(text: str, source: str = "<scenario>") -> LoadedScenario:
    """Validate scenario text; raise ``ScenarioError`` listing every problem with its line and
    field path (nothing else is ever raised)."""
    try:
        data, lines = read_yaml(text, source)
    except PolicyError as exc:
        raise ScenarioError(exc.problems) from None
    if not isinstance(data, dict):
        raise ScenarioError(
            [PolicyProblem(source, 1, "", "a scenario is a YAML mapping (scenario:, groups:, ...)")]
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        found = [_dotted_message(p, m) for p, m in validation_problems(exc, lines)]
        raise ScenarioError(located(source, lines, found)) from None
    canonical = json.dumps(scenario.model_dump(mode="json", by_alias=True), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return LoadedScenario(scenario, text, source, lines, digest)


def _dotted_message(path: Path, message: str) -> tuple[Path, str]:
    """A model-level message naming a dotted field (``relations.0.from: …``) at that field."""
    head, sep, rest = message.partition(": ")
    if sep and " " not in head and "." in head:
        parts: list[str | int] = [int(p) if p.isdigit() else p for p in head.split(".")]
        return (*path, *parts), rest
    return path, message


def load_scenario(path: str | FsPath) -> LoadedScenario:
    """Read and validate a scenario file; raise ``ScenarioError`` when it is bad."""
    p = FsPath(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([PolicyProblem(str(p), None, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([PolicyProblem(str(p), None, "", f"cannot read: {exc}")]) from None
    return parse_scenario(text, str(p))


def check_against(loaded: LoadedScenario, policies: list[CompiledPolicy]) -> None:
    """Raise ``ScenarioError`` naming file, line and field for each name in the scenario that
    none of ``policies`` declares (a record type, relation or attribute), for a relation or a
    rate given to a kind of subject the policy does not allow, and for a resolution of a
    type no policy lets anyone resolve. With several policies, a name one of them lacks is
    left out of that policy's ledger (``entries_known``); one that all lack is an error."""
    sc = loaded.scenario
    found: list[tuple[Path, str]] = []
    declared = [p.policy for p in policies]
    labels = " or ".join(repr(p.loaded.label) for p in policies)

    def known_type(name: str) -> bool:
        return any(name in d.record_types for d in declared)

    for gname, g in sc.groups.items():
        for tname in g.rates:
            if not known_type(tname):
                found.append(
                    (("groups", gname, "rates", tname), _unknown("record type", tname, labels))
                )
                continue
            kinds = {
                k
                for d in declared
                if tname in d.record_types
                for k in d.record_types[tname].subject_kinds
            }
            if g.kind not in kinds:
                found.append(
                    (
                        ("groups", gname, "rates", tname),
                        f"record type {tname!r} is not recorded about a {g.kind} "
                        f"(subject_kinds: {', '.join(sorted(kinds))})",
                    )
                )
        for sname in g.purchases:
            if not any(sname in p.services() for p in policies):
                found.append(
                    (("groups", gname, "purchases", sname), _unknown("service", sname, labels))
                )
        for aname in g.attributes:
            if not any(aname in d.attributes for d in declared):
                found.append(
                    (("groups", gname, "attributes", aname), _unknown("attribute", aname, labels))
                )
    for i, rule in enumerate(sc.relations):
        defs = [d.relations[rule.relation] for d in declared if rule.relation in d.relations]
        if not defs:
            found.append(
                (("relations", i, "relation"), _unknown("relation", rule.relation, labels))
            )
            continue
        for side, names, kind in (
            ("from", rule.from_groups, defs[0].from_kind),
            ("to", rule.to_groups, defs[0].to_kind),
        ):
            for name in names:
                if sc.groups[name].kind != kind:
                    found.append(
                        (
                            ("relations", i, side),
                            f"group {name!r} holds {sc.groups[name].kind}s; relation "
                            f"{rule.relation!r} goes {side} a {kind}",
                        )
                    )
    if sc.birth_date_attribute is not None:
        types = [
            d.attributes[sc.birth_date_attribute].type
            for d in declared
            if sc.birth_date_attribute in d.attributes
        ]
        if not types:
            found.append(
                (("birth_date_attribute",), _unknown("attribute", sc.birth_date_attribute, labels))
            )
        elif "date" not in types:
            found.append(
                (("birth_date_attribute",), f"attribute {sc.birth_date_attribute!r} is not a date")
            )
    for section in ("resolution", "amounts"):
        for tname in getattr(sc, section):
            if not known_type(tname):
                found.append(((section, tname), _unknown("record type", tname, labels)))
            elif section == "resolution" and not any(
                d.record_types[tname].resolvable for d in declared if tname in d.record_types
            ):
                found.append(
                    ((section, tname), f"record type {tname!r} is not resolvable under {labels}")
                )
    for i, tname in enumerate(sc.behaviour.types):
        if not known_type(tname):
            found.append((("behaviour", "types", i), _unknown("record type", tname, labels)))
    for tname in sc.data_errors.by_type:
        if not known_type(tname):
            found.append(
                (("data_errors", "by_type", tname), _unknown("record type", tname, labels))
            )
    if found:
        raise ScenarioError(located(loaded.source, loaded.lines, found))


def _unknown(what: str, name: str, labels: str) -> str:
    return f"{what} {name!r} is not declared by policy {labels}"


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of scenario files, for editors and other tools."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "socialcredit simulation scenario"
    return schema


__all__ = [
    "LoadedScenario",
    "Scenario",
    "ScenarioError",
    "check_against",
    "load_scenario",
    "parse_scenario",
    "scenario_json_schema",
]
