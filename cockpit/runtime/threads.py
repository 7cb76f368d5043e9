"""Threads: tenant-scoped records plus their state in the checkpointer."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import StateSnapshot
from sqlalchemy import Select, select, update

from cockpit.db.base import iso, utcnow
from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound, ValidationFailed
from cockpit.runtime.records import RunRecord, ThreadRecord
from cockpit.runtime.serialize import to_json
from cockpit.tenancy.principal import Principal

THREAD_STATUSES = ("idle", "busy", "interrupted", "error")


def checkpoint_key(tenant_id: str, thread_id: str) -> str:
    """The checkpointer's thread id: tenants never share a key, even for the same thread id."""
    return f"{tenant_id}:{thread_id}"


def _check_thread_id(thread_id: str) -> str:
    try:
        return str(uuid.UUID(thread_id))
    except (ValueError, AttributeError, TypeError):
        raise ValidationFailed(
            "thread_id must be a UUID", code="invalid_thread_id", param="thread_id"
        ) from None


def snapshot_json(snap: StateSnapshot) -> dict[str, Any]:
    conf = snap.config.get("configurable", {}) if snap.config else {}
    parent = snap.parent_config.get("configurable", {}) if snap.parent_config else None
    tasks = []
    for t in snap.tasks:
        tasks.append(
            {
                "id": t.id,
                "name": t.name,
                "error": str(t.error) if t.error else None,
                "interrupts": to_json(list(t.interrupts)),
                "checkpoint": None,
                "state": None,
                "result": to_json(t.result) if t.result is not None else None,
            }
        )
    return {
        "values": to_json(snap.values),
        "next": list(snap.next),
        "checkpoint": {
            "thread_id": conf.get("public_thread_id", _public(conf.get("thread_id", ""))),
            "checkpoint_ns": conf.get("checkpoint_ns", ""),
            "checkpoint_id": conf.get("checkpoint_id"),
            "checkpoint_map": None,
        },
        "metadata": to_json(_clean_meta(snap.metadata or {})),
        "created_at": snap.created_at,
        "parent_checkpoint": None
        if parent is None
        else {
            "thread_id": _public(parent.get("thread_id", "")),
            "checkpoint_ns": parent.get("checkpoint_ns", ""),
            "checkpoint_id": parent.get("checkpoint_id"),
            "checkpoint_map": None,
        },
        "tasks": tasks,
        "interrupts": to_json(list(snap.interrupts)),
    }


_Q = TypeVar("_Q", bound=Select[Any])


def _visible(q: _Q, viewer: Principal | None) -> _Q:
    """Confine a thread query to what ``viewer`` may see: a merchant-bound key sees only its
    merchant's threads (others are 404, as if they did not exist)."""
    if viewer is not None and viewer.merchant_id is not None:
        return q.where(ThreadRecord.merchant_id == viewer.merchant_id)
    return q


def _public(key: str) -> str:
    return key.split(":", 1)[1] if ":" in key else key


def _clean_meta(meta: Any) -> dict[str, Any]:
    # Checkpoint metadata may echo configurable values; only the public ones go out.
    return {k: v for k, v in dict(meta).items() if k in {"source", "step", "parents", "run_id"}}


class ThreadStore:
    def __init__(self, db: Database, reader: CompiledStateGraph[Any]) -> None:
        self._db = db
        self._reader = reader

    def config(self, tenant_id: str, thread_id: str) -> RunnableConfig:
        return {
            "configurable": {
                "thread_id": checkpoint_key(tenant_id, thread_id),
                "public_thread_id": thread_id,
                "tenant_id": tenant_id,
            }
        }

    def create(
        self,
        tenant_id: str,
        *,
        thread_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        if_exists: str = "raise",
        owner: Principal | None = None,
    ) -> ThreadRecord:
        tid = _check_thread_id(thread_id) if thread_id else str(uuid.uuid4())
        if if_exists not in ("raise", "do_nothing"):
            raise ValidationFailed(
                "if_exists must be 'raise' or 'do_nothing'", code="invalid_value", param="if_exists"
            )
        with self._db.tenant_session(tenant_id) as s:
            existing = s.scalars(
                select(ThreadRecord).where(ThreadRecord.thread_id == tid)
            ).one_or_none()
            if existing is not None:
                if if_exists == "do_nothing" and (
                    owner is None
                    or owner.merchant_id is None
                    or existing.merchant_id == owner.merchant_id
                ):
                    return existing
                raise Conflict(
                    f"thread {tid} already exists", code="thread_exists", param="thread_id"
                )
            rec = ThreadRecord(
                thread_id=tid,
                meta=metadata or {},
                status="idle",
                merchant_id=owner.merchant_id if owner is not None else None,
            )
            s.add(rec)
        return rec

    def get_record(
        self, tenant_id: str, thread_id: str, viewer: Principal | None = None
    ) -> ThreadRecord:
        with self._db.tenant_session(tenant_id) as s:
            rec = s.scalars(
                _visible(select(ThreadRecord).where(ThreadRecord.thread_id == thread_id), viewer)
            ).one_or_none()
        if rec is None:
            raise NotFound(f"no thread {thread_id}", code="thread_not_found", param="thread_id")
        return rec

    async def state(
        self, tenant_id: str, thread_id: str, viewer: Principal | None = None
    ) -> StateSnapshot:
        self.get_record(tenant_id, thread_id, viewer)
        return await self._reader.aget_state(self.config(tenant_id, thread_id))

    async def history(
        self, tenant_id: str, thread_id: str, *, limit: int, viewer: Principal | None = None
    ) -> list[dict[str, Any]]:
        self.get_record(tenant_id, thread_id, viewer)
        out = []
        async for snap in self._reader.aget_state_history(
            self.config(tenant_id, thread_id), limit=limit
        ):
            out.append(snapshot_json(snap))
        return out

    async def to_json(
        self, tenant_id: str, rec: ThreadRecord, *, with_values: bool = True
    ) -> dict[str, Any]:
        values: Any = {}
        interrupts: dict[str, Any] = {}
        if with_values:
            snap = await self._reader.aget_state(self.config(tenant_id, rec.thread_id))
            values = to_json(snap.values)
            for t in snap.tasks:
                if t.interrupts:
                    interrupts[t.id] = to_json(list(t.interrupts))
        return {
            "thread_id": rec.thread_id,
            "created_at": iso(rec.created_at),
            "updated_at": iso(rec.updated_at),
            "metadata": rec.meta,
            "status": rec.status,
            "values": values,
            "interrupts": interrupts,
        }

    def search(
        self,
        tenant_id: str,
        *,
        metadata: dict[str, Any] | None,
        status: str | None,
        limit: int,
        offset: int,
        viewer: Principal | None = None,
    ) -> list[ThreadRecord]:
        if status is not None and status not in THREAD_STATUSES:
            raise ValidationFailed(
                f"status must be one of {THREAD_STATUSES}", code="invalid_value", param="status"
            )
        with self._db.tenant_session(tenant_id) as s:
            q = _visible(select(ThreadRecord), viewer)
            if status:
                q = q.where(ThreadRecord.status == status)
            rows = list(
                s.scalars(q.order_by(ThreadRecord.created_at.desc(), ThreadRecord.id.desc()))
            )
        if metadata:
            rows = [r for r in rows if all(r.meta.get(k) == v for k, v in metadata.items())]
        return rows[offset : offset + limit]

    def patch(
        self,
        tenant_id: str,
        thread_id: str,
        metadata: dict[str, Any],
        viewer: Principal | None = None,
    ) -> ThreadRecord:
        with self._db.tenant_session(tenant_id) as s:
            rec = s.scalars(
                _visible(select(ThreadRecord).where(ThreadRecord.thread_id == thread_id), viewer)
            ).one_or_none()
            if rec is None:
                raise NotFound(f"no thread {thread_id}", code="thread_not_found", param="thread_id")
            rec.meta = {**rec.meta, **metadata}
            rec.updated_at = utcnow()
        return rec

    async def delete(self, tenant_id: str, thread_id: str, viewer: Principal | None = None) -> None:
        with self._db.tenant_session(tenant_id) as s:
            rec = s.scalars(
                _visible(select(ThreadRecord).where(ThreadRecord.thread_id == thread_id), viewer)
            ).one_or_none()
            if rec is None:
                raise NotFound(f"no thread {thread_id}", code="thread_not_found", param="thread_id")
            if rec.status == "busy":
                raise Conflict(
                    "thread has a run in progress", code="thread_busy", param="thread_id"
                )
            s.delete(rec)
            for run in s.scalars(select(RunRecord).where(RunRecord.thread_id == thread_id)):
                s.delete(run)
        checkpointer = self._reader.checkpointer
        if checkpointer is not None and not isinstance(checkpointer, bool):
            await checkpointer.adelete_thread(checkpoint_key(tenant_id, thread_id))

    def claim(self, tenant_id: str, thread_id: str) -> bool:
        """Mark the thread busy if it is not; False when another run holds it (compare-and-set)."""
        with self._db.tenant_session(tenant_id) as s:
            res = s.execute(
                update(ThreadRecord)
                .where(ThreadRecord.thread_id == thread_id, ThreadRecord.status != "busy")
                .values(status="busy", updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(res, "rowcount", 0))

    def release(
        self, tenant_id: str, thread_id: str, status: str, *, assistant_id: str | None
    ) -> None:
        with self._db.tenant_session(tenant_id) as s:
            values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
            if assistant_id:
                values["assistant_id"] = assistant_id
            s.execute(
                update(ThreadRecord)
                .where(ThreadRecord.thread_id == thread_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )


__all__ = ["THREAD_STATUSES", "ThreadStore", "checkpoint_key", "snapshot_json"]
