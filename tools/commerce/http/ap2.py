"""AP2 routes: the merchant-signed checkout, the merchants' public keys, the trust list.

* ``GET|POST /acp/checkout_sessions/{id}/ap2/checkout_jwt`` — the merchant signs its OWN
  stored checkout for the session's shopper key: ``{checkout_jwt, checkout_hash, aud, nonce,
  kid}``. Mandates must bind this hash (``aud`` = merchant id, ``nonce`` = ``checkout_hash``).
  Idempotent by content: while the stored checkout's lines and totals are unchanged the same
  JWT is returned; after a change a new one is signed (older ones stop verifying).
* ``GET /acp/ap2/keys`` — the tenant's merchant signing keys as a JWKS: what a shopping agent
  checks checkout JWTs and receipts with.
* ``POST|GET /v1/commerce/ap2/trusted_keys`` (admins) — the root-mandate issuers the tenant
  trusts (users' wallets, agent providers). Decision: a tenant-scoped table of public JWKs, not
  the agent platforms' request-signing keys: who may *issue mandates* (the user's wallet) is a
  different party from who *sends requests* (the agent platform).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cockpit.api.deps import AdminCtx
from cockpit.api.routers._common import services
from cockpit.api.routing import api_router
from cockpit.clock import utcnow
from cockpit.errors import ValidationFailed
from tools.commerce.acp.models import CheckoutSessionRow
from tools.commerce.acp.service import CheckoutService
from tools.commerce.acp.signatures import verify_request
from tools.commerce.acp.wire import check_version
from tools.commerce.ap2 import store
from tools.commerce.ap2.errors import MandateRejected
from tools.commerce.ap2.mandates import binding_view
from tools.commerce.ap2.merchant import issue_checkout_jwt
from tools.commerce.ap2.models import TrustedKey
from tools.commerce.ap2.sdjwt import peek
from tools.commerce.errors import AcpError
from tools.commerce.http.checkout import Reader, meta_of
from tools.commerce.http.doc import acp_doc
from tools.commerce.platforms import platform_for_key
from tools.payments.tx import read_tx, run_tx

router = api_router()
CLOSED = frozenset({"completed", "canceled", "expired"})


def _checkout_jwt(request: Request, ctx: Any, session_id: str) -> dict[str, Any]:
    meta = meta_of(request)
    check_version(meta)
    principal = ctx.principal
    merchant_id = principal.merchant_id
    if merchant_id is None:
        raise AcpError(
            "this key is not bound to a merchant", code="merchant_binding_required", status=403
        )
    at = utcnow()
    checkout = CheckoutService(ctx.db, services(request).extras)

    def sign(s: Session) -> dict[str, Any]:
        platform = platform_for_key(s, principal.key_id)
        if platform is not None and platform.signing_jwk:
            verify_request(platform.signing_jwk, meta, None, at=at)
        body = checkout.stored_checkout(s, session_id)
        owner = _owner(s, session_id)
        if body is None or owner is None or owner[0] != merchant_id:
            raise AcpError("checkout session not found", code="not_found", status=404)
        if principal.role.value == "shopper" and owner[1] != principal.key_id:
            raise AcpError("checkout session not found", code="not_found", status=404)
        if body.get("status") in CLOSED:
            raise AcpError(
                f"the checkout session is {body.get('status')}; nothing to sign",
                code="invalid_state",
            )
        for row in store.issued_for(s, merchant_id=merchant_id, session_id=session_id):
            if binding_view(peek(row.checkout_jwt)[1]) == binding_view(body):
                jwt, digest_ = row.checkout_jwt, row.checkout_hash
                break
        else:
            jwt, digest_ = issue_checkout_jwt(s, merchant_id, body, at=at, key_id=principal.key_id)
        return {
            "checkout_jwt": jwt,
            "checkout_hash": digest_,
            "aud": merchant_id,
            "nonce": digest_,
            "kid": peek(jwt)[0].get("kid"),
        }

    return run_tx(ctx.db, principal.tenant_id, sign)


def _owner(s: Session, session_id: str) -> tuple[str, str] | None:
    row = s.get(CheckoutSessionRow, session_id)
    return None if row is None else (row.merchant_id, row.key_id)


@router.get(
    "/acp/checkout_sessions/{session_id}/ap2/checkout_jwt", openapi_extra=acp_doc(lookup=True)
)
async def get_checkout_jwt(request: Request, ctx: Reader, session_id: str) -> dict[str, Any]:
    """The merchant-signed checkout JWT of this session (AP2 mandates bind its hash)."""
    return await run_in_threadpool(_checkout_jwt, request, ctx, session_id)


@router.post(
    "/acp/checkout_sessions/{session_id}/ap2/checkout_jwt", openapi_extra=acp_doc(lookup=True)
)
async def post_checkout_jwt(request: Request, ctx: Reader, session_id: str) -> dict[str, Any]:
    """Same as GET (kept for clients that POST; idempotent by content)."""
    return await run_in_threadpool(_checkout_jwt, request, ctx, session_id)


@router.get("/acp/ap2/keys", openapi_extra=acp_doc(headers=False))
async def merchant_keys(ctx: Reader) -> dict[str, Any]:
    """The tenant's merchant signing keys (JWKS) with the merchant each belongs to."""

    def read(s: Session) -> dict[str, Any]:
        rows = store.merchant_public_keys(s)
        keys = [{k: v for k, v in row.items() if k != "merchant_id"} for row in rows]
        owners = [{"kid": row["kid"], "merchant_id": row["merchant_id"]} for row in rows]
        return {"keys": keys, "merchants": owners}

    return await run_in_threadpool(read_tx, ctx.db, ctx.principal.tenant_id, read)


class TrustedKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    jwk: dict[str, Any] = Field(description="Public EC P-256 JWK of a mandate issuer")
    label: str = Field(min_length=1, max_length=200)


@router.post("/v1/commerce/ap2/trusted_keys", status_code=201, tags=["commerce"])
def add_trusted_key(body: TrustedKeyIn, ctx: AdminCtx) -> dict[str, Any]:
    """Trust a root-mandate issuer key (a user's wallet or an agent provider)."""
    if "d" in body.jwk:
        raise ValidationFailed("send the public key only", code="private_key_sent", param="jwk")

    def add(s: Session) -> dict[str, Any]:
        try:
            key_id = store.trust_key(s, body.jwk, label=body.label, at=utcnow())
        except MandateRejected as exc:
            raise ValidationFailed(exc.message, code="invalid_jwk", param="jwk") from exc
        return {"id": key_id, "label": body.label, "jwk": body.jwk}

    return run_tx(ctx.db, ctx.principal.tenant_id, add)


@router.get("/v1/commerce/ap2/trusted_keys", tags=["commerce"])
def list_trusted_keys(ctx: AdminCtx) -> dict[str, Any]:
    def read(s: Session) -> dict[str, Any]:
        rows = s.scalars(select(TrustedKey).order_by(TrustedKey.created_at)).all()
        data = [{"id": r.id, "label": r.label, "jwk": r.jwk, "disabled": r.disabled} for r in rows]
        return {"data": data}

    return read_tx(ctx.db, ctx.principal.tenant_id, read)


__all__ = ["router"]
