"""Checks that need the whole policy: names that must refer to something declared."""

from __future__ import annotations

import difflib

from socialcredit.policy.model import Policy, Predicate

Path = tuple[str | int, ...]


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    listing = ", ".join(sorted(known)) if known else "none"
    return f" (did you mean {close[0]!r}?)" if close else f" (declared: {listing})"


def _predicate_problems(
    policy: Policy, pred: Predicate, path: Path, *, allow_lists: bool
) -> list[tuple[Path, str]]:
    problems: list[tuple[Path, str]] = []
    types = list(policy.record_types)
    grades = [g.name for g in policy.grades]
    if pred.records is not None:
        for i, name in enumerate(pred.records.type_names()):
            if name not in policy.record_types:
                sub: Path = ("type",) if pred.records.type is not None else ("types", i)
                problems.append(
                    ((*path, "records", *sub), f"unknown record type {name!r}{_hint(name, types)}")
                )
    if pred.grade_in is not None:
        for i, g in enumerate(pred.grade_in):
            if g not in grades:
                problems.append(((*path, "grade_in", i), f"unknown grade {g!r}{_hint(g, grades)}"))
    if pred.on_list is not None:
        if not allow_lists:
            problems.append(
                ((*path, "list"), "a list cannot be defined by another list; use its condition")
            )
        elif pred.on_list not in policy.lists:
            problems.append(
                (
                    (*path, "list"),
                    f"unknown list {pred.on_list!r}{_hint(pred.on_list, list(policy.lists))}",
                )
            )
    for key, children in (("all", pred.all_), ("any", pred.any_)):
        for i, child in enumerate(children or []):
            problems += _predicate_problems(policy, child, (*path, key, i), allow_lists=allow_lists)
    if pred.not_ is not None:
        problems += _predicate_problems(policy, pred.not_, (*path, "not"), allow_lists=allow_lists)
    return problems


def cross_reference_problems(policy: Policy) -> list[tuple[Path, str]]:
    """Every reference in ``policy`` to an undeclared name, or a malformed band order.

    Returns (path, message) pairs; an empty list means the policy is consistent.
    """
    problems: list[tuple[Path, str]] = []
    grades = policy.grades
    for i, grade in enumerate(grades):
        last = i == len(grades) - 1
        if last and grade.at_least is not None:
            problems.append(
                (
                    ("grades", i, "at_least"),
                    "the last grade band takes every lower score, so it has no at_least",
                )
            )
        if not last and grade.at_least is None:
            problems.append((("grades", i, "at_least"), "every band but the last needs at_least"))
        if i and not last:
            prev = grades[i - 1].at_least
            if prev is not None and grade.at_least is not None and grade.at_least >= prev:
                problems.append(
                    (
                        ("grades", i, "at_least"),
                        f"bands go from highest to lowest: {grade.at_least} is not below {prev}",
                    )
                )
    names = [g.name for g in grades]
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append((("grades", i, "name"), f"grade {name!r} is declared twice"))
    for name, lst in policy.lists.items():
        problems += _predicate_problems(
            policy, lst.when, ("lists", name, "when"), allow_lists=False
        )
    for name, sanction in policy.sanctions.items():
        problems += _predicate_problems(
            policy, sanction.when, ("sanctions", name, "when"), allow_lists=True
        )
        for i, reach in enumerate(sanction.reach):
            if reach.relation not in policy.relations:
                problems.append(
                    (
                        ("sanctions", name, "reach", i, "relation"),
                        f"unknown relation {reach.relation!r}"
                        f"{_hint(reach.relation, list(policy.relations))}; declare it under relations",
                    )
                )
        if (
            sanction.max_duration is not None
            and sanction.duration != "while_triggered"
            and sanction.max_duration < sanction.duration.fixed
        ):
            problems.append(
                (
                    ("sanctions", name, "max_duration"),
                    "max_duration is shorter than the fixed duration",
                )
            )
    return problems
