"""An index of relations by related subject (only relation entries have one).

Finds a subject's relatives and lets a bulk read fetch every relation without a table scan.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_entries_related_subject_id",
        "entries",
        ["related_subject_id"],
        sqlite_where=sa.text("related_subject_id IS NOT NULL"),
        postgresql_where=sa.text("related_subject_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_entries_related_subject_id", table_name="entries")
