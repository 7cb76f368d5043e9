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


def sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n".encode()


async def sse_stream(events: AsyncIterator[tuple[str, Any]]) -> AsyncIterator[bytes]:
    async for event, data in events:
        yield sse(event, data)


__all__ = ["services", "sse", "sse_stream"]
