"""Every score a person is shown is written plainly: thousands separators, its decimals
kept, never exponent form — a score of a million was said ``1.23457e+06`` by ``score``,
``explain`` and ``subjects`` (wallet scores were already written out). ``--json`` keeps
the number itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import call
from tests.conftest import TEST_POLICY

BIG = (
    TEST_POLICY.replace(
        "score: {form: points, base: 1000, min: 0, max: 2000}",
        "score: {form: points, base: 1234567.25, min: 0, max: 5000000}",
    )
    .replace("{name: A, at_least: 1000}", "{name: A, at_least: 1234570}")
    .replace("{name: B, at_least: 900}", "{name: B, at_least: 1234000}")
)


def test_a_score_of_millions_is_written_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "base: 1234567.25" in BIG and "at_least: 1234570" in BIG
    policy = tmp_path / "big.yaml"
    policy.write_text(BIG)
    db = str(tmp_path / "big.db")
    code, _, err = call(capsys, "init", "--db", db, "--policy", str(policy), "--override", "t")
    assert code == 0, err
    data = tmp_path / "r.jsonl"
    data.write_text(
        json.dumps(
            {
                "id": "v1",
                "source": "civic",
                "subject": "ann",
                "type": "volunteering",
                "occurred_at": "2026-01-01",
            }
        )
        + "\n"
    )
    code, _, err = call(capsys, "ingest", str(data), "--db", db)
    assert code == 0, err
    said = "1,234,577.25"  # 1,234,567.25 + 10 for volunteering
    for args in (("score", "ann"), ("explain", "ann"), ("subjects",)):
        code, out, err = call(capsys, *args, "--db", db)
        assert code == 0, err
        assert said in out, (args, out)
        assert "e+0" not in out and "1.23" not in out, (args, out)
    code, out, _ = call(capsys, "score", "ann", "--db", db)
    assert "breakdown (base 1,234,567.25)" in out
    code, out, _ = call(capsys, "score", "ann", "--db", db, "--json")
    assert code == 0 and json.loads(out)["score"] == 1234577.25
    code, out, _ = call(capsys, "subjects", "--db", db, "--json")
    assert code == 0 and json.loads(out)["subjects"][0]["score"] == 1234577.25


def test_policy_show_and_lint_write_thresholds_of_millions_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ... and a policy's own numbers: 'A ≥ 1.23457e+06', 'base 1.23457e+06' before
    policy = tmp_path / "big.yaml"
    policy.write_text(
        BIG.replace(
            "when: {list: debtors}\n    service: private_school",
            "when: {score_below: 1234000.5}\n    service: private_school",
        )
    )
    assert "score_below: 1234000.5" in policy.read_text()
    db = str(tmp_path / "big.db")
    code, _, err = call(capsys, "init", "--db", db, "--policy", str(policy), "--override", "t")
    assert code == 0, err
    code, out, err = call(capsys, "policy", "show", "--db", db)
    assert code == 0, err
    assert "base 1,234,567.25; min 0; max 5,000,000; grades: A ≥ 1,234,570, B ≥ 1,234,000" in out
    assert "e+0" not in out
    code, out, err = call(capsys, "policy", "lint", str(policy), "--explain", "--json")
    impact = {i["measure"]: i["sentence"] for i in json.loads(out)[0]["impact"]}
    assert "with a score below 1,234,000.5" in impact["no_school"], impact["no_school"]
    assert "e+0" not in out


def test_policy_show_writes_a_record_types_points_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The record types' points column: a million points was '+1e+06'; nothing was '+0'."""
    body = TEST_POLICY.replace("points: 10", "points: 1000000", 1)
    assert body != TEST_POLICY
    policy = tmp_path / "points.yaml"
    policy.write_text(body)
    db = str(tmp_path / "p.db")
    code, _, err = call(capsys, "init", "--db", db, "--policy", str(policy), "--override", "t")
    assert code == 0, err
    code, out, err = call(capsys, "policy", "show", "--db", db)
    assert code == 0, err
    assert "+1,000,000" in out and "e+0" not in out, out
    assert "+0 " not in out and "+0\n" not in out
