"""``score``, ``check`` and ``explain``: JSON contracts, time travel under the policy then in
force, no fail-open on unknown services, unknown subjects said to be unknown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from socialcredit.policy import load_policy
from socialcredit.timeutil import parse_timestamp
from tests.cli.conftest import CHINA, activate, call, init_china
from tests.conftest import TEST_POLICY

CHINA_HASH = load_policy(CHINA).content_hash


def test_score_json_contract(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "score", "debtor", "--db", db, "--at", "2026-06-01", "--json")
    assert code == 0
    data = json.loads(out)
    assert {
        "subject",
        "at",
        "policy_version",
        "policy_hash",
        "score",
        "grade",
        "lists",
        "sanctions",
        "breakdown",
    } <= set(data)
    assert data["policy_version"] == "china-scs@2026.3"
    assert data["policy_hash"] == CHINA_HASH
    # the court list carries no points: 1000; Rongcheng's grade cut-offs are unpublished,
    # so no grade can be determined
    assert data["score"] == 1000 and data["grade"] is None
    assert data["lists"] == ["dishonest_judgment_debtors"]
    air = next(s for s in data["sanctions"] if s["service"] == "air_travel")
    assert {"name", "service", "effect", "since", "until"} <= set(air)
    assert air["effect"] == "deny" and air["since"] == "2026-01-12T00:00:00Z"


def test_score_says_a_listing_without_an_end_has_no_end_date(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The court list's ground (1) has no term (listed while the judgment is unfulfilled):
    the text says there is no end date, as the JSON's null ``until`` does, and the
    breakdown's column of what a record counts now is headed as points."""
    _, out, _ = call(capsys, "score", "debtor", "--db", db, "--at", "2026-06-01", "--json")
    air = next(s for s in json.loads(out)["sanctions"] if s["service"] == "air_travel")
    assert air["until"] is None
    code, out, _ = call(capsys, "score", "debtor", "--db", db, "--at", "2026-06-01")
    assert code == 0
    assert "on black list dishonest_judgment_debtors since 2026-01-12, with no end date" in out
    assert "until" not in out.split("dishonest_judgment_debtors since", 1)[1].split("\n")[0]
    assert "points now" in out


def test_check_json_contract_and_least_privilege(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = call(
        capsys, "check", "debtor", "air_travel", "--db", db, "--at", "2026-06-01", "--json"
    )
    data = json.loads(out)
    assert code == 0
    assert data["decision"] == "deny" and data["reasons"] == ["SPC-DEBTOR"]
    # ground (1) has no term: listed while the judgment is unfulfilled, no date to give
    assert data["eligible_again_on"] is None
    assert data["policy_version"] == "china-scs@2026.3" and data["policy_hash"] == CHINA_HASH
    assert data["known"] is True
    assert "breakdown" not in data and "score" not in data  # the counter learns no more
    code, out, _ = call(
        capsys,
        "check",
        "child",
        "private_school",
        "--attr",
        "payer=debtor",
        "--db",
        db,
        "--at",
        "2026-06-01",
        "--json",
    )
    assert json.loads(out)["decision"] == "deny"  # a place paid for by the listed parent


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
    assert data["policy_hash"] == CHINA_HASH
    best = data["explanation"]["best_action"]
    assert best["kind"] == "resolve" and best["record"] == "court/j1"
    # paid on Monday 2026-06-01 (08:00 in Beijing): the listing is lifted when the third
    # working day after it (Thursday 4 June) ends in Beijing, 2026-06-04T16:00:00Z; the
    # debtor may fly again on 5 June, the local date (issue 7: dates are said locally)
    assert best["eligible_again_on"] == "2026-06-05"
    code, out, _ = call(capsys, "explain", "debtor", "--db", db, "--at", "2026-06-01")
    assert code == 0 and "court/j1" in out and "air_travel" in out
    assert CHINA_HASH[:12] in out


# ---------------------------------------------------------------- item 4: no fail-open


def test_a_misspelt_service_is_an_error_not_an_allow(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (
        ["check", "debtor", "air_travl"],
        ["check", "stranger", "air_travl"],  # checked before the subject
        ["explain", "debtor", "--service", "air_travl"],
    ):
        code, out, err = call(capsys, *args, "--db", db, "--at", "2026-06-01")
        assert code == 2, args
        assert out == ""
        assert "unknown service 'air_travl'" in err and "did you mean 'air_travel'" in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_an_unknown_subject_is_allowed_and_said_to_be_unknown(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = call(capsys, "check", "stranger", "air_travel", "--db", db, "--json")
    data = json.loads(out)
    assert code == 0 and data["decision"] == "allow" and data["known"] is False
    code, out, _ = call(capsys, "check", "stranger", "air_travel", "--db", db)
    assert code == 0 and out.startswith("ALLOW stranger air_travel")
    assert "no entries about this subject" in out
    code, out, _ = call(capsys, "check", "debtor", "air_travel", "--db", db)
    assert "no entries" not in out


def test_score_and_explain_before_the_first_entry_say_the_subject_was_unknown(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # the debtor's first entry reached the ledger on 2026-01-12; on 2026-01-05 (the policy
    # in force since 2026-01-01) nothing about it had: score and explain said "score 1000"
    # and "no measure in force stops you" as if its records had been read, unlike check
    code, out, _ = call(capsys, "score", "debtor", "--db", db, "--at", "2026-01-05", "--json")
    assert code == 0 and json.loads(out)["known"] is False
    code, out, _ = call(capsys, "score", "debtor", "--db", db, "--at", "2026-01-05")
    assert code == 0 and "(no entries about this subject then)" in out.splitlines()[0]
    code, out, _ = call(
        capsys, "explain", "debtor", "--service", "air_travel", "--db", db, "--at", "2026-01-05"
    )
    assert code == 0
    assert (
        "On 2026-01-05, the ledger had received no entry about you: no record counted for or "
        "against you." in out
    )
    # once it had, neither says so
    code, out, _ = call(capsys, "score", "debtor", "--db", db, "--at", "2026-06-01", "--json")
    assert json.loads(out)["known"] is True
    code, out, _ = call(capsys, "score", "debtor", "--db", db, "--at", "2026-06-01")
    assert "no entries" not in out
    code, out, _ = call(
        capsys, "explain", "debtor", "--service", "air_travel", "--db", db, "--at", "2026-06-01"
    )
    assert "no entry about you" not in out


def test_score_says_which_requests_a_measure_is_limited_to(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # the court list bars a debtor from first and business class EMU seats only (SPC 2015
    # Art. 3): "emu_seats deny" read as every EMU seat
    code, out, _ = call(capsys, "score", "debtor", "--db", db, "--at", "2026-06-01")
    assert code == 0
    text = " ".join(out.split())
    assert (
        "no_emu_first_class service: emu_seats effect: deny when the seat class is first class "
        "or business class since:" in text
    )
    # a measure on every request says just "deny"
    assert "no_flights service: air_travel effect: deny since:" in text


# ---------------------------------------------------- item 1: the policy in force at --at

V2 = TEST_POLICY.replace('version: "1"', 'version: "2"').replace("points: -100", "points: -200")


@pytest.fixture
def two_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """test-policy v1 in force from 2026-01-01, v2 (a debt costs 200, not 100) from 2026-06-01."""
    v1, v2 = tmp_path / "v1.yaml", tmp_path / "v2.yaml"
    v1.write_text(TEST_POLICY)
    v2.write_text(V2)
    db = str(tmp_path / "two.db")
    activate(db, str(v1), parse_timestamp("2026-01-01"))
    activate(db, str(v2), parse_timestamp("2026-06-01"))
    data = tmp_path / "debt.jsonl"
    data.write_text(
        '{"id": "d1", "source": "court", "subject": "wang", "type": "debt", '
        '"occurred_at": "2026-02-01", "recorded_at": "2026-02-01"}\n'
    )
    assert call(capsys, "ingest", str(data), "--db", db, "--backfill")[0] == 0
    return db


def test_at_evaluates_under_the_policy_then_in_force(
    two_versions: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = two_versions
    v1_hash = load_policy(tmp_path / "v1.yaml").content_hash
    v2_hash = load_policy(tmp_path / "v2.yaml").content_hash
    _, out, _ = call(capsys, "score", "wang", "--db", db, "--at", "2026-03-01", "--json")
    data = json.loads(out)
    # v1: 1000 - 100 = 900 (grade B)
    assert data["score"] == 900 and data["grade"] == "B"
    assert (data["policy_version"], data["policy_hash"]) == ("test-policy@1", v1_hash)
    _, out, _ = call(capsys, "score", "wang", "--db", db, "--at", "2026-07-01", "--json")
    data = json.loads(out)
    # v2: 1000 - 200 = 800 (grade C)
    assert data["score"] == 800 and data["grade"] == "C"
    assert (data["policy_version"], data["policy_hash"]) == ("test-policy@2", v2_hash)
    # the text names the version and the start of its hash
    _, out, _ = call(capsys, "score", "wang", "--db", db, "--at", "2026-03-01")
    assert "test-policy@1" in out and v1_hash[:12] in out
    _, out, _ = call(capsys, "check", "wang", "luxury_hotel", "--db", db, "--at", "2026-03-01")
    assert out.startswith("ALLOW") and "test-policy@1" in out
    _, out, _ = call(capsys, "check", "wang", "luxury_hotel", "--db", db, "--at", "2026-07-01")
    assert out.startswith("DENY") and "test-policy@2" in out


def test_at_before_the_first_policy_says_when_it_starts(
    two_versions: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = call(capsys, "score", "wang", "--db", two_versions, "--at", "2025-12-01")
    assert code == 2 and out == ""
    assert "no policy was in force at 2025-12-01" in err
    assert "test-policy@1" in err and "activated on 2026-01-01" in err
    assert len(err.strip().splitlines()) == 1
    # with a policy file, any date works
    code, out, _ = call(
        capsys,
        "score",
        "wang",
        "--db",
        two_versions,
        "--at",
        "2025-12-01",
        "--policy",
        str(tmp_path / "v2.yaml"),
        "--json",
    )
    assert code == 0 and json.loads(out)["policy_version"] == "test-policy@2"


def test_init_says_from_when_its_policy_is_in_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "now.db")
    code, out, _ = init_china(capsys, db)
    assert code == 0
    since = out.split("in force from ")[1].split()[0]
    # the same instant is the one a question about an earlier date is told about
    code, _, err = call(capsys, "check", "x", "air_travel", "--db", db, "--at", "2000-01-01")
    assert code == 2 and f"was activated on {since}" in err
    code, out, _ = call(capsys, "check", "x", "air_travel", "--db", db, "--json")
    assert code == 0 and json.loads(out)["known"] is False


def _score_in_a_pipe(db: str, *args: str) -> str:
    """``score … | cat`` in an 80-column environment: stdout is no terminal."""
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "socialcredit", "score", *args, "--db", db],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_score_tables_keep_identifiers_and_dates_whole_in_a_narrow_pipe(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import re

    out = _score_in_a_pipe(db, "debtor", "--at", "2026-06-01")
    _, js, _ = call(capsys, "score", "debtor", "--db", db, "--at", "2026-06-01", "--json")
    names = {m["name"] for m in json.loads(js)["sanctions"]}
    assert names  # china-scs denies the debtor several services
    for name in names:
        assert re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", out), name
    # every date is printed whole: no "2026-01-1" at the end of a line and "0" on the next
    for token in re.findall(r"\d{4}-[\d-]*", out):
        assert len(token) == len("2026-01-10"), token


def test_score_shows_a_rectified_record_once_and_an_annulled_one_as_annulled(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixes = tmp_path / "fixes.jsonl"
    fixes.write_text(
        json.dumps(
            {
                "kind": "rectify",
                "id": "fix1",
                "source": "court",
                "target_source": "court",
                "target_id": "j1",
                "occurred_at": "2026-02-01",
                "recorded_at": "2026-02-01",
                "amount": 70000,
            }
        )
        + "\n"
        + json.dumps(
            {
                "id": "j2",
                "source": "court",
                "subject": "debtor",
                "type": "court_judgment_unfulfilled",
                "occurred_at": "2026-01-20",
                "recorded_at": "2026-01-20",
            }
        )
        + "\n"
        + json.dumps(
            {
                "kind": "annul",
                "id": "an2",
                "source": "court",
                "target_source": "court",
                "target_id": "j2",
                "occurred_at": "2026-02-02",
                "recorded_at": "2026-02-02",
            }
        )
        + "\n"
    )
    assert call(capsys, "ingest", str(fixes), "--db", db, "--backfill")[0] == 0
    out = _score_in_a_pipe(db, "debtor", "--at", "2026-06-01")
    assert out.count("court/j1") == 1, out
    assert out.count("court/j2") == 1, out
    assert "annulled or rectified" not in out
    assert "-0.00" not in out  # an annulled record adds nothing, printed 0.00
    # a row of the table, or a block of lines per record when 80 columns are too few
    j1 = out.split("court/j1", 1)[1].split("court/j2", 1)[0]
    j2 = out.split("court/j2", 1)[1]
    assert "rectified" in j1 and "annulled" not in j1
    assert "annulled" in j2 and "0.00" in j2


def test_an_empty_breakdown_says_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.cli.conftest import CHINA, IN_FORCE_FROM, activate

    path = str(tmp_path / "one.db")
    activate(path, CHINA, IN_FORCE_FROM)
    data = tmp_path / "rel.jsonl"
    data.write_text(
        json.dumps(
            {
                "kind": "relation",
                "id": "h1",
                "source": "registry",
                "subject": "kid",
                "relation": "child_of",
                "related_subject": "parent",
                "valid_from": "2015-01-01",
                "recorded_at": "2015-01-02",
            }
        )
        + "\n"
    )
    assert call(capsys, "ingest", str(data), "--db", path)[0] == 0
    code, out, _ = call(capsys, "score", "kid", "--db", path, "--at", "2026-06-01")
    assert code == 0
    assert "breakdown (base 1,000): none" in out


@pytest.mark.parametrize("command", [["score", "debtor"], ["check", "debtor", "air_travel"]])
def test_an_answer_about_a_date_to_come_says_it_is_a_projection(
    db: str, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    code, out, _ = call(capsys, *command, "--db", db, "--at", "2999-01-01")
    assert code == 0
    assert (
        "2999-01-01T00:00:00Z is still to come: this answer counts only the entries the ledger "
        "holds now; entries it receives before then may change it."
    ) in " ".join(out.split())
    code, out, _ = call(capsys, *command, "--db", db, "--at", "2026-06-01")
    assert code == 0 and "still to come" not in out
