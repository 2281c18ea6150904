"""An index of exemptions and attributes (entry kinds 9 and 10).

Exemptions and attributes are facts about a subject for a period: they name a subject and
no target, like records, but are few. A bulk read fetches them all with this partial index
instead of scanning every entry, so a ledger without any costs nothing to read.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_entries_facts",
        "entries",
        ["seq"],
        sqlite_where=sa.text("kind IN (9, 10)"),
        postgresql_where=sa.text("kind IN (9, 10)"),
    )


def downgrade() -> None:
    op.drop_index("ix_entries_facts", table_name="entries")
