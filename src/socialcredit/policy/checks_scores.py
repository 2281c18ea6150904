"""Whole-policy checks of scores: the components' record types and bounds, and grade bands
(their names and the order of their cut-offs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socialcredit.policy.checks_names import Declared, Path, Problems, hint, number


def component_problems(declared: Declared, name: str, score: Any) -> Problems:
    """Components name declared record types, each at most once per score."""
    components = score.get("components") if isinstance(score, Mapping) else None
    if not isinstance(components, Mapping) or declared.types is None:
        return []
    problems: Problems = []
    seen: dict[str, str] = {}
    for cname, comp in components.items():
        if not isinstance(comp, Mapping):
            continue
        base: Path = ("scores", name, "components", str(cname))
        named: list[tuple[Path, Any]] = []
        if isinstance(comp.get("types"), list):
            named = [((*base, "types", i), t) for i, t in enumerate(comp["types"])]
        clean = comp.get("clean_year")
        if isinstance(clean, Mapping) and isinstance(clean.get("types"), list):
            named += [((*base, "clean_year", "types", i), t) for i, t in enumerate(clean["types"])]
        category = comp.get("category")
        if isinstance(category, str):
            for type_name, cat in declared.categories.items():
                if cat == category and type_name in seen:
                    problems.append(
                        (
                            (*base, "category"),
                            f"record type {type_name!r} (category {category}) is already "
                            f"counted by component {seen[type_name]!r} of this score",
                        )
                    )
                elif cat == category:
                    seen[type_name] = str(cname)
        for where, type_name in named:
            if not isinstance(type_name, str):
                continue
            if type_name not in declared.types:
                problems.append(
                    (where, f"unknown record type {type_name!r}{hint(type_name, declared.types)}")
                )
            elif "clean_year" not in where and type_name in seen:
                problems.append(
                    (
                        where,
                        f"record type {type_name!r} is already counted by component "
                        f"{seen[type_name]!r} of this score",
                    )
                )
            elif "clean_year" not in where:
                seen[type_name] = str(cname)
    return problems


def grade_problems(grades: Any, prefix: Path = ()) -> Problems:
    if not isinstance(grades, list):
        return []
    problems = [((*prefix, *path), message) for path, message in band_problems(grades)]
    return problems


def band_problems(grades: list[Any]) -> Problems:
    problems: Problems = []
    bands = [g if isinstance(g, Mapping) else {} for g in grades]
    for i, grade in enumerate(bands):
        last = i == len(bands) - 1
        floor = grade.get("at_least")
        if last and floor is not None:
            problems.append(
                (
                    ("grades", i, "at_least"),
                    "the last grade band takes every lower score, so it has no at_least",
                )
            )
        if not last and floor is None and isinstance(grades[i], Mapping):
            problems.append((("grades", i, "at_least"), "every band but the last needs at_least"))
        if i and not last:
            prev, here = number(bands[i - 1].get("at_least")), number(floor)
            if prev is not None and here is not None and here >= prev:
                problems.append(
                    (
                        ("grades", i, "at_least"),
                        f"bands go from highest to lowest: {floor} is not below "
                        f"{bands[i - 1].get('at_least')}",
                    )
                )
    names = [g.get("name") for g in bands]
    for i, name in enumerate(names):
        if isinstance(name, str) and name in names[:i]:
            problems.append((("grades", i, "name"), f"grade {name!r} is declared twice"))
    return problems
