"""The OpenAPI document as the server really behaves, built once from the routes.

FastAPI's generated document misses what Cockpit adds around the routes; this module adds it:

* the error body every failure returns (``Error``: ``{type, code, message, param}``) declared on
  the statuses an operation can answer with — 401/403 where a key is needed, 400/413 where a
  body is read, 404 where something is looked up, 409 on writes, 422 wherever there is input;
  a route that speaks a protocol with its own error shape (ACP) names that schema in its
  ``openapi_extra`` under :data:`ERROR_SCHEMA` and gets it instead, and a route that knows
  exactly which statuses it answers lists them under :data:`ERROR_STATUSES` (no inference);
* schemas a route's ``openapi_extra`` refers to (``#/components/schemas/…``), handed over under
  :data:`SCHEMAS` and placed into the components;
* the ``x-api-key`` header (or ``Authorization: Bearer``) as security schemes, required on
  every route that authenticates;
* the boundary rules of :mod:`cockpit.api.limits` on path ids and query integers;
* typed bodies for the LangGraph-server runtime routes (threads, runs, assistants);
* streaming routes as ``text/event-stream`` (SSE) or ``application/x-ndjson``.

It only describes: it must never change how a request is handled.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.convertors import PathConvertor, StringConvertor

from cockpit.api.deps import request_context
from cockpit.api.limits import ID_PATTERN, INT64_MAX, INT64_MIN, MAX_ID_LENGTH, PATH_ID_PATTERN

_REF = "#/components/schemas/{model}"
ERROR_SCHEMA = "x-error-schema"
"""``openapi_extra`` key: a JSON Schema (with a ``title``) of the route's own error body."""
ERROR_STATUSES = "x-error-statuses"
"""``openapi_extra`` key: the error statuses the route answers, replacing the inferred ones."""
SCHEMAS = "x-schemas"
"""``openapi_extra`` key: ``{name: JSON Schema}`` placed into ``components.schemas``."""
_SECURITY: list[dict[str, list[str]]] = [{"ApiKey": []}, {"Bearer": []}]
_WRITES = {"post", "put", "patch", "delete"}
_ERRORS = {
    "400": "Malformed request (the body is not valid JSON, a required header is missing)",
    "401": "Missing, invalid or revoked API key",
    "403": "The key's role, or the merchant it is bound to, may not do this",
    "404": "No such object for this caller (another tenant's objects are not found either)",
    "405": "The object's current state does not allow this operation",
    "409": "Conflicts with the current state (busy thread, duplicate id, nothing to resume)",
    "413": "Request body larger than the server accepts",
    "422": "A named field is invalid (see ``param``)",
}


class Error(BaseModel):
    """Every error response: a stable ``code`` to branch on and the field at fault."""

    type: str = Field(description="Who is at fault: invalid_request_error, authentication_error…")
    code: str = Field(description="Stable machine-readable code, e.g. thread_not_found")
    message: str = Field(description="For humans; never a stack trace")
    param: str | None = Field(description="The field at fault, dotted (input.messages.0)")
    details: dict[str, Any] | None = Field(default=None, description="e.g. every failed field")


class Thread(BaseModel):
    """A conversation (``/threads``)."""

    model_config = ConfigDict(extra="allow")
    thread_id: str
    created_at: str
    updated_at: str
    metadata: dict[str, Any]
    status: str = Field(description="idle | busy | interrupted | error")
    values: Any = None
    interrupts: dict[str, Any] = Field(default_factory=dict)


class Run(BaseModel):
    """One run of an assistant on a thread."""

    model_config = ConfigDict(extra="allow")
    run_id: str
    thread_id: str
    assistant_id: str
    created_at: str
    updated_at: str
    status: str = Field(description="pending | running | success | error | interrupted | …")
    metadata: dict[str, Any]
    multitask_strategy: str | None = None


class Assistant(BaseModel):
    """An agent this tenant can run."""

    model_config = ConfigDict(extra="allow")
    assistant_id: str
    graph_id: str
    name: str
    description: str | None = None
    metadata: dict[str, Any]
    version: int
    created_at: str
    updated_at: str


class ThreadState(BaseModel):
    """A thread's checkpointed state."""

    model_config = ConfigDict(extra="allow")
    values: Any
    next: list[str]
    checkpoint: dict[str, Any] | None = None
    tasks: list[dict[str, Any]] = Field(default_factory=list)


_MODELS: tuple[type[BaseModel], ...] = (Error, Thread, Run, Assistant, ThreadState)

# (path, method) -> (model, is a list) for routes that return plain dicts.
_TYPED: dict[tuple[str, str], tuple[str, bool]] = {
    ("/threads", "post"): ("Thread", False),
    ("/threads/search", "post"): ("Thread", True),
    ("/threads/{thread_id}", "get"): ("Thread", False),
    ("/threads/{thread_id}", "patch"): ("Thread", False),
    ("/threads/{thread_id}/state", "get"): ("ThreadState", False),
    ("/threads/{thread_id}/runs", "post"): ("Run", False),
    ("/threads/{thread_id}/runs", "get"): ("Run", True),
    ("/threads/{thread_id}/runs/{run_id}", "get"): ("Run", False),
    ("/assistants/search", "post"): ("Assistant", True),
    ("/assistants/{assistant_id}", "get"): ("Assistant", False),
}
_SELECTABLE = {("/threads/search", "post"), ("/assistants/search", "post")}
"""Searches whose ``select`` returns partial items (LangGraph's projection)."""
# Routes that read their body themselves (FastAPI cannot see it).
_RAW_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("/v1/agents", "post"): {
        "required": True,
        "description": "An agent spec, as JSON or YAML",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    },
}
_STREAMS = {
    "/threads/{thread_id}/runs/stream": "text/event-stream",
    "/threads/{thread_id}/runs/{run_id}/stream": "text/event-stream",
    "/runs/stream": "text/event-stream",
    "/v1/audit/export": "application/x-ndjson",
}


def _authenticates(dependant: Dependant) -> bool:
    stack = [dependant]
    while stack:
        current = stack.pop()
        # A role check (``.roles``, see cockpit.api.deps.allow) authenticates the key first.
        if current.call is request_context or getattr(current.call, "roles", None) is not None:
            return True
        stack.extend(current.dependencies)
    return False


def _api_routes(app: FastAPI) -> list[Any]:
    """Every API route with its effective path and dependencies (FastAPI includes routers
    lazily: ``app.routes`` holds the included routers, not their routes)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazy inclusion
        return [r for r in app.routes if isinstance(r, APIRoute)]
    return [c for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]


def _bound_parameters(op: dict[str, Any], convertors: dict[str, Any]) -> None:
    for param in op.get("parameters", []):
        schema = param.setdefault("schema", {})
        if param.get("in") == "path" and "pattern" not in schema:
            convertor = convertors.get(param["name"])
            if isinstance(convertor, PathConvertor):
                schema["pattern"] = PATH_ID_PATTERN
            elif isinstance(convertor, StringConvertor):
                schema.update(pattern=ID_PATTERN, maxLength=MAX_ID_LENGTH, minLength=1)
        if param.get("in") == "query":
            for option in schema.get("anyOf", [schema]):
                if option.get("type") == "integer":
                    option.setdefault("minimum", INT64_MIN)
                    option.setdefault("maximum", INT64_MAX)


def _declare_errors(
    op: dict[str, Any],
    method: str,
    *,
    authenticated: bool,
    model: str = "Error",
    statuses: set[str] | None = None,
) -> None:
    responses = op.setdefault("responses", {})
    if statuses is not None and "422" not in statuses:
        responses.pop("422", None)  # FastAPI's own, for parameters the route does not validate
    error = {"application/json": {"schema": {"$ref": _REF.format(model=model)}}}
    for status in sorted(_inferred(op, method, authenticated) if statuses is None else statuses):
        responses[status] = {"description": _ERRORS[status], "content": error}


def _inferred(op: dict[str, Any], method: str, authenticated: bool) -> set[str]:
    has_body = "requestBody" in op
    has_params = bool(op.get("parameters"))
    statuses = set()
    if authenticated:
        statuses |= {"401", "403"}
    if has_body:
        statuses |= {"400", "413"}
    if has_body or has_params:
        statuses |= {"404", "422"}
    if method in _WRITES and authenticated:
        statuses.add("409")
    return statuses


def _place(models: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    """Add a component schema; two routes naming different schemas alike is a bug."""
    if models.setdefault(name, schema) != schema:
        raise ValueError(f"two different schemas are named {name!r} in the API document")


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The document served at ``/openapi.json``."""
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {})
    models = components.setdefault("schemas", {})
    for model in _MODELS:
        found = model.model_json_schema(ref_template=_REF)
        models.update(found.pop("$defs", {}))
        models[model.__name__] = found
    components["securitySchemes"] = {
        "ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
        "Bearer": {"type": "http", "scheme": "bearer", "description": "the same API key"},
    }
    routes = {
        (route.path_format, method.lower()): route
        for route in _api_routes(app)
        for method in route.methods
    }
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            route = routes.get((path, method))
            if (path, method) in _RAW_BODIES:
                op.setdefault("requestBody", _RAW_BODIES[(path, method)])
            authenticated = route is not None and _authenticates(route.dependant)
            if authenticated:
                op["security"] = _SECURITY
            _bound_parameters(op, getattr(route, "param_convertors", {}))
            for name, found in op.pop(SCHEMAS, {}).items():
                _place(models, name, found)
            own = op.pop(ERROR_SCHEMA, None)
            if own is not None:
                _place(models, own["title"], own)
            listed = op.pop(ERROR_STATUSES, None)
            _declare_errors(
                op,
                method,
                authenticated=authenticated,
                model="Error" if own is None else own["title"],
                statuses=None if listed is None else {str(s) for s in listed},
            )
            _type_success(op, path, method)
    for unused in ("HTTPValidationError", "ValidationError"):
        models.pop(unused, None)
    return schema


def _type_success(op: dict[str, Any], path: str, method: str) -> None:
    responses = op.get("responses", {})
    ok = next((s for s in ("200", "201") if s in responses), None)
    if ok is None:
        return
    if path in _STREAMS:
        media = _STREAMS[path]
        what = "Server-sent events" if media == "text/event-stream" else "JSON lines"
        responses[ok]["content"] = {media: {"schema": {"type": "string", "description": what}}}
        return
    typed = _TYPED.get((path, method))
    if typed is None:
        return
    name, many = typed
    ref: dict[str, Any] = {"$ref": _REF.format(model=name)}
    if (path, method) in _SELECTABLE:  # ``select`` answers only the fields it names
        (model,) = [m for m in _MODELS if m.__name__ == name]
        part = {
            "type": "object",
            "description": f"the fields of {name} that `select` names",
            "properties": model.model_json_schema()["properties"],
        }
        ref = {"anyOf": [ref, part]}
    body = {"type": "array", "items": ref} if many else ref
    responses[ok]["content"] = {"application/json": {"schema": body}}


def install_openapi(app: FastAPI) -> None:
    """Serve :func:`build_openapi` (built on first request, after every router is included)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = [
    "ERROR_SCHEMA",
    "ERROR_STATUSES",
    "SCHEMAS",
    "Assistant",
    "Error",
    "Run",
    "Thread",
    "ThreadState",
    "build_openapi",
    "install_openapi",
]
