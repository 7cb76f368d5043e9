"""Keyed deployments and decisions remember their request: ``request_hash`` and ``response``.

A deployment or decision made under an idempotency key stores the fingerprint of the request
(``cockpit.idempotency.fingerprint``) and the response it was given, so a retry gets exactly
that response and the key sent with another request is a 409. Rows stored before this
revision have neither: they keep replaying as they did (nothing to compare them with).

Revision ID: credit_0003
Revises: credit_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "credit_0003"
down_revision = "credit_0002"
branch_labels = None
depends_on = None

_TABLES = ("credit_deployments", "credit_decisions")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("request_hash", sa.String(64), nullable=True))
        op.add_column(table, sa.Column("response", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in _TABLES:
        # In place on both backends (SQLite ≥ 3.35), as credit_0002: no table rebuild.
        with op.batch_alter_table(table, recreate="never") as batch:
            batch.drop_column("response")
            batch.drop_column("request_hash")
