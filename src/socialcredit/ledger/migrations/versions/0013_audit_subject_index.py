"""The audit log's subject index covers every entry; ``ix_audit_log_subject`` is dropped.

- ``audit_subjects`` (0012) held (subject, seq) for the subjects batch checks list; it now
  holds them for every entry about a subject (its own ``subject`` too), filled in bulk by
  the audit log's indexer thread (``socialcredit.audit.subjects``), and its watermark
  ('', W) says that every entry numbered W or below is indexed.
- The entries written before this revision are indexed here (sorted, in one statement),
  and the watermark is set to the head of the log.
- ``ix_audit_log_subject`` is dropped: every group commit of single checks wrote one of its
  16 KB pages per check (random subjects) and synced it, most of the audit writer's CPU.
  A search by subject reads ``audit_subjects`` up to the watermark and the entries above it.

Revision ID: 0013
Revises: 0012
"""

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BATCH_ROUTE = "POST /v1/checks/batch"


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    ignore = "INSERT OR IGNORE" if sqlite else "INSERT"
    tail = "" if sqlite else " ON CONFLICT DO NOTHING"
    marked = bind.execute(
        sa.text("SELECT MAX(seq) FROM audit_subjects WHERE subject = ''")
    ).scalar()
    # entries of their own subject (before: found through ix_audit_log_subject)
    op.execute(
        f"{ignore} INTO audit_subjects (subject, seq) SELECT subject, seq FROM audit_log "
        f"WHERE subject IS NOT NULL AND subject <> '' ORDER BY subject, seq{tail}"
    )
    # batch entries above 0012's watermark (those below it are indexed already)
    rows = bind.execute(
        sa.text(
            "SELECT seq, details FROM audit_log WHERE route = :route AND subject IS NULL "
            "AND seq > :done ORDER BY seq"
        ),
        {"route": BATCH_ROUTE, "done": int(marked or 0)},
    )
    insert = sa.text(f"{ignore} INTO audit_subjects (subject, seq) VALUES (:subject, :seq){tail}")
    pairs: list[dict[str, object]] = []
    for seq, details in rows.fetchall():
        try:
            listed = orjson.loads(details or "null")
        except orjson.JSONDecodeError:
            continue
        names = listed.get("subjects") if isinstance(listed, dict) else None
        if isinstance(names, list):
            for name in dict.fromkeys(n for n in names if isinstance(n, str) and n):
                pairs.append({"subject": name, "seq": int(seq)})
        if len(pairs) >= 50_000:
            bind.execute(insert, pairs)
            pairs = []
    head = bind.execute(sa.text("SELECT seq FROM audit_head WHERE id = 1")).scalar()
    pairs.append({"subject": "", "seq": int(head or 0)})  # indexed up to the head
    bind.execute(insert, pairs)
    op.drop_index("ix_audit_log_subject", table_name="audit_log")


def downgrade() -> None:
    # the rows of single entries stay in audit_subjects (it is append-only): 0012's
    # searches read both and count each entry once
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])
