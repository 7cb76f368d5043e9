"""Commerce order events: the outbox of order events to agent platforms and its delivery log.

Revision ID: commerce_0005_events
Revises: commerce_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "commerce_0005_events"
down_revision = "commerce_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "com_order_events",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_order_events")),
    )
    op.create_index(
        "ix_com_order_events_due", "com_order_events", ["status", "next_attempt_at"], unique=False
    )
    for column in ("order_id", "platform_id", "tenant_id"):
        op.create_index(
            op.f(f"ix_com_order_events_{column}"), "com_order_events", [column], unique=False
        )
    op.create_table(
        "com_event_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("url", sa.String(length=600), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["com_order_events.id"],
            name=op.f("fk_com_event_deliveries_event_id_com_order_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_event_deliveries")),
    )
    for column in ("event_id", "tenant_id"):
        op.create_index(
            op.f(f"ix_com_event_deliveries_{column}"),
            "com_event_deliveries",
            [column],
            unique=False,
        )


def downgrade() -> None:
    for column in ("event_id", "tenant_id"):
        op.drop_index(op.f(f"ix_com_event_deliveries_{column}"), table_name="com_event_deliveries")
    op.drop_table("com_event_deliveries")
    op.drop_index("ix_com_order_events_due", table_name="com_order_events")
    for column in ("order_id", "platform_id", "tenant_id"):
        op.drop_index(op.f(f"ix_com_order_events_{column}"), table_name="com_order_events")
    op.drop_table("com_order_events")
