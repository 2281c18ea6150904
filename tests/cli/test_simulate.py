"""``socialcredit simulate``: the outputs, the schema, and clear errors (exit 2, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from socialcredit.cli import run
from socialcredit.examples import example_policy, example_scenario


def test_simulate_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        [
            "simulate",
            "--policy", str(example_policy("fair-transit")),
            "--policy", str(example_policy("carrot-rewards")),
            "--scenario", str(example_scenario("commuters")),
            "--population", "1100", "--days", "10", "--seed", "3",
            "--report", str(tmp_path / "out"),
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert [p["label"] for p in summary["policies"]] == ["fair-transit@1.1", "carrot-rewards@2.0"]
    assert summary["parameters"]["seed"] == 3
    assert summary["cost"]["evaluator"] == "events"
    assert summary["cost"]["peak_rss_bytes_largest_worker"] is None  # no workers
    assert (tmp_path / "out/report.html").stat().st_size > 0
    # the headline on stdout: the last simulated day (2026-01-01 + 9 days) and, per figure,
    # each policy's value as summary.json has it
    out = capsys.readouterr().out
    assert "On the last simulated day, 2026-01-10" in out
    rows = {
        " ".join(cells[0].split()): [c.strip() for c in cells[1:]]
        for line in out.splitlines()
        if len(cells := line.strip("│┃ ").split("│")) == 3
    }
    fair, carrot = summary["headline"]
    assert rows["subjects"] == ["1,100", "1,100"]
    assert rows["under a denial"] == [f"{fair['sanctioned_last_day']:,}", "0"]
    assert rows["under a benefit"] == ["0", f"{carrot['rewarded_last_day']:,}"]
    assert carrot["rewarded_last_day"] > 0


def test_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["simulate", "schema"]) == 0
    assert "groups" in json.loads(capsys.readouterr().out)["properties"]


def test_a_scenario_that_does_not_fit_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        [
            "simulate", "--policy", str(example_policy("fair-transit")),
            "--scenario", str(example_scenario("carrot-rewards")),
            "--report", str(tmp_path / "out"),
        ]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "carrot-rewards.yaml:10 at groups.active.rates.daily_step_goal: record type" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--report", "r"], "give at least one --policy FILE"),
        (["--policy", "fair-transit"], "give --report DIR"),
        (["--policy", "p", "--report", "r", "--start", "2026-13-01"], "--start"),
        (
            ["--policy", "p", "--report", "r", "--workers", "2", "--scheduler", "tcp://x:1"],
            "not both",
        ),
        (["--policy", "p", "--report", "r", "--evaluator", "fastest"], "--evaluator"),
        # 34 days from 9999-12-01: the last is 10000-01-03, past what times support
        (
            ["--policy", "p", "--report", "r", "--start", "9999-12-01", "--days", "34"],
            "would end on +10000-01-03, after 9999-12-31",
        ),
        (["--policy", "p", "--report", "r", "--start", "0999-12-31"], "--start"),
    ],
)
def test_bad_options(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["simulate", *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("name", ["electoral-credit", "sesame-style"])
def test_policies_across_subjects_are_refused(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["simulate", "--policy", str(example_policy(name)), "--report", str(tmp_path)])
    assert code == 2
    assert "the simulator does not run policies with a ranking" in capsys.readouterr().err


def test_no_default_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        ["simulate", "--policy", str(example_policy("fuzhou-jasmine")), "--report", str(tmp_path)]
    )
    assert code == 2
    assert "no scenario is shipped for policy 'fuzhou-jasmine" in capsys.readouterr().err


def test_export_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'sample.db'}"
    code = run(
        [
            "simulate", "--policy", str(example_policy("carrot-rewards")),
            "--population", "1100", "--days", "30", "--start", "2025-01-01",
            "--report", str(tmp_path / "out"), "--export-sample", "50", "--db", db,
        ]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    assert "sampled subjects (the others have none)" in err
    assert run(["subjects", "--db", db, "--at", "2025-01-30", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["subjects"]
    code = run(["simulate", "--policy", "p", "--report", "r", "--export-sample", "5"])
    assert code == 2
    assert "--export-sample K and --db URL go together" in capsys.readouterr().err


def test_an_earlier_report_is_replaced_only_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second run into the same --report is refused before it simulates anything (the
    first run's figures untouched), and replaces them with --force; a file given as the
    directory is refused too."""
    out = tmp_path / "out"
    args = [
        "simulate", "--policy", str(example_policy("fair-transit")),
        "--population", "1100", "--days", "3", "--seed", "3", "--report", str(out),
    ]  # fmt: skip
    assert run(args) == 0, capsys.readouterr().err
    first = (out / "summary.json").read_bytes()
    capsys.readouterr()
    assert run([*args[:-4], "--seed", "4", "--report", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out} already holds a report (days.parquet, summary.json, report.html)" in err
    assert "--force" in err and "Traceback" not in err
    assert (out / "summary.json").read_bytes() == first
    assert run([*args[:-4], "--seed", "4", "--report", str(out), "--force"]) == 0
    assert json.loads((out / "summary.json").read_text())["parameters"]["seed"] == 4
    capsys.readouterr()
    (tmp_path / "a-file").write_text("x")
    assert run([*args[:-2], "--report", str(tmp_path / "a-file")]) == 2
    assert "is a file, not a directory" in capsys.readouterr().err
