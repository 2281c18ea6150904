"""What the whole-policy checks (``socialcredit.policy.checks``) share: the names a policy
declares (``Declared``, read from the policy as parsed from YAML), the problem types, and
small readers of values that may be malformed (a number, a duration) and a did-you-mean."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from socialcredit.spans import Span, parse_span
from socialcredit.timeutil import TimeFormatError

Path = tuple[str | int, ...]
Problems = list[tuple[Path, str]]


def hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    listing = ", ".join(sorted(known)) if known else "none"
    return f" (did you mean {close[0]!r}?)" if close else f" (declared: {listing})"


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def span_of(value: Any) -> Span | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_span(value)
    except TimeFormatError:
        return None


class Declared:
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
        self.raw_services = raw_services(data)
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


def raw_services(data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    services = data.get("services")
    if not isinstance(services, Mapping):
        return {}
    return {str(k): v for k, v in services.items() if isinstance(v, Mapping)}
