"""Fraud schema migrations (Alembic branch ``fraud``)."""
