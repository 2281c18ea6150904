"""Whole-policy checks of measures (``sanctions``): what they are conditioned on, the
service they act on, and the request attributes they are limited to (``applies_to``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socialcredit.policy.checks_conditions import condition_problems
from socialcredit.policy.checks_names import Declared, Path, Problems, hint, span_of
from socialcredit.policy.checks_services import raw_attributes


def sanction_problems(declared: Declared, name: str, sanction: Mapping[str, Any]) -> Problems:
    problems = condition_problems(
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
                f"undeclared service {service!r}{hint(service, declared.services)}; "
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
                        f"{hint(relation, declared.relations)}; declare it under relations",
                    )
                )
    problems += applies_to_problems(declared, name, service, sanction.get("applies_to"))
    duration = sanction.get("duration")
    fixed = span_of(duration.get("fixed")) if isinstance(duration, Mapping) else None
    bound = span_of(sanction.get("max_duration"))
    # compared at average lengths (a month of 30.44 days): a bound of P30D under a fixed P1M
    # is refused although it ends later from a February
    if fixed is not None and bound is not None and bound.nominal() < fixed.nominal():
        problems.append(
            (("sanctions", name, "max_duration"), "max_duration is shorter than the fixed duration")
        )
    return problems


def applies_to_problems(declared: Declared, name: str, service: Any, conditions: Any) -> Problems:
    if not isinstance(conditions, list) or not isinstance(service, str):
        return []
    attributes = raw_attributes(declared.raw_services, service)
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
                        hint(attr, known)
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
                            f"{hint(value, [str(v) for v in values])}",
                        )
                    )
    return problems
