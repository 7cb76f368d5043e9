"""The ACP wire error: ``Error {type, code, message, param?, supported_versions?}``, flat.

ACP's error shape differs from Cockpit's (``type`` is ``invalid_request``,
``processing_error``, ``service_unavailable``, or ``rate_limit_exceeded`` on delegate payment;
``param`` is an RFC 9535 JSONPath and absent rather than null), so ACP code raises
:class:`AcpError` and the app's one error handler answers it in that shape
(:meth:`wire_body`). It is a :class:`~cockpit.errors.CockpitError`, so the same failure reached
through MCP or an agent tool keeps its code and status.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cockpit.errors import CockpitError


class AcpErrorBody(BaseModel):
    """The flat ACP ``Error`` body, as the API document publishes it."""

    model_config = ConfigDict(title="AcpError")
    type: str = Field(description="invalid_request, processing_error, service_unavailable, …")
    code: str = Field(description="Stable machine-readable code")
    message: str
    param: str | None = Field(None, description="RFC 9535 JSONPath of the offending field")
    supported_versions: list[str] | None = None


OPENAPI_EXTRA: dict[str, Any] = {"x-error-schema": AcpErrorBody.model_json_schema()}
"""``openapi_extra`` of every ACP route: its errors are :class:`AcpErrorBody`, not Cockpit's."""


class AcpError(CockpitError):
    """An HTTP-level ACP error (used only when no valid session can be returned)."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int = 400,
        type: str = "invalid_request",
        param: str | None = None,
        supported_versions: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, code=code, param=param)
        self.status = status  # type: ignore[misc]  # ACP picks the status per case
        self.type = type  # type: ignore[misc]
        self.supported_versions = supported_versions
        self.headers = dict(headers or {})

    def wire_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "code": self.code, "message": self.message}
        if self.param is not None:
            body["param"] = self.param
        if self.supported_versions is not None:
            body["supported_versions"] = list(self.supported_versions)
        return body

    def wire_headers(self) -> dict[str, str]:
        return dict(self.headers)


__all__ = ["OPENAPI_EXTRA", "AcpError", "AcpErrorBody"]
