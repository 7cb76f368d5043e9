"""Cockpit's MCP server (official ``mcp`` SDK, streamable HTTP at ``/mcp`` on the API app).

Shopping agents reach the ACP checkout operations (the binding of
``openrpc.agentic_checkout.json``); merchants reach their read-only registry tools under the
same policy as REST and agent runs. Modules: :mod:`.auth` (the API key of every request),
:mod:`.checkout_tools`, :mod:`.registry_tools`, :mod:`.server` (the per-caller catalogue),
:mod:`.mount` (the endpoint and its lifetime inside the app's lifespan).
"""

from tools.commerce.mcp.mount import MCP_PATH, McpEndpoint

__all__ = ["MCP_PATH", "McpEndpoint"]
