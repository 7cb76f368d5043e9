"""The merchant a credit decision is for: nullable ``credit_decisions.merchant_id``.

A decision made for a merchant (built from its payments, or asked by a key bound to it) records
the merchant, and a merchant-bound key reads only its own merchant's decisions. Decisions an
admin or partner made without naming a merchant stay ``NULL`` (tenant-level). Existing rows are
backfilled from the key that made them (``created_by`` is the API key id) when that key is bound
to a merchant; nothing else can be recovered, so the others stay ``NULL``.

Revision ID: credit_0002
Revises: credit_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "credit_0002"
down_revision = "credit_0001"
branch_labels = None
depends_on = None

_INDEX = "ix_credit_decisions_merchant_id"

_BACKFILL = sa.text(
    "UPDATE credit_decisions SET merchant_id = ("
    " SELECT k.merchant_id FROM api_keys k"
    " WHERE k.id = credit_decisions.created_by AND k.tenant_id = credit_decisions.tenant_id"
    ") WHERE merchant_id IS NULL"
)


def upgrade() -> None:
    op.add_column("credit_decisions", sa.Column("merchant_id", sa.String(64), nullable=True))
    op.create_index(_INDEX, "credit_decisions", ["merchant_id"])
    op.execute(_BACKFILL)


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="credit_decisions")
    # ALTER TABLE … DROP COLUMN in place on both backends (SQLite ≥ 3.35): a rebuild is not
    # needed and would have to copy the foreign key to credit_strategy_versions.
    with op.batch_alter_table("credit_decisions", recreate="never") as batch:
        batch.drop_column("merchant_id")
