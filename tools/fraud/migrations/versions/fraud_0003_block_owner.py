"""Blocks record who set them: nullable ``merchant_id`` on blocks and on block actions.

A merchant's block applies to its own payments only, a tenant-wide block (NULL) to every
merchant's; each scope has its own row, so the entity's unique constraint becomes one per
``(tenant_id, merchant_id, entity_kind, entity_id)`` plus a partial unique index for the
tenant-wide rows (NULLs are distinct in a unique constraint on both backends). Partial indexes
exist on SQLite and PostgreSQL alike.

Existing blocks are backfilled from the key that last changed them (``updated_by`` is the API
key id) when that key is bound to a merchant: that merchant set the block, and under the new
rule its block must not deny service at the others. Blocks by keys bound to no merchant stay
tenant-wide. Logged actions keep NULL: a retry across this upgrade of an action by a bound key
is refused as ``idempotency_key_reused`` rather than replayed across scopes.

Downgrade folds the scopes back into one row per entity (a blocked row wins, then the oldest).

Revision ID: fraud_0003
Revises: fraud_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "fraud_0003"
down_revision = "fraud_0002"
branch_labels = None
depends_on = None

_TENANT_WIDE = "uq_fraud_entity_blocks_tenant_wide"
_WHERE = sa.text("merchant_id IS NULL")

_BACKFILL = sa.text(
    "UPDATE fraud_entity_blocks SET merchant_id = ("
    " SELECT k.merchant_id FROM api_keys k"
    " WHERE k.id = fraud_entity_blocks.updated_by AND k.tenant_id = fraud_entity_blocks.tenant_id"
    ") WHERE merchant_id IS NULL"
)

_FOLD = sa.text(
    "DELETE FROM fraud_entity_blocks WHERE EXISTS ("
    " SELECT 1 FROM fraud_entity_blocks o"
    " WHERE o.tenant_id = fraud_entity_blocks.tenant_id"
    " AND o.entity_kind = fraud_entity_blocks.entity_kind"
    " AND o.entity_id = fraud_entity_blocks.entity_id"
    " AND o.id <> fraud_entity_blocks.id"
    " AND ((o.status = 'blocked' AND fraud_entity_blocks.status <> 'blocked')"
    " OR (o.status = fraud_entity_blocks.status AND o.id < fraud_entity_blocks.id)))"
)


def upgrade() -> None:
    with op.batch_alter_table("fraud_entity_blocks") as batch:
        batch.add_column(sa.Column("merchant_id", sa.String(64), nullable=True))
        batch.drop_constraint("uq_fraud_entity_blocks_entity", type_="unique")
        batch.create_unique_constraint(
            "uq_fraud_entity_blocks_scope",
            ["tenant_id", "merchant_id", "entity_kind", "entity_id"],
        )
    op.create_index(
        _TENANT_WIDE,
        "fraud_entity_blocks",
        ["tenant_id", "entity_kind", "entity_id"],
        unique=True,
        sqlite_where=_WHERE,
        postgresql_where=_WHERE,
    )
    with op.batch_alter_table("fraud_block_actions") as batch:
        batch.add_column(sa.Column("merchant_id", sa.String(64), nullable=True))
    op.execute(_BACKFILL)


def downgrade() -> None:
    op.execute(_FOLD)
    op.drop_index(_TENANT_WIDE, table_name="fraud_entity_blocks")
    with op.batch_alter_table("fraud_block_actions") as batch:
        batch.drop_column("merchant_id")
    with op.batch_alter_table("fraud_entity_blocks") as batch:
        batch.drop_constraint("uq_fraud_entity_blocks_scope", type_="unique")
        batch.drop_column("merchant_id")
        batch.create_unique_constraint(
            "uq_fraud_entity_blocks_entity", ["tenant_id", "entity_kind", "entity_id"]
        )
