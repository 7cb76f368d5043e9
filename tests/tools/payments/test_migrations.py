"""The payments migration creates exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from cockpit.db.base import Base
from cockpit.db.session import Database
from tools.payments.monitors import models as monitor_models


def test_migration_matches_models(db: Database) -> None:
    ours = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        if table.name.startswith("pay_"):
            table.to_metadata(ours)
    assert len(ours.tables) == 20, monitor_models.__name__  # 18 + findings and schedules
    with db.engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        assert set(ours.tables) <= names
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = [d for d in compare_metadata(ctx, ours) if "pay_" in repr(d)]
    assert diffs == []


def test_revision_identity() -> None:
    from importlib import import_module

    mod = import_module("tools.payments.migrations.versions.payments_0001")
    assert mod.revision == "payments_0001"
    assert mod.down_revision is None
    assert mod.branch_labels == ("payments",)
    assert mod.depends_on == "core_0001"
