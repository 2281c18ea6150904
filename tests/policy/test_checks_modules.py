"""The whole-policy checks are split by noun (names, conditions, scores, services, measures,
due process) under the project's module size rule; ``socialcredit.policy.checks`` stays the
entry point the loader and the simulator import."""

from __future__ import annotations

from pathlib import Path

import socialcredit.policy

PACKAGE = Path(socialcredit.policy.__file__).parent
MODULE_LINES = 800  # the project's rule: split a module before ~800 lines


def test_every_policy_module_is_under_the_size_rule() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in PACKAGE.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n >= MODULE_LINES} == {}
    assert "checks_conditions.py" in sizes and "checks_due_process.py" in sizes


def test_the_entry_point_keeps_its_names() -> None:
    from socialcredit.policy.checks import Path as CheckPath
    from socialcredit.policy.checks import Problems, cross_reference_problems

    assert CheckPath == tuple[str | int, ...]
    assert Problems == list[tuple[CheckPath, str]]
    # an undeclared record type in a list's condition, with a did-you-mean
    data = {
        "record_types": {"debt": {"points": -10}},
        "lists": {"debtors": {"kind": "black", "when": {"records": {"type": "dept"}}}},
    }
    assert cross_reference_problems(data) == [
        (
            ("lists", "debtors", "when", "records", "type"),
            "unknown record type 'dept' (did you mean 'debt'?)",
        )
    ]
