"""Helpers shared by the platform routers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request

from cockpit.api.services import Services


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def sse(event: str, data: Any, *, event_id: int | None = None) -> bytes:
    """One server-sent event; with ``event_id`` a client can resume after it (``Last-Event-ID``)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, default=str)}\n\n".encode()


async def sse_stream(events: AsyncIterator[tuple[int, str, Any]]) -> AsyncIterator[bytes]:
    """Numbered run events as SSE."""
    async for seq, event, data in events:
        yield sse(event, data, event_id=seq)


__all__ = ["services", "sse", "sse_stream"]
