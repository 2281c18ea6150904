"""JSON answers never hold NaN or Infinity (issue 6, item 14).

Points of ±1.7e308 made ``score --json`` print ``"score": -Infinity``, which is not JSON.
Policy numbers are bounded (``MAX_POINTS``), so a score over many records at the bound stays
finite; and ``print_json`` refuses a non-finite number rather than print invalid JSON.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import orjson
import pytest

from socialcredit.cli.common import CliError, print_json
from socialcredit.policy.model import MAX_POINTS
from tests.cli.conftest import activate, call
from tests.policy.test_policy_language import BASE, edit


def _strict(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("sign", [-1, 1])
def test_scores_at_the_bounds_stay_finite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sign: int
) -> None:
    policy = tmp_path / "p.yaml"
    text = edit("points: -100", f"points: {sign * MAX_POINTS}")
    text = edit("base: 1000, min: 0, max: 2000", f"base: {sign * MAX_POINTS}", text)
    policy.write_text(text)
    db = str(tmp_path / "l.db")
    activate(db, str(policy), 0)
    data = tmp_path / "in.jsonl"
    lines = (
        {"id": f"d{i}", "source": "s", "subject": "x", "type": "debt", "occurred_at": "2026-01-01"}
        for i in range(500)
    )
    data.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    assert call(capsys, "ingest", str(data), "--db", db)[0] == 0
    for args in (["score", "x"], ["subjects"], ["explain", "x"]):
        code, out, err = call(capsys, *args, "--db", db, "--json")
        assert code == 0, err
        _strict(out)
    code, out, _ = call(capsys, "score", "x", "--db", db, "--json")
    score = _strict(out)["score"]
    assert math.isfinite(score) and score == sign * 501 * MAX_POINTS


def test_points_that_would_overflow_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(edit("points: -100", "points: -1.7e+308"))
    code, _, err = call(capsys, "policy", "validate", str(policy))
    assert code == 2 and err.count("\n") == 1
    assert f"{policy}:11 at record_types.debt.points" in err and str(MAX_POINTS) in err
    assert BASE.splitlines()[10].strip() == "points: -100"


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"score": float("-inf")}, "score is -inf"),
        ({"subjects": [{"score": 1.0}, {"score": float("nan")}]}, "subjects[1].score is nan"),
        (float("inf"), "the answer is inf"),
    ],
)
def test_print_json_refuses_what_json_cannot_carry(
    data: Any, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(CliError) as info:
        print_json(data)
    assert where in info.value.message
    assert capsys.readouterr().out == ""  # nothing half-printed
