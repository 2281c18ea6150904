"""Policy activations record the lint gate: the findings and any override.

- ``policies.lint_findings``: the policy's lint findings when it was activated, as JSON
  (a list of ``Finding.to_json()`` objects, silenced ones with their justification);
  NULL for activations made before this version, or through the library without a gate.
- ``policies.lint_override``: the justification given to activate a policy with lint
  errors (``--override``); NULL when none was needed or given.

Plain ``ALTER TABLE`` both ways (as 0005), so the append-only triggers on ``policies``
stay as they are.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("policies", sa.Column("lint_findings", sa.Text))
    op.add_column("policies", sa.Column("lint_override", sa.Text))


def downgrade() -> None:
    op.execute("ALTER TABLE policies DROP COLUMN lint_override")
    op.execute("ALTER TABLE policies DROP COLUMN lint_findings")
