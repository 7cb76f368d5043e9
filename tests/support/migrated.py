"""SQLite databases already at the newest schema, for tests whose subject is not the migrations.

Running every migration costs most of a CPU-second per database; a copy of one file migrated
once per process costs a few milliseconds. The migrations themselves are tested on fresh
databases (``tests/cockpit/test_migrate_lock.py`` and each package's migration tests)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from cockpit.db.migrate import upgrade
from cockpit.db.session import Database

_MIGRATED: dict[str, Path] = {}


def migrated_sqlite_template() -> Path:
    """An empty SQLite database at the newest schema, migrated once per process.

    An app on a fresh data dir would run every migration on start; starting it on a copy of
    this file leaves it only the check that the schema is current, and the bootstrap (keys,
    tenants) it would do anyway."""
    if "db" not in _MIGRATED:
        root = Path(tempfile.mkdtemp(prefix="cockpit_migrated_"))
        atexit.register(shutil.rmtree, root, True)
        database = Database(f"sqlite:///{root / 'cockpit.db'}")
        upgrade(database)
        with database.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        database.dispose()
        _MIGRATED["db"] = root / "cockpit.db"
    return _MIGRATED["db"]


def migrated_sqlite_file(path: Path) -> str:
    """Copy the template to ``path`` (a new file); the copy's database URL."""
    shutil.copyfile(migrated_sqlite_template(), path)
    return f"sqlite:///{path}"


def migrated_sqlite(path: Path) -> Database:
    """A database at ``path`` (a new file) at the newest schema: a copy of the template."""
    return Database(migrated_sqlite_file(path))
