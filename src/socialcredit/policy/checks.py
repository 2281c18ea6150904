"""Checks that need the whole policy: names that must refer to something declared.

They read the policy as parsed from YAML (plain mappings and lists), not the validated model,
so that they run even when other parts of the file are invalid: one run of ``policy
validate`` then reports every independent problem. A part that cannot be read (a section
that is not a mapping, a condition with two keys, a value of the wrong type) is skipped
here; field validation reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socialcredit.policy.checks_conditions import condition_problems, eligibility_problems
from socialcredit.policy.checks_due_process import (
    delist_problems,
    list_process_problems,
    publicity_problems,
)
from socialcredit.policy.checks_measures import sanction_problems
from socialcredit.policy.checks_names import Declared, Path, Problems, span_of
from socialcredit.policy.checks_scores import component_problems, grade_problems
from socialcredit.policy.checks_services import service_problems
from socialcredit.policy.checks_systems import system_problems
from socialcredit.policy.sources import source_problems
from socialcredit.policy.wallets import wallet_problems

__all__ = ["Path", "Problems", "cross_reference_problems"]


def working_day_problems(data: Mapping[str, Any]) -> Problems:
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
            span = span_of(node)
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


def cross_reference_problems(data: Mapping[str, Any]) -> Problems:
    """Every reference to an undeclared name, a malformed band order, or an inconsistent bound.

    ``data`` is the policy as parsed from YAML (it need not be valid). Returns (path, message)
    pairs, paths as written in the file; an empty list means none of these problems was found.
    """
    declared = Declared(data)
    problems = grade_problems(data.get("grades")) + service_problems(data)
    types = data.get("record_types")
    if isinstance(types, Mapping):
        for name, rt in types.items():
            if isinstance(rt, Mapping):
                problems += eligibility_problems(
                    declared, rt.get("eligible"), ("record_types", str(name), "eligible")
                )
    scores = data.get("scores")
    if isinstance(scores, Mapping):
        for name, score in scores.items():
            if isinstance(score, Mapping):
                problems += grade_problems(score.get("grades"), ("scores", str(name)))
                problems += component_problems(declared, str(name), score)
                problems += wallet_problems(declared.types, str(name), score)
    problems += working_day_problems(data)
    lists = data.get("lists")
    if isinstance(lists, Mapping):
        for name, lst in lists.items():
            if isinstance(lst, Mapping):
                problems += condition_problems(
                    declared, lst.get("when"), ("lists", str(name), "when"), allow_lists=False
                )
                problems += eligibility_problems(
                    declared, lst.get("eligible"), ("lists", str(name), "eligible")
                )
                problems += delist_problems(str(name), lst)
    sanctions = data.get("sanctions")
    if isinstance(sanctions, Mapping):
        for name, sanction in sanctions.items():
            if isinstance(sanction, Mapping):
                problems += sanction_problems(declared, str(name), sanction)
    problems += list_process_problems(data)
    problems += publicity_problems(data)
    problems += source_problems(data)
    problems += system_problems(data)
    return problems
