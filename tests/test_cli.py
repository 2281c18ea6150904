"""The CLI end to end on a small ledger: contracts, errors without tracebacks, time travel."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from socialcredit.cli import run

ROOT = Path(__file__).parents[1]
CHINA = str(ROOT / "examples" / "policies" / "china-scs.yaml")

ENTRIES: list[dict[str, Any]] = [
    {
        "id": "j1",
        "source": "court",
        "subject": "debtor",
        "type": "court_judgment_unfulfilled",
        "occurred_at": "2026-01-10",
        "recorded_at": "2026-01-12",
        "amount": 80000,
    },
    {
        "id": "v1",
        "source": "civic",
        "subject": "helper",
        "type": "volunteering",
        "occurred_at": "2026-03-01",
    },
    {
        "kind": "relation",
        "id": "h1",
        "source": "registry",
        "subject": "child",
        "relation": "child_of",
        "related_subject": "debtor",
        "valid_from": "2015-01-01",
        "recorded_at": "2015-01-02",
    },
]


def call(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = str(tmp_path / "cli.db")
    data = tmp_path / "in.jsonl"
    data.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in ENTRIES))
    assert call(capsys, "init", "--db", path, "--policy", CHINA)[0] == 0
    code, out, _ = call(capsys, "ingest", str(data), "--db", path)
    assert code == 0 and "accepted 3" in out
    return path


def test_score_json_contract(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "score", "debtor", "--db", db, "--at", "2026-06-01", "--json")
    assert code == 0
    data = json.loads(out)
    assert {
        "subject",
        "at",
        "policy_version",
        "score",
        "grade",
        "lists",
        "sanctions",
        "breakdown",
    } <= set(data)
    assert data["policy_version"] == "china-scs@2026.1"
    # 1000 - 50 (illustrative points) = 950, below the A band (960): grade B
    assert data["score"] == 950 and data["grade"] == "B"
    assert data["lists"] == ["dishonest_judgment_debtors"]
    air = next(s for s in data["sanctions"] if s["service"] == "air_travel")
    assert {"name", "service", "effect", "since", "until"} <= set(air)
    assert air["effect"] == "deny" and air["since"] == "2026-01-12T00:00:00Z"


def test_check_json_contract_and_least_privilege(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = call(
        capsys, "check", "debtor", "air_travel", "--db", db, "--at", "2026-06-01", "--json"
    )
    data = json.loads(out)
    assert code == 0
    assert data["decision"] == "deny" and data["reasons"] == ["SPC-DEBTOR"]
    assert (  # P10Y = 3650 days from 2026-01-10; 2028 and 2032 are leap years
        data["eligible_again_on"] == "2036-01-08"
    )  # 10-year expiry from 2026-01-10 (365-day years)
    assert "breakdown" not in data and "score" not in data  # the counter learns no more
    code, out, _ = call(
        capsys, "check", "child", "private_school", "--db", db, "--at", "2026-06-01", "--json"
    )
    assert json.loads(out)["decision"] == "deny"
    code, out, _ = call(capsys, "check", "stranger", "air_travel", "--db", db, "--json")
    assert code == 0 and json.loads(out)["decision"] == "allow"


def test_time_travel(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    # before the court's record was known, the debtor could fly
    _, out, _ = call(
        capsys, "check", "debtor", "air_travel", "--db", db, "--at", "2026-01-11", "--json"
    )
    assert json.loads(out)["decision"] == "allow"


def test_explain_names_record_list_and_remedy(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(
        capsys,
        "explain",
        "debtor",
        "--service",
        "air_travel",
        "--db",
        db,
        "--at",
        "2026-06-01",
        "--json",
    )
    data = json.loads(out)
    best = data["explanation"]["best_action"]
    assert best["kind"] == "resolve" and best["record"] == "court/j1"
    assert best["eligible_again_on"] == "2026-06-04"  # lifted 3 days after payment
    code, out, _ = call(capsys, "explain", "debtor", "--db", db, "--at", "2026-06-01")
    assert code == 0 and "court/j1" in out and "air travel" in out


def test_subjects_and_exports(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = call(
        capsys,
        "subjects",
        "--list",
        "dishonest_judgment_debtors",
        "--db",
        db,
        "--at",
        "2026-06-01",
        "--json",
    )
    data = json.loads(out)
    assert [s["subject"] for s in data["subjects"]] == ["debtor"]
    _, out, _ = call(
        capsys, "subjects", "--denied", "private_school", "--db", db, "--at", "2026-06-01", "--json"
    )
    assert sorted(s["subject"] for s in json.loads(out)["subjects"]) == ["child", "debtor"]
    parquet = tmp_path / "s.parquet"
    assert (
        call(capsys, "export", "standings", "-o", str(parquet), "--db", db, "--at", "2026-06-01")[0]
        == 0
    )
    table = pq.read_table(parquet).to_pylist()
    child = next(r for r in table if r["subject"] == "child")
    assert "private_school" in child["denied_services"]
    records = tmp_path / "r.jsonl"
    assert call(capsys, "export", "records", "-o", str(records), "--db", db)[0] == 0
    assert len(records.read_text().splitlines()) == len(ENTRIES)
    csv_out = tmp_path / "s.csv"
    assert call(capsys, "export", "standings", "-o", str(csv_out), "--db", db)[0] == 0
    assert csv_out.read_text().startswith('"subject"')


def test_bad_ingest_lines_give_exit_1_and_keep_good_ones(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "mixed.jsonl"
    data.write_text(
        orjson.dumps({**ENTRIES[1], "id": "v2"}).decode()
        + "\n"
        + orjson.dumps({**ENTRIES[1], "id": "v3", "type": "volunteerring"}).decode()
        + "\n"
    )
    code, out, err = call(capsys, "ingest", str(data), "--db", db)
    assert code == 1 and "accepted 1" in out
    assert f"{data}:2: type: unknown record type 'volunteerring'" in err
    assert "did you mean 'volunteering'" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["score", "nobody"], "no entry about subject 'nobody'"),
        (["score", "debtor", "--at", "last tuesday"], "not a timestamp"),
        (["export", "standings", "-o", "x.xlsx"], "cannot tell the format"),
        (["ingest", "missing.jsonl"], "cannot read 'missing.jsonl'"),
        (["subjects", "--grade", "Z"], "unknown grade 'Z'"),
    ],
)
def test_errors_are_one_clear_line(
    db: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = call(capsys, *args, "--db", db)
    assert code == 2 and message in err and "Traceback" not in err


def test_no_active_policy_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "empty.db")
    assert call(capsys, "init", "--db", path)[0] == 0
    code, _, err = call(capsys, "score", "x", "--db", path)
    assert code == 2 and "no active policy" in err
    code, _, err = call(capsys, "score", "x", "--db", str(tmp_path / "never-initialised.db"))
    assert code == 2 and "socialcredit init" in err


def test_policy_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "policy", "schema")
    assert code == 0 and "record_types" in json.loads(out)["properties"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        Path(CHINA).read_text().replace("type: rail_serious_misconduct}", "type: rail_misconduct}")
    )
    code, _, err = call(capsys, "policy", "validate", str(bad))
    assert code == 1
    assert re.search(
        rf"{re.escape(str(bad))}:\d+ at lists\.rail_untrustworthy_passengers\.when\.records\.type",
        err,
    )
    code, out, _ = call(capsys, "policy", "show", CHINA)
    assert code == 0 and "dishonest_judgment_debtors" in out


def test_readme_quickstart_is_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["./dev demo", "./dev test"]
    assert "./dev test" in (ROOT / ".ci" / "run").read_text()


def test_readme_cli_tour_uses_real_commands(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text()
    tour = readme.split("## CLI tour", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(
        r"^socialcredit ((?:[a-z]+)(?: (?:schema|validate|activate|show|history))?)", tour, re.M
    )
    assert len(commands) >= 10
    for command in commands:
        code, _, _ = call(capsys, *command.split(), "--help")
        assert code == 0, command


def test_readme_library_example_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (ROOT / "README.md").read_text()
    code = readme.split("## As a library", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "['dishonest_judgment_debtors']" in out and "You are refused air travel" in out
