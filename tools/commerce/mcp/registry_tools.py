"""A merchant's READ tools of the Cockpit tool registry, as MCP tools, under the agents' policy.

An MCP client is an agent working for the key it presents, so a call runs through the same
code an agent run's tool call does (``cockpit.runtime.executor``): the caller's role must be
one of the tool's ``roles`` (the set its REST twin admits, :mod:`cockpit.tenancy.rights`),
identity is injected and never an argument (``IDENTITY_ARGS``), the arguments are validated by
the tool's own schema (:func:`validate_args`), the tool is scoped by the key's merchant binding
inside the tool itself (another merchant's record is a 404), the tenant's tool allowlist
applies, every call is audited (actor ``agent:mcp``, with the key id) and its output is
screened for prompt injection. A tool the caller may not run is not listed, and calling it
anyway is refused with the code an agent run gets (``role_required``).

WRITE tools are not exposed. An agent run's approval is a LangGraph interrupt on a thread: the
write waits inside the run until a principal allowed to approve decides, then executes for the
requester (``cockpit.runtime.approvals``). A ``tools/call`` has no thread to park on, so
honouring approvals over MCP would need a second approval mechanism beside the one every other
path shares, and a write without it would bypass the policy agents are held to. Writes stay
where policy and approval already hold: REST (with an ``Idempotency-Key``) and agent runs.
Shoppers see none of these tools (they reach only the commerce surfaces); the checkout
operations are :mod:`tools.commerce.mcp.checkout_tools`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

import mcp_types as types

from cockpit.audit.log import AuditLog
from cockpit.db.session import Database
from cockpit.errors import CockpitError, PolicyViolation
from cockpit.runtime.executor import error_result, execute, validate_args
from cockpit.runtime.policy import IDENTITY_ARGS
from cockpit.tenancy import rights
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit.registry import ToolContext, ToolDef, ToolKind, ToolRegistry

AGENT_ID = "mcp"
"""How MCP calls appear in the audit log (``actor = agent:mcp``; the key id is in the payload)."""


def exposed(tool: ToolDef, principal: Principal, allowlist: Collection[str] | None) -> bool:
    """May ``principal`` see and call ``tool`` over MCP?"""
    return refusal(tool, principal, allowlist) is None


def refusal(
    tool: ToolDef, principal: Principal, allowlist: Collection[str] | None
) -> PolicyViolation | None:
    """Why ``principal`` may not call ``tool`` over MCP (None when it may)."""
    if tool.kind is not ToolKind.READ:
        return PolicyViolation(
            f"{tool.name} changes data and is not served over MCP: use its REST route or an "
            "agent run, where approvals apply",
            code="tool_not_exposed",
            param="name",
        )
    if principal.role is Role.SHOPPER or not rights.permits(principal, tool.roles):
        return PolicyViolation(
            f"{tool.name} cannot be run for a {principal.role.value} key",
            code="role_required",
            param="name",
        )
    if allowlist is not None and tool.name not in allowlist:
        return PolicyViolation(
            f"tool {tool.name!r} is not enabled for this tenant",
            code="tool_not_enabled",
            param="name",
        )
    return None


def visible(
    registry: ToolRegistry, principal: Principal, allowlist: Collection[str] | None
) -> list[ToolDef]:
    """The registry tools ``principal`` may call over MCP, by name."""
    tools = (registry.get(name) for name in registry.names())
    return [t for t in tools if exposed(t, principal, allowlist)]


def describe(tool: ToolDef) -> types.Tool:
    """The MCP listing of a registry tool: its own argument schema and description."""
    return types.Tool(
        name=tool.name,
        description=tool.description,
        input_schema=tool.json_schema(),
        annotations=types.ToolAnnotations(
            read_only_hint=True,
            destructive_hint=False,
            idempotent_hint=True,
            open_world_hint=False,
        ),
    )


def call(
    registry: ToolRegistry,
    name: str,
    arguments: Mapping[str, Any],
    *,
    principal: Principal,
    allowlist: Collection[str] | None,
    db: Database,
    audit: AuditLog,
    extras: dict[str, Any],
) -> types.CallToolResult:
    """Run a registry tool for ``principal``; refusals and failures are tool errors.

    The result is what an agent's model receives for the same call: the tool's JSON, or
    ``{"error": {type, code, message, param}}`` with ``isError`` set.
    """
    raw = dict(arguments)
    try:
        tool = registry.get(name)
        refused = refusal(tool, principal, allowlist)
        if refused is not None:
            raise refused
        smuggled = IDENTITY_ARGS & set(raw)
        if smuggled:
            raise PolicyViolation(
                f"identity is injected by the platform; the caller may not set {sorted(smuggled)}",
                code="identity_argument",
                param=sorted(smuggled)[0],
            )
        args = validate_args(tool, raw)
    except CockpitError as exc:
        audit.record(
            principal.tenant_id,
            kind="policy_refusal",
            actor=f"agent:{AGENT_ID}",
            subject="-",
            payload={
                "tool": name,
                "args": raw,
                "code": exc.code,
                "message": exc.message,
                "key_id": principal.key_id,
            },
        )
        return result(error_result(exc), ok=False)
    ctx = ToolContext(principal=principal, db=db, extras=extras)
    outcome = execute(tool, args, ctx, audit=audit, agent_id=AGENT_ID)
    return result(outcome.result, ok=outcome.ok)


def result(body: dict[str, Any], *, ok: bool) -> types.CallToolResult:
    """A tool result: the JSON both as structured content and as text (for text-only clients)."""
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=json.dumps(body, default=str))],
        structured_content=body,
        is_error=not ok,
    )


__all__ = ["AGENT_ID", "call", "describe", "exposed", "refusal", "result", "visible"]
