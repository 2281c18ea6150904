"""Exemptions and eligibility at the command line: ingest, check, score --json, explain,
subjects --denied and policy show."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from socialcredit.timeutil import parse_timestamp

from ..scoring.test_subject_facts import FACTS_POLICY
from .conftest import activate, call

START = parse_timestamp("2024-01-01")
LINES = [
    {"kind": "attribute", "id": "b1", "source": "registry", "subject": "wang",
     "attribute": "birth_date", "value": "1980-05-05", "valid_from": "1980-05-05",
     "recorded_at": "2024-01-01"},
    {"id": "d1", "source": "court", "subject": "wang", "type": "debt",
     "occurred_at": "2025-01-10", "recorded_at": "2025-01-10"},
    {"kind": "exemption", "id": "x1", "source": "court", "subject": "wang",
     "services": "air_travel", "valid_from": "2025-03-01", "valid_until": "2025-03-10",
     "reason": "a funeral", "approved_by": "Intermediate Court", "approved_at": "2025-02-20",
     "recorded_at": "2025-02-21"},
    {"kind": "attribute", "id": "b2", "source": "registry", "subject": "kid",
     "attribute": "birth_date", "value": "2008-02-29", "valid_from": "2008-02-29",
     "recorded_at": "2024-01-01"},
    {"id": "d2", "source": "court", "subject": "kid", "type": "debt",
     "occurred_at": "2025-01-10", "recorded_at": "2025-01-10"},
]  # fmt: skip


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    policy = tmp_path / "facts.yaml"
    policy.write_text(FACTS_POLICY)
    path = str(tmp_path / "facts.db")
    activate(path, str(policy), START)
    data = tmp_path / "facts.jsonl"
    data.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in LINES))
    code, out, err = call(capsys, "ingest", str(data), "--db", path, "--backfill")
    assert code == 0 and f"accepted {len(LINES)}" in out, err
    return path


def test_check_cites_the_exemption_and_the_list_stays(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = call(capsys, "check", "--db", db, "wang", "air_travel", "--at", "2025-03-05")
    assert code == 0
    assert out.startswith("ALLOW wang air_travel (DEBTOR waived by exemption court/x1 approved")
    assert (
        "by Intermediate Court on 2025-02-20 for a funeral, from 2025-03-01 until 2025-03-10"
        in (" ".join(out.split()))
    )
    code, out, _ = call(capsys, "check", "--db", db, "wang", "air_travel", "--at", "2025-03-10")
    assert out.startswith("DENY wang air_travel reasons: DEBTOR")
    code, out, _ = call(capsys, "score", "--db", db, "wang", "--at", "2025-03-05", "--json")
    standing = json.loads(out)
    assert standing["lists"] == ["debtors"]
    assert standing["exemptions"][0]["exemption"] == "court/x1"
    code, out, _ = call(
        capsys, "subjects", "--db", db, "--denied", "air_travel", "--at", "2025-03-05", "--json"
    )
    assert [row["subject"] for row in json.loads(out)["subjects"]] == []


def test_score_text_lists_the_exemptions_in_force(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = call(capsys, "score", "--db", db, "wang", "--at", "2025-03-05")
    assert code == 0
    text = " ".join(out.split())
    assert "exemptions in force" in text
    # valid 2025-03-01 (included) to 2025-03-10 (excluded): the last day covered is the 9th
    # a table cell may wrap on a narrow terminal: test words, not phrases
    assert "court/x1" in text and "2025-03-09" in text and "funeral" in text
    code, out, _ = call(capsys, "score", "--db", db, "wang", "--at", "2025-03-10")
    assert "exemptions in force" not in out


def test_a_minor_is_told_why_they_are_not_listed(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = call(
        capsys, "explain", "--db", db, "kid", "--service", "air_travel", "--at", "2026-02-28"
    )
    assert code == 0
    text = " ".join(out.split())
    assert "You may use air travel" in text
    assert "You are not on the list debtors, although its condition holds for you" in text
    assert "you are under 18 (birth date 2008-02-29) until the end of 2026-02-28" in text
    code, out, _ = call(capsys, "check", "--db", db, "kid", "air_travel", "--at", "2026-03-01")
    assert out.startswith("DENY kid air_travel")


def test_policy_show_names_attributes_and_eligibility(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "facts.yaml"
    policy.write_text(FACTS_POLICY)
    code, out, _ = call(capsys, "policy", "show", str(policy))
    assert code == 0
    text = " ".join(out.split())
    assert "subject attributes" in text and "birth_date" in text
    assert "only for: birth date at least 18 years ago" in text
    assert "only while:" in text and "residence rongcheng for at" in text  # table-wrapped
