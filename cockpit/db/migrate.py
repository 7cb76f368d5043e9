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

Every start checks that the schema is current, and most find it so. That check reads the
applied heads with one query and the scripts' heads from their ``revision`` and
``down_revision`` literals, without importing Alembic (~0.15 s of CPU in every server, worker
and CLI process); Alembic loads when there is something to migrate, or when a script does not
spell its revisions as literals.
"""

from __future__ import annotations

import ast
import importlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from cockpit.db.session import Database
from cockpit.locks import exclusive, file_lock

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "cockpit.migrations"
VERSION_TABLE = "alembic_version"
"""Where Alembic keeps the applied heads (its default, which ``env.py`` keeps)."""
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
    from alembic.config import Config

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
    locations = " ".join(version_locations())
    with db.engine.connect() as conn, migration_lock(conn, url=db.url):
        with conn.begin():
            # A current schema (every start but the first) is left without running Alembic:
            # reading every migration script again cost each start more than the check does.
            if _applied_heads(conn) != _script_heads(locations):
                from alembic import command

                cfg = alembic_config(db)
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
        yield


def _applied_heads(conn: Connection) -> set[str]:
    """The heads recorded in the database (none before the first migration)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return set()
    return {row[0] for row in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))}


@lru_cache(maxsize=8)
def _script_heads(version_locations: str) -> frozenset[str]:
    """The newest revision of every branch in these folders, read once per process (the
    migrations are code: they do not change under a running process).

    A head is a revision that no script names as its ``down_revision`` (``depends_on`` does
    not count, as in Alembic's ``get_heads``)."""
    links = _literal_links(version_locations)
    if links is None:
        from alembic.script import ScriptDirectory

        return frozenset(ScriptDirectory.from_config(_scripts(version_locations)).get_heads())
    revisions, parents = links
    return frozenset(revisions - parents)


def _literal_links(version_locations: str) -> tuple[set[str], set[str]] | None:
    """Every script's revision, and every revision some script names as its parent, read from
    the scripts' literals; None when a script does not spell them as literals."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for folder in version_locations.split(" "):
        for script in sorted(Path(folder).glob("*.py")):
            if script.name.startswith(("__init__", ".#")):
                continue  # the files Alembic itself skips
            values = _module_literals(script, ("revision", "down_revision"))
            revision, parent = values.get("revision"), values.get("down_revision", ...)
            if not isinstance(revision, str) or parent is ...:
                return None
            revisions.add(revision)
            named = (parent,) if isinstance(parent, str) else parent or ()
            if not isinstance(named, tuple | list) or not all(isinstance(p, str) for p in named):
                return None
            parents.update(named)
    return revisions, parents


def _module_literals(script: Path, names: tuple[str, ...]) -> dict[str, object]:
    """The literal values a module assigns at its top level to ``names`` (a name assigned
    anything other than a literal is left out)."""
    found: dict[str, object] = {}
    for node in ast.parse(script.read_text(encoding="utf-8"), filename=str(script)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            try:
                found[target.id] = ast.literal_eval(value)
            except (ValueError, TypeError):
                found.pop(target.id, None)
    return found


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
        return _applied_heads(conn)


def expected_heads(db: Database) -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(db)).get_heads())


def pending(db: Database) -> set[str]:
    """Revisions not yet applied (empty when the schema is current)."""
    from alembic.script import ScriptDirectory

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
