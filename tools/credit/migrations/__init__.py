"""Alembic branch ``credit``: strategy versions, deployments and decisions."""
