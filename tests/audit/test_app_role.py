"""The least-privilege application role of docs/postgresql.md can append to the audit log and
verify it, but not change or remove entries, nor move the head back."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from socialcredit.audit import AuditLog
from socialcredit.ledger import Ledger
from tests.audit.conftest import event
from tests.ledger.test_append_only import _doc_sql


@pytest.mark.postgres
def test_the_application_role_appends_and_verifies_only(pg_url: str) -> None:
    tag = uuid.uuid4().hex[:8]
    owner, app, schema = f"sc_owner_{tag}", f"sc_app_{tag}", f"sc_{tag}"
    create, grants = _doc_sql(owner, app, schema)
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    base = sa.engine.make_url(pg_url)

    def url(role: str) -> str:
        return f"{base.set(username=role).render_as_string()}?options=-csearch_path%3D{schema}"

    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(create)
        with Ledger.open(url(owner)) as ledger:
            ledger.upgrade()
            with ledger.engine.begin() as conn:
                conn.exec_driver_sql(grants)
        with Ledger.open(url(app)) as ledger:
            audit = AuditLog(ledger, start=False)
            for i in range(5):
                audit.append(event(i))
            audit.close()
            assert audit.verify().ok and audit.head()[0] == 5
            for statement in (
                "UPDATE audit_log SET subject = 'x'",
                "DELETE FROM audit_log",
                "TRUNCATE audit_log",
                "DELETE FROM audit_head",
                "UPDATE audit_head SET seq = 0",
                "DROP TRIGGER audit_log_append_only ON audit_log",
            ):
                with pytest.raises(sa.exc.DatabaseError), ledger.engine.begin() as conn:
                    conn.exec_driver_sql(statement)
            assert audit.verify().ok
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            for role in (app, owner):
                conn.exec_driver_sql(f"DROP OWNED BY {role}")
                conn.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()
