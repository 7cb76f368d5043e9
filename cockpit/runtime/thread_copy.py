"""Copy and prune a thread's checkpoints through the public checkpointer API.

The SQLite savers implement neither ``acopy_thread`` nor ``aprune``, so both are done here with
``alist``/``aput``/``aput_writes`` (the PostgreSQL saver's own ``aprune`` is used when it has
one: it prunes in one transaction). A copy carries every checkpoint, parent links and pending
writes (an interrupt waiting for approval is a pending write), so the copy resumes like the
original.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple


def _config(thread_key: str, ns: str, checkpoint_id: str | None) -> RunnableConfig:
    conf: dict[str, Any] = {"thread_id": thread_key, "checkpoint_ns": ns}
    if checkpoint_id is not None:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


async def _put(saver: BaseCheckpointSaver[Any], target: str, t: CheckpointTuple) -> None:
    """Write one checkpoint tuple (its channel values and pending writes) under ``target``."""
    conf = t.config["configurable"]
    ns = conf.get("checkpoint_ns", "")
    parent = (t.parent_config or {}).get("configurable", {}).get("checkpoint_id")
    written = await saver.aput(
        _config(target, ns, parent),
        t.checkpoint,
        t.metadata,
        dict(t.checkpoint.get("channel_versions", {})),
    )
    by_task: dict[tuple[str, str], list[tuple[str, Any]]] = defaultdict(list)
    for task_id, channel, value in t.pending_writes or []:
        by_task[(task_id, "")].append((channel, value))
    for (task_id, path), writes in by_task.items():
        await saver.aput_writes(written, writes, task_id, path)


async def copy_checkpoints(saver: BaseCheckpointSaver[Any], source: str, target: str) -> int:
    """Every checkpoint of ``source`` under ``target``, oldest first; how many were copied."""
    tuples = [t async for t in saver.alist({"configurable": {"thread_id": source}})]
    for t in reversed(tuples):
        await _put(saver, target, t)
    return len(tuples)


async def keep_latest(saver: BaseCheckpointSaver[Any], thread_key: str) -> None:
    """Drop every checkpoint but the newest of each namespace (history goes, state stays)."""
    try:
        await saver.aprune([thread_key], strategy="keep_latest")
        return
    except NotImplementedError:
        pass
    newest: dict[str, CheckpointTuple] = {}
    async for t in saver.alist({"configurable": {"thread_id": thread_key}}):
        newest.setdefault(t.config["configurable"].get("checkpoint_ns", ""), t)
    await saver.adelete_thread(thread_key)
    for t in newest.values():
        await _put(saver, thread_key, t._replace(parent_config=None))


__all__ = ["copy_checkpoints", "keep_latest"]
