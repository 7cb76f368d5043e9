"""The crons table: its migration matches the model, downgrades cleanly, and is tenant-scoped."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import inspect, select

from cockpit.crons.models import CronRecord
from cockpit.db.base import Base
from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from cockpit.errors import InternalError

MIGRATION = Path(__file__).parents[3] / "cockpit/db/migrations/versions/core_0010_crons.py"


def _cron(cron_id: str) -> CronRecord:
    return CronRecord(
        cron_id=cron_id,
        assistant_id="spine",
        schedule="* * * * *",
        payload={},
        meta={},
        enabled=True,
        fires=0,
        owner_key_id="k",
        owner_role="admin",
    )


def test_the_migration_matches_the_model_and_rows_stay_in_their_tenant(backend_url: str) -> None:
    db = Database(backend_url)
    upgrade(db)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "crons" in str(d)] == []
    with db.tenant_session("t-a") as s:
        s.add(_cron("c-a"))
    with db.tenant_session("t-b") as s:
        assert list(s.scalars(select(CronRecord))) == []
    with db.tenant_session("t-a") as s:
        (row,) = s.scalars(select(CronRecord))
        assert (row.cron_id, row.tenant_id) == ("c-a", "t-a")
    with pytest.raises(InternalError), db.system_session() as s:
        s.scalars(select(CronRecord)).all()
    db.dispose()


def test_the_migration_downgrades_and_upgrades_again(backend_url: str) -> None:
    found = importlib.util.spec_from_file_location("core_0010_crons", MIGRATION)
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    db = Database(backend_url)
    for step in (module.upgrade, module.downgrade, module.upgrade):
        with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
            step()
        with db.engine.connect() as conn:
            tables = inspect(conn).get_table_names()
        assert ("crons" in tables) == (step is module.upgrade)
    db.dispose()
