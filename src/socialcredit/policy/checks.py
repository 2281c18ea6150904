"""Checks that need the whole policy: names that must refer to something declared.

They read the policy as parsed from YAML (plain mappings and lists), not the validated model,
so that they run even when other parts of the file are invalid: one run of ``policy
validate`` then reports every independent problem. A part that cannot be read (a section
that is not a mapping, a condition with two keys, a value of the wrong type) is skipped
here; field validation reports it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from socialcredit.policy.checks_systems import system_problems
from socialcredit.policy.sources import source_problems
from socialcredit.policy.wallets import wallet_problems
from socialcredit.spans import Span, parse_span
from socialcredit.timeutil import TimeFormatError

Path = tuple[str | int, ...]
Problems = list[tuple[Path, str]]


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    listing = ", ".join(sorted(known)) if known else "none"
    return f" (did you mean {close[0]!r}?)" if close else f" (declared: {listing})"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _span(value: Any) -> Span | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_span(value)
    except TimeFormatError:
        return None


def _working_day_problems(data: Mapping[str, Any]) -> Problems:
    """Durations in working days in a policy without a ``calendar:`` block (which says
    which days are working days)."""
    if isinstance(data.get("calendar"), Mapping):
        return []
    problems: Problems = []

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key not in ("description", "legal_basis", "meta", "calendar"):
                    walk(value, (*path, str(key)))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, (*path, i))
        elif isinstance(node, str):
            span = _span(node)
            if span is not None and span.working_days and "calendar" not in data:
                problems.append(
                    (
                        path,
                        f"{node!r} counts working days, which need a calendar: add e.g. "
                        "'calendar: {holidays: prc, utc_offset: \"+08:00\"}' (or "
                        "'holidays: none' for Monday to Friday)",
                    )
                )

    walk(data, ())
    return problems


class _Declared:
    """The names a policy declares; ``None`` where a section cannot be read."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.types = self._keys(data, "record_types", required=True)
        types = data.get("record_types")
        self.resolvable = (
            {str(k) for k, v in types.items() if isinstance(v, Mapping) and v.get("resolvable")}
            if isinstance(types, Mapping)
            else set()
        )
        self.categories: dict[str, Any] = (
            {str(k): v.get("category") for k, v in types.items() if isinstance(v, Mapping)}
            if isinstance(types, Mapping)
            else {}
        )
        self.lists = self._keys(data, "lists")
        self.relations = self._keys(data, "relations")
        self.attributes = self._keys(data, "attributes")
        attributes = data.get("attributes")
        # each declared attribute's type, where it can be read
        self.attribute_types: dict[str, str] = {}
        if isinstance(attributes, Mapping):
            for name, spec in attributes.items():
                # a type the language does not know is reported once, where it is written;
                # conditions on the attribute are then not judged by it
                if isinstance(spec, Mapping) and spec.get("type") in ("date", "number", "text"):
                    self.attribute_types[str(name)] = spec["type"]
        services = self._keys(data, "services")
        # without a services section (or with an empty one), any service id may be used
        self.services = services or None
        self.raw_services = _raw_services(data)
        # grades (and the unpublished ones) of each score: None for the unnamed one
        self.score_grades: dict[str | None, tuple[list[str], set[str]] | None] = {}
        if "score" in data or "grades" in data:
            self.score_grades[None] = self._grades(data.get("grades"))
        scores = data.get("scores")
        self.scores: list[str] | None = [] if scores is None else None
        if isinstance(scores, Mapping):
            self.scores = [str(k) for k in scores]
            for name, score in scores.items():
                grades = score.get("grades") if isinstance(score, Mapping) else None
                self.score_grades[str(name)] = self._grades(grades)
        first = next(iter(self.score_grades.values()), None)
        self.grades: list[str] | None = first[0] if first else None

    def grades_of_first(self) -> tuple[list[str], set[str]] | None:
        """Grades of the first score (the one an unnamed score or grade condition tests)."""
        return next(iter(self.score_grades.values()), None)

    @staticmethod
    def _grades(grades: Any) -> tuple[list[str], set[str]] | None:
        if isinstance(grades, list) and all(
            isinstance(g, Mapping) and isinstance(g.get("name"), str) for g in grades
        ):
            names = [str(g["name"]) for g in grades]
            hidden = {str(g["name"]) for g in grades if g.get("at_least") == "unpublished"}
            return names, hidden
        return None

    @staticmethod
    def _keys(data: Mapping[str, Any], section: str, required: bool = False) -> list[str] | None:
        if section not in data:
            return None if required else []
        value = data[section]
        return [str(k) for k in value] if isinstance(value, Mapping) else None


def _condition_problems(
    declared: _Declared, pred: Any, path: Path, *, allow_lists: bool
) -> Problems:
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
                        f"unknown record type {name!r}{_hint(name, declared.types)}",
                    )
                )
    elif key in ("score_below", "score_at_least", "grade_in"):
        problems += _score_condition_problems(declared, key, value, path)
    elif key == "list" and isinstance(value, str):
        if not allow_lists:
            problems.append(
                ((*path, "list"), "a list cannot be defined by another list; use its condition")
            )
        elif declared.lists is not None and value not in declared.lists:
            problems.append(
                ((*path, "list"), f"unknown list {value!r}{_hint(value, declared.lists)}")
            )
    elif key in ("all", "any") and isinstance(value, list):
        for i, child in enumerate(value):
            problems += _condition_problems(
                declared, child, (*path, key, i), allow_lists=allow_lists
            )
    elif key == "not":
        problems += _condition_problems(declared, value, (*path, "not"), allow_lists=allow_lists)
    return problems


def _score_condition_problems(declared: _Declared, key: str, value: Any, path: Path) -> Problems:
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
            return [(where, f"unknown score {named!r}{_hint(named, declared.scores)}")]
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
            problems.append(((*path, i), f"unknown grade {grade!r}{_hint(grade, names)}"))
        elif isinstance(grade, str) and grade in hidden:
            problems.append(
                (
                    (*path, i),
                    f"grade {grade!r} has an unpublished cut-off: nobody is placed in it, so "
                    "this condition could never hold",
                )
            )
    return problems


def _component_problems(declared: _Declared, name: str, score: Any) -> Problems:
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
                    (where, f"unknown record type {type_name!r}{_hint(type_name, declared.types)}")
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


def _grade_problems(grades: Any, prefix: Path = ()) -> Problems:
    if not isinstance(grades, list):
        return []
    problems = [((*prefix, *path), message) for path, message in _band_problems(grades)]
    return problems


def _band_problems(grades: list[Any]) -> Problems:
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
            prev, here = _number(bands[i - 1].get("at_least")), _number(floor)
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


def _sanction_problems(declared: _Declared, name: str, sanction: Mapping[str, Any]) -> Problems:
    problems = _condition_problems(
        declared, sanction.get("when"), ("sanctions", name, "when"), allow_lists=True
    )
    service = sanction.get("service")
    if (
        declared.services is not None
        and isinstance(service, str)
        and service not in declared.services
    ):
        problems.append(
            (
                ("sanctions", name, "service"),
                f"undeclared service {service!r}{_hint(service, declared.services)}; "
                "every service is declared under services once that section is given",
            )
        )
    reach = sanction.get("reach")
    if isinstance(reach, list) and declared.relations is not None:
        for i, item in enumerate(reach):
            relation = item.get("relation") if isinstance(item, Mapping) else None
            if isinstance(relation, str) and relation not in declared.relations:
                problems.append(
                    (
                        ("sanctions", name, "reach", i, "relation"),
                        f"unknown relation {relation!r}"
                        f"{_hint(relation, declared.relations)}; declare it under relations",
                    )
                )
    problems += _applies_to_problems(declared, name, service, sanction.get("applies_to"))
    duration = sanction.get("duration")
    fixed = _span(duration.get("fixed")) if isinstance(duration, Mapping) else None
    bound = _span(sanction.get("max_duration"))
    # compared at average lengths (a month of 30.44 days): a bound of P30D under a fixed P1M
    # is refused although it ends later from a February
    if fixed is not None and bound is not None and bound.nominal() < fixed.nominal():
        problems.append(
            (("sanctions", name, "max_duration"), "max_duration is shorter than the fixed duration")
        )
    return problems


def _raw_services(data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    services = data.get("services")
    if not isinstance(services, Mapping):
        return {}
    return {str(k): v for k, v in services.items() if isinstance(v, Mapping)}


def service_chain(services: Mapping[str, Mapping[str, Any]], service: str) -> list[str]:
    """``service`` and its ancestors, nearest first, as far as they are declared (a cycle or
    an unknown parent ends the chain: ``_service_problems`` reports those)."""
    chain = [service]
    while True:
        parent = services.get(chain[-1], {}).get("parent")
        if not isinstance(parent, str) or parent not in services or parent in chain:
            return chain
        chain.append(parent)


def _raw_attributes(
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


def _service_problems(data: Mapping[str, Any]) -> Problems:
    services = _raw_services(data)
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
                    f"unknown parent service {parent!r}{_hint(parent, list(services))}; "
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
            above = _raw_attributes(services, parent)
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


def _applies_to_problems(declared: _Declared, name: str, service: Any, conditions: Any) -> Problems:
    if not isinstance(conditions, list) or not isinstance(service, str):
        return []
    attributes = _raw_attributes(declared.raw_services, service)
    problems: Problems = []
    for i, cond in enumerate(conditions):
        if not isinstance(cond, Mapping):
            continue
        where: Path = ("sanctions", name, "applies_to", i)
        attr = cond.get("attribute")
        if not isinstance(attr, str):
            continue
        spec = attributes.get(attr)
        if spec is None:
            known = sorted(attributes)
            problems.append(
                (
                    (*where, "attribute"),
                    f"service {service!r} declares no attribute {attr!r}"
                    + (
                        _hint(attr, known)
                        if known
                        else f"; declare it under services.{service}.attributes"
                    ),
                )
            )
            continue
        kind = spec.get("type")
        if kind == "number" and cond.get("in") is not None:
            problems.append(
                (
                    (*where, "in"),
                    f"attribute {attr!r} is a number: test it with at_least and/or below",
                )
            )
        elif kind in ("one_of", "text") and (
            cond.get("at_least") is not None or cond.get("below") is not None
        ):
            key = "at_least" if cond.get("at_least") is not None else "below"
            problems.append(
                (
                    (*where, key),
                    f"attribute {attr!r} is {'one of listed values' if kind == 'one_of' else 'text'}"
                    ": test it with in: [values]",
                )
            )
        values = spec.get("values")
        wanted = cond.get("in")
        if kind == "one_of" and isinstance(values, list) and isinstance(wanted, list):
            for j, value in enumerate(wanted):
                if isinstance(value, str) and value not in values:
                    problems.append(
                        (
                            (*where, "in", j),
                            f"{value!r} is not a value of attribute {attr!r}"
                            f"{_hint(value, [str(v) for v in values])}",
                        )
                    )
    return problems


def _eligibility_problems(declared: _Declared, conditions: Any, path: Path) -> Problems:
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
                    f"unknown attribute {name!r}{_hint(name, declared.attributes)}; "
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
            elif kind == "date" and any(isinstance(v, str) and not _is_date(v) for v in values):
                bad = next(v for v in values if isinstance(v, str) and not _is_date(v))
                problems.append(
                    (
                        (*path, i, key),
                        f"attribute {name!r} is a date, so {key} takes dates (YYYY-MM-DD), not "
                        f"{bad!r}; to test an age use age_at_least (e.g. age_at_least: 18), to "
                        "test how long a value has held use held_for",
                    )
                )
    return problems


def _is_date(text: str) -> bool:
    """Whether ``text`` is a calendar date written YYYY-MM-DD (as attribute values are)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _tests_unresolved(pred: Any, depth: int = 0) -> bool | None:
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
    found = [_tests_unresolved(c, depth + 1) for c in children]
    return True if True in found else (None if None in found else False)


def _delist_problems(name: str, lst: Mapping[str, Any]) -> Problems:
    """A ``delist_after_resolution`` delay on a list whose condition never tests
    ``unresolved: true`` would silently do nothing: the delay only ends such tests."""
    delay = _span(lst.get("delist_after_resolution"))
    if delay is None or delay.zero or _tests_unresolved(lst.get("when")) is not False:
        return []
    return [
        (
            ("lists", name, "delist_after_resolution"),
            "has no effect: the delay applies only to records: {unresolved: true} tests, and "
            "this list's condition has none; add unresolved: true to the records test (the "
            "listing then ends this long after the records are resolved) or remove "
            "delist_after_resolution",
        )
    ]


def cross_reference_problems(data: Mapping[str, Any]) -> Problems:
    """Every reference to an undeclared name, a malformed band order, or an inconsistent bound.

    ``data`` is the policy as parsed from YAML (it need not be valid). Returns (path, message)
    pairs, paths as written in the file; an empty list means none of these problems was found.
    """
    declared = _Declared(data)
    problems = _grade_problems(data.get("grades")) + _service_problems(data)
    types = data.get("record_types")
    if isinstance(types, Mapping):
        for name, rt in types.items():
            if isinstance(rt, Mapping):
                problems += _eligibility_problems(
                    declared, rt.get("eligible"), ("record_types", str(name), "eligible")
                )
    scores = data.get("scores")
    if isinstance(scores, Mapping):
        for name, score in scores.items():
            if isinstance(score, Mapping):
                problems += _grade_problems(score.get("grades"), ("scores", str(name)))
                problems += _component_problems(declared, str(name), score)
                problems += wallet_problems(declared.types, str(name), score)
    problems += _working_day_problems(data)
    lists = data.get("lists")
    if isinstance(lists, Mapping):
        for name, lst in lists.items():
            if isinstance(lst, Mapping):
                problems += _condition_problems(
                    declared, lst.get("when"), ("lists", str(name), "when"), allow_lists=False
                )
                problems += _eligibility_problems(
                    declared, lst.get("eligible"), ("lists", str(name), "eligible")
                )
                problems += _delist_problems(str(name), lst)
    sanctions = data.get("sanctions")
    if isinstance(sanctions, Mapping):
        for name, sanction in sanctions.items():
            if isinstance(sanction, Mapping):
                problems += _sanction_problems(declared, str(name), sanction)
    problems += _list_process_problems(data)
    problems += _publicity_problems(data)
    problems += source_problems(data)
    problems += system_problems(data)
    return problems


_SCORE_KEYS = ("score_below", "score_at_least", "grade_in", "rank_top")


def _uses_score(pred: Any, lists: Mapping[str, Any], depth: int = 0) -> bool:
    """Whether a condition (as parsed) or a list it names depends on the score or grade."""
    stack = [pred]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Mapping):
            if any(item.get(k) is not None for k in _SCORE_KEYS):
                return True
            named = item.get("list")
            if isinstance(named, str) and depth == 0:
                lst = lists.get(named)
                if isinstance(lst, Mapping) and _uses_score(lst.get("when"), lists, 1):
                    return True
            stack.extend(v for k, v in item.items() if k in ("all", "any", "not"))
    return False


def _publicity_problems(data: Mapping[str, Any]) -> Problems:
    """A publicity period publishes records: a measure with one must not depend on the score."""
    sanctions = data.get("sanctions")
    lists = data.get("lists")
    if not isinstance(sanctions, Mapping):
        return []
    problems: Problems = []
    for name, sanction in sanctions.items():
        if not isinstance(sanction, Mapping) or sanction.get("starts_after") is None:
            continue
        duration = sanction.get("duration")
        if isinstance(duration, Mapping) and duration.get("after_resolution") is not None:
            problems.append(
                (
                    ("sanctions", str(name), "starts_after"),
                    "a publicity period cannot be combined with a duration that ends after "
                    "resolution; give the measure a fixed term or none",
                )
            )
        problems += _notice_problems(data, str(name), sanction)
        if _uses_score(sanction.get("when"), lists if isinstance(lists, Mapping) else {}):
            problems.append(
                (
                    ("sanctions", str(name), "starts_after"),
                    "a publicity period needs a condition on records (or on lists of "
                    "records): this measure's condition depends on the score or grade, and "
                    "there would be no record to object to",
                )
            )
    return problems


def _window_of(data: Mapping[str, Any], type_name: str, via: list[str]) -> Any:
    """The appeal window (as written) of records of ``type_name``: the record type's own, a
    list's among ``via`` that counts it, else the policy-wide one."""
    types, lists = data.get("record_types"), data.get("lists")
    blocks = [types.get(type_name) if isinstance(types, Mapping) else None]
    for name in via:
        lst = lists.get(name) if isinstance(lists, Mapping) else None
        if isinstance(lst, Mapping) and type_name in _types_named(data, lst.get("when")):
            blocks.append(lst)
    blocks.append(data)
    for block in blocks:
        dp = block.get("due_process") if isinstance(block, Mapping) else None
        if isinstance(dp, Mapping) and dp.get("appeal_window") is not None:
            return dp["appeal_window"]
    return None


def _notice_problems(data: Mapping[str, Any], name: str, sanction: Mapping[str, Any]) -> Problems:
    """A publicity period longer than the appeal window of a record behind the measure: the
    person would be told they may object while a dispute of that record no longer has any
    effect (an objection is a dispute)."""
    starts = sanction.get("starts_after")
    given = starts.get("notice") if isinstance(starts, Mapping) else None
    notice = _span(given)
    if notice is None:
        return []
    when = sanction.get("when")
    via: list[str] = []
    stack = [when]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Mapping):
            if isinstance(item.get("list"), str):
                via.append(item["list"])
            stack.extend(v for k, v in item.items() if k in ("all", "any", "not"))
    lists = data.get("lists")
    named = _types_named(data, when)
    for lst in via:
        got = lists.get(lst) if isinstance(lists, Mapping) else None
        if isinstance(got, Mapping):
            named += [t for t in _types_named(data, got.get("when")) if t not in named]
    problems: Problems = []
    for t in named:
        written = _window_of(data, t, via)
        window = _span(written)
        if window is not None and notice > window:
            problems.append(
                (
                    ("sanctions", name, "starts_after", "notice"),
                    f"the publicity period ({given}) is longer than the appeal "
                    f"window ({written}) of record type {t!r}: an objection is a dispute of the "
                    "record, and one after its appeal window has no effect; make the notice "
                    "no longer than the appeal window, or lengthen the window",
                )
            )
    return problems


def _types_named(data: Mapping[str, Any], pred: Any) -> list[str]:
    """The record types a condition (as parsed) names by type or category, in declaration order."""
    names: set[str] = set()
    categories: set[str] = set()
    stack = [pred]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Mapping):
            records = item.get("records")
            if isinstance(records, Mapping):
                for key in ("type", "types"):
                    value = records.get(key)
                    given = value if isinstance(value, list) else [value]
                    names.update(v for v in given if isinstance(v, str))
                if isinstance(records.get("category"), str):
                    categories.add(records["category"])
            stack.extend(v for k, v in item.items() if k in ("all", "any", "not"))
    types = data.get("record_types")
    if not isinstance(types, Mapping):
        return sorted(names)
    return [
        str(n)
        for n, rt in types.items()
        if n in names or (isinstance(rt, Mapping) and rt.get("category") in categories)
    ]


def _list_process_problems(data: Mapping[str, Any]) -> Problems:
    """A list's due process must apply to some record type, and a record type counted by two
    lists with different due processes must declare its own (else which applies is unclear)."""
    lists = data.get("lists")
    types = data.get("record_types")
    if not isinstance(lists, Mapping):
        return []
    problems: Problems = []
    claimed: dict[str, tuple[str, Any]] = {}
    for name, lst in lists.items():
        if not isinstance(lst, Mapping) or not isinstance(lst.get("due_process"), Mapping):
            continue
        path = ("lists", str(name), "due_process")
        named = _types_named(data, lst.get("when"))
        if not named:
            problems.append(
                (
                    path,
                    "this list's condition names no record type (by type or category), so "
                    "its due process would apply to no record; give it to record types instead",
                )
            )
        for t in named:
            own = types.get(t) if isinstance(types, Mapping) else None
            if isinstance(own, Mapping) and own.get("due_process") is not None:
                continue  # the record type's own block decides
            if t in claimed and claimed[t][1] != lst["due_process"]:
                problems.append(
                    (
                        path,
                        f"record type {t!r} is also counted by list {claimed[t][0]!r}, whose "
                        "due process differs; give the record type its own due_process",
                    )
                )
            claimed.setdefault(t, (str(name), lst["due_process"]))
    return problems
