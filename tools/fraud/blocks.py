"""Blocked entities (card, device, customer, IP) per tenant, with idempotent block / release.

Each write carries an idempotency key; the first result is stored under a
unique ``(tenant_id, idempotency_key)`` and a repeat returns it unchanged —
even if the entity's state has moved on since. Reusing a key for a
different action or entity is a :class:`~cockpit.errors.Conflict`.
"""

from __future__ import annotations

import threading
import time
import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow
from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound, ValidationFailed
from tools.fraud.schema import ENTITY_KINDS


class EntityBlock(TenantScoped, Base):
    __tablename__ = "fraud_entity_blocks"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "entity_kind", "entity_id", name="uq_fraud_entity_blocks_entity"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
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


def _as_dict(row: EntityBlock) -> dict[str, Any]:
    return {
        "kind": row.entity_kind,
        "entity_id": row.entity_id,
        "status": row.status,
        "reason": row.reason,
        "updated_by": row.updated_by,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


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
) -> dict[str, Any]:
    _check(kind, entity_id)
    if not idempotency_key:
        raise ValidationFailed("an idempotency key is required", code="idempotency_key_missing")
    with db.tenant_session(tenant_id) as s:
        prior = s.scalars(
            select(BlockAction).where(BlockAction.idempotency_key == idempotency_key)
        ).first()
        if prior is not None:
            if (prior.action, prior.entity_kind, prior.entity_id) != (action, kind, entity_id):
                raise Conflict(
                    "idempotency key was used for a different action", code="idempotency_key_reused"
                )
            return {**prior.result, "replayed": True}
        row = s.scalars(
            select(EntityBlock).where(
                EntityBlock.entity_kind == kind, EntityBlock.entity_id == entity_id
            )
        ).first()
        if action == "release" and (row is None or row.status != "blocked"):
            raise NotFound(
                f"{kind} {entity_id!r} is not blocked", code="entity_not_blocked", param="entity_id"
            )
        previous = row.status if row is not None else None
        now = utcnow()
        status = "blocked" if action == "block" else "released"
        if row is None:
            row = EntityBlock(
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
) -> dict[str, Any]:
    """Block an entity for this tenant (idempotent on ``idempotency_key``)."""
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
) -> dict[str, Any]:
    """Release a blocked entity (idempotent on ``idempotency_key``; NotFound if it is not blocked)."""
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
    )


class _BlockCache:
    """Each tenant's blocked set, re-read from the database at most every ``max_age_s``.

    Scoring checks blocks on every payment; one indexed read per second per
    tenant instead of one per payment keeps HTTP scoring fast. Writes through
    this process invalidate at once; a block made by another API worker is
    seen within ``max_age_s``.
    """

    def __init__(self) -> None:
        self._entries: weakref.WeakKeyDictionary[
            Database, dict[str, tuple[float, frozenset[tuple[str, str]]]]
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, db: Database, tenant_id: str, *, max_age_s: float) -> frozenset[tuple[str, str]]:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(db, {}).get(tenant_id)
        if entry is not None and now - entry[0] <= max_age_s:
            return entry[1]
        with db.tenant_session(tenant_id) as s:
            rows = s.execute(
                select(EntityBlock.entity_kind, EntityBlock.entity_id).where(
                    EntityBlock.status == "blocked"
                )
            ).all()
        value = frozenset((str(k), str(e)) for k, e in rows)
        with self._lock:
            self._entries.setdefault(db, {})[tenant_id] = (now, value)
        return value

    def invalidate(self, db: Database, tenant_id: str) -> None:
        with self._lock:
            self._entries.get(db, {}).pop(tenant_id, None)


_cache = _BlockCache()


def blocked_set(
    db: Database, tenant_id: str, keys: list[tuple[str, str]], *, max_age_s: float = 1.0
) -> set[tuple[str, str]]:
    """Which of ``keys`` (kind, id) are blocked for the tenant (``max_age_s=0`` reads fresh)."""
    if not keys:
        return set()
    return set(keys) & _cache.get(db, tenant_id, max_age_s=max_age_s)


def list_blocks(db: Database, tenant_id: str) -> list[dict[str, Any]]:
    with db.tenant_session(tenant_id) as s:
        rows = s.scalars(select(EntityBlock).order_by(EntityBlock.id)).all()
        return [_as_dict(r) for r in rows]


__all__ = [
    "BlockAction",
    "EntityBlock",
    "block_entity",
    "blocked_set",
    "list_blocks",
    "release_entity",
]
