"""Proactive monitors: findings (unique per condition and period) and the per-merchant schedule
of each monitor with its parameters.

Revision ID: payments_0004
Revises: payments_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "payments_0004"
down_revision = "payments_0003"
branch_labels = None
depends_on = None

FINDINGS = "pay_monitor_findings"
SCHEDULES = "pay_monitor_schedules"


def upgrade() -> None:
    op.create_table(
        FINDINGS,
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("monitor", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("deliveries", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_monitor_findings")),
        sa.UniqueConstraint("tenant_id", "dedup_key", name="uq_pay_monitor_findings_dedup"),
    )
    op.create_index(
        "ix_pay_monitor_findings_merchant_detected", FINDINGS, ["merchant_id", "detected_at"]
    )
    op.create_index(op.f("ix_pay_monitor_findings_tenant_id"), FINDINGS, ["tenant_id"])
    op.create_table(
        SCHEDULES,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("monitor", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("cron", sa.String(length=100), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=16), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("last_findings", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_monitor_schedules")),
        sa.UniqueConstraint(
            "tenant_id", "merchant_id", "monitor", name="uq_pay_monitor_schedules_job"
        ),
    )
    op.create_index("ix_pay_monitor_schedules_due", SCHEDULES, ["enabled", "next_run_at"])
    op.create_index(op.f("ix_pay_monitor_schedules_tenant_id"), SCHEDULES, ["tenant_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pay_monitor_schedules_tenant_id"), table_name=SCHEDULES)
    op.drop_index("ix_pay_monitor_schedules_due", table_name=SCHEDULES)
    op.drop_table(SCHEDULES)
    op.drop_index(op.f("ix_pay_monitor_findings_tenant_id"), table_name=FINDINGS)
    op.drop_index("ix_pay_monitor_findings_merchant_detected", table_name=FINDINGS)
    op.drop_table(FINDINGS)
