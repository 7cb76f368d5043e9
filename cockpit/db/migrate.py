"""Schema migrations (Alembic), applied on start.

Each package that owns tables ships an Alembic ``migrations/versions``
folder and names it in the ``cockpit.migrations`` entry-point group (value:
the importable package that holds ``versions/``). Every package is its own
Alembic branch (``branch_labels``) that ``depends_on`` the core branch, so
``upgrade heads`` applies them all in a consistent order.

Every worker migrates on start, so N workers started together on a fresh database
would race to create the same tables. :func:`upgrade` therefore runs under one
lock per database: on PostgreSQL a session-level advisory lock
(:data:`MIGRATION_LOCK_KEY`) held by the very connection that runs the migration;
on SQLite an exclusive ``flock`` on a file beside the database (``<db>.migrate.lock``;
``BEGIN IMMEDIATE`` is no use here because the driver commits around DDL). The
first worker migrates; the others wait, then find the schema current and do nothing.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from cockpit.db.session import Database
from cockpit.locks import exclusive, file_lock

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "cockpit.migrations"
_HERE = Path(__file__).parent / "migrations"

MIGRATION_LOCK_KEY = 0x636B70746D696772
"""The PostgreSQL advisory lock key migrations hold (the bytes of "ckptmigr": positive int64)."""


def version_locations() -> list[str]:
    """The core ``versions`` folder plus one per registered package that exists."""
    locations = [str(_HERE / "versions")]
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.value == "cockpit.db.migrations":
            continue
        try:
            module = importlib.import_module(ep.value)
        except ModuleNotFoundError:
            log.debug("migrations package %s not present; skipped", ep.value)
            continue
        folder = Path(next(iter(module.__path__))) / "versions"
        if folder.is_dir():
            locations.append(str(folder))
    return locations


def alembic_config(db: Database) -> Config:
    cfg = _scripts(" ".join(version_locations()))
    cfg.attributes["database"] = db
    return cfg


def _scripts(version_locations: str) -> Config:
    """Alembic's configuration of our scripts: the environment and these version folders."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.set_main_option("version_locations", version_locations)
    cfg.set_main_option("path_separator", "space")
    return cfg


def upgrade(db: Database) -> None:
    """Bring the schema to the newest version of every branch, once however many workers try.

    The lock is taken before Alembic reads ``alembic_version``, so a worker that waited
    sees the heads the first one wrote and has nothing left to do."""
    with migrated(db):
        pass


@contextmanager
def migrated(db: Database) -> Iterator[None]:
    """:func:`upgrade`, then keep the migration lock for the block: first-start work that N
    workers starting together must do once (the bootstrap keys and tenants), not N times."""
    cfg = alembic_config(db)
    with db.engine.connect() as conn, migration_lock(conn, url=db.url):
        with conn.begin():
            current = set(MigrationContext.configure(conn).get_current_heads())
            # A current schema (every start but the first) is left without running Alembic:
            # reading every migration script again cost each start more than the check does.
            if current != _script_heads(cfg.get_main_option("version_locations") or ""):
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
        yield


@lru_cache(maxsize=8)
def _script_heads(version_locations: str) -> frozenset[str]:
    """The newest revision of every branch in these folders, read once per process (the
    migrations are code: they do not change under a running process)."""
    return frozenset(ScriptDirectory.from_config(_scripts(version_locations)).get_heads())


@contextmanager
def migration_lock(conn: Connection, *, url: str) -> Iterator[None]:
    """Hold the database's migration lock for the block (waits while another worker holds it)."""
    if conn.dialect.name == "postgresql":
        with _advisory_lock(conn):
            yield
        return
    lock_file = sqlite_lock_path(url) if conn.dialect.name == "sqlite" else None
    if lock_file is None:
        yield  # an in-memory SQLite database lives in one process: nobody to race
        return
    with file_lock(lock_file, acquire=_flock):
        yield


@contextmanager
def _advisory_lock(conn: Connection) -> Iterator[None]:
    """A session-level advisory lock on ``conn``: it outlives the migration's transaction and
    is released explicitly, or by PostgreSQL when the connection dies."""
    conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    conn.commit()
    try:
        yield
    finally:
        try:
            if conn.in_transaction():
                conn.rollback()
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()
        except Exception:
            # Closing the session is what frees the lock for the other workers.
            log.warning("could not release the migration lock; dropping the connection")
            conn.invalidate()


def sqlite_lock_path(url: str) -> Path | None:
    """The lock file beside a SQLite database file (None for an in-memory database)."""
    path = url.partition(":///")[2].partition("?")[0]
    if not path or path == ":memory:" or "mode=memory" in url:
        return None
    return Path(path).with_name(Path(path).name + ".migrate.lock")


def _flock(fd: int) -> None:
    """Block until this process holds the exclusive lock on ``fd``."""
    exclusive(fd)


def current_heads(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def expected_heads(db: Database) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(db)).get_heads())


def pending(db: Database) -> set[str]:
    """Revisions not yet applied (empty when the schema is current)."""
    script = ScriptDirectory.from_config(alembic_config(db))
    current = current_heads(db)
    applied = (
        {r.revision for r in script.iterate_revisions(tuple(current), "base") if r}
        if current
        else set()
    )
    every = {r.revision for r in script.walk_revisions()}
    return every - applied


__all__ = [
    "MIGRATION_LOCK_KEY",
    "current_heads",
    "expected_heads",
    "migrated",
    "migration_lock",
    "pending",
    "sqlite_lock_path",
    "upgrade",
    "version_locations",
]
