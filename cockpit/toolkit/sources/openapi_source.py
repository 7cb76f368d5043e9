"""An OpenAPI endpoint as a tool source: one tool per operation that has an ``operationId``.

A tool's arguments are the operation's path and query parameters and its JSON request body:
an object body's properties sit beside the parameters (when no name clashes), any other body is
the ``body`` argument. Local ``$ref``\\ s are inlined. Calls go to the document's first
``servers`` URL (relative to the document), or to the document's own origin.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx
import yaml

from cockpit.errors import ToolError, ValidationFailed
from cockpit.tls import client_context
from cockpit.toolkit.sources._sync import describe
from cockpit.toolkit.sources.mcp_source import IDEMPOTENCY_HEADER, MAX_TOOLS
from cockpit.toolkit.sources.network import check_url

METHODS = ("get", "put", "post", "delete", "patch")
MAX_BYTES = 1_048_576
_MAX_DEPTH = 24


def _deref(node: Any, doc: dict[str, Any], depth: int = 0) -> Any:
    """``node`` with local ``$ref``\\ s inlined (a cycle deeper than the limit becomes ``{}``)."""
    if depth > _MAX_DEPTH:
        return {}
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith("#/"):
                return {}
            target: Any = doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, dict) else None
            return _deref(target or {}, doc, depth + 1)
        return {k: _deref(v, doc, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_deref(v, doc, depth + 1) for v in node]
    return node


def parse_document(text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except ValueError:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict):
        raise ValidationFailed(
            "url: the document is not an OpenAPI description (no 'paths')",
            code="invalid_openapi",
            param="url",
        )
    return doc


def base_url(doc: dict[str, Any], doc_url: str) -> str:
    servers = doc.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        url = servers[0].get("url")
        if isinstance(url, str) and url:
            return urljoin(doc_url, url).rstrip("/")
    parts = urlsplit(doc_url)
    return f"{parts.scheme}://{parts.netloc}"


def _operation(
    doc: dict[str, Any], path: str, method: str, item: dict[str, Any], op: dict[str, Any]
) -> dict[str, Any] | None:
    params: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
        p = _deref(raw, doc)
        if isinstance(p, dict) and isinstance(p.get("name"), str):
            params[(p["name"], str(p.get("in")))] = p
    properties: dict[str, Any] = {}
    required: list[str] = []
    path_params: list[str] = []
    query_params: list[str] = []
    for (name, where), p in params.items():
        if where not in ("path", "query"):
            if p.get("required"):
                return None  # a required header or cookie the model cannot supply
            continue
        param_schema = dict(p.get("schema") or {})
        if p.get("description"):
            param_schema.setdefault("description", p["description"])
        properties[name] = param_schema
        if where == "path" or p.get("required"):
            required.append(name)
        (path_params if where == "path" else query_params).append(name)

    body_mode: str | None = None
    body_fields: list[str] = []
    request_body = _deref(op.get("requestBody") or {}, doc)
    content = request_body.get("content") if isinstance(request_body, dict) else None
    if isinstance(content, dict) and content:
        json_body = content.get("application/json")
        if not isinstance(json_body, dict):
            return None  # only JSON bodies are supported
        body_schema = json_body.get("schema") or {}
        body_props = body_schema.get("properties") if isinstance(body_schema, dict) else None
        if isinstance(body_props, dict) and not set(body_props) & set(properties):
            body_mode, body_fields = "fields", list(body_props)
            properties.update(body_props)
            if request_body.get("required", False) or body_schema.get("required"):
                required += [str(r) for r in body_schema.get("required", [])]
        else:
            body_mode = "body"
            properties["body"] = body_schema
            if request_body.get("required"):
                required.append("body")
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = sorted(set(required))
    text = " ".join(str(op.get(k) or "").strip() for k in ("summary", "description")).strip()
    return {
        "name": op["operationId"],
        "description": text or f"{method.upper()} {path}",
        "input_schema": schema,
        "call": {
            "method": method.upper(),
            "path": path,
            "path_params": path_params,
            "query_params": query_params,
            "body": body_mode,
            "body_fields": body_fields,
        },
    }


def operations(doc: dict[str, Any], doc_url: str) -> list[dict[str, Any]]:
    """The document's operations with an ``operationId``, as tools (base URL in each call)."""
    server = base_url(doc, doc_url)
    out: list[dict[str, Any]] = []
    for path, item in doc["paths"].items():
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict) or not isinstance(op.get("operationId"), str):
                continue
            tool = _operation(doc, str(path), method, item, op)
            if tool is not None:
                tool["call"]["base_url"] = server
                out.append(tool)
    return out[:MAX_TOOLS]


async def discover(
    url: str, headers: dict[str, str], *, timeout_s: float, allowed_hosts: Collection[str]
) -> list[dict[str, Any]]:
    try:
        async with httpx.AsyncClient(
            headers=headers, timeout=timeout_s, follow_redirects=False, verify=client_context()
        ) as http:
            resp = await http.get(url)
    except httpx.HTTPError as exc:
        raise ValidationFailed(
            f"url: could not fetch the OpenAPI document ({describe(exc)})",
            code="tool_source_unreachable",
            param="url",
        ) from None
    if resp.status_code != 200 or len(resp.content) > MAX_BYTES:
        raise ValidationFailed(
            f"url: fetching the OpenAPI document answered {resp.status_code}",
            code="tool_source_unreachable",
            param="url",
        )
    doc = parse_document(resp.text)
    check_url(base_url(doc, url), allowed_hosts, param="url")
    return operations(doc, url)


def call(
    plan: dict[str, Any],
    headers: dict[str, str],
    arguments: dict[str, Any],
    *,
    idempotency_key: str | None,
    timeout_s: float,
    allowed_hosts: Collection[str],
    label: str,
) -> dict[str, Any]:
    """Make the operation's HTTP request; a failure or a 4xx/5xx is a :class:`ToolError`."""
    path = str(plan["path"])
    for name in plan["path_params"]:
        path = path.replace("{" + name + "}", quote(str(arguments.get(name, "")), safe=""))
    url = check_url(str(plan["base_url"]) + path, allowed_hosts)
    query = {n: arguments[n] for n in plan["query_params"] if n in arguments}
    body: Any = None
    if plan["body"] == "fields":
        body = {n: arguments[n] for n in plan["body_fields"] if n in arguments}
    elif plan["body"] == "body":
        body = arguments.get("body")
    sent = dict(headers)
    if idempotency_key:
        sent[IDEMPOTENCY_HEADER] = idempotency_key
    try:
        with httpx.Client(
            headers=sent, timeout=timeout_s, follow_redirects=False, verify=client_context()
        ) as http:
            resp = http.request(
                plan["method"], url, params=query, json=body if plan["body"] else None
            )
    except httpx.HTTPError as exc:
        raise ToolError(
            f"{label}: the service could not be reached ({describe(exc)})",
            code="tool_source_failed",
        ) from None
    if len(resp.content) > MAX_BYTES:
        raise ToolError(f"{label}: the answer is too large", code="tool_source_failed")
    try:
        data: Any = resp.json()
    except ValueError:
        data = {"text": resp.text[:20_000]}
    if resp.status_code >= 400:
        detail = json.dumps(data)[:500] if not isinstance(data, dict) else _message(data)
        raise ToolError(
            f"{label}: the service answered {resp.status_code}: {detail}",
            code="remote_tool_error",
        )
    return data if isinstance(data, dict) else {"result": data}


def _message(data: dict[str, Any]) -> str:
    for key in ("message", "detail", "error", "text"):
        if key in data:
            return str(data[key])[:500]
    return json.dumps(data)[:500]


__all__ = ["call", "discover", "operations", "parse_document"]
