"""The commerce migrations create exactly the tables the models describe (both backends)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from cockpit.db.base import Base
from cockpit.db.migrate import current_heads, expected_heads
from tests.tools.commerce.conftest import AcpWorld


def test_every_commerce_table_matches_its_model(acp_world: AcpWorld) -> None:
    ours = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        if table.name.startswith(("com_", "pay_")):  # commerce tables refer to payments'
            table.to_metadata(ours)
    # platforms, catalogue/checkout/orders/idempotency, vault, AP2, order events
    assert {
        "com_platforms",
        "com_checkout_sessions",
        "com_orders",
        "com_vault_tokens",
        "com_order_events",
    } <= set(ours.tables)
    with acp_world.db.engine.connect() as conn:
        assert set(ours.tables) <= set(inspect(conn).get_table_names())
        diffs = compare_metadata(MigrationContext.configure(conn), ours)
    assert [d for d in diffs if "com_" in repr(d)] == []
    assert current_heads(acp_world.db) == expected_heads(acp_world.db)
