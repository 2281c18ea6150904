"""Policy activations record when the ledger made them and whether they rewrote the past.

- ``policies.recorded_at``: the ledger's clock when the activation was made (NULL for
  activations made before this version).
- ``policies.backfill``: 1 for an activation whose ``activated_at`` is before
  ``recorded_at`` (loading history, such as the demo's policy in force from the start of its
  simulated period): answers about the time between the two are under a policy that was
  not in force when they could first have been asked. Without the flag, the ledger refuses
  an activation dated in the past.

Plain ``ALTER TABLE`` both ways (SQLite >= 3.35 drops columns), so the append-only triggers
on ``policies`` stay as they are.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("policies", sa.Column("recorded_at", sa.BigInteger))
    op.add_column(
        "policies",
        sa.Column("backfill", sa.SmallInteger, nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE policies DROP COLUMN backfill")
    op.execute("ALTER TABLE policies DROP COLUMN recorded_at")
