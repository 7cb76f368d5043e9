"""AP2 mandates: merchant signing keys, the trust list, signed checkouts, the replay store and
open-mandate usage (budget / recurrence).

Revision ID: commerce_0004_ap2
Revises: commerce_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "commerce_0004_ap2"
down_revision = "commerce_0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant_id", sa.String(length=64), nullable=False)


_TABLES = (
    "com_ap2_merchant_keys",
    "com_ap2_trusted_keys",
    "com_ap2_checkouts",
    "com_ap2_presentations",
    "com_ap2_usage",
)
"""Every AP2 table (tenant-scoped), in creation order."""


def upgrade() -> None:
    op.create_table(
        "com_ap2_merchant_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("private_jwk", sa.JSON(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        _tenant(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_ap2_merchant_keys")),
        sa.UniqueConstraint("tenant_id", "merchant_id", name="uq_com_ap2_mkey"),
    )
    op.create_table(
        "com_ap2_trusted_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("jwk", sa.JSON(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        _tenant(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_ap2_trusted_keys")),
    )
    op.create_table(
        "com_ap2_checkouts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=True),
        sa.Column("checkout_hash", sa.String(length=128), nullable=False),
        sa.Column("checkout_jwt", sa.Text(), nullable=False),
        sa.Column("issued_at", _TS, nullable=False),
        _tenant(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_ap2_checkouts")),
        sa.UniqueConstraint("tenant_id", "checkout_hash", name="uq_com_ap2_chash"),
    )
    op.create_table(
        "com_ap2_presentations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("leaf_hash", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("checkout_hash", sa.String(length=128), nullable=False),
        sa.Column("open_mandate_hash", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=True),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        _tenant(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_ap2_presentations")),
        sa.UniqueConstraint("tenant_id", "leaf_hash", name="uq_com_ap2_leaf"),
    )
    op.create_table(
        "com_ap2_usage",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("mandate_hash", sa.String(length=128), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("last_used_at", _TS, nullable=True),
        _tenant(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_ap2_usage")),
        sa.UniqueConstraint("tenant_id", "mandate_hash", name="uq_com_ap2_usage"),
    )
    for table in _TABLES:
        op.create_index(op.f(f"ix_{table}_tenant_id"), table, ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_com_ap2_checkouts_session_id"), "com_ap2_checkouts", ["session_id"], unique=False
    )
    op.create_index(
        op.f("ix_com_ap2_presentations_session_id"),
        "com_ap2_presentations",
        ["session_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_com_ap2_presentations_session_id"), table_name="com_ap2_presentations")
    op.drop_index(op.f("ix_com_ap2_checkouts_session_id"), table_name="com_ap2_checkouts")
    for table in reversed(_TABLES):
        op.drop_index(op.f(f"ix_{table}_tenant_id"), table_name=table)
        op.drop_table(table)
