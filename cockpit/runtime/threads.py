"""Threads: tenant-scoped records plus their state in the checkpointer."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import StateSnapshot
from sqlalchemy import Select, delete, select, update

from cockpit.db.base import iso, utcnow
from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound, ValidationFailed
from cockpit.runtime.records import RunEvent, RunRecord, ThreadRecord
from cockpit.runtime.serialize import to_json
from cockpit.runtime.thread_copy import copy_checkpoints, keep_latest
from cockpit.runtime.writer import db_work
from cockpit.tenancy.principal import Principal

THREAD_STATUSES = ("idle", "busy", "interrupted", "error")
THREAD_SORTS = ("thread_id", "status", "created_at", "updated_at", "state_updated_at")
PUBLIC_CHECKPOINT_META = frozenset({"source", "step", "parents", "run_id"})
"""Checkpoint metadata keys clients see and may filter history on (others may echo config)."""


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
    return {k: v for k, v in dict(meta).items() if k in PUBLIC_CHECKPOINT_META}


def _history_filter(metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    hidden = sorted(set(metadata or {}) - PUBLIC_CHECKPOINT_META)
    if hidden:
        raise ValidationFailed(
            f"history filters on {', '.join(sorted(PUBLIC_CHECKPOINT_META))} only",
            code="invalid_filter",
            param=f"metadata.{hidden[0]}",
        )
    return metadata or None


class ThreadStore:
    def __init__(self, db: Database, reader: CompiledStateGraph[Any]) -> None:
        self._db = db
        self._reader = reader

    def config(
        self, tenant_id: str, thread_id: str, checkpoint_id: str | None = None
    ) -> RunnableConfig:
        conf = {
            "thread_id": checkpoint_key(tenant_id, thread_id),
            "public_thread_id": thread_id,
            "tenant_id": tenant_id,
        }
        if checkpoint_id is not None:
            conf["checkpoint_id"] = checkpoint_id
        return {"configurable": conf}

    @property
    def saver(self) -> BaseCheckpointSaver[Any]:
        saver = self._reader.checkpointer
        assert isinstance(saver, BaseCheckpointSaver)
        return saver

    async def _checkpoint(self, tenant_id: str, thread_id: str, checkpoint_id: str) -> None:
        """404 ``checkpoint_not_found`` unless the thread has that checkpoint."""
        found = await self.saver.aget_tuple(self.config(tenant_id, thread_id, checkpoint_id))
        if found is None:
            raise NotFound(
                f"thread {thread_id} has no checkpoint {checkpoint_id}",
                code="checkpoint_not_found",
                param="checkpoint_id",
            )

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

    async def record(
        self, tenant_id: str, thread_id: str, viewer: Principal | None = None
    ) -> ThreadRecord:
        """:meth:`get_record` from a worker thread, for code on the event loop: the read must not
        hold up the other requests and runs the loop serves."""
        return await asyncio.to_thread(self.get_record, tenant_id, thread_id, viewer)

    async def state(
        self,
        tenant_id: str,
        thread_id: str,
        viewer: Principal | None = None,
        *,
        checkpoint_id: str | None = None,
    ) -> StateSnapshot:
        """The thread's state now, or at ``checkpoint_id`` (404 when it has no such one)."""
        await self.record(tenant_id, thread_id, viewer)
        if checkpoint_id is not None:
            await self._checkpoint(tenant_id, thread_id, checkpoint_id)
        return await self._reader.aget_state(self.config(tenant_id, thread_id, checkpoint_id))

    async def history(
        self,
        tenant_id: str,
        thread_id: str,
        *,
        limit: int,
        viewer: Principal | None = None,
        before: str | None = None,
        checkpoint_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """States newest first: from ``checkpoint_id`` (or the newest), older than ``before``,
        whose checkpoint metadata matches ``metadata`` (public keys only)."""
        await self.record(tenant_id, thread_id, viewer)
        flt = _history_filter(metadata)
        for cid in (before, checkpoint_id):
            if cid is not None:
                await self._checkpoint(tenant_id, thread_id, cid)
        out = []
        if checkpoint_id is not None:  # that checkpoint first, then the ones before it
            snap = await self._reader.aget_state(self.config(tenant_id, thread_id, checkpoint_id))
            if flt is None or all((snap.metadata or {}).get(k) == v for k, v in flt.items()):
                out.append(snapshot_json(snap))
            if before is None:
                before = checkpoint_id
            if len(out) >= limit:
                return out
        async for snap in self._reader.aget_state_history(
            self.config(tenant_id, thread_id),
            limit=limit - len(out),
            filter=flt,
            before=None if before is None else self.config(tenant_id, thread_id, before),
        ):
            out.append(snapshot_json(snap))
        return out

    async def copy(self, tenant_id: str, thread_id: str, *, owner: Principal) -> ThreadRecord:
        """A new thread with the same metadata and every checkpoint, owned by ``owner``.

        The checkpoints are written first and the thread row last, so a failure leaves no
        thread behind (the copied checkpoints are dropped)."""
        source = await self.record(tenant_id, thread_id, owner)
        new_id = str(uuid.uuid4())
        target = checkpoint_key(tenant_id, new_id)
        try:
            await copy_checkpoints(self.saver, checkpoint_key(tenant_id, thread_id), target)
            snap = await self._reader.aget_state(self.config(tenant_id, new_id))
            rec = ThreadRecord(
                thread_id=new_id,
                meta=dict(source.meta),
                status="interrupted" if snap.interrupts else "idle",
                assistant_id=source.assistant_id,
                merchant_id=owner.merchant_id,
            )
            await db_work(self._db, self._add, tenant_id, rec)
        except BaseException:
            await self.saver.adelete_thread(target)
            raise
        return rec

    def _add(self, tenant_id: str, rec: ThreadRecord) -> None:
        with self._db.tenant_session(tenant_id) as s:
            s.add(rec)

    async def prune(
        self, tenant_id: str, thread_ids: list[str], *, strategy: str, viewer: Principal
    ) -> int:
        """``delete``: the threads go; ``keep_latest``: only their newest checkpoint stays.

        Every id is checked first (404 for one the caller cannot see, 409 for a busy one), so
        a refused prune changes nothing. Returns how many threads were pruned."""
        if strategy not in ("delete", "keep_latest"):
            raise ValidationFailed(
                "strategy must be 'delete' or 'keep_latest'", code="invalid_value", param="strategy"
            )
        records = [await self.record(tenant_id, t, viewer) for t in dict.fromkeys(thread_ids)]
        if any(r.status == "busy" for r in records):
            raise Conflict("a thread has a run in progress", code="thread_busy", param="thread_ids")
        for rec in records:
            if strategy == "delete":
                await self.delete(tenant_id, rec.thread_id, viewer)
            else:
                await keep_latest(self.saver, checkpoint_key(tenant_id, rec.thread_id))
        return len(records)

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
        ids: list[str] | None = None,
        sort_by: str = "created_at",
        sort_order: str = "desc",
    ) -> list[ThreadRecord]:
        """Threads the viewer may see, by status, ids and metadata (equality), sorted."""
        if status is not None and status not in THREAD_STATUSES:
            raise ValidationFailed(
                f"status must be one of {THREAD_STATUSES}", code="invalid_value", param="status"
            )
        if sort_by not in THREAD_SORTS or sort_order not in ("asc", "desc"):
            bad = "sort_by" if sort_by not in THREAD_SORTS else "sort_order"
            raise ValidationFailed(f"invalid {bad}", code="invalid_value", param=bad)
        column = {
            "thread_id": ThreadRecord.thread_id,
            "status": ThreadRecord.status,
            "created_at": ThreadRecord.created_at,
        }.get(sort_by, ThreadRecord.updated_at)
        with self._db.tenant_session(tenant_id) as s:
            q = _visible(select(ThreadRecord), viewer)
            if status:
                q = q.where(ThreadRecord.status == status)
            if ids:
                q = q.where(ThreadRecord.thread_id.in_(ids))
            order = [column, ThreadRecord.id]
            q = q.order_by(*(c.desc() for c in order) if sort_order == "desc" else order)
            rows = list(s.scalars(q))
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
        """Delete the thread, its checkpoints, runs and their events — all or, on failure, none
        that a retry could not finish: the thread is held (no run can start) while its
        checkpoints go, and its row goes last."""
        rec = await self.record(tenant_id, thread_id, viewer)
        if not await db_work(self._db, self.claim, tenant_id, thread_id):
            raise Conflict("thread has a run in progress", code="thread_busy", param="thread_id")
        checkpointer = self._reader.checkpointer
        try:
            if checkpointer is not None and not isinstance(checkpointer, bool):
                await checkpointer.adelete_thread(checkpoint_key(tenant_id, thread_id))
        except BaseException:
            self.release(tenant_id, thread_id, rec.status, assistant_id=None)
            raise
        await db_work(self._db, self._drop_rows, tenant_id, thread_id)

    def _drop_rows(self, tenant_id: str, thread_id: str) -> None:
        """The thread's runs, their events and the thread itself, in one transaction."""
        with self._db.tenant_session(tenant_id) as s:
            run_ids = list(
                s.scalars(select(RunRecord.run_id).where(RunRecord.thread_id == thread_id))
            )
            if run_ids:
                s.execute(delete(RunEvent).where(RunEvent.run_id.in_(run_ids)))
                s.execute(delete(RunRecord).where(RunRecord.thread_id == thread_id))
            s.execute(delete(ThreadRecord).where(ThreadRecord.thread_id == thread_id))

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


__all__ = [
    "PUBLIC_CHECKPOINT_META",
    "THREAD_SORTS",
    "THREAD_STATUSES",
    "ThreadStore",
    "checkpoint_key",
    "snapshot_json",
]
