"""Whole-policy checks of services: parents that exist and form no cycle, request
attributes, and the chain of a service and its parents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socialcredit.policy.checks_names import Problems, hint, raw_services


def service_chain(services: Mapping[str, Mapping[str, Any]], service: str) -> list[str]:
    """``service`` and its ancestors, nearest first, as far as they are declared (a cycle or
    an unknown parent ends the chain: ``service_problems`` reports those)."""
    chain = [service]
    while True:
        parent = services.get(chain[-1], {}).get("parent")
        if not isinstance(parent, str) or parent not in services or parent in chain:
            return chain
        chain.append(parent)


def raw_attributes(
    services: Mapping[str, Mapping[str, Any]], service: str
) -> dict[str, Mapping[str, Any]]:
    """The attributes declared for ``service`` and its ancestors (the nearest declaration wins)."""
    out: dict[str, Mapping[str, Any]] = {}
    for s in service_chain(services, service):
        attributes = services.get(s, {}).get("attributes")
        if isinstance(attributes, Mapping):
            for k, v in attributes.items():
                if isinstance(v, Mapping):
                    out.setdefault(str(k), v)
    return out


def service_problems(data: Mapping[str, Any]) -> Problems:
    services = raw_services(data)
    problems: Problems = []
    in_cycle: set[str] = set()
    for name, service in services.items():
        parent = service.get("parent")
        if parent is None or not isinstance(parent, str):
            continue
        if parent not in services:
            problems.append(
                (
                    ("services", name, "parent"),
                    f"unknown parent service {parent!r}{hint(parent, list(services))}; "
                    "declare it under services",
                )
            )
            continue
        chain: list[str] = [name]
        here: Any = parent
        while isinstance(here, str) and here in services and here not in chain:
            chain.append(here)
            here = services[here].get("parent")
        if here == name and name not in in_cycle:
            in_cycle.update(chain)
            problems.append(
                (
                    ("services", name, "parent"),
                    "services cannot be their own parents: "
                    + " -> ".join([*chain, name])
                    + " is a cycle",
                )
            )
        if isinstance(here, str) and here in chain:
            continue  # a cycle (reported once, above): nothing is inherited along it
        attributes = service.get("attributes")
        if isinstance(attributes, Mapping):
            above = raw_attributes(services, parent)
            for attr in attributes:
                if str(attr) in above:
                    problems.append(
                        (
                            ("services", name, "attributes", str(attr)),
                            f"attribute {attr!r} is already declared by a parent service; a "
                            "service inherits its parent's attributes, so declare it once",
                        )
                    )
    for name, service in services.items():
        attributes = service.get("attributes")
        if not isinstance(attributes, Mapping):
            continue
        for attr, spec in attributes.items():
            if not isinstance(spec, Mapping):
                continue
            values, names = spec.get("values"), spec.get("value_names")
            if isinstance(values, list) and isinstance(names, Mapping):
                for value in names:
                    if value not in values:
                        problems.append(
                            (
                                (
                                    "services",
                                    name,
                                    "attributes",
                                    str(attr),
                                    "value_names",
                                    str(value),
                                ),
                                f"{value!r} is not one of the attribute's values "
                                f"({', '.join(map(str, values))})",
                            )
                        )
    return problems
