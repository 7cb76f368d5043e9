"""ACP's MCP binding: the five checkout tools of ``openrpc.agentic_checkout.json`` (2026-04-17).

``create_checkout_session(meta, payload)``, ``get_checkout_session(meta, id)``,
``update_checkout_session(meta, id, payload)``, ``complete_checkout_session(meta, id, payload)``
and ``cancel_checkout_session(meta, id, payload?)`` are thin adapters over the same
:class:`~tools.commerce.acp.service.CheckoutService` the REST routes call: ``meta`` carries the
header values (``api_version`` → ``API-Version``, ``idempotency_key``, ``request_id``,
``signature``, ``timestamp``, ``accept_language``), ``payload`` is the REST body, ``id`` the
path's ``checkout_session_id``. So a session made over MCP is the one REST would make, with the
same idempotency records, signatures, state machine and money movement.

Results follow the binding's examples: the tool's structured content is the ``CheckoutSession``
(``CheckoutSessionWithOrder`` after complete) exactly as REST returns it, repeated as JSON text
for clients that read only text; the HTTP status and the response headers REST would send
(``Idempotent-Replayed``, the echoed ``Request-Id``) ride in the result's ``_meta`` under
:data:`META_KEY`. An ACP error is the binding's error: a JSON-RPC error ``-32000`` whose
message is the ACP message and whose ``data`` is the flat ACP ``Error``, its ``param`` a
JSONPath into the tool's arguments (``$.payload.currency``, ``$.meta.api_version``).

The input schemas are our own transcription of the binding's ``meta`` object; ``payload`` is
described, not embedded (the service validates it, and runtime code never reads spec files).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import mcp_types as types
from mcp.shared.exceptions import MCPError

from cockpit.errors import CockpitError
from cockpit.tenancy import rights
from cockpit.tenancy.principal import Principal, Role
from tools.commerce.acp.service import READERS, WRITERS, AcpResponse, CheckoutService, RequestMeta
from tools.commerce.errors import AcpError

log = logging.getLogger(__name__)

ACP_ERROR = -32000
"""The JSON-RPC error code the binding's examples give every ACP error."""
META_KEY = "cockpit/acp"
"""``_meta`` key of a result: ``{"status": <HTTP status>, "headers": {<REST response headers>}}``."""

_META_FIELDS = {
    "api_version": "API-Version",
    "idempotency_key": "Idempotency-Key",
    "request_id": "Request-Id",
    "signature": "Signature",
    "timestamp": "Timestamp",
    "accept_language": "Accept-Language",
    "user_agent": "User-Agent",
}
"""``meta`` fields and the HTTP headers they stand for."""
_HEADER_FIELDS = {header.lower(): field for field, header in _META_FIELDS.items()}
_META_ERRORS = {
    "missing_api_version": "api_version",
    "unsupported_api_version": "api_version",
    "idempotency_key_required": "idempotency_key",
    "invalid_idempotency_key": "idempotency_key",
}
"""Header errors that name no ``param`` on REST (the header is the place): the ``meta`` field."""

META_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Protocol metadata mapped from ACP HTTP headers. Authentication is handled "
    "at the MCP server level (the connection's API key) and is not included here.",
    "required": ["api_version"],
    "additionalProperties": True,
    "properties": {
        "api_version": {
            "type": "string",
            "description": "ACP API version date (e.g. '2026-04-17'). Maps to API-Version.",
        },
        "idempotency_key": {
            "type": "string",
            "description": "Unique key for retry safety. Maps to Idempotency-Key; required on "
            "create, update, complete and cancel.",
        },
        "request_id": {
            "type": "string",
            "description": "Correlation ID for request tracing. Maps to Request-Id.",
        },
        "user_agent": {
            "type": "string",
            "description": "Agent identification string. Maps to User-Agent.",
        },
        "accept_language": {
            "type": "string",
            "description": "Locale preference (e.g. 'en-US'). Maps to Accept-Language.",
        },
        "signature": {
            "type": "string",
            "description": "Request signature (base64url ES256 over '<timestamp>.<JCS(payload)>'). "
            "Maps to Signature; required when the agent platform registered a signing key.",
        },
        "timestamp": {
            "type": "string",
            "format": "date-time",
            "description": "Request signing time (RFC 3339). Maps to Timestamp.",
        },
    },
}
_ID_SCHEMA = {
    "type": "string",
    "description": "The checkout session ID. Maps to the checkout_session_id path parameter.",
}

Payload = Literal["required", "optional", "none"]


@dataclass(frozen=True, slots=True)
class CheckoutTool:
    """One tool of the binding."""

    name: str
    """The binding's method name."""
    description: str
    """What the model is told (the binding's own description)."""
    with_id: bool
    """Takes ``id`` (the path's ``checkout_session_id``)."""
    payload: Payload
    """Whether ``payload`` (the REST body) is required, optional or absent."""
    payload_doc: str
    """What ``payload`` is (its JSON Schema name in the ACP bundle)."""
    roles: frozenset[Role] = WRITERS
    """Who is offered the tool: the roles the service lets do the operation (writes: agent
    platforms' shopper keys; the read: those and the merchant's keys; admins both). The
    service checks them again, with the merchant binding, exactly as for REST."""
    read_only: bool = False

    def input_schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {"meta": META_SCHEMA}
        required = ["meta"]
        if self.with_id:
            properties["id"] = _ID_SCHEMA
            required.append("id")
        if self.payload != "none":
            properties["payload"] = {"type": "object", "description": self.payload_doc}
            if self.payload == "required":
                required.append("payload")
        return {"type": "object", "properties": properties, "required": required}

    def describe(self) -> types.Tool:
        return types.Tool(
            name=self.name,
            description=self.description,
            input_schema=self.input_schema(),
            annotations=types.ToolAnnotations(
                read_only_hint=self.read_only,
                destructive_hint=False,
                idempotent_hint=True,
                open_world_hint=False,
            ),
        )


TOOLS: tuple[CheckoutTool, ...] = (
    CheckoutTool(
        "create_checkout_session",
        "Create a new checkout session from line items, currency, and capabilities. "
        "Maps to POST /checkout_sessions.",
        with_id=False,
        payload="required",
        payload_doc="CheckoutSessionCreateRequest: the REST request body exactly.",
    ),
    CheckoutTool(
        "get_checkout_session",
        "Returns the latest authoritative state for a checkout session. "
        "Maps to GET /checkout_sessions/{checkout_session_id}.",
        with_id=True,
        payload="none",
        payload_doc="",
        roles=READERS,
        read_only=True,
    ),
    CheckoutTool(
        "update_checkout_session",
        "Apply changes (items, fulfillment address, fulfillment option) and return updated "
        "authoritative cart state. Maps to POST /checkout_sessions/{checkout_session_id}.",
        with_id=True,
        payload="required",
        payload_doc="CheckoutSessionUpdateRequest: the REST request body exactly.",
    ),
    CheckoutTool(
        "complete_checkout_session",
        "Finalize the checkout by applying a payment method. Creates an order and returns "
        "completed state on success. "
        "Maps to POST /checkout_sessions/{checkout_session_id}/complete.",
        with_id=True,
        payload="required",
        payload_doc="CheckoutSessionCompleteRequest: the REST request body exactly.",
    ),
    CheckoutTool(
        "cancel_checkout_session",
        "Cancel a session if not already completed or canceled, optionally with an intent "
        "trace. Maps to POST /checkout_sessions/{checkout_session_id}/cancel.",
        with_id=True,
        payload="optional",
        payload_doc="CancelSessionRequest (optional): the REST request body exactly.",
    ),
)
BY_NAME: dict[str, CheckoutTool] = {t.name: t for t in TOOLS}


def request_meta(raw: object) -> RequestMeta:
    """The header values ``meta`` carries; a field that is not a string is an ACP error."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise AcpError("meta must be an object", code="invalid_meta", param="$.meta")
    values: dict[str, str | None] = {}
    for field in _META_FIELDS:
        value = raw.get(field)
        if value is not None and not isinstance(value, str):
            raise AcpError(
                f"meta.{field} must be a string", code="invalid_meta", param=f"$.meta.{field}"
            )
        values[field] = value
    return RequestMeta(
        api_version=values["api_version"],
        idempotency_key=values["idempotency_key"],
        request_id=values["request_id"],
        signature=values["signature"],
        timestamp=values["timestamp"],
        accept_language=values["accept_language"],
    )


def _session_id(arguments: Mapping[str, Any]) -> str:
    value = arguments.get("id")
    if not isinstance(value, str) or not value:
        raise AcpError(
            "id (the checkout session id) is required",
            code="missing_required_field",
            param="$.id",
        )
    return value


def _payload(arguments: Mapping[str, Any], tool: CheckoutTool) -> Mapping[str, Any] | None:
    value = arguments.get("payload")
    if value is None and tool.payload == "optional":
        return None
    if value is None:
        raise AcpError(
            "payload (the request body) is required",
            code="missing_required_field",
            param="$.payload",
        )
    if not isinstance(value, Mapping):
        raise AcpError("payload must be an object", code="invalid_request", param="$.payload")
    return value


def argument_path(param: str | None) -> str | None:
    """A REST error's ``param`` as a JSONPath into the tool's arguments.

    ``$.currency`` (the body) → ``$.payload.currency``; a header (``API-Version``) →
    ``$.meta.api_version``; the path's ``checkout_session_id`` → ``$.id``.
    """
    if param is None:
        return None
    if param == "$" or param.startswith(("$.", "$[")):
        return "$.payload" + param[1:]
    field = _HEADER_FIELDS.get(param.lower())
    if field is not None:
        return f"$.meta.{field}"
    if param in ("checkout_session_id", "id"):
        return "$.id"
    return param


def tool_error(body: Mapping[str, Any]) -> MCPError:
    """The binding's error for an ACP ``Error`` body (param rewritten for the arguments)."""
    data = dict(body)
    param = argument_path(data.get("param"))
    if param is None and data.get("code") in _META_ERRORS:
        param = f"$.meta.{_META_ERRORS[data['code']]}"
    if param is not None:
        data["param"] = param
    return MCPError(ACP_ERROR, str(data.get("message", "")), data)


def _error_body(exc: CockpitError) -> dict[str, Any]:
    if isinstance(exc, AcpError):
        return exc.wire_body()
    # A core error reached through the service (not found, permission): the ACP shape.
    body: dict[str, Any] = {
        "type": "invalid_request" if exc.status < 500 else "processing_error",
        "code": exc.code,
        "message": exc.message,
    }
    if exc.param is not None:
        body["param"] = exc.param
    return body


def result(response: AcpResponse) -> types.CallToolResult:
    """A successful ACP response as the tool's result."""
    if response.status >= 400:
        raise tool_error(response.body)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=json.dumps(response.body, default=str))],
        structured_content=response.body,
        _meta={META_KEY: {"status": response.status, "headers": dict(response.headers)}},
    )


def call(
    service: CheckoutService,
    name: str,
    arguments: Mapping[str, Any],
    *,
    principal: Principal,
    at: datetime,
) -> types.CallToolResult:
    """Run one checkout tool for ``principal``; ACP errors are raised as :class:`MCPError`."""
    tool = BY_NAME[name]
    try:
        # The role first, as the REST routes check it before anything else of the request.
        rights.require(principal, tool.roles, what=name)
        meta = request_meta(arguments.get("meta"))
        if name == "create_checkout_session":
            body = _payload(arguments, tool)
            assert body is not None
            response = service.create(principal, meta, body, at=at)
        elif name == "get_checkout_session":
            response = service.get(principal, meta, _session_id(arguments), at=at)
        elif name == "update_checkout_session":
            sid, body = _session_id(arguments), _payload(arguments, tool)
            assert body is not None
            response = service.update(principal, meta, sid, body, at=at)
        elif name == "complete_checkout_session":
            sid, body = _session_id(arguments), _payload(arguments, tool)
            assert body is not None
            response = service.complete(principal, meta, sid, body, at=at)
        else:
            sid = _session_id(arguments)
            response = service.cancel(principal, meta, sid, _payload(arguments, tool), at=at)
    except CockpitError as exc:
        raise tool_error(_error_body(exc)) from None
    return result(response)


__all__ = [
    "ACP_ERROR",
    "BY_NAME",
    "META_KEY",
    "META_SCHEMA",
    "TOOLS",
    "CheckoutTool",
    "argument_path",
    "call",
    "request_meta",
    "result",
    "tool_error",
]
