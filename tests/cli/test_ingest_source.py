"""``ingest --source NAME``: the restriction a source's API key has, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from tests.cli.conftest import CHINA, call, init_china

LINES = [
    {
        "id": "j1",
        "source": "court",
        "subject": "P1",
        "type": "court_judgment_unfulfilled",
        "occurred_at": "2026-01-10",
        "amount": 80000,
    },
    {
        "id": "v1",
        "source": "court",
        "subject": "P1",
        "type": "volunteering",
        "occurred_at": "2026-01-10",
    },
    {
        "id": "f1",
        "source": "railway",
        "subject": "P1",
        "type": "fare_evasion",
        "occurred_at": "2026-01-10",
    },
    {
        "kind": "resolve",
        "id": "r1",
        "source": "court",
        "target_source": "court",
        "target_id": "j1",
        "occurred_at": "2026-02-01",
    },
]


@pytest.fixture
def work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    db = str(tmp_path / "l.db")
    assert init_china(capsys, db)[0] == 0
    data = tmp_path / "in.jsonl"
    data.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in LINES))
    return db, str(data)


def test_lines_the_source_may_not_submit_are_rejected_with_their_numbers(
    capsys: pytest.CaptureFixture[str], work: tuple[str, str]
) -> None:
    db, data = work
    code, out, _ = call(capsys, "ingest", data, "--db", db, "--source", "court", "--json")
    assert code == 1
    result = json.loads(out)
    assert (result["accepted"], result["rejected"]) == (2, 2)
    problems = {p["line"]: (p["field"], p["message"]) for p in result["problems"]}
    assert problems[2][0] == "type"
    assert problems[2][1].startswith(
        "'court' may not submit record type 'volunteering' under policy china-scs@2026.3"
    )
    assert problems[3] == (
        "source",
        "is 'railway', not 'court': this submitter may submit only entries whose source is 'court'",
    )
    # the railway's own line goes in with its own restriction
    code, out, _ = call(capsys, "ingest", data, "--db", db, "--source", "railway")
    assert code == 1 and out.startswith("accepted 1, duplicates 0, conflicts 0, rejected 3")


def test_an_undeclared_source_is_refused_before_reading(
    capsys: pytest.CaptureFixture[str], work: tuple[str, str]
) -> None:
    db, data = work
    code, out, err = call(capsys, "ingest", data, "--db", db, "--source", "courts")
    assert (code, out) == (2, "")
    assert err == (
        "error: --source: unknown source 'courts': policy china-scs@2026.3 does not declare it "
        "(did you mean 'court'?); nothing was ingested\n"
    )
    code, out, _ = call(capsys, "export", "records", "-o", "-", "--db", db)
    assert code == 0 and out == ""


def test_without_a_policy_there_is_nothing_to_restrict_by(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, work: tuple[str, str]
) -> None:
    db = str(tmp_path / "bare.db")
    assert call(capsys, "init", "--db", db)[0] == 0
    code, _, err = call(capsys, "ingest", work[1], "--db", db, "--source", "court")
    assert code == 2 and "--source court needs a policy in force" in err


def test_without_source_the_operator_loads_any_source(
    capsys: pytest.CaptureFixture[str], work: tuple[str, str]
) -> None:
    db, data = work
    code, out, _ = call(capsys, "ingest", data, "--db", db)
    assert code == 0 and out.startswith("accepted 4,")


def test_policy_show_lists_what_each_source_may_submit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = call(capsys, "policy", "show", CHINA)
    assert code == 0
    words = " ".join(out.split())
    assert "sources (each may also correct its own records)" in words
    assert "railway │ China State Railway Group" in words
    assert "records: rail_serious_misconduct, fare_evasion" in words
    assert "relations: child_of" in words and "attributes: birth_date, residence" in words
    code, out, _ = call(capsys, "policy", "show", CHINA, "--json")
    assert json.loads(out)["sources"]["civil-registry"]["attributes"] == ["birth_date", "residence"]
