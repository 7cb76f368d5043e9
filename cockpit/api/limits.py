"""Request body size limit as pure ASGI middleware (chunked bodies included).

The body is read up front (it is at most ``max_bytes``), so an oversized
request is refused with 413 before any handler runs or anything is written.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _reject(
                        send, 400, "invalid_content_length", "Content-Length is not a number"
                    )
                    return
                if declared > self.max_bytes:
                    await _reject(
                        send,
                        413,
                        "payload_too_large",
                        f"request body is larger than {self.max_bytes} bytes",
                    )
                    return
        body = bytearray()
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body.extend(msg.get("body", b""))
            if len(body) > self.max_bytes:
                await _reject(
                    send,
                    413,
                    "payload_too_large",
                    f"request body is larger than {self.max_bytes} bytes",
                )
                return
            if not msg.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _reject(send: Send, status: int, code: str, message: str) -> None:
    payload: dict[str, Any] = {
        "type": "invalid_request_error",
        "code": code,
        "message": message,
        "param": None,
    }
    raw = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})


__all__ = ["BodySizeLimit"]
