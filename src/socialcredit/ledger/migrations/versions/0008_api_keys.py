"""API keys of the HTTP service: the ``api_keys`` table.

Each row is one key: its id, its role (``admin``, ``source:court`` …), an optional name
for people, the hex SHA-256 of the whole token (never the token), when it was created and,
once revoked, when. A key is never deleted (audit entries name key ids), and a revoked key
is never restored, so, on SQLite and PostgreSQL alike:

- DELETE (and, on PostgreSQL, TRUNCATE) is refused;
- an UPDATE may only set ``revoked_at`` where it is NULL, changing nothing else.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_MESSAGE = "api keys are never deleted or changed, only revoked once"
_FIXED = ("key_id", "role", "name", "secret_hash", "created_at")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.Text(), primary_key=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("name", sa.Text()),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger()),
    )
    if op.get_bind().dialect.name == "sqlite":
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _FIXED)
        op.execute(
            "CREATE TRIGGER api_keys_no_delete BEFORE DELETE ON api_keys "
            f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}: DELETE on api_keys is refused'); END"
        )
        op.execute(
            "CREATE TRIGGER api_keys_revoke_only BEFORE UPDATE ON api_keys "
            f"WHEN OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL OR {changed} "
            f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}: an UPDATE may only set revoked_at of "
            "a key in use'); END"
        )
    else:
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _FIXED)
        op.execute(
            "CREATE FUNCTION socialcredit_api_keys_revoke_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP <> 'UPDATE' THEN "
            f"RAISE EXCEPTION '{_MESSAGE}: % on % is refused', TG_OP, TG_TABLE_NAME; END IF; "
            f"IF OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL OR {changed} THEN "
            f"RAISE EXCEPTION '{_MESSAGE}: an UPDATE may only set revoked_at of a key in "
            "use'; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER api_keys_revoke_only BEFORE UPDATE OR DELETE ON api_keys "
            "FOR EACH ROW EXECUTE FUNCTION socialcredit_api_keys_revoke_only()"
        )
        op.execute(
            "CREATE TRIGGER api_keys_no_truncate BEFORE TRUNCATE ON api_keys "
            "FOR EACH STATEMENT EXECUTE FUNCTION socialcredit_api_keys_revoke_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS api_keys_no_truncate ON api_keys")
        op.execute("DROP TRIGGER IF EXISTS api_keys_revoke_only ON api_keys")
        op.execute("DROP FUNCTION IF EXISTS socialcredit_api_keys_revoke_only()")
    op.drop_table("api_keys")  # SQLite drops a table's triggers with it
