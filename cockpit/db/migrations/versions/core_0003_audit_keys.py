"""Keyed audit chain: each record stores its hash scheme version and the key id it was chained with.

Existing records were chained with bare SHA-256 and become version 1; they stay verifiable as a
prefix that the first keyed (version 2) record seals. Nothing is rehashed here: a migration has
no business holding the audit key.

Revision ID: core_0003
Revises: core_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0003"
down_revision = "core_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("kid", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("kid")
        batch.drop_column("version")
