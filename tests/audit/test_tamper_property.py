"""Hypothesis: for any sequence of events and any single tampering with the stored table,
``verify`` fails and names the first entry that differs from what was written (the first
affected seq); with no tampering it passes. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.audit import GENESIS, AuditEvent, AuditLog, entry_hash
from socialcredit.ledger import Ledger
from tests.audit.conftest import rows, sql, unprotect

# text both databases store (PostgreSQL text holds no NUL; UTF-8 has no lone surrogates)
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
EVENTS = st.lists(
    st.builds(
        AuditEvent,
        key_id=st.none() | TEXT,
        role=st.none() | st.sampled_from(["admin", "auditor", "enforcer:air_travel", "subject:P1"]),
        route=st.sampled_from(
            ["POST /v1/checks", "GET /v1/subjects/{id}/standing", "POST /v1/entries"]
        ),
        subject=st.none() | TEXT,
        decision=st.none() | st.sampled_from(["allow", "deny"]),
        policy_version=st.none() | TEXT,
        at=st.integers(0, 4_000_000_000_000_000).map(lambda us: us / 1_000_000),
        service=st.none() | TEXT,
        status=st.none() | st.integers(100, 599),
        check_id=st.none() | TEXT,
        details=st.none() | st.dictionaries(TEXT, st.integers() | TEXT, max_size=3),
    ),
    min_size=1,
    max_size=12,
)
COLUMNS = {
    "at_us": 1,
    "key_id": 2,
    "role": 3,
    "route": 4,
    "subject": 5,
    "service": 6,
    "decision": 7,
    "policy_version": 8,
    "status": 9,
    "check_id": 10,
    "details": 11,
    "prev_hash": 12,
    "hash": 13,
}
INTS = {"at_us", "status"}

OPS = st.one_of(
    st.tuples(
        st.just("modify"),
        st.integers(1, 99),
        st.sampled_from(sorted(COLUMNS)),
        TEXT,
        st.integers(1, 10**6),
    ),
    st.tuples(st.just("delete"), st.integers(1, 99)),
    st.tuples(st.just("truncate"), st.integers(1, 99)),
    st.tuples(st.just("insert"), st.integers(1, 100), st.booleans()),
    st.tuples(st.just("swap"), st.integers(1, 99), st.integers(1, 99)),
)
INSERT = (
    "INSERT INTO audit_log (seq, at_us, key_id, role, route, subject, service, decision, "
    "policy_version, status, check_id, details, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _reset(ledger: Ledger) -> None:
    sql(ledger, "DELETE FROM audit_log", f"UPDATE audit_head SET seq = 0, hash = '{GENESIS}'")


def _tamper(ledger: Ledger, op: tuple[Any, ...], stored: list[tuple[Any, ...]]) -> None:
    n = len(stored)
    kind = op[0]
    if kind == "modify":
        _, k, column, text, number = op
        k = (k - 1) % n + 1
        old = stored[k - 1][COLUMNS[column]]
        if column in INTS:
            new: Any = (old or 0) + number
        elif column in ("prev_hash", "hash"):
            new = entry_hash(old, (text,))  # another 64-hex value
        else:
            new = text if text != old else f"{text}x"
        sql(ledger, f"UPDATE audit_log SET {column} = ? WHERE seq = ?", params=(new, k))
    elif kind == "delete":
        sql(ledger, "DELETE FROM audit_log WHERE seq = ?", params=((op[1] - 1) % n + 1,))
    elif kind == "truncate":
        sql(ledger, "DELETE FROM audit_log WHERE seq >= ?", params=((op[1] - 1) % n + 1,))
    elif kind == "insert":
        k = (op[1] - 1) % (n + 1) + 1
        prev = stored[k - 2][-1] if k > 1 else GENESIS
        fields = (k, 7, "k", "admin", "GET /forged", "P0", None, None, None, 200, None, None)
        digest = entry_hash(prev, fields) if op[2] else "e" * 64
        if k <= n:
            sql(
                ledger,
                f"UPDATE audit_log SET seq = -seq WHERE seq >= {k}",
                "UPDATE audit_log SET seq = 1 - seq WHERE seq < 0",
            )
        sql(ledger, INSERT, params=(*fields, prev, digest))
    else:
        i, j = sorted(((op[1] - 1) % n + 1, (op[2] - 1) % n + 1))
        if i == j:
            j = i + 1 if i < n else i - 1
            i, j = sorted((i, j))
        if i == j:  # a single entry: swap it with nothing is no tampering; change it instead
            sql(ledger, "UPDATE audit_log SET route = route || 'x' WHERE seq = 1")
            return
        sql(
            ledger,
            f"UPDATE audit_log SET seq = -1 WHERE seq = {i}",
            f"UPDATE audit_log SET seq = {i} WHERE seq = {j}",
            f"UPDATE audit_log SET seq = {j} WHERE seq = -1",
        )


def _first_difference(before: list[tuple[Any, ...]], after: list[tuple[Any, ...]]) -> int:
    for position, (a, b) in enumerate(zip(before, after, strict=False), start=1):
        if a != b:
            return position
    return min(len(before), len(after)) + 1


def _property(ledger: Ledger, events: list[AuditEvent], op: tuple[Any, ...] | None) -> None:
    _reset(ledger)
    audit = AuditLog(ledger, start=False, batch=5)  # several transactions
    for e in events:
        audit.append(e)
    audit.close()
    stored = rows(ledger)
    assert [r[0] for r in stored] == list(range(1, len(events) + 1))
    if op is None:
        result = audit.verify()
        assert result.ok, result.problem
        assert result.entries == len(events)
        return
    _tamper(ledger, op, stored)
    after = rows(ledger)
    assert after != stored
    result = audit.verify()
    assert not result.ok
    assert result.first_bad == _first_difference(stored, after), (op, result.problem)


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(events=EVENTS, op=st.none() | OPS)
def test_verify_names_the_first_tampered_entry_on_sqlite(
    sqlite_ledger: Ledger, events: list[AuditEvent], op: tuple[Any, ...] | None
) -> None:
    unprotect_once(sqlite_ledger)
    _property(sqlite_ledger, events, op)


@SETTINGS
@given(events=EVENTS, op=st.none() | OPS)
def test_verify_names_the_first_tampered_entry_on_postgresql(
    pg_ledger: Ledger, events: list[AuditEvent], op: tuple[Any, ...] | None
) -> None:
    unprotect_once(pg_ledger)
    _property(pg_ledger, events, op)


_unprotected: set[int] = set()


def unprotect_once(ledger: Ledger) -> None:
    """Drop the triggers the first time an example sees this ledger."""
    if id(ledger) not in _unprotected:
        unprotect(ledger)
        _unprotected.add(id(ledger))
