"""Payment notes: the merchant's ``description`` (≤ 500 chars) and ``metadata`` (≤ 20 string
key/value pairs) on ``pay_payments``. Both are nullable, so existing rows need no backfill.

Revision ID: payments_0002
Revises: payments_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "payments_0002"
down_revision = "payments_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("pay_payments", sa.Column("description", sa.String(length=500), nullable=True))
    op.add_column("pay_payments", sa.Column("metadata", sa.JSON(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN in place on both backends (SQLite ≥ 3.35): rebuilding the table
    # would trip the foreign keys that captures, refunds and disputes hold on it.
    with op.batch_alter_table("pay_payments", recreate="never") as batch:
        batch.drop_column("metadata")
        batch.drop_column("description")
