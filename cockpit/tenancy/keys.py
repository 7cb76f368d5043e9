"""Tenants and API keys. Keys are shown once, stored as SHA-256 of the secret.

A key reads ``ck_<key id>_<secret>``; the id finds the row, a constant-time
comparison of the hash checks the secret. Keys carry 192 bits of randomness,
so a fast hash is the right tool (there is nothing to brute-force).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.errors import AuthError, NotFound, UserError
from cockpit.tenancy.models import ApiKey, Tenant
from cockpit.tenancy.principal import Principal, Role

_KEY = re.compile(r"^ck_([a-z0-9]{12})_([A-Za-z0-9_\-]{32})$")
_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{1,62}$")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A newly created key: ``secret`` is the only time the full key is available."""

    id: str
    tenant_id: str
    role: Role
    name: str
    secret: str


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: str
    tenant_id: str
    role: Role
    name: str
    merchant_id: str | None
    created_at: datetime
    revoked: bool


class KeyService:
    """Creates tenants and keys, authenticates callers.

    No cache: a revocation must bite on every worker at once, and the lookup is
    one primary-key read.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    # tenants -----------------------------------------------------------------
    def ensure_tenant(self, tenant_id: str, *, name: str | None = None, demo: bool = False) -> None:
        if not _TENANT_ID.match(tenant_id):
            raise UserError(
                "tenant id must be 2–63 characters of a–z, 0–9, '-' or '_'",
                code="invalid_tenant_id",
                param="tenant_id",
            )
        with self._db.system_session() as s:
            if s.get(Tenant, tenant_id) is None:
                s.add(Tenant(id=tenant_id, name=name or tenant_id, is_demo=demo))

    def tenant_exists(self, tenant_id: str) -> bool:
        with self._db.system_session() as s:
            return s.get(Tenant, tenant_id) is not None

    def tenant_settings(self, tenant_id: str) -> dict[str, object]:
        with self._db.system_session() as s:
            t = s.get(Tenant, tenant_id)
            if t is None:
                raise NotFound(
                    f"no tenant {tenant_id!r}", code="tenant_not_found", param="tenant_id"
                )
            return {
                "tenant_id": t.id,
                "name": t.name,
                "demo": t.is_demo,
                "tool_allowlist": t.tool_allowlist,
            }

    def set_tool_allowlist(self, tenant_id: str, allowlist: list[str] | None) -> None:
        with self._db.system_session() as s:
            t = s.get(Tenant, tenant_id)
            if t is None:
                raise NotFound(
                    f"no tenant {tenant_id!r}", code="tenant_not_found", param="tenant_id"
                )
            t.tool_allowlist = sorted(set(allowlist)) if allowlist is not None else None

    def list_tenants(self) -> list[str]:
        with self._db.system_session() as s:
            return list(s.scalars(select(Tenant.id).order_by(Tenant.id)))

    # keys --------------------------------------------------------------------
    def create_key(
        self,
        tenant_id: str,
        role: Role,
        *,
        name: str = "",
        merchant_id: str | None = None,
    ) -> IssuedKey:
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)[:32].ljust(32, "x")
        with self._db.system_session() as s:
            if s.get(Tenant, tenant_id) is None:
                raise NotFound(
                    f"no tenant {tenant_id!r}", code="tenant_not_found", param="tenant_id"
                )
            s.add(
                ApiKey(
                    id=key_id,
                    tenant_id=tenant_id,
                    role=role.value,
                    name=name,
                    secret_hash=_hash(secret),
                    merchant_id=merchant_id,
                )
            )
        return IssuedKey(key_id, tenant_id, role, name, f"ck_{key_id}_{secret}")

    def list_keys(self, tenant_id: str | None = None) -> list[KeyInfo]:
        """Keys of one tenant (or all, for the host-side CLI)."""
        with self._db.system_session() as s:
            q = select(ApiKey).order_by(ApiKey.created_at)
            if tenant_id is not None:
                q = q.where(ApiKey.tenant_id == tenant_id)
            return [
                KeyInfo(
                    k.id,
                    k.tenant_id,
                    Role(k.role),
                    k.name,
                    k.merchant_id,
                    k.created_at,
                    k.revoked_at is not None,
                )
                for k in s.scalars(q)
            ]

    def revoke(self, key_id: str, *, tenant_id: str | None = None) -> None:
        with self._db.system_session() as s:
            row = s.get(ApiKey, key_id)
            if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
                raise NotFound(f"no API key {key_id!r}", code="key_not_found", param="key_id")
            if row.revoked_at is None:
                row.revoked_at = utcnow()

    def authenticate(self, presented: str) -> Principal:
        """The principal for a presented key, or :class:`AuthError`."""
        m = _KEY.match(presented.strip())
        if not m:
            raise AuthError("API key is malformed", code="invalid_api_key")
        key_id, secret = m.groups()
        digest = _hash(secret)
        with self._db.system_session() as s:
            row = s.get(ApiKey, key_id)
            if row is None or not hmac.compare_digest(row.secret_hash, digest):
                raise AuthError("API key is not valid", code="invalid_api_key")
            if row.revoked_at is not None:
                raise AuthError("API key has been revoked", code="revoked_api_key")
            return Principal(row.tenant_id, Role(row.role), row.id, row.merchant_id)


__all__ = ["IssuedKey", "KeyInfo", "KeyService"]
