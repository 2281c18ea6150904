"""``policy validate|activate|show``: the same exit code for the same problem, identifiers whole.

``policy show`` is run in a subprocess, its output a pipe, with COLUMNS set: what a person
sees with ``socialcredit policy show | cat`` or in an 80-column terminal.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from socialcredit.cli import run
from socialcredit.ledger import Ledger
from socialcredit.policy import load_policy
from tests.policy.test_policy_language import BASE, EXAMPLES, POLICIES, edit


def _call(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _show(path: Path | str, columns: int) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "socialcredit", "policy", "show", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": str(columns)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _identifiers(path: Path) -> set[str]:
    """Every name and code a policy file declares, as written in it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    names = {data["policy"]}
    for section in ("record_types", "relations", "lists", "sanctions", "services"):
        names |= set(data.get(section) or {})
    for sanction in (data.get("sanctions") or {}).values():
        names.add(sanction["service"])
        if sanction.get("reason_code"):
            names.add(sanction["reason_code"])
    return names


# --- exit codes ----------------------------------------------------------------------------


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(edit("expires_after: P180D", "expires_after: 180"))
    return path


def test_validate_and_activate_give_2_for_an_invalid_policy(
    bad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _call(capsys, "policy", "validate", str(bad))
    assert code == 2
    assert f"{bad}:26 at record_types.misconduct.expires_after" in err
    code, _, err2 = _call(capsys, "policy", "activate", str(bad), "--db", str(tmp_path / "p.db"))
    assert code == 2 and err2 == err


def test_validate_and_activate_give_2_for_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "nope.yaml")
    db = str(tmp_path / "p.db")
    for args in (["policy", "validate", missing], ["policy", "activate", missing, "--db", db]):
        code, _, err = _call(capsys, *args)
        assert code == 2 and "no such file" in err


def test_validate_reports_every_file_and_fails_if_any_fails(
    bad: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = str(EXAMPLES[0])
    code, out, err = _call(capsys, "policy", "validate", good, str(bad))
    assert code == 2
    assert f"ok {good}" in out and load_policy(good).content_hash in out
    assert str(bad) in err
    code, out, _ = _call(capsys, "policy", "validate", "--json", good, str(bad))
    assert code == 2
    assert [r["valid"] for r in json.loads(out)] == [True, False]


def test_valid_files_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert _call(capsys, "policy", "validate", *map(str, EXAMPLES))[0] == 0


def test_validate_help_names_its_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _call(capsys, "policy", "validate", "--help")
    assert code == 0 and "2 when any file is invalid" in " ".join(out.split())


def test_policy_markup_is_printed_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a problem message quoting "[bold]" must not be eaten by the terminal renderer
    path = tmp_path / "markup.yaml"
    path.write_text(edit("policy: base", "policy: '[bold]x'"))
    _, _, err = _call(capsys, "policy", "validate", str(path))
    assert "'[bold]x'" in err


# --- policy show ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("columns", [80, 200])
def test_show_never_truncates_identifiers(path: Path, columns: int) -> None:
    shown = _show(path, columns)
    assert "…" not in shown
    missing = {n for n in _identifiers(path) if n not in shown}
    assert missing == set()
    assert f"sha256 {load_policy(path).content_hash}" in shown
    assert all(len(line) <= columns for line in shown.splitlines() if line.startswith(("┃", "│")))


def test_show_keeps_long_names_whole_in_a_narrow_terminal(tmp_path: Path) -> None:
    long_list = "a_list_whose_name_is_much_longer_than_any_column_of_a_narrow_terminal_can_hold"
    long_type = "misconduct_recorded_by_the_conductor_of_a_regional_train_service_at_night"
    text = BASE.replace("troublemakers", long_list).replace("misconduct", long_type)
    path = tmp_path / "long.yaml"
    path.write_text(text)
    load_policy(path)
    for columns in (40, 80):
        shown = _show(path, columns)
        assert long_list in shown and long_type in shown and "…" not in shown


def test_show_of_the_active_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "p.db")
    china = next(p for p in EXAMPLES if p.name == "china-scs.yaml")
    assert (
        _call(
            capsys,
            "policy",
            "activate",
            str(china),
            "--db",
            db,
            "--override",
            "the seed system, linted: errors expected",
        )[0]
        == 0
    )
    code, out, _ = _call(capsys, "policy", "show", "--db", db)
    assert code == 0
    assert load_policy(china).content_hash in out and "ledger policy version 1" in out
    words = out.split()
    assert {"high_speed_rail", "dishonest_judgment_debtors", "SPC-DEBTOR-FAMILY"} <= set(words)
    code, out, _ = _call(capsys, "policy", "show", "--db", db, "--json")
    data = json.loads(out)
    assert data["content_hash"] == load_policy(china).content_hash
    assert data["activated_version"] == 1


# --- versions ------------------------------------------------------------------------------


def test_activate_refuses_a_changed_file_under_its_old_version_saying_to_bump_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "v.db")
    first = tmp_path / "fair-transit.yaml"
    text = (POLICIES / "fair-transit.yaml").read_text(encoding="utf-8")
    first.write_text(text)
    assert _call(capsys, "policy", "activate", str(first), "--db", db)[0] == 0
    changed = tmp_path / "changed.yaml"
    changed.write_text(text.replace("title: ", "title: Edited ", 1))
    code, out, err = _call(capsys, "policy", "activate", str(changed), "--db", db)
    assert code == 2 and out == ""
    assert "version '1.1' was first activated on" in err
    assert "bump `version:` in the file (e.g. '1.2') and activate it again" in err
    with Ledger.open(db) as ledger:
        assert len(ledger.policy_history()) == 1  # nothing changed
    # bumped, it is activated
    changed.write_text(changed.read_text().replace('version: "1.1"', 'version: "1.2"', 1))
    assert _call(capsys, "policy", "activate", str(changed), "--db", db)[0] == 0


def test_the_examples_with_sources_activate_over_their_versions_without_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a ledger that activated an example before it gained its sources section (at the
    # version it then had) takes the example as shipped now: a new version
    for name, before in (("fair-transit.yaml", "1.0"), ("carrot-rewards.yaml", "1.0")):
        db = str(tmp_path / f"{name}.db")
        text = (POLICIES / name).read_text(encoding="utf-8")
        old = tmp_path / f"old-{name}"
        old.write_text(
            re.sub(
                r'^version: "[^"]*"',
                f'version: "{before}"',
                text.split("\nsources:\n")[0],
                count=1,
                flags=re.M,
            )
        )
        assert _call(capsys, "policy", "activate", str(old), "--db", db)[0] == 0
        code, _, err = _call(capsys, "policy", "activate", str(POLICIES / name), "--db", db)
        assert code == 0, err


def test_show_at_a_time_shows_the_policy_in_force_then(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``policy show --at`` reads the ledger's history: fair-transit 1.1 from 2025-01-01,
    a bumped 1.2 from 2026-01-01; before the first, nothing was in force (an error)."""
    from socialcredit.timeutil import parse_timestamp

    db = str(tmp_path / "h.db")
    text = (POLICIES / "fair-transit.yaml").read_text(encoding="utf-8")
    later = text.replace('version: "1.1"', 'version: "1.2"', 1)
    assert later != text
    with Ledger.open(db) as ledger:
        ledger.upgrade()
        for body, when in ((text, "2025-01-01"), (later, "2026-01-01")):
            path = tmp_path / "p.yaml"
            path.write_text(body)
            loaded = load_policy(path)
            t = parse_timestamp(when)
            ledger.activate_policy(
                loaded.text,
                loaded.policy.policy,
                loaded.policy.version,
                loaded.content_hash,
                t,
                now=t,
            )
    code, out, _ = _call(capsys, "policy", "show", "--db", db, "--at", "2025-06-01")
    assert code == 0
    assert "@1.1" in out and "@1.2" not in out
    assert "in force at 2025-06-01T00:00:00Z: ledger policy version 1" in out
    code, out, _ = _call(capsys, "policy", "show", "--db", db, "--at", "2026-06-01", "--json")
    data = json.loads(out)
    assert (data["version"], data["activated_version"]) == ("1.2", 2)
    assert data["in_force_at"] == "2026-06-01T00:00:00Z"
    code, out, err = _call(capsys, "policy", "show", "--db", db, "--at", "2024-06-01")
    assert code == 2 and out == "" and "no policy was in force at 2024-06-01" in err
    # a file is the same at any time: --at with it is refused, not ignored
    code, out, err = _call(
        capsys, "policy", "show", str(POLICIES / "fair-transit.yaml"), "--at", "2025-06-01"
    )
    assert code == 2 and out == "" and "--at" in err


def test_history_lint_cell_counts_one_as_one() -> None:
    from socialcredit.cli.policy import _lint_cell

    lint = {"linted": True, "errors": 1, "warnings": 1, "silenced": 1, "override": None}
    assert _lint_cell(lint) == "1 error, 1 warning, 1 silenced"
    lint.update(errors=0, warnings=1_234, silenced=0)
    assert _lint_cell(lint) == "0 errors, 1,234 warnings"


def test_policy_show_says_the_band_of_the_grade_without_a_cut_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lowest grade is below the cut-off before it (was 'restricted below', 'D
    below'); under unpublished cut-offs, below the previous grade's; alone, every score."""
    from socialcredit.examples import example_policy
    from tests.appeals_policy import POLICY
    from tests.cli.conftest import call

    _, out, _ = call(capsys, "policy", "show", str(example_policy("fair-transit")))
    assert "good_standing ≥ 80, warned ≥ 50, restricted below 50" in out
    _, out, _ = call(capsys, "policy", "show", str(example_policy("china-scs")))
    assert "C ≥ unpublished, D below C's cut-off" in out
    alone = tmp_path / "one-grade.yaml"
    alone.write_text(POLICY)
    assert "grades: [{name: A}]" in POLICY
    code, out, err = call(capsys, "policy", "show", str(alone))
    assert code == 0, err
    assert "grades: A at every score" in out
