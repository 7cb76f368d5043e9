"""Blocked entities (card, device, customer, IP) per tenant, with idempotent block / release.

Each write carries an idempotency key; the first result is stored under a
unique ``(tenant_id, idempotency_key)`` and a repeat returns it unchanged —
even if the entity's state has moved on since. Reusing a key for a
different action, entity or merchant is a :class:`~cockpit.errors.Conflict`.

Ownership: a block records who set it (``merchant_id``; NULL = tenant-wide, set by a key bound
to no merchant). A merchant's block applies to that merchant's payments only — one merchant
must never deny service at another — and a tenant-wide block to every merchant's. Each scope
has its own row, so a merchant blocking an entity another merchant (or the tenant) blocked
neither reveals nor touches the other block. A bound key releases only its own merchant's
blocks: another merchant's is 404 ``entity_not_blocked``, exactly like an entity never blocked.
A tenant-wide block is 403 ``tenant_block`` instead of 404: a bound key's list shows it (it
declines that merchant's payments, so the merchant must be able to see why), and answering
"not blocked" about a block the same key can list would be false, not discreet.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Index,
    Integer,
    String,
    UniqueConstraint,
    or_,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow
from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from cockpit.toolkit.ids import check_id
from tools.fraud.schema import ENTITY_KINDS, Transaction, entity_keys

_TENANT_WIDE = text("merchant_id IS NULL")


class EntityBlock(TenantScoped, Base):
    __tablename__ = "fraud_entity_blocks"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "merchant_id",
            "entity_kind",
            "entity_id",
            name="uq_fraud_entity_blocks_scope",
        ),
        # NULLs are distinct in a unique constraint: tenant-wide rows need their own index.
        Index(
            "uq_fraud_entity_blocks_tenant_wide",
            "tenant_id",
            "entity_kind",
            "entity_id",
            unique=True,
            sqlite_where=_TENANT_WIDE,
            postgresql_where=_TENANT_WIDE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    merchant_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The merchant whose payments the block applies to; NULL = every merchant's."""
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    updated_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BlockAction(TenantScoped, Base):
    __tablename__ = "fraud_block_actions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_fraud_block_actions_idem"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    merchant_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The scope the action was for (see :attr:`EntityBlock.merchant_id`)."""
    action: Mapped[str] = mapped_column(String(16))
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(128))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def _check(kind: str, entity_id: str) -> None:
    if kind not in ENTITY_KINDS:
        raise ValidationFailed(
            f"entity kind must be one of {', '.join(ENTITY_KINDS)}",
            code="invalid_entity_kind",
            param="kind",
        )
    if not entity_id or len(entity_id) > 128:
        raise ValidationFailed(
            "entity_id must be 1-128 characters", code="invalid_value", param="entity_id"
        )
    # A payment id blocked "as a device" would block nothing real and look done: refuse it.
    check_id(entity_id, kind, param="entity_id")


def check_entity(kind: str, entity_id: str) -> None:
    """422 unless ``entity_id`` can be an id of ``kind`` (REST, tools and prechecks alike)."""
    _check(kind, entity_id)


def _as_dict(row: EntityBlock) -> dict[str, Any]:
    return {
        "kind": row.entity_kind,
        "entity_id": row.entity_id,
        "merchant_id": row.merchant_id,
        "status": row.status,
        "reason": row.reason,
        "updated_by": row.updated_by,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


def _scope(merchant_id: str | None) -> ColumnElement[bool]:
    """Rows of exactly this scope (one merchant's, or the tenant-wide ones)."""
    if merchant_id is None:
        return EntityBlock.merchant_id.is_(None)
    return EntityBlock.merchant_id == merchant_id


def _apply(
    db: Database,
    tenant_id: str,
    *,
    action: str,
    kind: str,
    entity_id: str,
    reason: str,
    actor: str,
    idempotency_key: str,
    merchant_id: str | None,
) -> dict[str, Any]:
    _check(kind, entity_id)
    if not idempotency_key:
        raise ValidationFailed("an idempotency key is required", code="idempotency_key_missing")
    with db.tenant_session(tenant_id) as s:
        prior = s.scalars(
            select(BlockAction).where(BlockAction.idempotency_key == idempotency_key)
        ).first()
        if prior is not None:
            done = (prior.action, prior.entity_kind, prior.entity_id, prior.merchant_id)
            if done != (action, kind, entity_id, merchant_id):
                raise Conflict(
                    "idempotency key was used for a different action", code="idempotency_key_reused"
                )
            return {**prior.result, "replayed": True}
        row = s.scalars(
            select(EntityBlock).where(
                EntityBlock.entity_kind == kind,
                EntityBlock.entity_id == entity_id,
                _scope(merchant_id),
            )
        ).first()
        if action == "release" and (row is None or row.status != "blocked"):
            if merchant_id is not None and _tenant_wide_block(s, kind, entity_id):
                raise PermissionDenied(
                    f"{kind} {entity_id!r} is blocked for the whole tenant; only a key "
                    "bound to no merchant can release it",
                    code="tenant_block",
                    param="entity_id",
                )
            raise NotFound(
                f"{kind} {entity_id!r} is not blocked", code="entity_not_blocked", param="entity_id"
            )
        previous = row.status if row is not None else None
        now = utcnow()
        status = "blocked" if action == "block" else "released"
        if row is None:
            row = EntityBlock(
                merchant_id=merchant_id,
                entity_kind=kind,
                entity_id=entity_id,
                status=status,
                reason=reason,
                updated_by=actor,
                created_at=now,
                updated_at=now,
            )
            s.add(row)
        else:
            row.status, row.reason, row.updated_by, row.updated_at = status, reason, actor, now
        s.flush()
        result = {**_as_dict(row), "previous_status": previous, "replayed": False}
        s.add(
            BlockAction(
                idempotency_key=idempotency_key,
                merchant_id=merchant_id,
                action=action,
                entity_kind=kind,
                entity_id=entity_id,
                result=result,
                created_at=now,
            )
        )
    # After the commit: a reader in between would otherwise cache the old state again.
    _cache.invalidate(db, tenant_id)
    return result


def _tenant_wide_block(s: Any, kind: str, entity_id: str) -> bool:
    found = s.scalars(
        select(EntityBlock.id).where(
            EntityBlock.entity_kind == kind,
            EntityBlock.entity_id == entity_id,
            EntityBlock.merchant_id.is_(None),
            EntityBlock.status == "blocked",
        )
    ).first()
    return found is not None


def _retrying(fn: Any, **kw: Any) -> dict[str, Any]:
    try:
        return dict(fn(**kw))
    except IntegrityError:
        # A concurrent call with the same key (or first block of the entity) won; replay it.
        return dict(fn(**kw))


def block_entity(
    db: Database,
    tenant_id: str,
    *,
    kind: str,
    entity_id: str,
    reason: str,
    actor: str,
    idempotency_key: str,
    merchant_id: str | None = None,
) -> dict[str, Any]:
    """Block an entity for ``merchant_id``'s payments, or every merchant's when it is None
    (the caller's merchant binding; idempotent on ``idempotency_key``)."""
    return _retrying(
        _apply,
        db=db,
        tenant_id=tenant_id,
        action="block",
        kind=kind,
        entity_id=entity_id,
        reason=reason,
        actor=actor,
        idempotency_key=idempotency_key,
        merchant_id=merchant_id,
    )


def release_entity(
    db: Database,
    tenant_id: str,
    *,
    kind: str,
    entity_id: str,
    reason: str,
    actor: str,
    idempotency_key: str,
    merchant_id: str | None = None,
) -> dict[str, Any]:
    """Release ``merchant_id``'s block (None: the tenant-wide one) of an entity.

    Idempotent on ``idempotency_key``. 404 ``entity_not_blocked`` when this scope has no block
    (another merchant's block is not revealed); 403 ``tenant_block`` when a bound key asks and
    only a tenant-wide block exists (see the module docstring).
    """
    return _retrying(
        _apply,
        db=db,
        tenant_id=tenant_id,
        action="release",
        kind=kind,
        entity_id=entity_id,
        reason=reason,
        actor=actor,
        idempotency_key=idempotency_key,
        merchant_id=merchant_id,
    )


@dataclass(frozen=True, slots=True)
class ActiveBlocks:
    """A snapshot of a tenant's blocks in force: each blocked (kind, id) and its scopes."""

    scopes: Mapping[tuple[str, str], frozenset[str | None]]
    """Per blocked entity, who blocked it: merchant ids, and None for a tenant-wide block."""

    def matching(
        self, keys: Iterable[tuple[str, str]], merchant_id: str | None
    ) -> frozenset[tuple[str, str]]:
        """Which of ``keys`` are blocked for a payment of ``merchant_id``: by the tenant, or
        by that merchant itself (``None``: tenant-wide blocks only)."""
        hit: list[tuple[str, str]] = []
        for key in keys:
            scopes = self.scopes.get(key)
            if scopes and (None in scopes or merchant_id in scopes):
                hit.append(key)
        return frozenset(hit)


class _BlockCache:
    """Each tenant's blocks in force, re-read from the database at most every ``max_age_s``.

    Scoring checks blocks on every payment; one indexed read per second per
    tenant instead of one per payment keeps HTTP scoring fast. Writes through
    this process invalidate at once; a block made by another API worker is
    seen within ``max_age_s``.
    """

    def __init__(self) -> None:
        self._entries: weakref.WeakKeyDictionary[
            Database, dict[str, tuple[float, ActiveBlocks]]
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, db: Database, tenant_id: str, *, max_age_s: float) -> ActiveBlocks:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(db, {}).get(tenant_id)
        if entry is not None and now - entry[0] <= max_age_s:
            return entry[1]
        with db.tenant_session(tenant_id) as s:
            rows = s.execute(
                select(
                    EntityBlock.entity_kind, EntityBlock.entity_id, EntityBlock.merchant_id
                ).where(EntityBlock.status == "blocked")
            ).all()
        scopes: dict[tuple[str, str], set[str | None]] = {}
        for kind, entity, merchant in rows:
            scopes.setdefault((str(kind), str(entity)), set()).add(merchant)
        value = ActiveBlocks(scopes={k: frozenset(v) for k, v in scopes.items()})
        with self._lock:
            self._entries.setdefault(db, {})[tenant_id] = (now, value)
        return value

    def invalidate(self, db: Database, tenant_id: str) -> None:
        with self._lock:
            self._entries.get(db, {}).pop(tenant_id, None)


_cache = _BlockCache()


def active_blocks(db: Database, tenant_id: str, *, max_age_s: float = 1.0) -> ActiveBlocks:
    """The tenant's blocks in force, for scoring (``max_age_s=0`` reads fresh)."""
    return _cache.get(db, tenant_id, max_age_s=max_age_s)


def blocked_set(
    db: Database,
    tenant_id: str,
    keys: list[tuple[str, str]],
    *,
    merchant_id: str | None = None,
    max_age_s: float = 1.0,
) -> set[tuple[str, str]]:
    """Which of ``keys`` (kind, id) are blocked for a payment of ``merchant_id`` (None:
    tenant-wide blocks only; ``max_age_s=0`` reads fresh)."""
    if not keys:
        return set()
    return set(active_blocks(db, tenant_id, max_age_s=max_age_s).matching(keys, merchant_id))


Blocked = ActiveBlocks | Collection[tuple[str, str]]
"""The blocks to apply: the tenant's :class:`ActiveBlocks` (each payment gets its merchant's and
the tenant-wide ones), or plain (kind, id) pairs blocked for every payment."""


def blocked_runs(
    txns: Sequence[Transaction], blocked: Blocked
) -> list[tuple[int, int, frozenset[tuple[str, str]]]]:
    """Split ``txns`` into consecutive runs ``[start, end)`` that can each be scored with one
    blocked set, keeping time order.

    The scorer declines a payment when any of its entities is in the set it is given. A run's
    set is the union of its payments' own blocked entities; a payment joins the run unless that
    union would decline a payment no block of its merchant covers (a card blocked by merchant A
    also used at B). So a batch is one run except where merchant blocks collide.
    """
    if not isinstance(blocked, ActiveBlocks):
        return [(0, len(txns), frozenset(blocked))] if txns else []
    runs: list[tuple[int, int, frozenset[tuple[str, str]]]] = []
    start, union, clean = 0, set[tuple[str, str]](), set[tuple[str, str]]()
    for i, t in enumerate(txns):
        keys = entity_keys(t)
        own = blocked.matching(keys, t.merchant_id)
        fits = not (own & clean) if own else union.isdisjoint(keys)
        if not fits:
            runs.append((start, i, frozenset(union)))
            start, union, clean = i, set(), set()
        if own:
            union |= own
        else:
            clean.update(keys)
    if len(txns) > start:
        runs.append((start, len(txns), frozenset(union)))
    return runs


def list_blocks(
    db: Database, tenant_id: str, *, merchant_id: str | None = None
) -> list[dict[str, Any]]:
    """The tenant's blocks (blocked and released); for a bound key (``merchant_id``) only its
    own merchant's and the tenant-wide ones."""
    query = select(EntityBlock).order_by(EntityBlock.id)
    if merchant_id is not None:
        query = query.where(
            or_(EntityBlock.merchant_id.is_(None), EntityBlock.merchant_id == merchant_id)
        )
    with db.tenant_session(tenant_id) as s:
        return [_as_dict(r) for r in s.scalars(query).all()]


__all__ = [
    "ActiveBlocks",
    "BlockAction",
    "Blocked",
    "EntityBlock",
    "active_blocks",
    "block_entity",
    "blocked_runs",
    "blocked_set",
    "check_entity",
    "list_blocks",
    "release_entity",
]
