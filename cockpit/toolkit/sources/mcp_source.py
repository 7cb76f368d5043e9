"""An MCP server as a tool source: discovery (``tools/list``) and calls over Streamable HTTP,
with the official ``mcp`` client.

The client (and the protocol's types, ~0.4 s of CPU to import) loads on the first discovery or
call, not with the module: every server and CLI process imports this one, few talk MCP.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
import httpx2

from cockpit.errors import ToolError, ValidationFailed
from cockpit.tls import client_context
from cockpit.toolkit.sources._sync import describe, run_async

if TYPE_CHECKING:
    from mcp.client.client import Client

MAX_TOOLS = 200
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_META = "cockpit/idempotency-key"
"""``_meta`` key carrying a WRITE's idempotency key on ``tools/call`` (also sent as a header)."""


@asynccontextmanager
async def _client(url: str, headers: dict[str, str], timeout_s: float) -> AsyncIterator[Client]:
    from mcp.client.client import Client
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx2.AsyncClient(
            headers=headers,
            timeout=httpx2.Timeout(timeout_s),
            follow_redirects=False,
            verify=client_context(),
        ) as http,
        Client(
            streamable_http_client(url, http_client=http),
            read_timeout_seconds=timeout_s,
            cache=None,
        ) as client,
    ):
        yield client


async def discover(url: str, headers: dict[str, str], *, timeout_s: float) -> list[dict[str, Any]]:
    """The server's tools as ``{name, description, input_schema, call}`` (422 when unreachable)."""
    found: list[Any] = []
    try:
        with anyio.fail_after(timeout_s * 2):
            async with _client(url, headers, timeout_s) as client:
                cursor: str | None = None
                while len(found) < MAX_TOOLS:
                    page = await client.list_tools(cursor=cursor)
                    found.extend(page.tools)
                    cursor = page.next_cursor
                    if not cursor:
                        break
    except Exception as exc:
        raise ValidationFailed(
            f"url: could not list the MCP server's tools ({describe(exc)})",
            code="tool_source_unreachable",
            param="url",
        ) from None
    return [
        {
            "name": t.name,
            "description": t.description or t.title or t.name,
            "input_schema": t.input_schema,
            "call": {"tool": t.name},
        }
        for t in found[:MAX_TOOLS]
    ]


def _result_json(result: Any) -> dict[str, Any]:
    if result.structured_content is not None:
        data = result.structured_content
        return data if isinstance(data, dict) else {"result": data}
    texts = [getattr(block, "text", None) for block in result.content]
    text = "\n".join(t for t in texts if isinstance(t, str))
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"text": text}
    return parsed if isinstance(parsed, dict) else {"result": parsed}


def call(
    url: str,
    headers: dict[str, str],
    tool: str,
    arguments: dict[str, Any],
    *,
    idempotency_key: str | None,
    timeout_s: float,
    label: str,
) -> dict[str, Any]:
    """Call ``tool``; a failure of the server or of the tool is a :class:`ToolError`."""
    sent = dict(headers)
    meta: dict[str, Any] | None = None
    if idempotency_key:
        sent[IDEMPOTENCY_HEADER] = idempotency_key
        meta = {IDEMPOTENCY_META: idempotency_key}

    async def go() -> Any:
        with anyio.fail_after(timeout_s * 2):
            async with _client(url, sent, timeout_s) as client:
                return await client.call_tool(tool, arguments, meta=meta)  # type: ignore[arg-type]

    try:
        result = run_async(go)
    except Exception as exc:
        raise ToolError(
            f"{label}: the MCP server failed ({describe(exc)})", code="tool_source_failed"
        ) from None
    data = _result_json(result)
    if result.is_error:
        message = data.get("text") or json.dumps(data)[:300]
        raise ToolError(f"{label}: {str(message)[:500]}", code="remote_tool_error")
    return data


__all__ = ["IDEMPOTENCY_HEADER", "IDEMPOTENCY_META", "call", "discover"]
