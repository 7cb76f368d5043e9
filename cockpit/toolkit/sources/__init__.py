"""Tool sources: a tenant's own MCP server or OpenAPI endpoint, its tools run under Cockpit policy.

A partner registers a source (``POST /v1/tool-sources``); discovery lists its tools, which join
that tenant's registry as ``<source>__<tool>`` with the remote JSON schema. Agent specs list them
like any tool, with the same :class:`~cockpit.specs.spec.ToolPolicy` fields; the runtime checks
roles, limits, rate and approval, runs a WRITE exactly once (its idempotency key travels with
the request), audits each call and screens each result for injected instructions.

Never: reach a host that is not loopback or listed in ``COCKPIT_TOOL_SOURCE_HOSTS``, follow a
redirect, return a source's stored headers, or show one tenant's source tools to another.
"""

from cockpit.toolkit.sources.mcp_source import IDEMPOTENCY_HEADER, IDEMPOTENCY_META
from cockpit.toolkit.sources.models import ToolSourceRecord
from cockpit.toolkit.sources.network import HOSTS_SETTING, check_url
from cockpit.toolkit.sources.store import (
    SEPARATOR,
    RemoteToolPolicy,
    ToolSourceInput,
    ToolSourceStore,
    registry_name,
)
from cockpit.toolkit.sources.view import SourceToolRegistry, TenantToolView

STORE_KEY = "tool_sources"
"""Where the composition root puts the :class:`ToolSourceStore` in the services' extras."""

__all__ = [
    "HOSTS_SETTING",
    "IDEMPOTENCY_HEADER",
    "IDEMPOTENCY_META",
    "SEPARATOR",
    "STORE_KEY",
    "RemoteToolPolicy",
    "SourceToolRegistry",
    "TenantToolView",
    "ToolSourceInput",
    "ToolSourceRecord",
    "ToolSourceStore",
    "check_url",
    "registry_name",
]
