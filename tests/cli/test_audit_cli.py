"""``socialcredit audit verify`` and ``audit show`` on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from socialcredit.ledger import Ledger
from tests.audit.conftest import (
    event,
    fill,
    ledger,
    pg_ledger,
    pg_url,
    sql,
    sqlite_ledger,
    unprotect,
)
from tests.cli.conftest import call

__all__ = ["ledger", "pg_ledger", "pg_url", "sqlite_ledger"]


def _db(ledger: Ledger) -> str:
    return ledger.engine.url.render_as_string(hide_password=False)


def test_verify_says_intact_with_the_head(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    head = fill(ledger, 4).head()
    code, out, _ = call(capsys, "audit", "verify", "--db", _db(ledger))
    assert code == 0
    assert out == f"audit log intact: 4 entries; head 4:{head[1]}\n"
    code, out, _ = call(
        capsys, "audit", "verify", "--db", _db(ledger), "--json", "--expect", f"4:{head[1]}"
    )
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True and data["head_seq"] == 4 and data["first_bad"] is None
    assert data["anchors_checked"] == [{"seq": 4, "hash": head[1]}]


def test_verify_names_the_first_bad_entry(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(ledger, 6)
    unprotect(ledger)
    sql(ledger, "UPDATE audit_log SET decision = 'allow!' WHERE seq = 3")
    sql(ledger, "DELETE FROM audit_log WHERE seq = 5")
    code, out, _ = call(capsys, "audit", "verify", "--db", _db(ledger))
    assert code == 1
    assert out.startswith("audit log NOT intact: first bad entry 3 (changed): entry 3 was changed")
    code, out, _ = call(capsys, "audit", "verify", "--db", _db(ledger), "--json")
    assert code == 1
    data = json.loads(out)
    assert (data["ok"], data["first_bad"], data["kind"]) == (False, 3, "changed")


def test_verify_refuses_a_malformed_anchor(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = call(capsys, "audit", "verify", "--db", _db(ledger), "--expect", "3:abc")
    assert code == 2 and "--expect '3:abc': write SEQ:HASH" in err


def test_show_pages_and_filters(ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    audit = fill(ledger, 0)
    for i in range(6):
        audit.append(event(i, subject="alice" if i in (1, 4) else None))
    audit.close()
    code, out, _ = call(
        capsys, "audit", "show", "--db", _db(ledger), "--after", "2", "--limit", "2", "--json"
    )
    assert code == 0
    assert [e["seq"] for e in json.loads(out)] == [3, 4]
    code, out, _ = call(
        capsys, "audit", "show", "--db", _db(ledger), "--subject", "alice", "--json"
    )
    entries = json.loads(out)
    assert [(e["seq"], e["subject"], e["route"]) for e in entries] == [
        (2, "alice", "POST /v1/checks"),
        (5, "alice", "POST /v1/checks"),
    ]
    assert entries[0]["at"] == "2026-05-28T20:26:40.001000Z"
    code, out, _ = call(capsys, "audit", "show", "--db", _db(ledger), "--subject", "alice")
    assert code == 0 and "alice" in out and "c4" in out
    code, out, _ = call(capsys, "audit", "show", "--db", _db(ledger), "--subject", "bob")
    assert (code, out) == (0, "audit entries: none\n")
    code, _, err = call(capsys, "audit", "show", "--db", _db(ledger), "--limit", "0")
    assert code == 2 and "--limit" in err


def test_a_missing_database_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("verify", "show"):
        code, _, err = call(capsys, "audit", command, "--db", str(tmp_path / "nope.db"))
        assert code == 2 and "does not exist" in err and "Traceback" not in err


def test_verify_counts_one_entry_as_one(
    sqlite_ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    head = fill(sqlite_ledger, 1).head()
    code, out, _ = call(capsys, "audit", "verify", "--db", _db(sqlite_ledger))
    assert code == 0
    assert out == f"audit log intact: 1 entry; head 1:{head[1]}\n"
