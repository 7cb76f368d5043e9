"""The one place errors become HTTP responses: ``{type, code, message, param}``, never a trace.

Database errors caused by the values a request carried (a duplicate key, a value too long for
its column, a number out of range, text the database cannot store) are the caller's fault and
map here to 409/422; the transaction they happened in has rolled back, so nothing is
half-written. Every other database error is ours: a 500 that logs, and says nothing more.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from cockpit.api.limits import printable
from cockpit.errors import CockpitError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    404: ("invalid_request_error", "route_not_found", "no such route"),
    405: ("invalid_request_error", "method_not_allowed", "method not allowed on this route"),
    413: ("invalid_request_error", "payload_too_large", "request body is too large"),
    415: ("invalid_request_error", "unsupported_media_type", "send application/json"),
}


def error_response(
    status: int,
    type_: str,
    code: str,
    message: str,
    param: str | None = None,
    details: dict[str, Any] | None = None,
) -> JSONResponse:
    # Messages may echo what the caller sent: escape what JSON-as-UTF-8 cannot carry.
    message, param = printable(message), printable(param) if param is not None else None
    body: dict[str, Any] = {"type": type_, "code": code, "message": message, "param": param}
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=status)


_INTERNAL = (500, "api_error", "internal_error", "internal error; the server log has the details")

# PostgreSQL SQLSTATEs of class 22 (data exception) and 23 (integrity) that a value causes.
_SQLSTATE = {
    "22001": ("value_too_long", "a value is longer than its field allows"),
    "22003": ("number_out_of_range", "a number is out of the range its field allows"),
    "22021": ("invalid_text", "text holds a character the database cannot store"),
    "22P05": ("invalid_text", "text holds a character the database cannot store"),
    "23505": ("already_exists", "a record with this id already exists"),
}


def _dbapi_errors() -> tuple[type[Exception], ...]:
    """Driver errors raised outside SQLAlchemy (e.g. by the LangGraph checkpointers)."""
    found: list[type[Exception]] = [sqlite3.IntegrityError, sqlite3.DataError]
    try:
        import psycopg
    except ImportError:
        return tuple(found)
    return (*found, psycopg.IntegrityError, psycopg.DataError)


def classify_db_error(exc: BaseException) -> tuple[int, str, str, str, str | None]:
    """``(status, type, code, message, param)`` for a database error; 500 unless the request's
    values caused it. Never echoes SQL or the driver's message."""
    orig = exc.orig if isinstance(exc, sa_exc.StatementError) else exc
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    diag = getattr(orig, "diag", None)
    param = getattr(diag, "column_name", None) if diag is not None else None
    text = str(orig)
    integrity = (sa_exc.IntegrityError, sqlite3.IntegrityError)
    data = (sa_exc.DataError, sqlite3.DataError)
    if sqlstate in _SQLSTATE:
        code, message = _SQLSTATE[sqlstate]
    elif "NUL (0x00)" in text:
        code, message = "invalid_text", "text holds a NUL character, which cannot be stored"
    elif isinstance(exc, integrity) or type(orig).__name__ == "IntegrityError":
        if "UNIQUE constraint failed" in text:
            code, message = "already_exists", "a record with this id already exists"
        else:
            code, message = "constraint_violated", "the request breaks a constraint of the data"
    elif isinstance(exc, data) or type(orig).__name__ == "DataError":
        code, message = "invalid_value", "a value cannot be stored in its field"
    elif isinstance(exc, sa_exc.StatementError) and not isinstance(exc, sa_exc.DBAPIError):
        # Raised while binding parameters, before the database saw the statement.
        if not isinstance(orig, ValueError | TypeError | OverflowError):
            return (*_INTERNAL, None)
        code, message = "invalid_value", "a value cannot be stored in its field"
    else:
        return (*_INTERNAL, None)
    status = 409 if code == "already_exists" else 422
    return status, "invalid_request_error", code, message, param


#: Where FastAPI says a value came from: the first part of an error's ``loc``, never a field.
_SOURCES = ("body", "query", "path", "header", "cookie")


def _param(loc: Any) -> str | None:
    """The field an error is about, dotted (``input.messages.0.role``); only the leading
    source is dropped, so a field named like one (``query``, ``path``) is still named."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    return ".".join(parts) or None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CockpitError)
    async def _cockpit(_req: Request, exc: CockpitError) -> JSONResponse:
        if exc.status >= 500:
            log.error("server error %s: %s", exc.code, exc.message)
        wire = exc.wire_body()
        if wire is not None:  # a protocol with its own error shape (ACP)
            return JSONResponse(wire, status_code=exc.status, headers=exc.wire_headers())
        return error_response(
            exc.status, exc.type, exc.code, exc.message, exc.param, exc.details or None
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
        if first.get("type") == "json_invalid":
            return error_response(
                400, "invalid_request_error", "invalid_json", "request body is not valid JSON"
            )
        param = _param(first.get("loc", ()))
        msg = str(first.get("msg", "invalid value"))
        return error_response(
            422,
            "invalid_request_error",
            "validation_failed",
            f"{param}: {msg}" if param else msg,
            param,
            {
                "errors": [
                    {
                        "param": printable(_param(e.get("loc", ())) or ""),
                        "message": str(e.get("msg")),
                    }
                    for e in errors[:20]
                ]
            },
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_, code, default = _HTTP_CODES.get(
            exc.status_code, ("invalid_request_error", f"http_{exc.status_code}", "request failed")
        )
        detail = (
            exc.detail
            if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed")
            else default
        )
        return error_response(exc.status_code, type_, code, detail)

    @app.exception_handler(json.JSONDecodeError)
    async def _bad_json(_req: Request, _exc: json.JSONDecodeError) -> JSONResponse:
        return error_response(
            400, "invalid_request_error", "invalid_json", "request body is not valid JSON"
        )

    @app.exception_handler(Exception)
    async def _unexpected(req: Request, exc: Exception) -> JSONResponse:
        log.error(
            "unhandled error on %s %s: %s",
            req.method,
            req.url.path,
            type(exc).__name__,
            exc_info=exc,
        )
        return error_response(
            500, "api_error", "internal_error", "internal error; the server log has the details"
        )

    async def _database(req: Request, exc: Exception) -> JSONResponse:
        status, type_, code, message, param = classify_db_error(exc)
        if status >= 500:
            return await _unexpected(req, exc)
        log.warning("%s %s refused by the database: %s", req.method, req.url.path, code)
        return error_response(status, type_, code, message, param)

    db_errors: tuple[type[Exception], ...] = (sa_exc.StatementError, *_dbapi_errors())
    for db_error in db_errors:
        app.add_exception_handler(db_error, _database)


__all__ = ["classify_db_error", "error_response", "install_error_handlers"]
