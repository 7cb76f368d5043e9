"""What each ACP route tells the API document: its body, its headers, its error statuses.

The ACP routes read their raw body and headers themselves (the wire shapes and error codes are
ACP's, not FastAPI's), so FastAPI cannot see them. :func:`acp_doc` builds a route's
``openapi_extra`` instead, through the generic keys of :mod:`cockpit.api.openapi`: the request
body is the pydantic model the service validates with (its schemas placed into the components
under an ``Acp`` prefix), the ACP headers are header parameters (``API-Version`` with the
versions this server speaks, ``Idempotency-Key`` on POSTs that run once per key), and the
error statuses are exactly those the route can answer, all in ACP's flat ``Error`` shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from cockpit.api.openapi import ERROR_STATUSES, SCHEMAS
from tools.commerce.acp.wire import IDEMPOTENCY_KEY_MAX, SUPPORTED_VERSIONS
from tools.commerce.errors import OPENAPI_EXTRA

PREFIX = "Acp"
"""Component names of ACP request schemas (``AcpCreateRequest``…): no clash with Cockpit's."""
_REF = "#/components/schemas/" + PREFIX + "{model}"
_OPTIONAL_HEADERS = (
    ("Request-Id", "Echoed on the response, for tracing"),
    (
        "Signature",
        "base64url ES256 over `{Timestamp}.{JCS(body)}`; required when the agent "
        "platform registered a signing key",
    ),
    ("Timestamp", "RFC 3339, within 300 s of the server's clock; sent with Signature"),
    ("Accept-Language", "Preferred language of messages"),
)


def _header(name: str, schema: dict[str, Any], *, required: bool, about: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": about,
        "schema": schema,
    }


def _headers(*, version: bool | None, post: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if version is not False:
        about = "ACP version" + ("" if version else " (checked when sent)")
        schema: dict[str, Any] = {"type": "string", "enum": list(SUPPORTED_VERSIONS)}
        out.append(_header("API-Version", schema, required=bool(version), about=about))
    if post:
        schema = {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX}
        about = "The same key and body replay the first answer; another body is a 422"
        out.append(_header("Idempotency-Key", schema, required=True, about=about))
    for name, about in _OPTIONAL_HEADERS:
        out.append(_header(name, {"type": "string"}, required=False, about=about))
    return out


def _body(body: type[BaseModel] | dict[str, Any], *, required: bool) -> tuple[Any, Any]:
    """The ``requestBody`` and the component schemas it refers to."""
    if isinstance(body, dict):
        return {"required": required, "content": {"application/json": {"schema": body}}}, {}
    found = body.model_json_schema(ref_template=_REF)
    schemas = {PREFIX + name: schema for name, schema in found.pop("$defs", {}).items()}
    name = PREFIX + body.__name__
    schemas[name] = found
    ref = {"$ref": _REF.format(model=body.__name__)}
    return {"required": required, "content": {"application/json": {"schema": ref}}}, schemas


def acp_doc(
    *,
    body: type[BaseModel] | dict[str, Any] | None = None,
    body_required: bool = True,
    post: bool = False,
    in_flight: bool = True,
    version: bool | None = True,
    headers: bool = True,
    lookup: bool = False,
    also: Iterable[int] = (),
) -> dict[str, Any]:
    """The ``openapi_extra`` of one ACP route.

    ``body``: the request body's model (or an inline JSON Schema); ``post``: the route runs once
    per required ``Idempotency-Key`` (400 without one, 422 when reused with another body, and
    409 while the first request is ``in_flight``); ``version``: ``API-Version`` is required
    (True), checked only when sent (None) or not read (False); ``headers``: the route reads the
    ACP headers at all; ``lookup``: it looks something up (404); ``also``: further statuses.
    Every route authenticates (401, 403); a body can be malformed or too large (400, 413) and,
    like an id in the path, fail the boundary checks (422).
    """
    statuses = {401, 403, *also}
    extra: dict[str, Any] = dict(OPENAPI_EXTRA)
    schemas: dict[str, Any] = {}
    if headers:
        extra["parameters"] = _headers(version=version, post=post)
        if version is not False:
            statuses.add(400)
    if body is not None:
        extra["requestBody"], schemas = _body(body, required=body_required)
        statuses |= {400, 413, 422}
    if post:
        statuses |= {400, 422} | ({409} if in_flight else set())
    if lookup:
        statuses |= {404, 422}
    if schemas:
        extra[SCHEMAS] = schemas
    extra[ERROR_STATUSES] = sorted(statuses)
    return extra


__all__ = ["PREFIX", "acp_doc"]
