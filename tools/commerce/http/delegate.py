"""``POST /acp/agentic_commerce/delegate_payment``: the PSP vault's one ACP route.

A thin adapter: headers (``API-Version``, ``Idempotency-Key``, ``Request-Id``, and ``Signature``
+ ``Timestamp`` when the key's platform registered a signing key) are checked here, the rest
is :func:`tools.commerce.vault.service.delegate`. Agent platforms call it with their shopper key
(admins of the tenant may too); merchant keys may not — a merchant never holds the card.
Errors are the delegate API's flat ``Error`` and echo ``Idempotency-Key`` / ``Request-Id``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from cockpit.api.deps import RequestContext, allow
from cockpit.api.routing import api_router
from cockpit.clock import utcnow
from cockpit.tenancy.principal import Role
from tools.commerce.acp.signatures import verify_request
from tools.commerce.acp.wire import RequestMeta, check_version
from tools.commerce.errors import AcpError
from tools.commerce.http.doc import acp_doc
from tools.commerce.platforms import platform_for_key
from tools.commerce.vault.cards import load_or_create_key
from tools.commerce.vault.service import Delegated, delegate
from tools.commerce.vault.wire import DelegatePaymentRequest

router = api_router()

SHOPPERS = frozenset({Role.SHOPPER})
ShopperCtx = Annotated[RequestContext, allow(SHOPPERS)]
"""Agent platforms' shopper keys (and the tenant's admins)."""
VAULT_KEY = "commerce_vault_key"
"""``extras`` entry caching the vault's HMAC key (read from ``<data dir>/vault.key``)."""


def vault_key(ctx: RequestContext) -> bytes:
    key = ctx.extras.get(VAULT_KEY)
    if not isinstance(key, bytes):
        key = ctx.extras[VAULT_KEY] = load_or_create_key(ctx.settings.data_dir / "vault.key")
    return key


async def _body(request: Request, meta: RequestMeta) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise AcpError(
            "the request body must be JSON",
            code="invalid_card",
            status=400,
            param="$",
            headers=meta.echo(),
        ) from None


@router.post(
    "/acp/agentic_commerce/delegate_payment",
    status_code=201,
    openapi_extra=acp_doc(body=DelegatePaymentRequest, post=True, in_flight=False),
)
async def delegate_payment(request: Request, ctx: ShopperCtx) -> Any:
    """Tokenise a card under an allowance (ACP ``delegatePayment``)."""
    meta = RequestMeta.from_headers(request.headers)
    at = utcnow()

    def run(payload: Any) -> Delegated:
        with ctx.db.tenant_session(ctx.principal.tenant_id) as session:
            platform = platform_for_key(session, ctx.principal.key_id)
            jwk = platform.signing_jwk if platform is not None else None
        if jwk:
            verify_request(jwk, meta, payload if isinstance(payload, dict) else None, at=at)
        return delegate(
            ctx.db,
            ctx.principal,
            idempotency_key=meta.idempotency_key,
            payload=payload,
            key=vault_key(ctx),
            at=at,
        )

    try:
        check_version(meta)
        result = await run_in_threadpool(run, await _body(request, meta))
    except AcpError as exc:
        exc.headers = {**meta.echo(), **exc.headers}
        raise
    headers = meta.echo()
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(result.body, status_code=result.status, headers=headers)


__all__ = ["router"]
