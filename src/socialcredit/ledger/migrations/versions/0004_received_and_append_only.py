"""What a source claims versus what the ledger knew, backfills, and append-only in the database.

- ``entries.claimed_recorded_at``: the ``recorded_at`` a line gave, kept as the source's
  claim. ``entries.recorded_at`` stays the time the ledger learned the entry (the time it
  received it, or, for an ``ingest --backfill``, the claimed time), which time travel uses.
- ``ingest_batches.backfill``: 1 for a batch that loaded history with its claimed times.
- ``ingest_batches.finished_at``: when the batch ended; NULL for a batch that was
  interrupted (its counts are what its committed chunks hold).
- Triggers refuse UPDATE and DELETE on ``entries``, ``subjects`` and ``policies``, so the
  ledger is append-only even for a client that bypasses this program.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APPEND_ONLY = ("entries", "subjects", "policies")


def upgrade() -> None:
    op.add_column("entries", sa.Column("claimed_recorded_at", sa.BigInteger))
    op.add_column(
        "ingest_batches",
        sa.Column("backfill", sa.SmallInteger, nullable=False, server_default=sa.text("0")),
    )
    op.add_column("ingest_batches", sa.Column("finished_at", sa.BigInteger))
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: "
                    f"{action} on {table} is refused'); END"
                )
    else:
        op.execute(
            "CREATE FUNCTION socialcredit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'the ledger is append-only: % on % is refused', "
            "TG_OP, TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION socialcredit_append_only()"
            )
            # TRUNCATE skips row triggers
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION socialcredit_append_only()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
    else:
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS socialcredit_append_only()")
    with op.batch_alter_table("ingest_batches") as batch:
        batch.drop_column("finished_at")
        batch.drop_column("backfill")
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("claimed_recorded_at")
