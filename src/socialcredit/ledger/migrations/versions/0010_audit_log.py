"""The audit log: a hash-chained table of audited requests and its head row.

- ``audit_log``: one row per audited request (``socialcredit.audit``), numbered 1, 2, 3 …
  by the writer, each holding the previous entry's hash and its own (docs/audit.md).
- ``audit_head``: one row (id 1, made by the first write) with the last entry's seq and
  hash, updated in the same transaction as the entries; writers lock it to extend the chain
  one at a time.
- Triggers refuse UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) of ``audit_log``, and
  on ``audit_head`` a DELETE or an UPDATE that moves the head back or changes its id, for
  every role: the log is append-only in the database itself.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_LOG = "the audit log is append-only"
_HEAD = "the audit head only moves forward"


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.Column("key_id", sa.Text),
        sa.Column("role", sa.Text),
        sa.Column("route", sa.Text, nullable=False),
        sa.Column("subject", sa.Text),
        sa.Column("service", sa.Text),
        sa.Column("decision", sa.Text),
        sa.Column("policy_version", sa.Text),
        sa.Column("status", sa.Integer),
        sa.Column("check_id", sa.Text),
        sa.Column("details", sa.Text),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("updated_at_us", sa.BigInteger),
    )
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{action.lower()} BEFORE {action} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{_LOG}: {action} on audit_log is refused'); END"
            )
        op.execute(
            "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
            f"BEGIN SELECT RAISE(ABORT, '{_HEAD}: DELETE on audit_head is refused'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head "
            "WHEN NEW.id IS NOT OLD.id OR NEW.seq < OLD.seq "
            f"BEGIN SELECT RAISE(ABORT, '{_HEAD}: moving it back or changing its id is "
            "refused'); END"
        )
    else:
        op.execute(
            "CREATE FUNCTION socialcredit_audit_append_only() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{_LOG}: % on % is refused', "
            "TG_OP, TG_TABLE_NAME; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION socialcredit_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION socialcredit_audit_append_only()"
        )
        op.execute(
            "CREATE FUNCTION socialcredit_audit_head() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP <> 'UPDATE' THEN "
            f"RAISE EXCEPTION '{_HEAD}: % on % is refused', TG_OP, TG_TABLE_NAME; END IF; "
            "IF NEW.id IS DISTINCT FROM OLD.id OR NEW.seq < OLD.seq THEN "
            f"RAISE EXCEPTION '{_HEAD}: moving it back or changing its id is refused'; "
            "END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head "
            "FOR EACH ROW EXECUTE FUNCTION socialcredit_audit_head()"
        )
        op.execute(
            "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
            "FOR EACH STATEMENT EXECUTE FUNCTION socialcredit_audit_head()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TABLE audit_log")
        op.execute("DROP TABLE audit_head")
        op.execute("DROP FUNCTION IF EXISTS socialcredit_audit_append_only()")
        op.execute("DROP FUNCTION IF EXISTS socialcredit_audit_head()")
        return
    op.drop_table("audit_log")  # its triggers go with it
    op.drop_table("audit_head")
