"""A partial index on a card's failed payments at a merchant, for the scheme retry caps.

Every new card payment counts the card's recent declines at its merchant before it asks
the issuer. With only ``(merchant_id, created_at)`` and ``(card_id, created_at)`` to choose
from, SQLite searched the merchant's index: each payment read all of the merchant's
payments of the last 30 days, so paying slowed down as the merchant's volume grew. This
index holds failed payments only, so successful payments do not write it.

Revision ID: payments_0005
Revises: payments_0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "payments_0005"
down_revision = "payments_0004"
branch_labels = None
depends_on = None

NAME = "ix_pay_payments_card_declines"
FAILED = sa.text("state = 'FAILED'")


def upgrade() -> None:
    op.create_index(
        NAME,
        "pay_payments",
        ["card_id", "merchant_id", "created_at"],
        unique=False,
        sqlite_where=FAILED,
        postgresql_where=FAILED,
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="pay_payments")
