"""Who may run an ACP checkout operation, and which checkout sessions a caller can see.

:func:`guard` runs before any operation, in this order: ``API-Version``; the key's role; that
the key is bound to a merchant; that its agent platform is not disabled; the platform's request
signature when it registered a key; on writes the ``Idempotency-Key``; no raw HTML in text.
:func:`load_session` finds a session only within the caller's merchant, and for a shopper key
only the sessions that key created: another's is 404, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.db.session import Database
from cockpit.tenancy.principal import Principal, Role
from tools.commerce.acp.models import CheckoutSessionRow
from tools.commerce.acp.signatures import verify_request
from tools.commerce.acp.wire import RequestMeta, check_version, reject_html, require_idempotency_key
from tools.commerce.errors import AcpError
from tools.commerce.platforms import platform_for_key

WRITERS = frozenset({Role.SHOPPER, Role.ADMIN})
READERS = frozenset({Role.SHOPPER, Role.MERCHANT, Role.ADMIN})


def echoed(exc: AcpError, meta: RequestMeta) -> AcpError:
    """``exc`` carrying the request's echo headers (its own headers win)."""
    exc.headers = {**meta.echo(), **exc.headers}
    return exc


def guard(
    db: Database,
    principal: Principal,
    meta: RequestMeta,
    payload: Mapping[str, Any] | None,
    *,
    roles: frozenset[Role],
    at: datetime,
    write: bool = True,
) -> None:
    """Raise the first check the request fails, with the echo headers; nothing has run yet."""
    try:
        check_version(meta)
        if principal.role not in roles:
            raise AcpError(
                f"a {principal.role.value} key may not do this on the ACP checkout",
                code="role_required",
                status=403,
            )
        if principal.merchant_id is None:
            raise AcpError(
                "this key is not bound to a merchant; ACP checkout needs a merchant-bound key",
                code="merchant_binding_required",
                status=403,
            )
        with db.tenant_session(principal.tenant_id) as s:
            platform = platform_for_key(s, principal.key_id)
            jwk = None if platform is None else platform.signing_jwk
            disabled = platform is not None and platform.disabled
        if disabled:
            raise AcpError("this agent platform is disabled", code="platform_disabled", status=403)
        if jwk:
            verify_request(jwk, meta, payload, at=at)
        if write:
            require_idempotency_key(meta)
        if payload is not None:
            reject_html(payload)
    except AcpError as exc:
        raise echoed(exc, meta) from None


def load_session(
    s: Session, principal: Principal, session_id: str, *, lock: bool
) -> CheckoutSessionRow:
    """The caller's session (locked for update when ``lock``), else 404."""
    query = select(CheckoutSessionRow).where(
        CheckoutSessionRow.id == session_id,
        CheckoutSessionRow.merchant_id == principal.merchant_id,
    )
    row = s.scalar(query.with_for_update() if lock else query)
    if row is None or (principal.role is Role.SHOPPER and row.key_id != principal.key_id):
        raise AcpError(
            f"checkout session {session_id} not found",
            code="checkout_session_not_found",
            status=404,
        )
    return row


__all__ = ["READERS", "WRITERS", "echoed", "guard", "load_session"]
