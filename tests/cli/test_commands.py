"""The other commands end to end on the small ledger: subjects, exports, ingestion, policies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from tests.cli.conftest import CHINA, ENTRIES, call


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


def test_policy_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "policy", "schema")
    assert code == 0 and "record_types" in json.loads(out)["properties"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        Path(CHINA).read_text().replace("type: rail_serious_misconduct}", "type: rail_misconduct}")
    )
    code, _, err = call(capsys, "policy", "validate", str(bad))
    assert code == 2  # an invalid policy is unusable input, as for `policy activate`
    assert re.search(
        rf"{re.escape(str(bad))}:\d+ at sanctions\.rail_ban\.when\.records\.type",
        err,
    )
    code, _, _ = call(capsys, "policy", "activate", str(bad), "--db", str(tmp_path / "p.db"))
    assert code == 2
    code, out, _ = call(capsys, "policy", "show", CHINA)
    assert code == 0 and "dishonest_judgment_debtors" in out
