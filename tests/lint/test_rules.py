"""Every lint rule, one by one: its fixture policy triggers it and nothing else; the base
policy triggers nothing; a rule added without a fixture fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialcredit.lint import RULES, lint_policy
from socialcredit.policy import PolicyError, load_policy, parse_policy

FIXTURES = Path(__file__).parent / "fixtures"


def test_the_base_fixture_triggers_no_rule() -> None:
    report = lint_policy(load_policy(FIXTURES / "base.yaml"))
    assert report.findings == () and report.silenced == ()


def test_every_registered_rule_has_a_fixture_and_every_fixture_a_rule() -> None:
    fixtures = {p.stem for p in FIXTURES.glob("SC*.yaml")}
    assert fixtures == set(RULES)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_fixture_of_each_rule_triggers_exactly_that_rule(rule: str) -> None:
    report = lint_policy(load_policy(FIXTURES / f"{rule}.yaml"))
    assert {f.rule for f in report.findings} == {rule}
    for f in report.findings:
        assert f.severity == RULES[rule].severity
        assert f.line >= 1 and f.path and f.file.endswith(f"{rule}.yaml")
        assert f.message.endswith(".") and "\n" not in f.message


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_is_documented_with_an_example_and_a_fix(rule: str) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "lint-rules.md").read_text()
    section = docs.split(f"## {rule}", 1)[1].split("\n## ", 1)[0]
    assert RULES[rule].name in section.splitlines()[0]
    assert "```yaml" in section and "Fix:" in section


def test_rule_ids_are_stable_and_in_their_families() -> None:
    families = {"1": "SC1", "2": "SC2", "3": "SC3", "4": "SC4", "5": "SC5", "6": "SC6"}
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id and rule_id[:3] == families[rule_id[2]]
        assert rule.anchor and rule.quote and rule.fix and rule.summary
    # the first ids never change meaning
    assert RULES["SC101"].name == "cross-context-detriment"
    assert RULES["SC301"].name == "measure-reaches-children"


def test_a_policy_silences_a_rule_for_one_element_and_the_report_lists_it() -> None:
    text = (FIXTURES / "SC104.yaml").read_text()
    why = "the carrier's statute requires it"
    silenced = text.replace(
        "    legal_basis: conditions of carriage\ndue_process:",
        f'    legal_basis: conditions of carriage\n    lint: {{ignore: {{SC104: "{why}"}}}}\n'
        "due_process:",
    )
    assert silenced != text
    report = lint_policy(parse_policy(silenced, "p.yaml"))
    assert report.findings == ()
    assert [(f.rule, f.justification) for f in report.silenced] == [("SC104", why)]
    assert not report.fails(strict=True)
    # silencing another element (the list) does not silence the measure's finding
    other = text.replace(
        "  violent:\n    kind: black\n",
        "  violent:\n    kind: black\n    lint: {ignore: {SC104: not here}}\n",
    )
    assert other != text
    assert [f.rule for f in lint_policy(parse_policy(other, "p.yaml")).findings] == ["SC104"]


def test_an_ignore_with_a_blank_justification_is_invalid() -> None:
    text = (
        (FIXTURES / "SC104.yaml")
        .read_text()
        .replace(
            "    legal_basis: conditions of carriage\ndue_process:",
            '    legal_basis: conditions of carriage\n    lint: {ignore: {SC104: "  "}}\ndue_process:',
        )
    )
    with pytest.raises(PolicyError) as exc:
        parse_policy(text, "p.yaml")
    assert "sanctions.rail_ban.lint.ignore.SC104" in str(exc.value)


def test_select_and_ignore_take_ids_and_prefixes() -> None:
    loaded = load_policy(FIXTURES / "SC104.yaml")
    assert [f.rule for f in lint_policy(loaded, select=["SC1"]).findings] == ["SC104"]
    assert lint_policy(loaded, select=["SC2"]).findings == ()
    assert lint_policy(loaded, ignore=["SC104"]).findings == ()


def test_adding_the_optional_fields_keeps_old_policies_hashes() -> None:
    """The language's new optional fields (severity, nature, lint) are left out of the
    canonical form when not given: every example keeps its content hash."""
    base = load_policy(FIXTURES / "base.yaml")
    dumped = base.policy.model_dump(mode="json", by_alias=True)
    assert "lint" not in dumped and "severity" not in dumped["sanctions"]["rail_ban"]
    assert "severity" not in dumped["record_types"]["staff_assault"]
