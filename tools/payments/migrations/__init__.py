"""Alembic migrations of the payments tables (branch ``payments``)."""
