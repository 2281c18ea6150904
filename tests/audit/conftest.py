"""Audit logs on both databases (the ledger fixtures of tests/ledger), and SQL that tampers
with them the way someone with the database owner's rights could."""

from __future__ import annotations

import time
from typing import Any

from socialcredit.audit import AuditEvent, AuditLog
from socialcredit.ledger import Ledger
from tests.ledger.conftest import ledger, pg_ledger, pg_url, sqlite_ledger

__all__ = ["ledger", "pg_ledger", "pg_url", "sqlite_ledger"]

COLUMNS = (
    "seq, at_us, key_id, role, route, subject, service, decision, policy_version, status, "
    "check_id, details, prev_hash, hash"
)


def event(i: int, subject: str | None = None, **changes: Any) -> AuditEvent:
    """A check event numbered ``i`` (its subject ``P{i}`` unless given)."""
    fields: dict[str, Any] = {
        "key_id": f"k{i % 3}",
        "role": "enforcer:air_travel",
        "route": "POST /v1/checks",
        "subject": subject if subject is not None else f"P{i}",
        "decision": "deny" if i % 2 else "allow",
        "policy_version": "china-scs 1.0",
        "at": 1_780_000_000 + i / 1000,
        "service": "air_travel",
        "status": 200,
        "check_id": f"c{i}",
    }
    fields.update(changes)
    return AuditEvent(**fields)


def fill(ledger: Ledger, n: int) -> AuditLog:
    """An audit log in ``ledger`` holding ``n`` written check events (no background thread)."""
    audit = AuditLog(ledger, start=False)
    for i in range(n):
        audit.append(event(i))
    audit.flush()
    return audit


def unprotect(ledger: Ledger) -> None:
    """Drop the append-only triggers, as the tables' owner could."""
    with ledger.engine.begin() as conn:
        if ledger.is_sqlite:
            for name in ("audit_log_no_update", "audit_log_no_delete", "audit_head_no_delete"):
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
            conn.exec_driver_sql("DROP TRIGGER audit_head_forward")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_log_append_only ON audit_log")
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_truncate ON audit_log")
            conn.exec_driver_sql("DROP TRIGGER audit_head_forward ON audit_head")


def sql(ledger: Ledger, *statements: str, params: tuple[Any, ...] = ()) -> None:
    """Run ``statements`` in one transaction (``params`` go to the last one; write ``?``)."""
    with ledger.engine.begin() as conn:
        for i, statement in enumerate(statements):
            if i == len(statements) - 1 and params:
                mark = "?" if ledger.is_sqlite else "%s"
                conn.exec_driver_sql(statement.replace("?", mark), params)
            else:
                conn.exec_driver_sql(statement)


def rows(ledger: Ledger) -> list[tuple[Any, ...]]:
    """Every stored entry as a tuple of its columns, in seq order."""
    with ledger.engine.connect() as conn:
        return [
            tuple(r) for r in conn.exec_driver_sql(f"SELECT {COLUMNS} FROM audit_log ORDER BY seq")
        ]


def wait_until(predicate: Any, timeout: float = 10.0) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())
