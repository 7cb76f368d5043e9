"""ACP merchant server: catalogue, feeds, checkout sessions, orders, idempotency records.

Revision ID: commerce_0002_acp
Revises: commerce_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "commerce_0002_acp"
down_revision = "commerce_0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def _tenant_index(table: str) -> None:
    op.create_index(op.f(f"ix_{table}_tenant_id"), table, ["tenant_id"], unique=False)


def _merchant_index(table: str) -> None:
    op.create_index(op.f(f"ix_{table}_merchant_id"), table, ["merchant_id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "com_products",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=128), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_products")),
        sa.UniqueConstraint(
            "tenant_id", "merchant_id", "product_id", name="uq_com_products_product"
        ),
    )
    _tenant_index("com_products")
    _merchant_index("com_products")
    op.create_table(
        "com_items",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=128), nullable=False),
        sa.Column("product_id", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("unit_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("max_per_order", sa.Integer(), nullable=True),
        sa.Column("fulfillment", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_items")),
        sa.UniqueConstraint("tenant_id", "merchant_id", "item_id", name="uq_com_items_item"),
    )
    _tenant_index("com_items")
    _merchant_index("com_items")
    op.create_table(
        "com_feeds",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("target_country", sa.String(length=2), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_feeds")),
    )
    _tenant_index("com_feeds")
    _merchant_index("com_feeds")
    op.create_table(
        "com_checkout_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_checkout_sessions")),
    )
    _tenant_index("com_checkout_sessions")
    _merchant_index("com_checkout_sessions")
    op.create_index(
        op.f("ix_com_checkout_sessions_key_id"), "com_checkout_sessions", ["key_id"], unique=False
    )
    op.create_table(
        "com_orders",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("checkout_session_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=True),
        sa.Column("handler_id", sa.String(length=128), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_orders")),
        sa.UniqueConstraint("tenant_id", "checkout_session_id", name="uq_com_orders_session"),
    )
    _tenant_index("com_orders")
    _merchant_index("com_orders")
    op.create_table(
        "com_idempotency",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("idem_key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("lease_until", _TS, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_idempotency")),
        sa.UniqueConstraint(
            "tenant_id", "key_id", "scope", "idem_key", name="uq_com_idempotency_key"
        ),
    )
    _tenant_index("com_idempotency")


def downgrade() -> None:
    for table in (
        "com_idempotency",
        "com_orders",
        "com_checkout_sessions",
        "com_feeds",
        "com_items",
        "com_products",
    ):
        op.drop_table(table)
