"""``check SUBJECT SERVICE --attr name=value`` and ``explain --attr`` (issue 7, construct 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from socialcredit.ledger import Ledger
from socialcredit.timeutil import parse_timestamp
from tests.cli.conftest import activate, call
from tests.policy.services.policy import STRUCTURED

T0 = parse_timestamp("2025-01-01")
AT = "2025-01-11"


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "structured.yaml"
    path.write_text(STRUCTURED, encoding="utf-8")
    url = str(tmp_path / "s.db")
    activate(url, str(path), T0 - 86400)
    entries = [
        {"id": "d1", "source": "court", "subject": "debtor", "type": "debt",
         "occurred_at": "2025-01-01"},
        {"id": "f1", "source": "rail", "subject": "fighter", "type": "seat_fight",
         "occurred_at": "2025-01-01"},
    ]  # fmt: skip
    with Ledger.open(url) as ledger:
        assert ledger.ingest_entries(entries, now=T0).accepted == 2
    return url


def _check(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> tuple[int, str, str]:
    return call(capsys, "check", *args, "--db", db, "--at", AT)


def test_check_with_attributes(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _check(capsys, db, "debtor", "d_train_seats", "--attr", "class=first", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["decision"] == "deny" and data["reasons"] == ["SPC-D1"]
    assert data["attributes"] == {"class": "first"}
    assert "sanctions" not in data and "score" not in data
    code, out, _ = _check(capsys, db, "debtor", "d_train_seats", "--attr", "class=second")
    assert code == 0 and out.startswith("ALLOW debtor d_train_seats (class=second)")
    code, out, _ = _check(
        capsys, db, "debtor", "private_school",
        "--attr", "annual_fee=20000", "--attr", "payer=debtor", "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert data["decision"] == "deny" and data["attributes"]["annual_fee"] == 20000.0
    code, out, _ = _check(
        capsys, db, "debtor", "private_school", "--attr", "annual_fee=19,999.99",
        "--attr", "payer=debtor",
    )  # fmt: skip
    assert out.startswith("ALLOW")


def test_a_parent_ban_in_the_cli(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _check(capsys, db, "fighter", "g_train_seats", "--json")
    assert code == 0 and json.loads(out)["reasons"] == ["RAIL-CAT1"]
    code, out, _ = _check(capsys, db, "debtor", "rail_tickets", "--json")
    assert code == 0 and json.loads(out)["decision"] == "allow"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("debtor", "d_train_seats"), "needs attribute 'class'"),
        (("nobody", "d_train_seats"), "needs attribute 'class'"),
        (("debtor", "hotels", "--attr", "stars=five"), "'stars' of service 'hotels' is a number"),
        (("debtor", "hotels", "--attr", "stars=nan"), "is a number; got 'nan'"),
        (("debtor", "hotels", "--attr", "stars"), "write name=value"),
        (("debtor", "hotels", "--attr", "stars=1", "--attr", "stars=2"), "given twice"),
        (("debtor", "hotels", "--attr", "star=1"), "'star' is not declared for service 'hotels'"),
        (("debtor", "d_train_seats", "--attr", "class=royal"), "got 'royal'"),
        (("debtor", "g_train_seat"), "did you mean 'g_train_seats'"),
    ],
)
def test_attribute_problems_exit_2_with_a_message(
    db: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = _check(capsys, db, *args)
    assert code == 2 and out == ""
    assert message in err


def test_explain_with_and_without_attributes(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    base = ("explain", "debtor", "--db", db, "--at", AT, "--service", "d_train_seats")
    code, out, _ = call(capsys, *base)
    assert code == 0
    assert "You cannot buy seats on D-series trains when the seat class is first class" in out
    code, out, _ = call(capsys, *base, "--attr", "class=second", "--json")
    data = json.loads(out)
    assert data["decision"] == "allow" and data["attributes"] == {"class": "second"}
    assert data["explanation"]["not_applying"][0]["reason_code"] == "SPC-D1"
    code, _, err = call(capsys, "explain", "debtor", "--db", db, "--attr", "class=first")
    assert code == 2 and "give --service too" in err


def test_policy_show_says_parents_contexts_attributes_and_limits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "structured.yaml"
    path.write_text(STRUCTURED, encoding="utf-8")
    code, out, _ = call(capsys, "policy", "show", str(path))
    assert code == 0
    flat = " ".join(out.split())
    for text in (
        "part of: rail_tickets",
        "context: education",
        "attribute class: second | first | business",
        "covers g_train_seats,",
        "only when the",  # a table cell wraps the rest
    ):
        assert text in flat, text


def test_subjects_denied_counts_measures_on_parent_services(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def denied(service: str) -> dict[str, list[str]]:
        code, out, _ = call(
            capsys, "subjects", "--db", db, "--at", AT, "--denied", service, "--json"
        )
        assert code == 0
        return {
            row["subject"]: [m["reason_code"] for m in row["measures"]]
            for row in json.loads(out)["subjects"]
        }

    # the fighter's ban is on train tickets and covers G-train seats; the debtor's on G seats
    assert denied("g_train_seats") == {"debtor": ["SPC-G"], "fighter": ["RAIL-CAT1"]}
    assert denied("rail_tickets") == {"fighter": ["RAIL-CAT1"]}
    # a measure limited to some requests counts (it denies the debtor first-class seats)
    assert denied("d_train_seats") == {"debtor": ["SPC-D1"], "fighter": ["RAIL-CAT1"]}
