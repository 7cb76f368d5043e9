"""The one place errors become HTTP responses: ``{type, code, message, param}``, never a trace."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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
    body: dict[str, Any] = {"type": type_, "code": code, "message": message, "param": param}
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=status)


def _param(loc: Any) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CockpitError)
    async def _cockpit(_req: Request, exc: CockpitError) -> JSONResponse:
        if exc.status >= 500:
            log.error("server error %s: %s", exc.code, exc.message)
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
                    {"param": _param(e.get("loc", ())), "message": str(e.get("msg"))}
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


__all__ = ["error_response", "install_error_handlers"]
