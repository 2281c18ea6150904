"""Every independent problem in a policy is reported in one run (issue 5, item 8).

Schema problems (a bad duration, an unknown field, a value outside the vocabulary) and
reference problems (a name that is not declared) used to come in two rounds: the second only
after the first was fixed. The mutations below each break ``BASE`` in one place; any
combination of them must report exactly the union of what each reports alone, each with its
line and field path (read off the numbered ``BASE`` in test_policy_language.py).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.policy import PolicyError, parse_policy
from tests.policy.test_policy_language import BASE, edit

# (old text, new text, the (line, path) it must be reported at, a word of the message)
MUTATIONS: dict[str, tuple[str, str, tuple[int, str], str]] = {
    "bad duration": (
        "expires_after: P1000D",
        "expires_after: 5 yrs",
        (12, "record_types.debt.expires_after"),
        "not a duration",
    ),
    "unknown field": (
        "    resolvable: true\n",
        "    resolvabel: true\n",
        (16, "record_types.debt.resolvabel"),
        "unknown field",
    ),
    "bad vocabulary": (
        "context: transit\n    category: conduct\n    evidence: official_record\n  misconduct",
        "context: trains\n    category: conduct\n    evidence: official_record\n  misconduct",
        (21, "record_types.fine.context"),
        "Input should be",
    ),
    "unknown record type in a list": (
        "when: {records: {type: misconduct}}",
        "when: {records: {type: misconduc}}",
        (39, "lists.troublemakers.when.records.type"),
        "did you mean 'misconduct'",
    ),
    "unknown list in a sanction": (
        "when: {list: debtors}",
        "when: {list: debtor}",
        (42, "sanctions.no_flights.when.list"),
        "unknown list 'debtor'",
    ),
    "unknown relation": (
        "reach: [{relation: child_of}]",
        "reach: [{relation: son_of}]",
        (45, "sanctions.no_flights.reach[0].relation"),
        "unknown relation 'son_of'",
    ),
    "bad effect": (
        "effect: deny\n    duration",
        "effect: refuse\n    duration",
        (50, "sanctions.rail_ban.effect"),
        "Input should be",
    ),
    "bad list kind": (
        "kind: black\n    when: {records: {type: debt",
        "kind: grey\n    when: {records: {type: debt",
        (34, "lists.debtors.kind"),
        "Input should be",
    ),
    "grades out of order": (
        "{name: B, at_least: 900}",
        "{name: B, at_least: 1100}",
        (7, "grades[1].at_least"),
        "highest to lowest",
    ),
    "bad appeal window": (
        "appeal_window: P30D",
        "appeal_window: 30",
        (53, "due_process.appeal_window"),
        "not a duration",
    ),
}


def _apply(names: list[str]) -> str:
    text = BASE
    for name in names:
        old, new, _, _ = MUTATIONS[name]
        text = edit(old, new, text)
    return text


def _found(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.yaml")
    return [(p.line, p.path, p.message) for p in info.value.problems]


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_mutation_alone_is_one_problem(name: str) -> None:
    ((line, path, message),) = _found(_apply([name]))
    _, _, where, word = MUTATIONS[name]
    assert (line, path) == where and word in message


def test_a_bad_duration_and_an_unknown_record_type_come_together() -> None:
    # the issue's own example: a schema problem above, a reference problem below
    found = _found(_apply(["bad duration", "unknown record type in a list"]))
    assert [(line, path) for line, path, _ in found] == [
        (12, "record_types.debt.expires_after"),
        (39, "lists.troublemakers.when.records.type"),
    ]
    assert "'5 yrs' is not a duration" in found[0][2]
    assert "unknown record type 'misconduc'" in found[1][2]


def test_the_error_text_lists_every_problem_in_line_order() -> None:
    text = _apply(["unknown relation", "bad duration", "unknown field", "bad appeal window"])
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.yaml")
    lines = str(info.value).splitlines()
    assert [line.split(" at ")[0] for line in lines] == [
        "p.yaml:12",
        "p.yaml:16",
        "p.yaml:45",
        "p.yaml:53",
    ]


@settings(max_examples=60, deadline=None)
@given(st.sets(st.sampled_from(sorted(MUTATIONS)), min_size=2))
def test_any_combination_reports_the_union(names: set[str]) -> None:
    found = _found(_apply(sorted(names)))
    assert sorted((line, path) for line, path, _ in found) == sorted(MUTATIONS[n][2] for n in names)


def test_a_record_type_with_a_bad_field_is_still_declared() -> None:
    # the list refers to `debt`, whose own definition is broken: one problem, not two
    text = edit("expires_after: P1000D", "expires_after: forever")
    assert [(line, path) for line, path, _ in _found(text)] == [
        (12, "record_types.debt.expires_after")
    ]


def test_a_schema_and_a_reference_problem_in_one_condition() -> None:
    text = edit("{type: misconduct}", "{type: misconduc, at_least: 0}")
    found = {(line, path) for line, path, _ in _found(text)}
    assert found == {
        (39, "lists.troublemakers.when.records.at_least"),
        (39, "lists.troublemakers.when.records.type"),
    }


def test_a_missing_section_and_an_unknown_grade() -> None:
    text = edit("when: {list: troublemakers}", "when: {grade_in: [E]}")
    text = text.split("due_process:")[0]
    found = {(path, message.split(" (")[0]) for _, path, message in _found(text)}
    assert found == {
        ("due_process", "this field is required"),
        ("sanctions.rail_ban.when.grade_in[0]", "unknown grade 'E'"),
    }


def test_references_are_not_checked_against_a_section_that_is_unreadable() -> None:
    # record_types is not a mapping: that is the problem, not every name that refers to it
    start = BASE.index("record_types:")
    end = BASE.index("relations:")
    text = BASE[:start] + "record_types: [debt, fine, misconduct]\n" + BASE[end:]
    found = _found(text)
    assert [path for _, path, _ in found] == ["record_types"]


def test_a_broken_condition_does_not_hide_a_problem_in_another() -> None:
    text = edit(
        "when: {records: {type: debt, unresolved: true}}",
        "when: {records: {type: debt}, score_below: 5}",
    )
    text = edit("when: {records: {type: misconduct}}", "when: {records: {type: misconduc}}", text)
    found = [(line, path) for line, path, _ in _found(text)]
    assert found == [(35, "lists.debtors.when"), (39, "lists.troublemakers.when.records.type")]
