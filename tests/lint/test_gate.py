"""The activation gate: `policy activate` and `init --policy` refuse a policy with lint
errors unless given --override "justification"; findings and override are stored with
the activation and shown by `policy history`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from socialcredit.examples import example_policy
from socialcredit.ledger import Ledger
from socialcredit.lint.gate import LintGateError, gate
from socialcredit.policy import load_policy
from tests.cli.conftest import call

FIXTURES = Path(__file__).parent / "fixtures"
CHINA = str(example_policy("china-scs"))
FAIR = str(example_policy("fair-transit"))


def test_gate_refuses_errors_without_an_override() -> None:
    loaded = load_policy(FIXTURES / "SC301.yaml")
    with pytest.raises(LintGateError) as exc:
        gate(loaded, None)
    assert exc.value.exit_code == 1 and exc.value.http_status == 422
    assert "1 lint error" in exc.value.message and "--override" in exc.value.message
    assert any("SC301" in p for p in exc.value.problems)
    passed = gate(loaded, "  reviewed by the board  ")
    assert passed.override == "reviewed by the board"
    assert [f["rule"] for f in json.loads(passed.findings)] == ["SC301"]
    # a policy without errors needs no override and records none
    clean = gate(load_policy(FAIR), "not needed")
    assert clean.override is None and {f["severity"] for f in json.loads(clean.findings)} == {
        "warning"
    }


def test_activate_refuses_then_records_the_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "g.db")
    code, _, err = call(capsys, "policy", "activate", CHINA, "--db", db)
    assert code == 1 and "lint error" in err and "SC101" in err
    assert not Path(db).exists()  # refused before a database was made
    code, _, err = call(capsys, "policy", "activate", CHINA, "--db", db, "--override", " ")
    assert code == 2 and "justification" in err
    why = "studied as the seed system, not deployed"
    code, out, _ = call(capsys, "policy", "activate", CHINA, "--db", db, "--override", why)
    assert code == 0 and "lint: china-scs@2026.3:" in out and why in out
    code, out, _ = call(capsys, "policy", "activate", FAIR, "--db", db)
    assert code == 0
    code, out, _ = call(capsys, "policy", "history", "--db", db, "--json")
    china, fair = json.loads(out)
    assert china["lint"]["override"] == why and china["lint"]["errors"] > 0
    assert {f["rule"] for f in china["lint"]["findings"]} >= {"SC101", "SC301", "SC401"}
    assert fair["lint"] == {
        "linted": True,
        "errors": 0,
        "warnings": 3,
        "info": 0,
        "silenced": 0,
        "override": None,
        "findings": fair["lint"]["findings"],
    }
    code, out, _ = call(capsys, "policy", "history", "--db", db)
    assert why in out and "0 errors, 3 warnings" in out
    with Ledger.open(db) as ledger:
        stored = ledger.policy_history()
    assert stored[0].lint_override == why and stored[1].lint_override is None


def test_init_follows_the_same_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "i.db")
    code, _, err = call(capsys, "init", "--db", db, "--policy", CHINA)
    assert code == 1 and "lint error" in err and not Path(db).exists()
    assert call(capsys, "init", "--db", db, "--policy", CHINA, "--override", "seed")[0] == 0


def test_an_activation_without_the_gate_counts_nothing(tmp_path: Path) -> None:
    """The demo (and a ledger from before the gate) activates without linting: its history
    says "not linted" and gives no counts, never "0 errors"."""
    from socialcredit.lint.gate import summary_json
    from socialcredit.policy import load_policy

    db = str(tmp_path / "n.db")
    loaded = load_policy(CHINA)
    with Ledger.open(db) as ledger:
        ledger.upgrade()
        ledger.activate_policy(
            loaded.text, loaded.policy.policy, loaded.policy.version, loaded.content_hash, 0, now=0
        )
        [pv] = ledger.policy_history()
    lint = summary_json(pv.findings(), pv.lint_override, pv.lint_findings is not None)
    assert lint["linted"] is False
    assert (lint["errors"], lint["warnings"], lint["info"], lint["silenced"]) == (None,) * 4
