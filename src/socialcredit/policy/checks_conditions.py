"""Whole-policy checks of conditions: the names a condition (a list's, a measure's, a score
test, an eligibility rule) refers to must be declared, and its values must fit them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from socialcredit.policy.checks_names import Declared, Path, Problems, hint


def condition_problems(declared: Declared, pred: Any, path: Path, *, allow_lists: bool) -> Problems:
    if not isinstance(pred, Mapping):
        return []
    given = [(k, v) for k, v in pred.items() if v is not None]
    if len(given) != 1:
        return []  # "exactly one key" is a field-validation problem
    key, value = given[0]
    problems: Problems = []
    if key == "records" and isinstance(value, Mapping) and declared.types is not None:
        named: list[tuple[Path, Any]] = []
        if value.get("type") is not None:
            named.append((("type",), value["type"]))
        if isinstance(value.get("types"), list):
            named += [(("types", i), n) for i, n in enumerate(value["types"])]
        anchor = value.get("after")
        if isinstance(anchor, Mapping):
            for key_ in ("resolution_of", "record_of"):
                if anchor.get(key_) is not None:
                    named.append((("after", key_), anchor[key_]))
            wanted = anchor.get("resolution_of")
            if (
                isinstance(wanted, str)
                and wanted in declared.types
                and wanted not in declared.resolvable
            ):
                problems.append(
                    (
                        (*path, "records", "after", "resolution_of"),
                        f"record type {wanted!r} is not resolvable, so its records are never "
                        "resolved and the window would never start; declare it resolvable: true",
                    )
                )
        for sub, name in named:
            if isinstance(name, str) and name not in declared.types:
                problems.append(
                    (
                        (*path, "records", *sub),
                        f"unknown record type {name!r}{hint(name, declared.types)}",
                    )
                )
    elif key in ("score_below", "score_at_least", "grade_in"):
        problems += score_condition_problems(declared, key, value, path)
    elif key == "list" and isinstance(value, str):
        if not allow_lists:
            problems.append(
                ((*path, "list"), "a list cannot be defined by another list; use its condition")
            )
        elif declared.lists is not None and value not in declared.lists:
            problems.append(
                ((*path, "list"), f"unknown list {value!r}{hint(value, declared.lists)}")
            )
    elif key in ("all", "any") and isinstance(value, list):
        for i, child in enumerate(value):
            problems += condition_problems(
                declared, child, (*path, key, i), allow_lists=allow_lists
            )
    elif key == "not":
        problems += condition_problems(declared, value, (*path, "not"), allow_lists=allow_lists)
    return problems


def score_condition_problems(declared: Declared, key: str, value: Any, path: Path) -> Problems:
    """A score or grade condition names a declared score, and grades that score declares
    (never one with an unpublished cut-off: nobody is placed in it)."""
    problems: Problems = []
    score: str | None = None
    if isinstance(value, Mapping):
        named = value.get("score")
        if not isinstance(named, str) or declared.scores is None:
            return []
        if named not in declared.scores:
            where = (*path, key, "score")
            return [(where, f"unknown score {named!r}{hint(named, declared.scores)}")]
        score = named
        value, path = value.get("grades"), (*path, key, "grades")
    else:
        path = (*path, key)
    if key != "grade_in" or not isinstance(value, list):
        return problems
    known = declared.score_grades.get(score) if score else declared.grades_of_first()
    if known is None:
        return problems
    names, hidden = known
    for i, grade in enumerate(value):
        if isinstance(grade, str) and grade not in names:
            problems.append(((*path, i), f"unknown grade {grade!r}{hint(grade, names)}"))
        elif isinstance(grade, str) and grade in hidden:
            problems.append(
                (
                    (*path, i),
                    f"grade {grade!r} has an unpublished cut-off: nobody is placed in it, so "
                    "this condition could never hold",
                )
            )
    return problems


def eligibility_problems(declared: Declared, conditions: Any, path: Path) -> Problems:
    """Eligibility conditions that name an undeclared attribute, or test it in a way its
    type does not allow (an age of a value that is not a date)."""
    if not isinstance(conditions, list) or declared.attributes is None:
        return []
    problems: Problems = []
    for i, cond in enumerate(conditions):
        if not isinstance(cond, Mapping) or not isinstance(cond.get("attribute"), str):
            continue
        name = cond["attribute"]
        if name not in declared.attributes:
            problems.append(
                (
                    (*path, i, "attribute"),
                    f"unknown attribute {name!r}{hint(name, declared.attributes)}; "
                    "declare it under attributes",
                )
            )
            continue
        kind = declared.attribute_types.get(name)
        if cond.get("age_at_least") is not None and kind not in (None, "date"):
            problems.append(
                (
                    (*path, i, "age_at_least"),
                    f"an age is counted from a date; attribute {name!r} is of type {kind}",
                )
            )
        for key in ("equals", "one_of"):
            values = cond.get(key)
            values = values if isinstance(values, list) else [values]
            if kind == "number" and any(isinstance(v, str) for v in values):
                problems.append(
                    ((*path, i, key), f"attribute {name!r} is a number; compare it with numbers")
                )
            if kind in ("text", "date") and any(
                isinstance(v, int | float) and not isinstance(v, bool) for v in values
            ):
                problems.append(
                    (
                        (*path, i, key),
                        f"attribute {name!r} is {kind}; quote the value to compare it as {kind}",
                    )
                )
            elif kind == "date" and any(isinstance(v, str) and not is_date(v) for v in values):
                bad = next(v for v in values if isinstance(v, str) and not is_date(v))
                problems.append(
                    (
                        (*path, i, key),
                        f"attribute {name!r} is a date, so {key} takes dates (YYYY-MM-DD), not "
                        f"{bad!r}; to test an age use age_at_least (e.g. age_at_least: 18), to "
                        "test how long a value has held use held_for",
                    )
                )
    return problems


def is_date(text: str) -> bool:
    """Whether ``text`` is a calendar date written YYYY-MM-DD (as attribute values are)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def tests_unresolved(pred: Any, depth: int = 0) -> bool | None:
    """Whether a condition (as parsed) has a ``records`` test with ``unresolved: true``;
    None when it cannot be read (field validation reports that)."""
    if depth > 100 or not isinstance(pred, Mapping):
        return None
    if len([v for v in pred.values() if v is not None]) != 1:
        return None
    records = pred.get("records")
    if isinstance(records, Mapping):
        unresolved = records.get("unresolved", False)
        return unresolved if isinstance(unresolved, bool) else None
    children = [*(pred.get("all") or []), *(pred.get("any") or [])]
    if pred.get("not") is not None:
        children.append(pred["not"])
    found = [tests_unresolved(c, depth + 1) for c in children]
    return True if True in found else (None if None in found else False)
