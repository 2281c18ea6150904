"""The notices outbox: one row per event a subject is told about (``socialcredit.notices``).

A measure that started or was published, or a dispute that went overdue, is written once:
``event_key`` is unique, so two runs (or two processes at once) never store it twice.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_key", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("event_at", sa.BigInteger(), nullable=False),
        sa.Column("written_at", sa.BigInteger(), nullable=False),
        sa.Column("policy_version", sa.Text(), nullable=False),
        sa.Column("policy_hash", sa.Text(), nullable=False),
        sa.Column("service", sa.Text()),
        sa.Column("measure", sa.Text()),
        sa.Column("reason_code", sa.Text()),
        sa.Column("records", sa.Text(), nullable=False),
        sa.Column("until", sa.BigInteger()),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("delivered_at", sa.BigInteger()),
        sa.Column("read_at", sa.BigInteger()),
        sa.UniqueConstraint("event_key", name="uq_notices_event_key"),
    )
    op.create_index("ix_notices_subject", "notices", ["subject", "id"])


def downgrade() -> None:
    op.drop_index("ix_notices_subject", table_name="notices")
    op.drop_table("notices")
