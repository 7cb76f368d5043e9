"""Core schema migrations (Alembic branch ``core``)."""
