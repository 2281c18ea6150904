"""Ingest batch rows keep their provenance: triggers on ``ingest_batches``.

A batch row says where entries came from, when they were received and whether they were
loaded as history (``backfill``); erasing or rewriting it would make back-dated history
read as if the ledger had known it at the time. So, on SQLite and PostgreSQL alike:

- DELETE (and, on PostgreSQL, TRUNCATE) is refused;
- UPDATE of ``id``, ``origin``, ``started_at`` or ``backfill`` is refused;
- the counts and ``finished_at`` may change only while ``finished_at`` is NULL: the writer
  updates them after every chunk and sets ``finished_at`` at the end, after which the row is
  frozen.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_MESSAGE = "ingest batch provenance is fixed"
_CHANGED = " OR ".join(
    f"NEW.{column} IS DISTINCT FROM OLD.{column}"
    for column in ("id", "origin", "started_at", "backfill")
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER ingest_batches_no_delete BEFORE DELETE ON ingest_batches "
            f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}: DELETE on ingest_batches is refused'); END"
        )
        op.execute(
            "CREATE TRIGGER ingest_batches_frozen BEFORE UPDATE ON ingest_batches "
            f"WHEN OLD.finished_at IS NOT NULL OR {_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} "
            f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}: UPDATE of a finished batch or of its "
            "id, origin, started_at or backfill is refused'); END"
        )
    else:
        op.execute(
            "CREATE FUNCTION socialcredit_batch_provenance() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP <> 'UPDATE' THEN "
            f"RAISE EXCEPTION '{_MESSAGE}: % on % is refused', TG_OP, TG_TABLE_NAME; END IF; "
            f"IF OLD.finished_at IS NOT NULL OR {_CHANGED} THEN "
            f"RAISE EXCEPTION '{_MESSAGE}: UPDATE of a finished batch or of its "
            "id, origin, started_at or backfill is refused'; END IF; "
            "RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER ingest_batches_provenance BEFORE UPDATE OR DELETE ON ingest_batches "
            "FOR EACH ROW EXECUTE FUNCTION socialcredit_batch_provenance()"
        )
        op.execute(
            "CREATE TRIGGER ingest_batches_no_truncate BEFORE TRUNCATE ON ingest_batches "
            "FOR EACH STATEMENT EXECUTE FUNCTION socialcredit_batch_provenance()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ingest_batches_no_delete")
        op.execute("DROP TRIGGER IF EXISTS ingest_batches_frozen")
    else:
        op.execute("DROP TRIGGER IF EXISTS ingest_batches_provenance ON ingest_batches")
        op.execute("DROP TRIGGER IF EXISTS ingest_batches_no_truncate ON ingest_batches")
        op.execute("DROP FUNCTION IF EXISTS socialcredit_batch_provenance()")
