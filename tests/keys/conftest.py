"""The ledger fixtures of tests/ledger (a SQLite file and a fresh PostgreSQL schema)."""

from tests.ledger.conftest import ledger, pg_ledger, pg_url, sqlite_ledger

__all__ = ["ledger", "pg_ledger", "pg_url", "sqlite_ledger"]
