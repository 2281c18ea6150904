"""``socialcredit policy lint``: exit codes, the table, JSON and SARIF, --select/--ignore,
--strict and --explain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from socialcredit.examples import example_policy
from tests.cli.conftest import call

FIXTURES = Path(__file__).parent / "fixtures"
CHINA = str(example_policy("china-scs"))
FAIR = str(example_policy("fair-transit"))


def test_exit_codes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert call(capsys, "policy", "lint", str(FIXTURES / "base.yaml"))[0] == 0
    assert call(capsys, "policy", "lint", CHINA)[0] == 1  # errors
    assert call(capsys, "policy", "lint", FAIR)[0] == 0  # warnings only
    assert call(capsys, "policy", "lint", FAIR, "--strict")[0] == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: x\n")
    code, _, err = call(capsys, "policy", "lint", FAIR, str(bad))
    assert code == 2 and "bad.yaml" in err
    code, _, err = call(capsys, "policy", "lint", FAIR, "--select", "SC9")
    assert code == 2 and "SC9" in err


def test_table_names_rule_line_field_and_anchor(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "policy", "lint", str(FIXTURES / "SC301.yaml"))
    assert code == 1
    assert "SC301" in out and "error" in out and "sanctions.rail_ban.reach[0]" in out
    assert "SPC Fa Shi [2017] No. 7, Art. 4" in out
    assert out.rstrip().endswith("lint-base@1: 1 error, 0 warnings, 0 info; 0 silenced")


def test_json_lists_findings_and_silenced(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "policy", "lint", CHINA, FAIR, "--json", "--select", "SC3,SC4")
    assert code == 1
    china, fair = json.loads(out)
    assert {f["rule"] for f in china["findings"]} == {"SC301", "SC302", "SC401", "SC402"}
    assert china["counts"]["error"] == sum(f["severity"] == "error" for f in china["findings"])
    assert fair["findings"] == [] and fair["silenced"] == []
    first = china["findings"][0]
    assert set(first) >= {"rule", "severity", "message", "anchor", "quote", "file", "line", "path"}


def test_ignore_drops_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(
        capsys, "policy", "lint", CHINA, "--json", "--ignore", "SC1", "--ignore", "SC3,SC4"
    )
    assert code == 0
    assert not {f["rule"][:3] for f in json.loads(out)[0]["findings"]} & {"SC1", "SC3", "SC4"}


def test_sarif_is_a_2_1_0_log_with_locations(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: x\n")
    code, out, _ = call(capsys, "policy", "lint", str(FIXTURES / "SC104.yaml"), str(bad), "--sarif")
    assert code == 2
    log = json.loads(out)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    lint = [r for r in results if r["ruleId"] == "SC104"]
    assert len(lint) == 1 and lint[0]["level"] == "error"
    assert rules[lint[0]["ruleIndex"]]["id"] == "SC104"
    region = lint[0]["locations"][0]["physicalLocation"]
    assert (
        region["artifactLocation"]["uri"].endswith("SC104.yaml")
        and region["region"]["startLine"] > 1
    )
    assert any(r["ruleId"] == "invalid-policy" for r in results)


def test_explain_says_whom_each_measure_hits(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "policy", "lint", CHINA, "--json", "--explain")
    assert code == 1
    impact = {i["measure"]: i["sentence"] for i in json.loads(out)[0]["impact"]}
    assert impact["no_private_school"].endswith("the same applies to their children.")
    assert "on the list of dishonest judgment debtors" in impact["no_private_school"]
    # a count the policy gives as at_least is said as "at least", never as an exact number
    assert (
        "listed with at least 5 volunteering records in the last year"
        in (impact["deposit_free_bikes"])
    )
    assert impact["aviation_ban"] == (
        "A person with one aviation serious misconduct record cannot buy air tickets from the "
        "end of a publicity period of 7 working days, for 1 year."
    )


def test_explain_says_a_ranked_list_named_for_its_members(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # electoral-credit's list `seated` is displayed "the seated members of parliament" and
    # is a rank_top condition: it was "on the the seated members of parliament list (listed )"
    from socialcredit.examples import example_policy

    path = str(example_policy("electoral-credit"))
    code, out, _ = call(capsys, "policy", "lint", path, "--json", "--explain")
    assert code == 0
    impact = {i["measure"]: i["sentence"] for i in json.loads(out)[0]["impact"]}
    assert impact["parliament_seat"] == (
        "A person on the list of the seated members of parliament (listed among the 150 with "
        "the highest credit score) may hold a seat in parliament while that lasts."
    )


def test_narrow_terminal_labels_the_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from socialcredit.cli import common

    monkeypatch.setenv("COLUMNS", "30")
    monkeypatch.setattr(common._out, "_console", None)  # consoles read COLUMNS when made
    code, out, _ = call(capsys, "policy", "lint", str(FIXTURES / "SC301.yaml"))
    assert code == 1
    first = out.splitlines()[1]  # under the title: the finding's block starts with its line
    assert first.startswith("  line: ") and first.split(": ")[1].isdigit(), out
    assert "      rule: SC301; error" in out
