"""Scored transactions: every fraud scoring result, once per ``(tenant_id, txn_id)``.

The row is what ``explain_score`` reads (so explanations survive a restart) and what makes
scoring idempotent: a transaction id already in the table is not scored again, and the
``fingerprint`` of its inputs tells a retry (same inputs) from a conflict (different inputs).
No separate ``tenant_id`` index: the unique ``(tenant_id, txn_id)`` index serves every
tenant-scoped read, and one index fewer is one B-tree fewer to update per scored payment.
Nothing to backfill: scores lived in process memory before this revision.

Revision ID: fraud_0002
Revises: fraud_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "fraud_0002"
down_revision = "fraud_0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fraud_scores",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("txn_id", sa.String(128), nullable=False),
        sa.Column("merchant_id", sa.String(128), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason_codes", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "txn_id", name="uq_fraud_scores_txn"),
    )


def downgrade() -> None:
    op.drop_table("fraud_scores")
