"""The append-only ledger: subjects, entries, policies, ingest batches.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subjects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("kind", sa.SmallInteger, nullable=False),
    )
    op.create_table(
        "entries",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("entry_id", sa.Text, nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("subject_id", sa.Integer, nullable=False),
        sa.Column("type", sa.Text),
        sa.Column("occurred_at", sa.BigInteger, nullable=False),
        sa.Column("recorded_at", sa.BigInteger, nullable=False),
        sa.Column("amount", sa.Float),
        sa.Column("evidence", sa.Text),
        sa.Column("target_seq", sa.BigInteger),
        sa.Column("related_subject_id", sa.Integer),
        sa.Column("valid_until", sa.BigInteger),
        sa.Column("details", sa.Text),
        sa.Column("batch_id", sa.Integer),
        sa.UniqueConstraint("source", "entry_id", name="uq_entries_source_entry_id"),
    )
    op.create_index("ix_entries_subject_id", "entries", ["subject_id"])
    op.create_index(
        "ix_entries_target_seq",
        "entries",
        ["target_seq"],
        sqlite_where=sa.text("target_seq IS NOT NULL"),
        postgresql_where=sa.text("target_seq IS NOT NULL"),
    )
    op.create_table(
        "policies",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("policy_id", sa.Text, nullable=False),
        sa.Column("declared_version", sa.Text, nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("activated_at", sa.BigInteger, nullable=False),
        sa.Column("activated_by", sa.Text),
    )
    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("duplicates", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("ingest_batches", "policies", "entries", "subjects"):
        op.drop_table(table)
