"""The policy's ``sources:`` section: which authorities may submit what.

Each source is named as its entries name it (their ``source`` field) and declares what it
may submit: records of some types, relations, subject attributes, exemptions from some
services. A source may also correct its *own* records (resolve, annul, rectify to a type it
may submit, extend, end), and nothing else: disputes are filed by the subject and decided
by a reviewer, never by the source that made the record.

The section binds every submission made with a submitter restriction (the HTTP service's
``source:<name>`` keys, ``socialcredit ingest --source NAME``): see ``SourceGrant.refusal``.
This module holds the language (``SourceDef``), its compiled form (``SourceGrant``,
``compile_sources``) and the checks of names it refers to (``source_problems``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from socialcredit.policy.fields import Name, StrictModel

if TYPE_CHECKING:
    from socialcredit.policy.model import Policy

SOURCE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
SourceName = Annotated[str, Field(pattern=SOURCE_NAME_PATTERN, max_length=80)]
"""A source as its entries name it: letters, digits, '_', '-' and '.', starting with a
letter or digit (e.g. ``court``, ``traffic-police``, ``PBOC``)."""


class SourceDef(StrictModel):
    """One authority that submits entries, and what it may submit."""

    display_name: str = Field(
        min_length=1, max_length=200, description="The authority's name, as people are told it."
    )
    description: str = ""
    legal_basis: str = Field("", description="The rule that empowers it to report.")
    record_types: list[Name] = Field(
        default_factory=list,
        description="Record types it may submit; it may also resolve, annul, rectify, extend "
        "and end its own records (a rectified type must be one of these).",
    )
    relations: list[Name] = Field(
        default_factory=list, description="Relations it may record (e.g. a household registry)."
    )
    attributes: list[Name] = Field(
        default_factory=list, description="Subject attributes it may record (e.g. birth_date)."
    )
    exemptions: list[Name] = Field(
        default_factory=list,
        description="Services it may grant exemptions from (an exemption naming any other "
        "service is refused).",
    )


@dataclass(frozen=True)
class SourceGrant:
    """What one source may submit, compiled: ``name`` (as entries name it), its
    ``display_name`` and the names it may use per kind of entry. ``declared`` is False for
    a source the policy does not name, which may submit nothing."""

    name: str
    display_name: str
    record_types: frozenset[str] = frozenset()
    relations: frozenset[str] = frozenset()
    attributes: frozenset[str] = frozenset()
    exemptions: frozenset[str] = frozenset()
    declared: bool = True
    policy_label: str = ""

    def refusal(
        self,
        kind: str,
        source: str,
        name: str | None = None,
        target_source: str | None = None,
        services: tuple[str, ...] = (),
    ) -> tuple[str, str] | None:
        """Why this source may not submit an entry, as (field, reason), or None if it may.

        ``kind``: the entry's kind (record, relation, resolve, …); ``source``: its
        ``source`` field; ``name``: a record's type, a relation's name, an attribute's name
        or a rectification's new type (None: none given); ``target_source``: a correction's;
        ``services``: an exemption's.
        """
        me = self.name
        if source != me:
            return (
                "source",
                f"is {source!r}, not {me!r}: this submitter may submit only entries whose "
                f"source is {me!r}",
            )
        where = f"policy {self.policy_label}" if self.policy_label else "the policy in force"
        if not self.declared:
            return (
                "source",
                f"{me!r} is not declared under sources in {where}, so it may submit nothing",
            )
        if kind == "record":
            return self._named("type", name, self.record_types, "record type", where)
        if kind == "relation":
            return self._named("relation", name, self.relations, "relation", where)
        if kind == "attribute":
            return self._named("attribute", name, self.attributes, "attribute", where)
        if kind == "exemption":
            for service in services:
                if service not in self.exemptions:
                    allowed = _listing(self.exemptions)
                    return (
                        "services",
                        f"{me!r} may not grant exemptions from {service!r} under {where} "
                        f"(it may from: {allowed})",
                    )
            return None
        if kind == "dispute":
            return (
                "kind",
                "a source does not file disputes: the subject disputes a record (the "
                "subject's own key, the disputes route)",
            )
        if kind == "uphold":
            return (
                "kind",
                "a source does not decide disputes of its records: a reviewer upholds, "
                "rectifies or annuls them",
            )
        # resolve, annul, rectify, extend, end: only of its own records
        if target_source != me:
            return (
                "target_source",
                f"is {target_source!r}: {me!r} may {kind} only its own records",
            )
        if kind == "rectify" and name is not None:
            return self._named("type", name, self.record_types, "record type", where)
        return None

    def _named(
        self, field: str, name: str | None, allowed: frozenset[str], what: str, where: str
    ) -> tuple[str, str] | None:
        if name is None or name in allowed:
            return None
        return (
            field,
            f"{self.name!r} may not submit {what} {name!r} under {where} (its {what}s: "
            f"{_listing(allowed)})",
        )


def _listing(names: frozenset[str]) -> str:
    return ", ".join(sorted(names)) if names else "none"


def compile_sources(policy: Policy) -> dict[str, SourceGrant]:
    """Each source the policy declares, compiled (empty without a ``sources:`` section)."""
    label = policy.label()
    return {
        name: SourceGrant(
            name,
            d.display_name,
            frozenset(d.record_types),
            frozenset(d.relations),
            frozenset(d.attributes),
            frozenset(d.exemptions),
            True,
            label,
        )
        for name, d in policy.sources.items()
    }


def grant_of(policy: Policy, source: str) -> SourceGrant:
    """What ``source`` may submit under ``policy``: nothing (``declared`` False) when the
    policy does not name it, or has no ``sources:`` section."""
    found = compile_sources(policy).get(source)
    if found is not None:
        return found
    return SourceGrant(source, source, declared=False, policy_label=policy.label())


def unknown_source(policy: Policy, source: str) -> str | None:
    """Why ``source`` cannot be given a submitting key under ``policy`` (None: it is
    declared), with the closest declared name."""
    if source in policy.sources:
        return None
    if not policy.sources:
        return (
            f"policy {policy.label()} declares no sources, so no source may submit entries "
            "under it: add a sources section naming it"
        )
    close = difflib.get_close_matches(source, list(policy.sources), n=1)
    hint = (
        f"did you mean {close[0]!r}?" if close else f"its sources are {', '.join(policy.sources)}"
    )
    return f"unknown source {source!r}: policy {policy.label()} does not declare it ({hint})"


Path = tuple[str | int, ...]


def source_problems(data: Mapping[str, Any]) -> list[tuple[Path, str]]:
    """Names under ``sources:`` that the policy does not declare: record types, relations,
    attributes, and services (declared under ``services`` or named by a sanction). ``data``
    is the policy as parsed from YAML (it need not be valid); (path, message) pairs."""
    sources = data.get("sources")
    if not isinstance(sources, Mapping):
        return []

    def keys(section: str) -> list[str] | None:
        value = data.get(section, {})
        return [str(k) for k in value] if isinstance(value, Mapping) else None

    services = keys("services")
    sanctions = data.get("sanctions")
    if services is not None and isinstance(sanctions, Mapping):
        services += [
            s["service"]
            for s in sanctions.values()
            if isinstance(s, Mapping) and isinstance(s.get("service"), str)
        ]
    known = {
        "record_types": (keys("record_types"), "record type", "record_types"),
        "relations": (keys("relations"), "relation", "relations"),
        "attributes": (keys("attributes"), "attribute", "attributes"),
        "exemptions": (
            None if services is None else sorted(set(services)),
            "service",
            "services",
        ),
    }
    problems: list[tuple[Path, str]] = []
    for source, spec in sources.items():
        if not isinstance(spec, Mapping):
            continue
        for field, (declared, what, section) in known.items():
            names = spec.get(field)
            if declared is None or not isinstance(names, list):
                continue
            seen: set[str] = set()
            for i, name in enumerate(names):
                if not isinstance(name, str):
                    continue
                path: Path = ("sources", str(source), field, i)
                if name in seen:
                    problems.append((path, f"{what} {name!r} is listed twice"))
                seen.add(name)
                if name not in declared:
                    close = difflib.get_close_matches(name, declared, n=1)
                    hint = (
                        f" (did you mean {close[0]!r}?)"
                        if close
                        else f" (declared: {', '.join(sorted(declared)) or 'none'})"
                    )
                    problems.append(
                        (path, f"unknown {what} {name!r}{hint}; declare it under {section}")
                    )
    return problems


__all__ = [
    "SOURCE_NAME_PATTERN",
    "SourceDef",
    "SourceGrant",
    "SourceName",
    "compile_sources",
    "grant_of",
    "source_problems",
    "unknown_source",
]
