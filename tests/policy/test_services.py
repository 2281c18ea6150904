"""The ``services:`` section: display names, actions, and no undeclared service once it is given."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from socialcredit.policy import PolicyError, compile_policy, load_policy, parse_policy
from tests.policy.test_policy_language import BASE, EXAMPLES, POLICIES, edit

# BASE with a services section after relations (lines 32-34); everything below moves down 3
SERVICES = """\
services:
  air_travel: {display_name: air tickets, action: buy air tickets}
  rail_travel: {display_name: train tickets, action: buy train tickets}
"""
WITH_SERVICES = edit("lists:\n", SERVICES + "lists:\n")


def _problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.yaml")
    return [(p.line, p.path, p.message) for p in info.value.problems]


def test_declared_services_give_names_and_actions() -> None:
    cp = compile_policy(parse_policy(WITH_SERVICES))
    assert cp.service_name("air_travel") == "air tickets"
    assert cp.service_action("rail_travel") == "buy train tickets"
    assert cp.services() == ["air_travel", "rail_travel"]


def test_without_a_services_section_any_service_id_is_fine() -> None:
    cp = compile_policy(parse_policy(BASE))
    assert cp.service_action("rail_travel") == "use rail travel"


def test_an_undeclared_service_is_an_error_with_did_you_mean() -> None:
    text = edit("service: rail_travel", "service: rail_travle", WITH_SERVICES)
    ((line, path, message),) = _problems(text)
    assert (line, path) == (52, "sanctions.rail_ban.service")
    assert "undeclared service 'rail_travle'" in message
    assert "did you mean 'rail_travel'" in message


def test_an_undeclared_service_is_reported_with_every_other_problem() -> None:
    text = edit("service: air_travel", "service: helicopter", WITH_SERVICES)
    text = edit("expires_after: P1000D", "expires_after: 1000", text)
    text = edit("when: {records: {type: misconduct}}", "when: {records: {type: misconduc}}", text)
    found = [(line, path) for line, path, _ in _problems(text)]
    assert found == [
        (12, "record_types.debt.expires_after"),
        (42, "lists.troublemakers.when.records.type"),
        (46, "sanctions.no_flights.service"),
    ]
    helicopter = _problems(text)[2][2]
    assert "declared: air_travel, rail_travel" in helicopter


def test_a_service_declared_but_used_by_no_measure_is_known() -> None:
    text = edit(SERVICES, SERVICES + "  bike_rental: {display_name: public bikes}\n", WITH_SERVICES)
    cp = compile_policy(parse_policy(text))
    assert "bike_rental" in cp.services()
    assert cp.service_action("bike_rental") == "use public bikes"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_declares_its_services_and_list_names(path: Path) -> None:
    cp = compile_policy(load_policy(path))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    declared = data["services"]
    assert {s.service for s in cp.sanctions} == set(declared)
    for service in declared.values():
        assert service["display_name"] and service["action"]
        # an action completes "You cannot …": it starts with a verb, not with "You"
        assert not service["action"].lower().startswith(("you ", "cannot", "may "))
    for name, lst in data.get("lists", {}).items():  # lists are optional
        assert lst["display_name"], name


def test_the_seed_policy_names_services_as_people_know_them() -> None:
    cp = compile_policy(load_policy(POLICIES / "china-scs.yaml"))
    assert cp.version_label.startswith("china-scs")
    assert cp.service_action("high_speed_rail") == "buy seats on G-series high-speed trains"
    assert cp.service_action("air_travel") == "buy air tickets"
    assert cp.list_name("dishonest_judgment_debtors") == "list of dishonest judgment debtors"
