"""Alembic migrations for the ledger, run by ``Ledger.upgrade()``."""
