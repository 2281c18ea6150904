"""``subjects``: a reason per row, --kind, --offset, --limit 0, filters checked before scoring."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import call
from tests.cli.standings_ledger import AT, CHINA_HASH, EXPECTED, build


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    return build(tmp_path, capsys)


def _subjects(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> dict[str, Any]:
    code, out, err = call(capsys, "subjects", "--db", db, "--at", AT, "--json", *args)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def _names(data: dict[str, Any]) -> list[str]:
    return [r["subject"] for r in data["subjects"]]


def test_json_names_the_policy_and_its_hash(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = _subjects(capsys, db)
    assert data["policy_version"] == "china-scs@2026.3"
    assert data["policy_hash"] == CHINA_HASH
    assert data["at"] == "2026-06-01T00:00:00Z"
    assert data["matching"] == len(EXPECTED)


def test_every_row_has_its_kind_and_the_reasons_by_hand(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = {r["subject"]: r for r in _subjects(capsys, db)["subjects"]}
    for subject, want in EXPECTED.items():
        row = rows[subject]
        assert (row["kind"], row["score"], row["grade"], row["lists"], row["reasons"]) == (
            want["kind"],
            want["score"],
            want["grade"],
            want["lists"],
            want["reasons"],
        ), subject


def test_a_measure_through_a_relation_names_relation_and_subject(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _subjects(capsys, db, "--denied", "private_school")
    rows = {r["subject"]: r for r in data["subjects"]}
    # acme's own listing denies private_school too (it is not restricted to persons)
    assert set(rows) == {"debtor", "acme", "child"}
    (child,) = rows["child"]["measures"]
    assert child == {
        "measure": "no_private_school",
        "service": "private_school",
        "effect": "deny",
        "reason_code": "SPC-DEBTOR-FAMILY",
        "reason": "child_of debtor",
        "via_relation": "child_of",
        "via_subject": "debtor",
    }
    # only the denials of the asked service are given as reasons
    assert [m["measure"] for m in rows["debtor"]["measures"]] == ["no_private_school"]


def test_the_legal_representative_is_not_on_the_list(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _subjects(capsys, db, "--denied", "air_travel")
    rows = {r["subject"]: r for r in data["subjects"]}
    assert set(rows) == {"debtor", "acme", "boss"}
    assert rows["boss"]["lists"] == [] and rows["boss"]["reasons"] == [
        "legal_representative_of acme"
    ]


def test_kind_filter(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _names(_subjects(capsys, db, "--kind", "organisation")) == ["acme"]
    people = _names(_subjects(capsys, db, "--kind", "person"))
    assert sorted(people) == sorted(set(EXPECTED) - {"acme"})


def test_offset_and_limit_page_through_in_order(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    everyone = _names(_subjects(capsys, db, "--limit", "0"))
    assert sorted(everyone) == sorted(EXPECTED)  # 0 means all
    assert _names(_subjects(capsys, db, "--limit", "2")) == everyone[:2]
    assert _names(_subjects(capsys, db, "--limit", "2", "--offset", "3")) == everyone[3:5]
    assert _names(_subjects(capsys, db, "--offset", "5", "--limit", "0")) == everyone[5:]
    tail = _subjects(capsys, db, "--offset", "10")
    assert tail["subjects"] == [] and tail["matching"] == len(EXPECTED)


@pytest.mark.parametrize(
    ("args", "messages"),
    [
        (["--list", "dishonest_debtors"], ["did you mean 'dishonest_judgment_debtors'"]),
        (["--grade", "AAAA"], ["unknown grade 'AAAA'"]),
        (["--denied", "air_travl"], ["unknown service 'air_travl'", "did you mean 'air_travel'"]),
        # (bike_rental, which no measure denies, is denied to whoever no benefit gives it:
        # test_a_service_only_a_benefit_gives_is_denied_to_whoever_has_none)
        (
            ["--grade", "Z", "--list", "debtors", "--denied", "flights"],
            ["unknown grade 'Z'", "unknown list 'debtors'", "unknown service 'flights'"],
        ),
        (["--kind", "company"], ["'company' is not one of"]),
        (["--limit", "-1"], ["--limit"]),
    ],
)
def test_every_bad_filter_is_reported_at_once(
    db: str, capsys: pytest.CaptureFixture[str], args: list[str], messages: list[str]
) -> None:
    code, out, err = call(capsys, "subjects", "--db", db, *args)
    assert code == 2 and out == ""
    for message in messages:
        assert message in err, (message, err)


def test_the_table_shows_reasons_and_whole_names(db: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "socialcredit", "subjects", "--db", db, "--at", AT],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    words = set(re.split(r"[\s;,()]+", result.stdout))
    assert {"legal_representative_of", "child_of", "dishonest_judgment_debtors"} <= words
    assert {"redlist_volunteers", "organisation", CHINA_HASH} <= words
    assert "…" not in result.stdout


def test_help_paragraphs_wrap_to_the_terminal() -> None:
    # a docstring's own line breaks would break each line twice in a narrow terminal
    result = subprocess.run(
        [sys.executable, "-m", "socialcredit", "subjects", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    line = next(x for x in result.stdout.splitlines() if "Filters combine" in x)
    # the docstring breaks its line after "in force at the"; a 200-column terminal does not
    assert "in force at the time asked about before anyone is scored" in line


def test_a_service_only_a_benefit_gives_is_denied_to_whoever_has_none(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # bike_rental is granted (deposit-free bikes): only the volunteers' redlist gives it, and
    # only helper is on it (five sessions in a year); a check denies everyone else
    # NOT-GRANTED, which --denied refused ("no measure denies 'bike_rental'") although the
    # policy reference says the bulk answer holds the same
    data = _subjects(capsys, db, "--denied", "bike_rental")
    assert sorted(_names(data)) == ["acme", "boss", "child", "debtor", "rider"]
    for row in data["subjects"]:
        assert "NOT-GRANTED: no benefit gives bike_rental" in row["reasons"]
    code, out, err = call(capsys, "subjects", "--db", db, "--at", AT, "--denied", "bike_rental")
    assert code == 0, err
    assert "5 matching subjects" in out


def test_one_match_is_one_subject(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = call(capsys, "subjects", "--db", db, "--at", AT, "--kind", "organisation")
    assert code == 0, err
    assert "1 matching subject (showing 1-1)" in out
    assert "matching subjects" not in out
