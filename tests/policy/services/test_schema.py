"""The JSON Schema accepts exactly the new valid shapes of structured services (as
``tests/policy/test_schema.py`` does for the rest of the language)."""

from __future__ import annotations

import pytest
import yaml

from socialcredit.policy import PolicyError, parse_policy
from tests.policy.services.policy import STRUCTURED
from tests.policy.services.test_loader import _edit
from tests.policy.test_schema import _errors


def _valid(text: str) -> bool:
    try:
        parse_policy(text)
    except PolicyError:
        return False
    return True


def test_the_structured_policy_passes_the_schema() -> None:
    assert _errors(yaml.safe_load(STRUCTURED)) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("{attribute: stars, at_least: 1}", "{attribute: stars, below: 3}"),
        ("{attribute: stars, at_least: 1}", "{attribute: stars, at_least: 1, below: 3}"),
        ("{attribute: stars, at_least: 1}", "{attribute: stars, at_least: 1.5, in: null}"),
        ("{attribute: class, in: [first, business]}", "{attribute: class, in: [first], below: null}"),
        ("school: {type: text}", "school: {type: text, values: null, unit: ''}"),
        ("stars: {type: number,", "stars: {type: number, unit: stars,"),
        ("    context: commerce\n", ""),
        ("    parent: rail_tickets\n    context: transit\n    attributes:", "    attributes:"),
        ("    applies_to: [{attribute: stars, at_least: 1}]\n", "    applies_to: []\n"),
    ],
)  # fmt: skip
def test_valid_variants_pass_both(old: str, new: str) -> None:
    text = _edit(old, new)
    assert _valid(text)
    assert _errors(yaml.safe_load(text)) == []


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("{attribute: stars, at_least: 1}", "{attribute: stars}", "sanctions.no_star_hotels.applies_to.0"),
        ("{attribute: stars, at_least: 1}", "{attribute: stars, at_least: 1, in: [a]}",
         "sanctions.no_star_hotels.applies_to.0"),
        ("{attribute: stars, at_least: 1}", "{attribute: stars, in: []}", "sanctions.no_star_hotels.applies_to.0"),
        ("{attribute: stars, at_least: 1}", "{attribute: stars, at_least: '1'}",
         "sanctions.no_star_hotels.applies_to.0"),
        ("{attribute: stars, at_least: 1}", "{attribute: Stars, at_least: 1}",
         "sanctions.no_star_hotels.applies_to.0"),
        ("{attribute: stars, at_least: 1}", "{attribute: stars, at_lest: 1}",
         "sanctions.no_star_hotels.applies_to.0"),
        ("school: {type: text}", "school: {type: one_of}", "services.private_school.attributes.school"),
        ("school: {type: text}", "school: {type: text, values: [a]}",
         "services.private_school.attributes.school"),
        ("school: {type: text}", "school: {type: text, value_names: {a: b}}",
         "services.private_school.attributes.school"),
        ("school: {type: text}", "school: {type: string}", "services.private_school.attributes.school"),
        ("school: {type: text}", "school: {type: one_of, values: []}",
         "services.private_school.attributes.school"),
        ("    context: commerce\n", "    context: hotels\n", "services.hotels.context"),
        ("    parent: rail_tickets\n    context: transit\n    attributes:",
         "    parent: Rail\n    context: transit\n    attributes:", "services.d_train_seats.parent"),
        ("      school: {type: text}", "      School: {type: text}", "services.private_school.attributes"),
    ],
)  # fmt: skip
def test_invalid_variants_fail_both(old: str, new: str, where: str) -> None:
    text = _edit(old, new)
    assert not _valid(text)
    errors = _errors(yaml.safe_load(text))
    assert errors and any(e.startswith(where) for e in errors), errors


@pytest.mark.parametrize(
    ("old", "new"),
    [  # problems that need the whole policy: only `policy validate` sees them
        ("{attribute: stars, at_least: 1}", "{attribute: star, at_least: 1}"),
        ("{attribute: class, in: [first, business]}", "{attribute: class, in: [royal]}"),
        ("  hotels:\n", "  hotels:\n    parent: spa\n"),
        ("  hotels:\n", "  hotels:\n    parent: hotels\n"),
        ("{attribute: stars, at_least: 1}", "{attribute: stars, at_least: 2, below: 1}"),
    ],
)
def test_reference_problems_pass_the_schema_but_not_validate(old: str, new: str) -> None:
    text = _edit(old, new)
    assert not _valid(text)
    assert _errors(yaml.safe_load(text)) == []
