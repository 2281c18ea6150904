"""Scenario files: the shipped defaults load and fit their policies; bad files say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialcredit.examples import example_policy
from socialcredit.policy import compile_policy, load_policy
from socialcredit.sim.scenario import (
    ScenarioError,
    check_against,
    load_scenario,
    parse_scenario,
    scenario_json_schema,
)

SCENARIOS = Path(__file__).resolve().parents[2] / "src/socialcredit/examples/scenarios"

FITS = {
    "china-scs": ["china-scs"],
    "fair-transit": ["fair-transit"],
    "carrot-rewards": ["carrot-rewards"],
    "commuters": ["fair-transit", "carrot-rewards"],
}


def policies(*names: str) -> list:  # type: ignore[type-arg]
    return [compile_policy(load_policy(example_policy(n))) for n in names]


@pytest.mark.parametrize("name", sorted(FITS))
def test_shipped_scenarios_fit_their_policies(name: str) -> None:
    loaded = load_scenario(SCENARIOS / f"{name}.yaml")
    check_against(loaded, policies(*FITS[name]))
    assert len(loaded.content_hash) == 64


GOOD = """\
scenario: tiny
groups:
  adults:
    share: 0.8
    kind: person
    rates: {fare_evasion: 1.0}
  kids:
    share: 0.2
    rates: {fare_evasion: 0.1}
"""


def problems(text: str, *names: str) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        loaded = parse_scenario(text, "s.yaml")
        check_against(loaded, policies(*names))
    return [str(p) for p in exc.value.problems]


def test_good_scenario_loads() -> None:
    loaded = parse_scenario(GOOD, "s.yaml")
    check_against(loaded, policies("fair-transit"))
    assert loaded.scenario.record_types() == ["fare_evasion"]


def test_unknown_record_type_names_file_line_and_field() -> None:
    text = GOOD.replace("rates: {fare_evasion: 0.1}", "rates: {fare_evaison: 0.1}")
    assert problems(text, "fair-transit") == [
        "s.yaml:9 at groups.kids.rates.fare_evaison: record type 'fare_evaison' is not "
        "declared by policy 'fair-transit@1.1'"
    ]


def test_a_type_one_of_several_policies_declares_is_accepted() -> None:
    text = GOOD.replace("{fare_evasion: 0.1}", "{fare_evasion: 0.1, flu_shot: 0.5}")
    check_against(parse_scenario(text, "s.yaml"), policies("fair-transit", "carrot-rewards"))
    assert problems(text, "fair-transit")[0].startswith("s.yaml:9 at groups.kids.rates.flu_shot")


def test_shares_must_add_up() -> None:
    text = GOOD.replace("share: 0.2", "share: 0.3")
    (msg,) = problems(text, "fair-transit")
    assert msg.startswith("s.yaml:2 at groups: the shares add up to 1.1, not 1")


def test_field_errors_are_located() -> None:
    text = GOOD.replace("kind: person", "kind: robot").replace(
        "rates: {fare_evasion: 1.0}", "rates: {fare_evasion: -1}"
    )
    found = problems(text, "fair-transit")
    assert found[0].startswith("s.yaml:5 at groups.adults.kind:")
    assert found[1].startswith("s.yaml:6 at groups.adults.rates.fare_evasion:")


def test_unknown_field_and_bad_yaml() -> None:
    assert "unknown field" in problems(GOOD + "colour: red\n", "fair-transit")[0]
    assert problems("scenario: [\n", "fair-transit")[0].startswith("s.yaml:2: not valid YAML")
    assert "YAML mapping" in problems("- 1\n", "fair-transit")[0]


def test_kind_the_policy_does_not_record() -> None:
    text = GOOD.replace("share: 0.2\n", "share: 0.2\n    kind: organisation\n")
    (msg,) = problems(text, "fair-transit")
    assert "s.yaml:10 at groups.kids.rates.fare_evasion" in msg
    assert "not recorded about a organisation" in msg


def test_relation_groups_and_names_are_checked() -> None:
    text = GOOD + "relations:\n  - {relation: child_of, from: [kids], to: [elders]}\n"
    (msg,) = problems(text, "china-scs")
    assert msg.startswith("s.yaml:11 at relations[0].to: no group named 'elders'")
    text = GOOD + "relations:\n  - {relation: child_of, from: [kids], to: [adults]}\n"
    (msg,) = problems(text, "fair-transit")
    assert msg.startswith("s.yaml:11 at relations[0].relation: relation 'child_of' is not declared")


def test_resolution_of_a_type_nobody_may_resolve() -> None:
    text = GOOD + "resolution:\n  staff_assault: {share: 0.5, mean_days: 10}\n"
    (msg,) = problems(text, "fair-transit")
    assert msg == (
        "s.yaml:11 at resolution.staff_assault: record type 'staff_assault' is not resolvable "
        "under 'fair-transit@1.1'"
    )


def test_behaviour_types_are_checked() -> None:
    (msg,) = problems(
        GOOD + "behaviour: {while_sanctioned: 0.5, types: [fare_evaison]}\n", "fair-transit"
    )
    assert msg.startswith("s.yaml:10 at behaviour.types[0]: record type 'fare_evaison'")
    assert (
        "less than 1"
        in problems(GOOD + "exit: {yearly_while_sanctioned: 1.0}\n", "fair-transit")[0]
    )


def test_missing_file() -> None:
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario("/nonexistent/s.yaml")


def test_schema_names_the_sections() -> None:
    schema = scenario_json_schema()
    assert {"groups", "relations", "data_errors", "disputes", "resolution"} <= set(
        schema["properties"]
    )


def test_purchases_name_services() -> None:
    text = GOOD.replace(
        "rates: {fare_evasion: 0.1}", "rates: {fare_evasion: 0.1}\n    purchases: {rail_travle: 3}"
    )
    (msg,) = problems(text, "fair-transit")
    assert msg.startswith("s.yaml:10 at groups.kids.purchases.rail_travle: service 'rail_travle'")
