"""Each kind of tampering, done with SQL on the table itself (after dropping the triggers, as
the tables' owner could), is detected and the first bad entry named, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from socialcredit.audit import GENESIS, Anchor, entry_hash
from socialcredit.ledger import Ledger
from tests.audit.conftest import fill, rows, sql, unprotect

N = 10


def _forged(seq: int, prev_hash: str) -> tuple[object, ...]:
    """A forged entry ``seq`` after ``prev_hash``, with a correctly computed hash."""
    fields = (seq, 1, "k9", "admin", "GET /v1/x", "P999", None, None, None, 200, None, None)
    return (*fields, prev_hash, entry_hash(prev_hash, fields))


INSERT = (
    "INSERT INTO audit_log (seq, at_us, key_id, role, route, subject, service, decision, "
    "policy_version, status, check_id, details, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SHIFT = (
    "UPDATE audit_log SET seq = -seq WHERE seq >= {k}",
    "UPDATE audit_log SET seq = 1 - seq WHERE seq < 0",
)


def test_an_untouched_log_verifies(ledger: Ledger) -> None:
    audit = fill(ledger, N)
    result = audit.verify()
    assert result.ok and result.first_bad is None and result.problem is None
    assert (result.entries, result.head_seq) == (N, N)
    assert result.head_hash == rows(ledger)[-1][-1]


def test_an_empty_log_verifies(ledger: Ledger) -> None:
    result = fill(ledger, 0).verify()
    assert result.ok and (result.entries, result.head_seq, result.head_hash) == (0, 0, GENESIS)


def test_the_triggers_refuse_changes(ledger: Ledger) -> None:
    fill(ledger, 3)
    for statement in (
        "UPDATE audit_log SET subject = 'x' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 3",
        "DELETE FROM audit_head",
        "UPDATE audit_head SET seq = 1",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="audit"):
            sql(ledger, statement)
    if not ledger.is_sqlite:
        for table in ("audit_log", "audit_head"):
            with pytest.raises(sa.exc.DatabaseError, match="audit"):
                sql(ledger, f"TRUNCATE {table}")
    sql(ledger, "UPDATE audit_head SET updated_at_us = 5")  # moving nothing back is allowed
    assert len(rows(ledger)) == 3 and fill(ledger, 0).verify().ok


@pytest.mark.parametrize(
    ("statement", "first_bad", "kind"),
    [
        ("UPDATE audit_log SET decision = 'allow' WHERE seq = 4", 4, "changed"),
        ("UPDATE audit_log SET subject = NULL WHERE seq = 1", 1, "changed"),
        ("UPDATE audit_log SET at_us = at_us + 1 WHERE seq = 7", 7, "changed"),
        ("UPDATE audit_log SET hash = prev_hash WHERE seq = 10", 10, "changed"),
        (f"UPDATE audit_log SET prev_hash = '{'1' * 64}' WHERE seq = 5", 5, "changed"),
    ],
)
def test_a_modified_entry_is_named(
    ledger: Ledger, statement: str, first_bad: int, kind: str
) -> None:
    audit = fill(ledger, N)
    unprotect(ledger)
    sql(ledger, statement)
    result = audit.verify()
    assert not result.ok
    assert (result.first_bad, result.kind) == (first_bad, kind), result.problem
    assert f"entry {first_bad} " in str(result.problem)


def test_a_modified_entry_with_its_hash_recomputed_is_named(ledger: Ledger) -> None:
    # a forger who knows the (public) format recomputes the changed entry's hash: the next
    # entry no longer follows it
    audit = fill(ledger, N)
    unprotect(ledger)
    old = rows(ledger)[3]
    fields = (*old[:7], "allow" if old[7] == "deny" else "deny", *old[8:12])
    sql(
        ledger,
        "UPDATE audit_log SET decision = ?, hash = ? WHERE seq = 4",
        params=(fields[7], entry_hash(old[12], fields)),
    )
    result = audit.verify()
    assert (result.first_bad, result.kind) == (4, "not_linked"), result.problem


def test_a_removed_entry_is_named(ledger: Ledger) -> None:
    audit = fill(ledger, N)
    unprotect(ledger)
    sql(ledger, "DELETE FROM audit_log WHERE seq = 6")
    result = audit.verify()
    assert (result.ok, result.first_bad, result.kind) == (False, 6, "missing")
    assert "entry 6 is missing" in str(result.problem)


def test_a_removed_entry_with_the_rest_renumbered_is_named(ledger: Ledger) -> None:
    audit = fill(ledger, N)
    unprotect(ledger)
    sql(
        ledger,
        "DELETE FROM audit_log WHERE seq = 6",
        "UPDATE audit_log SET seq = -seq WHERE seq > 6",
        "UPDATE audit_log SET seq = -seq - 1 WHERE seq < 0",
        "UPDATE audit_head SET seq = seq - 1",
    )
    result = audit.verify()
    assert (result.first_bad, result.kind) == (6, "changed"), result.problem


@pytest.mark.parametrize("removed", [1, 3, N])
def test_removing_the_last_entries_is_seen_by_the_head_row(ledger: Ledger, removed: int) -> None:
    audit = fill(ledger, N)
    unprotect(ledger)
    sql(ledger, f"DELETE FROM audit_log WHERE seq > {N - removed}")
    result = audit.verify()
    assert (result.first_bad, result.kind) == (N - removed + 1, "truncated"), result.problem
    assert f"entries {N - removed + 1} to {N} are missing" in str(result.problem)


def test_truncation_with_the_head_moved_back_needs_an_anchor(ledger: Ledger) -> None:
    # what the database alone cannot see: the last entries removed and the head row moved
    # back to match; an anchor kept outside the database (an earlier verify's head) sees it
    audit = fill(ledger, N)
    anchor = Anchor(*audit.head())
    unprotect(ledger)
    last = rows(ledger)[6]
    sql(
        ledger,
        "DELETE FROM audit_log WHERE seq > 7",
        f"UPDATE audit_head SET seq = 7, hash = '{last[-1]}'",
    )
    assert audit.verify().ok  # undetectable without an anchor: said so in docs/audit.md
    result = audit.verify([anchor])
    assert (result.ok, result.first_bad, result.kind) == (False, 8, "anchor"), result.problem


def test_a_rewritten_tail_is_seen_by_an_anchor(ledger: Ledger) -> None:
    audit = fill(ledger, N)
    anchor = Anchor(8, rows(ledger)[7][-1])
    unprotect(ledger)
    old = rows(ledger)
    prev = old[5][-1]
    statements = ["DELETE FROM audit_log WHERE seq > 6"]
    for seq in range(7, N + 1):  # entries 7.. rewritten, each with a correct hash
        forged = _forged(seq, prev)
        prev = str(forged[-1])
        statements.append(
            INSERT.replace("?", "{}").format(
                *(f"'{v}'" if isinstance(v, str) else "NULL" if v is None else v for v in forged)
            )
        )
    statements.append(f"UPDATE audit_head SET hash = '{prev}'")
    sql(ledger, *statements)
    assert audit.verify().ok
    result = audit.verify([anchor])
    assert (result.first_bad, result.kind) == (8, "anchor"), result.problem


def test_an_entry_added_after_the_head_is_named(ledger: Ledger) -> None:
    audit = fill(ledger, N)
    sql(ledger, INSERT, params=_forged(N + 1, rows(ledger)[-1][-1]))  # the triggers allow INSERT
    result = audit.verify()
    assert (result.first_bad, result.kind) == (N + 1, "beyond_head"), result.problem


@pytest.mark.parametrize("valid_hash", [False, True])
def test_an_inserted_entry_is_named(ledger: Ledger, valid_hash: bool) -> None:
    audit = fill(ledger, N)
    unprotect(ledger)
    forged = _forged(4, rows(ledger)[2][-1])
    if not valid_hash:
        forged = (*forged[:-1], "f" * 64)
    sql(ledger, *[s.format(k=4) for s in SHIFT], "UPDATE audit_head SET seq = seq + 1")
    sql(ledger, INSERT, params=forged)
    result = audit.verify()
    assert result.first_bad == 4, result.problem
    assert result.kind == ("not_linked" if valid_hash else "changed")


def test_swapped_entries_are_named(ledger: Ledger) -> None:
    audit = fill(ledger, N)
    unprotect(ledger)
    sql(
        ledger,
        "UPDATE audit_log SET seq = -1 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = 8",
        "UPDATE audit_log SET seq = 8 WHERE seq = -1",
    )
    result = audit.verify()
    assert (result.first_bad, result.kind) == (3, "changed"), result.problem


def test_a_replaced_last_entry_is_seen_by_the_head_row(ledger: Ledger) -> None:
    audit = fill(ledger, N)
    unprotect(ledger)
    forged = _forged(N, rows(ledger)[-2][-1])
    sql(ledger, f"DELETE FROM audit_log WHERE seq = {N}")
    sql(ledger, INSERT, params=forged)
    result = audit.verify()
    assert (result.first_bad, result.kind) == (N, "head"), result.problem


def test_a_missing_head_row_is_reported(ledger: Ledger) -> None:
    audit = fill(ledger, 3)
    unprotect(ledger)
    sql(ledger, "DELETE FROM audit_head")
    result = audit.verify()
    assert (result.ok, result.kind) == (False, "head")
    assert "head row is missing" in str(result.problem)
