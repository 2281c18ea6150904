"""Each entry's line in its batch's input; conflicts and skipped lines per batch.

The line tells a repeat of an entry from the line that stored it (and says where a
conflicting repeat's first version came from); the batch counts keep every line of an
input accounted for (lines = accepted + duplicates + conflicts + rejected + skipped).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("entries", sa.Column("line", sa.Integer))
    for name in ("conflicts", "skipped"):
        op.add_column(
            "ingest_batches",
            sa.Column(name, sa.Integer, nullable=False, server_default=sa.text("0")),
        )


def downgrade() -> None:
    with op.batch_alter_table("ingest_batches") as batch:
        batch.drop_column("skipped")
        batch.drop_column("conflicts")
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("line")
