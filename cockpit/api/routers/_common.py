"""Helpers shared by the platform routers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request

from cockpit.api.services import Services
from cockpit.errors import ValidationFailed


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def last_event_id(request: Request) -> int | None:
    """The ``Last-Event-ID`` a reconnecting SSE client sends: the number of the last event it
    got (None when absent)."""
    raw = request.headers.get("last-event-id") or ""
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise ValidationFailed(
            "Last-Event-ID must be an event number this server sent",
            code="invalid_last_event_id",
            param="Last-Event-ID",
        )
    return int(raw)


def sse(event: str, data: Any, *, event_id: int | None = None) -> bytes:
    """One server-sent event; with ``event_id`` a client can resume after it (``Last-Event-ID``)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, default=str)}\n\n".encode()


async def sse_stream(events: AsyncIterator[tuple[int, str, Any]]) -> AsyncIterator[bytes]:
    """Numbered run events as SSE."""
    async for seq, event, data in events:
        yield sse(event, data, event_id=seq)


__all__ = ["last_event_id", "services", "sse", "sse_stream"]
