"""Tenants and API keys. Keys are shown once, stored as SHA-256 of the secret.

A key reads ``ck_<key id>_<secret>``; the id finds the row, a constant-time
comparison of the hash checks the secret. Keys carry 192 bits of randomness,
so a fast hash is the right tool (there is nothing to brute-force).

A key never carries more rights than the rules allow, whoever mints it: only merchant and
shopper keys are bound to a merchant, and only to a merchant of the key's own tenant (the
core cannot import the payments domain, so the composition root passes ``merchant_exists``);
a key minted by a merchant-bound key is bound to that same merchant.

Authentication is answered from a short-lived :class:`~cockpit.tenancy.key_cache.KeyCache`
(no database read per request). A revoke evicts the key at once in the revoking process and,
on PostgreSQL, sends a ``NOTIFY`` in its own transaction that every worker following the
notifier (:meth:`KeyService.follow_revocations`) acts on when it commits; the cache's TTL bounds
what a lost notification (or a revoke by another process on SQLite) can cost.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import hmac
import re
import secrets
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.errors import AuthError, NotFound, PermissionDenied, UserError, ValidationFailed
from cockpit.tenancy.key_cache import DEFAULT_TTL_S, KeyCache
from cockpit.tenancy.models import ApiKey, Tenant
from cockpit.tenancy.principal import Principal, Role

_KEY = re.compile(r"^ck_([a-z0-9]{12})_([A-Za-z0-9_\-]{32})$")
_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{1,62}$")
BINDABLE: frozenset[Role] = frozenset({Role.MERCHANT, Role.SHOPPER})
"""Roles whose keys may be bound to a merchant: an admin or partner key is tenant-wide."""

MerchantExists = Callable[[str, str], bool]
"""``(tenant_id, merchant_id) -> bool``: does the tenant have this merchant?"""
KEY_CHANGED = "apikey:"
"""Notification key prefix: ``apikey:<key id>`` once a change to that key commits."""


_CACHES: weakref.WeakSet[KeyCache] = weakref.WeakSet()
"""Every key cache of this process: a revoke through any KeyService evicts from all of them."""


class KeyNotifications(Protocol):
    """What :meth:`KeyService.follow_revocations` needs of the runtime's notifier."""

    def subscribe(self, prefix: str, handler: Callable[[str], None]) -> None: ...


_KEY_READS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="key-reads")
"""Where a key the cache has not admitted is read. Two threads, not the shared pool of 40: a
flood of unknown keys (``benchmarks/api_overhead.py``, section bad_keys) then queues here instead
of filling the pool with threads that fight the event loop for the GIL (and, on SQLite, open
connections beyond the engine's pool). Beside 8 connections of unknown keys, ``/info`` p50/p99
went from 6.9/14 ms (read on the loop) or 1.2/88 ms (the shared pool) to 0.5/4.7 ms on SQLite,
and from 18/45 ms to 0.7/5.2 ms on PostgreSQL. The refusals themselves cost more server CPU
(1.3 against 0.8 ms each on SQLite, 2.2 against 1.6 on PostgreSQL): a bad key may wait."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _parse(presented: str) -> tuple[str, str]:
    """A presented key's id and the digest of its secret, or :class:`AuthError`."""
    m = _KEY.match(presented.strip())
    if not m:
        raise AuthError("API key is malformed", code="invalid_api_key")
    key_id, secret = m.groups()
    return key_id, _hash(secret)


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
    """Creates tenants and keys, authenticates callers (from a revocation-safe cache)."""

    def __init__(
        self,
        db: Database,
        *,
        merchant_exists: MerchantExists | None = None,
        cache_ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._db = db
        self.merchant_exists = merchant_exists
        """Checks a merchant binding against the target tenant; set by the composition root
        (None: no merchant domain is installed, e.g. the host-side CLI — bindings unchecked)."""
        self.cache = KeyCache(ttl_s=cache_ttl_s, clock=clock)
        """Keys this process has checked recently (``Settings.key_cache_ttl_s``)."""
        _CACHES.add(self.cache)

    def follow_revocations(self, notifier: KeyNotifications) -> None:
        """Forget a key as soon as any worker's change to it commits (the runtime's notifier)."""
        notifier.subscribe(KEY_CHANGED, lambda key: self.cache.evict(key[len(KEY_CHANGED) :]))

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
        issuer: Principal | None = None,
    ) -> IssuedKey:
        """A new key of ``tenant_id``; ``issuer`` is the key minting it (None: host-side).

        Refused: a merchant binding on an admin or partner key (422), a merchant the tenant does
        not have (404, as for any merchant it cannot see), and a key reaching beyond a
        merchant-bound issuer's merchant (403 ``key_exceeds_issuer``).
        """
        bound = None if issuer is None else (issuer.tenant_id, issuer.merchant_id)
        if bound is not None and bound[1] is not None and bound != (tenant_id, merchant_id):
            raise PermissionDenied(
                f"this key is bound to merchant {bound[1]!r}: it mints only keys bound to that "
                "merchant",
                code="key_exceeds_issuer",
            )
        if merchant_id is not None:
            if role not in BINDABLE:
                raise ValidationFailed(
                    f"a {role.value} key is tenant-wide: only merchant and shopper keys are "
                    "bound to a merchant",
                    code="merchant_binding_not_allowed",
                    param="merchant_id",
                )
            if self.merchant_exists is not None and not self.merchant_exists(
                tenant_id, merchant_id
            ):
                raise NotFound(
                    f"no merchant {merchant_id!r}", code="merchant_not_found", param="merchant_id"
                )
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
                self._announce(s, key_id)
        # After the commit, so a read from before it cannot refill a cache; every cache of this
        # process, since a second KeyService (a test's, an in-process CLI) may hold the key.
        for cache in list(_CACHES):
            cache.evict(key_id)

    def _announce(self, session: Session, key_id: str) -> None:
        """Tell every worker, when ``session`` commits, that ``key_id`` changed (PostgreSQL).

        Every change to a key row that can narrow what it admits (revoke today) calls this in
        its own transaction, then evicts locally. On SQLite there is no other worker to tell
        but another process (the CLI): the cache's TTL bounds that.
        """
        if self._db.dialect != "postgresql":
            return
        # Lazily: the runtime package is heavy, and a revoke is rare (the CLI need not load it).
        from cockpit.runtime.notify import notifier_for

        notifier_for(self._db.url).notify_in(session, KEY_CHANGED + key_id)

    def admitted(self, presented: str) -> Principal | None:
        """The principal a presented key was lately admitted as, from the cache alone (no
        database read); None when it has to be read. A malformed key raises :class:`AuthError`."""
        key_id, digest = _parse(presented)
        return self.cache.get(key_id, digest)

    async def principal_for(self, presented: str) -> Principal:
        """:meth:`authenticate` for code on the event loop: an admission the cache holds is
        answered at once; anything else is read from the database on :data:`_KEY_READS`, in the
        caller's context (its trace span, the clock). A stream of unknown or revoked keys must
        not stall every other request the loop serves."""
        principal = self.admitted(presented)
        if principal is not None:
            return principal
        read = functools.partial(contextvars.copy_context().run, self.authenticate, presented)
        return await asyncio.get_running_loop().run_in_executor(_KEY_READS, read)

    def authenticate(self, presented: str) -> Principal:
        """The principal for a presented key, or :class:`AuthError`.

        Only an admission is cached, under the digest of the secret that earned it: a malformed,
        unknown, wrong-secret or revoked key reads the database every time.
        """
        key_id, digest = _parse(presented)
        cached = self.cache.get(key_id, digest)
        if cached is not None:
            return cached
        generation = self.cache.generation()
        with self._db.system_session() as s:
            row = s.get(ApiKey, key_id)
            if row is None or not hmac.compare_digest(row.secret_hash, digest):
                raise AuthError("API key is not valid", code="invalid_api_key")
            if row.revoked_at is not None:
                raise AuthError("API key has been revoked", code="revoked_api_key")
            principal = Principal(row.tenant_id, Role(row.role), row.id, row.merchant_id)
        self.cache.put(key_id, digest, principal, generation=generation)
        return principal


__all__ = [
    "BINDABLE",
    "KEY_CHANGED",
    "IssuedKey",
    "KeyInfo",
    "KeyNotifications",
    "KeyService",
    "MerchantExists",
]
