"""What a request may carry, checked at the boundary before any handler or database sees it.

* :class:`BodySizeLimit` (ASGI middleware): the body is read up front (it is at most
  ``max_bytes``), so an oversized request is refused with 413 before anything runs.
* :func:`check_input` (a dependency every route runs first: routers are made by
  :func:`cockpit.api.routing.api_router`): text in the path, the query and a JSON body holds
  no NUL and no unpaired surrogate (neither database can store them); ids in the path are
  at most 64 characters of :data:`ID_CHARS`; integers fit int64 and numbers are finite.
  Each refusal is a 422 naming the field.

This module must never touch the database or depend on who the caller is: it judges the
shape of the request alone. What still gets past it is mapped in ``cockpit.api.errors``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, get_args

from fastapi import Query, Request
from fastapi.dependencies.models import Dependant
from starlette.convertors import PathConvertor, StringConvertor
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cockpit.errors import ValidationFailed

MAX_ID_LENGTH = 64
"""Longest id accepted in a path segment (ids are stored in columns of this size)."""
ID_CHARS = "A-Za-z0-9._:@+=~-"
ID_PATTERN = f"^[{ID_CHARS}]{{1,{MAX_ID_LENGTH}}}$"
"""Ids in paths: letters, digits and ``. _ : @ + = ~ -`` (``agent@v2``, IPv6 entity ids)."""
MAX_PATH_ID_LENGTH = 256
"""``{name:path}`` parameters (document ids) may hold ``/`` and be longer, never control chars."""
PATH_ID_PATTERN = f"^[^\\x00-\\x1f\\x7f]{{1,{MAX_PATH_ID_LENGTH}}}$"
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

MAX_PAGE = 1000
"""Largest page a list route returns (the LangGraph server's bound for ``limit``)."""

PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="How many items, 1-1000")]
"""A ``limit`` query parameter: outside 1..1000 is a 422, never silently clamped."""
Offset = Annotated[int, Query(ge=0, le=INT64_MAX, description="How many items to skip")]
"""An ``offset`` (or sequence cursor) query parameter: 0..int64."""

_ID = re.compile(ID_PATTERN)
_PATH_ID = re.compile(PATH_ID_PATTERN)
_JSON_TYPES = ("application/json", "application/merge-patch+json")


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


def printable(text: str) -> str:
    """``text`` with NULs and unpaired surrogates escaped, so an error can name it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "an unpaired surrogate (not valid Unicode)"
    return None


def check_text(text: str, param: str | None) -> None:
    """422 ``invalid_text`` if ``text`` holds a NUL or an unpaired surrogate."""
    problem = _bad_text(text)
    if problem is not None:
        name = printable(param) if param else None
        raise ValidationFailed(
            f"{name}: text must not contain {problem}" if name else f"text contains {problem}",
            code="invalid_text",
            param=name,
        )


def check_int(value: int, param: str | None) -> None:
    """422 ``integer_out_of_range`` unless ``value`` fits a signed 64-bit integer."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValidationFailed(
            f"{param or 'value'}: integers must be between {INT64_MIN} and {INT64_MAX}",
            code="integer_out_of_range",
            param=param,
        )


def check_json(data: Any) -> None:
    """Every key and string, integer and number of a parsed JSON document (iteratively: a
    deeply nested body must not blow the stack)."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        param = path or None
        if isinstance(value, str):
            check_text(value, param)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            check_int(value, param)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValidationFailed(
                    f"{param or 'value'}: numbers must be finite",
                    code="number_not_finite",
                    param=param,
                )
        elif isinstance(value, dict):
            for k, v in value.items():
                child = f"{path}.{k}" if path else str(k)
                check_text(str(k), child)
                stack.append((v, child))
        elif isinstance(value, list):
            stack.extend((v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(value))


def _check_path(name: str, value: Any, convertor: Any) -> None:
    if not isinstance(value, str) or not isinstance(convertor, StringConvertor | PathConvertor):
        check_text(str(value), name)
        return
    if isinstance(convertor, PathConvertor):
        ok, rule = _PATH_ID.fullmatch(value), f"1-{MAX_PATH_ID_LENGTH} printable characters"
    else:
        ok, rule = _ID.fullmatch(value), f"1-{MAX_ID_LENGTH} characters of {ID_CHARS}"
    if not ok:
        raise ValidationFailed(f"{name}: an id is {rule}", code="invalid_id", param=name)


def _int_query_names(dependant: Dependant) -> frozenset[str]:
    """Query parameters declared as integers by a route or any of its dependencies."""
    names: set[str] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        for field in current.query_params:
            annotation = field.field_info.annotation
            if annotation is int or int in get_args(annotation):
                names.add(field.alias)
        stack.extend(current.dependencies)
    return frozenset(names)


_INT_QUERIES: dict[int, tuple[Dependant, frozenset[str]]] = {}
"""Per route dependant (kept alive with its entry, so its id is never reused)."""


def _check_query_int(name: str, raw: str) -> None:
    digits = raw.strip().removeprefix("-").removeprefix("+")
    if digits.isascii() and digits.isdigit() and (len(digits) > 19 or not _fits_int64(raw)):
        check_int(INT64_MAX + 1, name)


def _fits_int64(raw: str) -> bool:
    return INT64_MIN <= int(raw) <= INT64_MAX


async def check_input(request: Request) -> None:
    """The route-aware boundary check every route runs before its own parameters and body."""
    route = request.scope.get("route")
    convertors = getattr(route, "param_convertors", {})
    for name, value in request.path_params.items():
        _check_path(name, value, convertors.get(name))
    dependant = getattr(route, "dependant", None)
    ints = frozenset[str]()
    if isinstance(dependant, Dependant):
        cached = _INT_QUERIES.get(id(dependant))
        if cached is None:
            cached = _INT_QUERIES.setdefault(
                id(dependant), (dependant, _int_query_names(dependant))
            )
        ints = cached[1]
    for name, value in request.query_params.multi_items():
        check_text(name, name)
        check_text(value, name)
        if name in ints:
            _check_query_int(name, value)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method in ("GET", "HEAD", "OPTIONS") or (ctype and ctype not in _JSON_TYPES):
        return
    raw = await request.body()
    if not raw:
        return
    try:
        data = await request.json()
    except ValueError:
        return  # not JSON: the route's own parsing reports it
    check_json(data)


__all__ = [
    "ID_PATTERN",
    "INT64_MAX",
    "INT64_MIN",
    "MAX_ID_LENGTH",
    "MAX_PAGE",
    "PATH_ID_PATTERN",
    "BodySizeLimit",
    "Offset",
    "PageLimit",
    "check_input",
    "check_json",
    "check_text",
    "printable",
]
