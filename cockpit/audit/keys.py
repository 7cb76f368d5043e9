"""The audit chain's HMAC keys: parsing, the generated default key file, rotation order.

A keyring lists ``kid:secret`` entries newest first: new records are chained with the newest
key, and each record names the ``kid`` it was chained with, so older keys stay listed for as long
as their records must verify. Keys live outside the database on purpose: someone who can rewrite
the database must not also be able to recompute the chain. This module never logs or returns a
secret in an error message.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from cockpit.config import Settings
from cockpit.errors import UserError

KEY_FILE_NAME = "audit.key"
MIN_SECRET_CHARS = 16
_KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class AuditKeyError(UserError):
    """The audit keys are misconfigured (bad ``COCKPIT_AUDIT_KEYS`` or key file)."""

    default_code = "invalid_audit_keys"


@dataclass(frozen=True, slots=True, repr=False)
class AuditKey:
    kid: str
    """Key id stored on every record chained with this key."""
    secret: bytes
    """HMAC-SHA256 key material."""

    def __repr__(self) -> str:
        return f"AuditKey(kid={self.kid!r})"


@dataclass(frozen=True, slots=True)
class AuditKeyring:
    """Keys newest first; the first one chains new records and signs exported heads."""

    keys: tuple[AuditKey, ...]
    """Every key a record may name; never empty."""

    def __post_init__(self) -> None:
        if not self.keys:
            raise AuditKeyError("the audit keyring is empty")
        kids = [k.kid for k in self.keys]
        if len(set(kids)) != len(kids):
            raise AuditKeyError("an audit key id is listed twice")

    @property
    def newest(self) -> AuditKey:
        return self.keys[0]

    def get(self, kid: str | None) -> AuditKey | None:
        """The key with this id, or ``None`` when the keyring does not hold it."""
        return next((k for k in self.keys if k.kid == kid), None)

    @classmethod
    def parse(cls, text: str, *, source: str = "COCKPIT_AUDIT_KEYS") -> AuditKeyring:
        """Parse a JSON list, or a comma/newline list, of ``kid:secret`` entries, newest first."""
        stripped = text.strip()
        if stripped.startswith("["):
            try:
                items = json.loads(stripped)
            except json.JSONDecodeError:
                raise AuditKeyError(f"{source} is not a JSON list") from None
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise AuditKeyError(f"{source} must be a list of 'kid:secret' strings")
            entries: list[str] = items
        else:
            lines = (ln for ln in stripped.splitlines() if not ln.lstrip().startswith("#"))
            entries = [e for ln in lines for e in ln.split(",")]
        keys: list[AuditKey] = []
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            kid, sep, secret = entry.partition(":")
            if not sep or not _KID.match(kid):
                raise AuditKeyError(
                    f"{source}: each entry is 'kid:secret' with a kid of letters, digits, '.-_'"
                )
            if len(secret) < MIN_SECRET_CHARS:
                raise AuditKeyError(
                    f"{source}: the secret of key {kid!r} is shorter than {MIN_SECRET_CHARS}"
                )
            keys.append(AuditKey(kid, secret.encode()))
        if not keys:
            raise AuditKeyError(f"{source} holds no keys")
        return cls(tuple(keys))


def new_key_entry() -> str:
    """A fresh ``kid:secret`` line (a random kid, 256 bits of secret)."""
    return f"k-{secrets.token_hex(4)}:{secrets.token_urlsafe(32)}"


def key_file(settings: Settings, database_url: str) -> Path:
    """Where the generated key lives: ``<data dir>/audit.key``.

    A SQLite database file's own folder stands in for the data dir, so every process that opens
    that file (server, CLI, a test opening the file directly) finds the same key.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).expanduser().resolve().parent / KEY_FILE_NAME
    return settings.data_dir / KEY_FILE_NAME


def load_or_create_key_file(path: Path) -> AuditKeyring:
    """Read the key file, creating it (mode 0600) with one generated key when it is missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(new_key_entry() + "\n")
        try:
            os.link(tmp, path)  # atomic and complete: a racing process reads the winner's key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    for _ in range(50):
        text = path.read_text()
        if text.strip():
            return AuditKeyring.parse(text, source=str(path))
        time.sleep(0.01)
    raise AuditKeyError(f"{path} is empty")


_configured: dict[str, AuditKeyring] = {}
"""Keyrings the composition root resolved from its own settings, by database URL: every audit
append and verification on that database in this process uses the same keys, whoever opens it."""


def _url_key(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url).render_as_string(hide_password=False)


def keyring_for(database_url: str, settings: Settings | None = None) -> AuditKeyring:
    """The keyring for a database: ``COCKPIT_AUDIT_KEYS`` when set, else the generated key file.

    With ``settings`` (the composition root) the result is remembered for the database, so a
    later call without settings — a domain service's own log, an append inside a transaction —
    chains with the same keys instead of reading the environment's defaults.
    """
    url = _url_key(database_url)
    if settings is None and url in _configured:
        return _configured[url]
    given = settings
    settings = settings or Settings()
    if settings.audit_keys is not None:
        ring = AuditKeyring.parse(settings.audit_keys.get_secret_value())
    else:
        ring = load_or_create_key_file(key_file(settings, database_url))
    if given is not None:
        _configured[url] = ring
    return ring


def rotate_key_file(path: Path) -> str:
    """Put a new key first in the key file (older keys stay for verification); returns its kid."""
    current = load_or_create_key_file(path)
    entry = new_key_entry()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(entry + "\n")
        for key in current.keys:
            fh.write(f"{key.kid}:{key.secret.decode()}\n")
    os.replace(tmp, path)
    return entry.partition(":")[0]


__all__ = [
    "AuditKey",
    "AuditKeyError",
    "AuditKeyring",
    "key_file",
    "keyring_for",
    "load_or_create_key_file",
    "new_key_entry",
    "rotate_key_file",
]
