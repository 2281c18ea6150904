"""The audit log's subject index for batch checks.

- ``audit_subjects``: (subject, seq) for every subject a batch-check entry of ``audit_log``
  lists in its ``details`` (a batch entry's own ``subject`` is empty), and ('', W) rows:
  every batch entry numbered W or below is indexed. Filled in bulk by the audit writer's
  thread (``socialcredit.audit.subjects``); a search by subject reads this index and
  ``ix_audit_log_subject``, and only the batch entries above the highest W. It is not part
  of the hash chain (the lists it repeats are: ``verify`` is unchanged) and is append-only
  like the log (UPDATE and DELETE refused by triggers; TRUNCATE too on PostgreSQL).
- Existing batch entries are indexed here, once.

Revision ID: 0012
Revises: 0011
"""

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_MSG = "the audit subject index is append-only"
BATCH_ROUTE = "POST /v1/checks/batch"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # the key is the table: no rowid b-tree beside it
        op.execute(
            "CREATE TABLE audit_subjects (subject TEXT NOT NULL, seq INTEGER NOT NULL, "
            "PRIMARY KEY (subject, seq)) WITHOUT ROWID"
        )
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_subjects_no_{action.lower()} BEFORE {action} ON "
                f"audit_subjects BEGIN SELECT RAISE(ABORT, '{_MSG}: {action} on "
                "audit_subjects is refused'); END"
            )
    else:
        op.create_table(
            "audit_subjects",
            sa.Column("subject", sa.Text, nullable=False),
            sa.Column("seq", sa.BigInteger, nullable=False),
            sa.PrimaryKeyConstraint("subject", "seq", name="pk_audit_subjects"),
        )
        op.execute(
            "CREATE TRIGGER audit_subjects_append_only BEFORE UPDATE OR DELETE ON "
            "audit_subjects FOR EACH ROW EXECUTE FUNCTION socialcredit_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_subjects_no_truncate BEFORE TRUNCATE ON audit_subjects "
            "FOR EACH STATEMENT EXECUTE FUNCTION socialcredit_audit_append_only()"
        )
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT seq, details FROM audit_log WHERE route = :route AND subject IS NULL "
            "ORDER BY seq"
        ),
        {"route": BATCH_ROUTE},
    )
    pairs: list[dict[str, object]] = []
    insert = sa.text("INSERT INTO audit_subjects (subject, seq) VALUES (:subject, :seq)")
    for seq, details in rows.fetchall():
        try:
            listed = orjson.loads(details or "null")
        except orjson.JSONDecodeError:
            continue
        names = listed.get("subjects") if isinstance(listed, dict) else None
        if isinstance(names, list):
            for name in dict.fromkeys(n for n in names if isinstance(n, str)):
                pairs.append({"subject": name, "seq": int(seq)})
        if len(pairs) >= 50_000:
            bind.execute(insert, pairs)
            pairs = []
    head = bind.execute(sa.text("SELECT seq FROM audit_head WHERE id = 1")).scalar()
    pairs.append({"subject": "", "seq": int(head or 0)})  # indexed up to the head
    bind.execute(insert, pairs)


def downgrade() -> None:
    op.execute("DROP TABLE audit_subjects")  # its triggers go with it
