"""The shipped examples lint as the issue says: china-scs.yaml has errors for its
cross-context measures, its measures on children and its expression / third-party record
type; fair-transit.yaml and carrot-rewards.yaml have none."""

from __future__ import annotations

import pytest

from socialcredit.examples import example_policy
from socialcredit.lint import lint_policy
from socialcredit.policy import load_policy


def _errors(name: str) -> list[tuple[str, str]]:
    report = lint_policy(load_policy(example_policy(name)))
    return [(f.rule, f.path) for f in report.errors]


def test_china_scs_errors() -> None:
    errors = _errors("china-scs")
    rules = {rule for rule, _ in errors}
    assert rules == {"SC101", "SC301", "SC401", "SC402"}
    # court debts close air and rail tickets, hotels, schools …
    assert ("SC101", "sanctions.no_flights.service") in errors
    assert ("SC101", "sanctions.no_private_school.service") in errors
    # the private-school measure reaches the debtor's children
    assert ("SC301", "sanctions.no_private_school.reach[0]") in errors
    assert [p for r, p in errors if r == "SC301"] == ["sanctions.no_private_school.reach[0]"]
    # speech, reported by third parties
    assert ("SC401", "record_types.spreading_rumours_online.category") in errors
    assert ("SC402", "record_types.spreading_rumours_online.evidence") in errors
    # the railway's own bans stay in the railway's context
    assert not any(
        p.startswith(("sanctions.rail_ban.", "sanctions.aviation_ban.")) for _, p in errors
    )


@pytest.mark.parametrize("name", ["fair-transit", "carrot-rewards", "mynumber-points"])
def test_accountable_examples_have_no_errors(name: str) -> None:
    assert _errors(name) == []


@pytest.mark.parametrize("name", ["carrot-rewards", "mynumber-points"])
def test_the_wallet_examples_lint_clean(name: str) -> None:
    # a wallet's record types earn or spend: none is reported as having no effect (SC603)
    report = lint_policy(load_policy(example_policy(name)))
    assert list(report.findings) == []


def test_company_officers_are_a_warning_not_an_error() -> None:
    report = lint_policy(load_policy(example_policy("china-scs")))
    officers = [f for f in report.findings if f.path == "sanctions.no_flights.reach[0]"]
    assert [(f.rule, f.severity) for f in officers] == [("SC302", "warning")]
    assert "legal_representative_of" in officers[0].message


def test_findings_carry_line_and_anchor() -> None:
    loaded = load_policy(example_policy("china-scs"))
    report = lint_policy(loaded)
    lines = loaded.text.splitlines()
    for f in report.findings:
        if f.path.endswith("]"):  # a list item: its own line, below its field's
            field = f.path.rsplit("[", 1)[0]
            assert (loaded.line_of(tuple(field.split("."))) or 0) <= f.line
            continue
        key = f.path.rsplit(".", 1)[-1]
        assert key in lines[f.line - 1], (f.path, f.line)
        assert f.anchor and f.quote


def test_the_sesame_style_interpersonal_dimension_is_flagged() -> None:
    # friends' scores move one's own: punishment (or reward) by association
    assert _errors("sesame-style") == [("SC303", "scores.sesame.components.relationships.related")]


def test_electoral_credit_lints_clean() -> None:
    report = lint_policy(load_policy(example_policy("electoral-credit")))
    assert report.findings == ()
