"""Credit tables: immutable strategy versions, deployments (live pointer + rollback), decisions.

Revision ID: credit_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "credit_0001"
down_revision = None
branch_labels = ("credit",)
depends_on = "core_0001"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "credit_strategy_versions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("scorecard_name", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("scorecard", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("tests_passed", sa.Boolean(), nullable=False),
        sa.Column("test_report", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "name", "version", name="uq_credit_strategy_versions_slot"
        ),
    )
    op.create_index(
        "ix_credit_strategy_versions_tenant_id", "credit_strategy_versions", ["tenant_id"]
    )
    op.create_index("ix_credit_strategy_versions_name", "credit_strategy_versions", ["name"])
    op.create_table(
        "credit_deployments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column(
            "champion_id",
            sa.String(40),
            sa.ForeignKey("credit_strategy_versions.id"),
            nullable=False,
        ),
        sa.Column(
            "challenger_id",
            sa.String(40),
            sa.ForeignKey("credit_strategy_versions.id"),
            nullable=True,
        ),
        sa.Column("challenger_share", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("rolled_back_at", TS, nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_credit_deployments_idem"),
    )
    op.create_index("ix_credit_deployments_tenant_id", "credit_deployments", ["tenant_id"])
    op.create_index("ix_credit_deployments_name", "credit_deployments", ["name"])
    op.create_table(
        "credit_decisions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("application_id", sa.String(128), nullable=True),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column(
            "version_id",
            sa.String(40),
            sa.ForeignKey("credit_strategy_versions.id"),
            nullable=False,
        ),
        sa.Column("deployment_id", sa.String(40), nullable=True),
        sa.Column("arm", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("limit_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("price_apr", sa.Float(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("pd", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("applicant", sa.JSON(), nullable=False),
        sa.Column("trace", sa.JSON(), nullable=False),
        sa.Column("shadow", sa.JSON(), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_credit_decisions_idem"),
    )
    op.create_index("ix_credit_decisions_tenant_id", "credit_decisions", ["tenant_id"])
    op.create_index("ix_credit_decisions_application_id", "credit_decisions", ["application_id"])


def downgrade() -> None:
    op.drop_table("credit_decisions")
    op.drop_table("credit_deployments")
    op.drop_table("credit_strategy_versions")
