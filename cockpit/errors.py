"""Errors by who is at fault, each with a stable code and an HTTP status.

    CockpitError
    ├── UserError            the caller sent something wrong (400)
    │   ├── ValidationFailed     a field failed validation (422)
    │   ├── NotFound             no such object *for this caller* (404)
    │   ├── Conflict             state or idempotency conflict (409)
    │   └── PayloadTooLarge      body over the size limit (413)
    ├── AuthError            missing / invalid / revoked credentials (401)
    ├── PermissionDenied     authenticated, but the role may not do this (403)
    ├── RateLimited          too many calls (429)
    ├── ModelBehaviorError   the model did something invalid
    ├── ToolError            a tool failed while running
    ├── PolicyViolation      a call broke a tool policy (refused, audited)
    ├── ApprovalRequired     a write needs a human decision first
    └── InternalError        our fault (500); never carries a stack trace

The HTTP layer maps every one of these, in one place, to the body
``{"type", "code", "message", "param"}`` with the class's status.
"""

from __future__ import annotations

from typing import Any, ClassVar


class CockpitError(Exception):
    """Base of every error Cockpit raises on purpose."""

    type: ClassVar[str] = "api_error"
    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.param = param
        self.details = details or {}

    def wire_body(self) -> dict[str, Any] | None:
        """A protocol's own error body, when it is not ``{type, code, message, param}``.

        ``None`` (the default) means the standard shape; a protocol error (ACP) overrides it.
        """
        return None

    def wire_headers(self) -> dict[str, str]:
        """Response headers a protocol error carries (``Retry-After``, ``Idempotency-Key``)."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """The wire shape: ``{type, code, message, param}``."""
        body: dict[str, Any] = {
            "type": self.type,
            "code": self.code,
            "message": self.message,
            "param": self.param,
        }
        if self.details:
            body["details"] = self.details
        return body


class UserError(CockpitError):
    type = "invalid_request_error"
    status = 400
    default_code = "invalid_request"


class ValidationFailed(UserError):
    status = 422
    default_code = "validation_failed"


class NotFound(UserError):
    status = 404
    default_code = "not_found"


class Conflict(UserError):
    status = 409
    default_code = "conflict"


class PayloadTooLarge(UserError):
    status = 413
    default_code = "payload_too_large"


class AuthError(CockpitError):
    type = "authentication_error"
    status = 401
    default_code = "invalid_api_key"


class PermissionDenied(CockpitError):
    type = "permission_error"
    status = 403
    default_code = "forbidden"


class RateLimited(CockpitError):
    type = "rate_limit_error"
    status = 429
    default_code = "rate_limited"


class ModelBehaviorError(CockpitError):
    type = "model_error"
    status = 502
    default_code = "model_behavior"


class ToolError(CockpitError):
    type = "tool_error"
    status = 422
    default_code = "tool_failed"


class PolicyViolation(CockpitError):
    type = "policy_error"
    status = 403
    default_code = "policy_violation"


class ApprovalRequired(CockpitError):
    type = "approval_required"
    status = 202
    default_code = "approval_required"


class InternalError(CockpitError):
    type = "api_error"
    status = 500
    default_code = "internal_error"


__all__ = [
    "ApprovalRequired",
    "AuthError",
    "CockpitError",
    "Conflict",
    "InternalError",
    "ModelBehaviorError",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "PolicyViolation",
    "RateLimited",
    "ToolError",
    "UserError",
    "ValidationFailed",
]
