"""Policy errors in structured services name file, line and field (issue 7, construct 8)."""

from __future__ import annotations

import pytest

from socialcredit.policy import PolicyError, compile_policy, parse_policy
from tests.policy.services.policy import STRUCTURED


def _edit(old: str, new: str, text: str = STRUCTURED) -> str:
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def _line(text: str, snippet: str) -> int:
    """The 1-based line of ``snippet``, which occurs once in ``text``."""
    assert text.count(snippet) == 1, snippet
    return text[: text.index(snippet)].count("\n") + 1


def _problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "s.yaml")
    assert all(str(p).startswith("s.yaml:") for p in info.value.problems)
    return [(p.line, p.path, p.message) for p in info.value.problems]


def test_the_structured_policy_is_valid_and_an_old_style_one_unchanged() -> None:
    cp = compile_policy(parse_policy(STRUCTURED))
    assert cp.service_parent("g_train_seats") == "rail_tickets"
    assert cp.policy.services["hotels"].context == "commerce"
    assert cp.service_chain("d_train_seats") == ("d_train_seats", "rail_tickets")


def test_an_unknown_parent() -> None:
    text = _edit("    parent: rail_tickets\n    context: transit\n    attributes:",
                 "    parent: rail_ticket\n    context: transit\n    attributes:")  # fmt: skip
    ((line, path, message),) = _problems(text)
    assert (line, path) == (_line(text, "parent: rail_ticket\n"), "services.d_train_seats.parent")
    assert "unknown parent service 'rail_ticket'" in message
    assert "did you mean 'rail_tickets'" in message


def test_a_cycle_of_parents_is_reported_once() -> None:
    text = _edit("    context: transit\n    attributes:\n      price",
                 "    context: transit\n    parent: d_train_seats\n    attributes:\n      price")  # fmt: skip
    ((line, path, message),) = _problems(text)
    assert (line, path) == (_line(text, "parent: d_train_seats"), "services.rail_tickets.parent")
    assert "rail_tickets -> d_train_seats -> rail_tickets is a cycle" in message


def test_a_service_that_is_its_own_parent() -> None:
    text = _edit("  hotels:\n", "  hotels:\n    parent: hotels\n")
    ((line, path, message),) = _problems(text)
    assert (line, path) == (_line(text, "parent: hotels"), "services.hotels.parent")
    assert "hotels -> hotels is a cycle" in message


def test_an_attribute_a_service_does_not_declare() -> None:
    text = _edit("{attribute: stars, at_least: 1}", "{attribute: star, at_least: 1}")
    ((line, path, message),) = _problems(text)
    assert line == _line(text, "{attribute: star, at_least: 1}")
    assert path == "sanctions.no_star_hotels.applies_to[0].attribute"
    assert "service 'hotels' declares no attribute 'star'" in message
    assert "did you mean 'stars'" in message


def test_a_child_attribute_is_not_the_parents() -> None:
    # class is declared for D-series seats, not for train tickets as a whole
    text = _edit("    when: {records: {type: seat_fight}}\n    service: rail_tickets\n",
                 "    when: {records: {type: seat_fight}}\n    service: rail_tickets\n"
                 "    applies_to: [{attribute: class, in: [first]}]\n")  # fmt: skip
    ((_, path, message),) = _problems(text)
    assert path == "sanctions.rail_ban.applies_to[0].attribute"
    assert "service 'rail_tickets' declares no attribute 'class'" in message


def test_an_inherited_attribute_can_be_tested_on_the_child() -> None:
    text = _edit("    applies_to: [{attribute: class, in: [first, business]}]\n",
                 "    applies_to: [{attribute: price, at_least: 500}]\n")  # fmt: skip
    cp = compile_policy(parse_policy(text))
    assert cp.required_attributes("d_train_seats") == ("price",)


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("{attribute: stars, at_least: 1}", "{attribute: stars, in: [five]}",
         "sanctions.no_star_hotels.applies_to[0].in",
         "attribute 'stars' is a number: test it with at_least and/or below"),
        ("{attribute: class, in: [first, business]}", "{attribute: class, at_least: 1}",
         "sanctions.no_d_first.applies_to[0].at_least",
         "attribute 'class' is one of listed values: test it with in: [values]"),
        ("{attribute: class, in: [first, business]}", "{attribute: class, in: [first, royal]}",
         "sanctions.no_d_first.applies_to[0].in[1]", "'royal' is not a value of attribute 'class'"),
        ("{attribute: stars, at_least: 1}", "{attribute: stars, at_least: 5, below: 5}",
         "sanctions.no_star_hotels.applies_to[0]", "at_least (5) must be below below (5)"),
        ("{attribute: stars, at_least: 1}", "{attribute: stars}",
         "sanctions.no_star_hotels.applies_to[0]", "give 'in' (values) or 'at_least'"),
        ("{attribute: stars, at_least: 1}", "{attribute: stars, at_least: 1, in: [x]}",
         "sanctions.no_star_hotels.applies_to[0]", "give either 'in' (values) or"),
        ("{attribute: stars, at_least: 1}", "{attribute: stars, at_least: '1'}",
         "sanctions.no_star_hotels.applies_to[0].at_least", "valid number"),
        ("{attribute: stars, at_least: 1}", "{attribute: stars, at_lest: 1}",
         "sanctions.no_star_hotels.applies_to[0].at_lest", "unknown field"),
        ("stars: {type: number,", "stars: {type: integer,",
         "services.hotels.attributes.stars.type", "Input should be"),
        ("school: {type: text}", "school: {type: one_of}",
         "services.private_school.attributes.school", "an attribute of type one_of lists its values"),
        ("school: {type: text}", "school: {type: text, values: [a]}",
         "services.private_school.attributes.school", "only an attribute of type one_of has values"),
        ("value_names: {debtor: you, other: someone else}",
         "value_names: {debtr: you, other: someone else}",
         "services.private_school.attributes.payer.value_names.debtr",
         "'debtr' is not one of the attribute's values (debtor, other)"),
        ("    context: commerce\n", "    context: hotels\n", "services.hotels.context",
         "Input should be"),
        ("{attribute: stars, at_least: 1}", "{attribute: Stars, at_least: 1}",
         "sanctions.no_star_hotels.applies_to[0].attribute", "String should match pattern"),
    ],
)  # fmt: skip
def test_field_problems_name_their_line_and_field(
    old: str, new: str, path: str, message: str
) -> None:
    text = _edit(old, new)
    found = _problems(text)
    assert any(p == path and message in m for _, p, m in found), found
    assert all(line is not None for line, _, _ in found)


def test_a_child_may_not_redeclare_an_inherited_attribute() -> None:
    text = _edit("  g_train_seats:\n", "  g_train_seats:\n    attributes: {price: {type: text}}\n")
    ((line, path, message),) = _problems(text)
    assert (line, path) == (
        _line(text, "attributes: {price"),
        "services.g_train_seats.attributes.price",
    )
    assert "already declared by a parent service" in message


def test_applies_to_without_a_services_section() -> None:
    from tests.policy.test_policy_language import BASE, edit

    text = edit("    reason_code: DEBTOR\n",
                "    reason_code: DEBTOR\n    applies_to: [{attribute: class, in: [first]}]\n", BASE)  # fmt: skip
    ((_, path, message),) = _problems(text)
    assert path == "sanctions.no_flights.applies_to[0].attribute"
    assert "declare it under services.air_travel.attributes" in message


def test_a_number_attribute_tested_with_in_is_reported_once() -> None:
    """``in: [1]`` on a number attribute: one problem, saying how to test a number (not a
    second one for the item that is not text)."""
    text = _edit("{attribute: stars, at_least: 1}", "{attribute: stars, in: [1]}")
    ((line, path, message),) = _problems(text)
    assert path == "sanctions.no_star_hotels.applies_to[0].in"
    assert message == "attribute 'stars' is a number: test it with at_least and/or below"
    assert line == _line(text, "{attribute: stars, in: [1]}")
