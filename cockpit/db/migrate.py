"""Schema migrations (Alembic), applied on start.

Each package that owns tables ships an Alembic ``migrations/versions``
folder and names it in the ``cockpit.migrations`` entry-point group (value:
the importable package that holds ``versions/``). Every package is its own
Alembic branch (``branch_labels``) that ``depends_on`` the core branch, so
``upgrade heads`` applies them all in a consistent order.
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from cockpit.db.session import Database

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "cockpit.migrations"
_HERE = Path(__file__).parent / "migrations"


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
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.set_main_option("version_locations", " ".join(version_locations()))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["database"] = db
    return cfg


def upgrade(db: Database) -> None:
    """Bring the schema to the newest version of every branch."""
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


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


__all__ = ["current_heads", "expected_heads", "pending", "upgrade", "version_locations"]
