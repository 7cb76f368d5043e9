"""What the ``cockpit`` commands share, each made when a command first asks for it: the output
consoles, the settings, the host's migrated database and its audit log.

Every command module imports this at start-up, so it must never import more than the standard
library and :mod:`cockpit.exitcodes` at the top: rich, the settings, the database and the audit
package are imported inside the function that returns them.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from cockpit.exitcodes import CliFailure, ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from cockpit.audit import AuditLog
    from cockpit.config import Settings


@cache
def out() -> Console:
    """The console for a command's output (stdout)."""
    from rich.console import Console

    return Console()


@cache
def err() -> Console:
    """The console for notes and warnings (stderr); failures go through the error handler."""
    from rich.console import Console

    return Console(stderr=True)


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment, with ``overrides`` on top."""
    from cockpit.config import Settings

    return Settings(**overrides)


def host_db(settings: Settings) -> Any:
    """The host's database, migrated (host-side commands read it directly)."""
    from cockpit.db.migrate import upgrade
    from cockpit.db.session import Database

    settings.ensure_data_dir()
    db = Database(settings.resolved_database_url)
    upgrade(db)
    return db


def audit_log(settings: Settings, db: Any = None) -> AuditLog:
    """The host's audit log, keyed as the server keys it (``db`` or the host's database)."""
    from cockpit.audit import AuditKeyError, AuditLog, keyring_for

    try:
        keys = keyring_for(settings.resolved_database_url, settings)
    except AuditKeyError as exc:
        raise CliFailure(f"{exc.message} ({exc.code})", ExitCode.BAD_INPUT) from None
    return AuditLog(db or host_db(settings), keys=keys)


__all__ = ["audit_log", "err", "host_db", "load_settings", "out"]
