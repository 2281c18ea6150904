"""``score`` under a policy with a named score (Fuzhou's Jasmine points): the text says the
score and each component's part, the JSON keeps its keys and adds ``scores``."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from socialcredit.timeutil import parse_timestamp
from tests.cli.conftest import activate, call
from tests.policy.test_policy_language import POLICIES

FUZHOU = str(POLICIES / "fuzhou-jasmine.yaml")


@pytest.fixture
def fuzhou_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = str(tmp_path / "fz.db")
    activate(path, FUZHOU, parse_timestamp("2018-06-01"))
    entries = [
        {"id": f"v{y}{k}", "source": "vol", "subject": "P1", "type": "volunteer_year_5_stars",
         "occurred_at": f"{y}-12-31T00:00:00Z", "recorded_at": f"{y}-12-31T00:00:00Z"}
        for y in range(2018, 2024) for k in "ab"
    ] + [
        {"id": "t1", "source": "tax", "subject": "P2", "type": "tax_arrears",
         "occurred_at": "2019-04-01T00:00:00Z", "recorded_at": "2019-04-01T00:00:00Z"},
    ]  # fmt: skip
    data = tmp_path / "in.jsonl"
    data.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in entries))
    code, out, _ = call(capsys, "ingest", str(data), "--db", path, "--backfill")
    assert code == 0, out
    return path


def test_score_says_each_component(fuzhou_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    # P1 at 2021-06-01: six 5-star volunteering records (2018-2020) = 30; 2018-2020 clean
    # (3 × 10 = 30): 500 + 30 + 30 = 560, band 550-649
    code, out, _ = call(capsys, "score", "P1", "--db", fuzhou_db, "--at", "2021-06-01")
    assert code == 0
    assert "score 560, grade B" in out
    assert "volunteering +30 (6 records)" in out
    assert "clean-year reward +30 (3 clean years: 2018, 2019 and 2020)" in out


def test_score_json_adds_the_named_scores(
    fuzhou_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # at 2025-06-01: twelve records of 5 points = 60, capped at 50; the clean-year reward
    # (7 clean years, 70) is capped at 50: 500 + 50 + 50 = 600
    code, out, _ = call(capsys, "score", "P1", "--db", fuzhou_db, "--at", "2025-06-01", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["score"] == 600 and data["grade"] == "B"
    (jasmine,) = data["scores"]
    assert jasmine["name"] == "jasmine" and jasmine["display_name"] == "Jasmine points"
    parts = {c["name"]: c for c in jasmine["components"]}
    assert parts["volunteering"]["earned"] == 60 and parts["volunteering"]["value"] == 50
    assert parts["volunteering"]["capped"] is True
    assert parts["clean_years"]["value"] == 50 and len(parts["clean_years"]["clean_years"]) == 7
    # P2's 2019 tax arrears spoil 2019 and take 50 basic points until they expire (3 years)
    code, out, _ = call(capsys, "score", "P2", "--db", fuzhou_db, "--at", "2021-06-01", "--json")
    data = json.loads(out)
    parts = {c["name"]: c for c in data["scores"][0]["components"]}
    assert parts["basic"]["value"] == 450 and parts["clean_years"]["clean_years"] == [2018, 2020]
    assert data["score"] == 470 and data["grade"] == "C"


MYNUMBER = str(POLICIES / "mynumber-points.yaml")


@pytest.fixture
def two_wallets_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = str(tmp_path / "jp.db")
    activate(path, MYNUMBER, parse_timestamp("2021-01-01"))
    entries = [
        {"id": "f1", "source": "pos", "subject": "J1", "type": "basic_food_purchase",
         "amount": 10000, "occurred_at": "2021-02-01T00:00:00Z", "recorded_at": "2021-02-01T00:00:00Z"},
        {"id": "c1", "source": "pay", "subject": "J1", "type": "cashless_payment",
         "amount": 2000, "occurred_at": "2021-02-01T00:00:00Z", "recorded_at": "2021-02-01T00:00:00Z"},
    ]  # fmt: skip
    data = tmp_path / "in.jsonl"
    data.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in entries))
    code, out, _ = call(capsys, "ingest", str(data), "--db", path, "--backfill")
    assert code == 0, out
    return path


def test_subjects_shows_every_named_score(
    two_wallets_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # J1 on 2021-03-01: 2 % of a ¥10,000 food purchase = 200 food-tax points; 25 % of a
    # ¥2,000 cashless payment = 500 Mynapoint points (it showed only the 200)
    args = ("subjects", "--db", two_wallets_db, "--at", "2021-03-01")
    code, out, _ = call(capsys, *args, "--json")
    assert code == 0
    (row,) = json.loads(out)["subjects"]
    assert row["score"] == 200 and row["grade"] == "holder"
    assert [(s["name"], s["score"], s["grade"]) for s in row["scores"]] == [
        ("food_tax_points", 200, "holder"),
        ("mynapoint", 500, "holder"),
    ]
    code, out, _ = call(capsys, *args)
    assert code == 0
    text = " ".join(out.split())
    assert "food_tax_points 200" in text and "mynapoint 500" in text
    assert "food_tax_points holder" in text and "mynapoint holder" in text


def test_subjects_names_no_score_under_a_policy_with_one(
    fuzhou_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # P1 at 2021-06-01: 560 (see test_score_says_each_component); one score: a plain column
    code, out, _ = call(capsys, "subjects", "--db", fuzhou_db, "--at", "2021-06-01", "--json")
    assert code == 0
    rows = {r["subject"]: r for r in json.loads(out)["subjects"]}
    assert [(s["name"], s["score"]) for s in rows["P1"]["scores"]] == [("jasmine", 560)]
    code, out, _ = call(capsys, "subjects", "--db", fuzhou_db, "--at", "2021-06-01")
    assert "jasmine 560" not in out and "560" in out
