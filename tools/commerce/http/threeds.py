"""ACP delegate authentication (3-D Secure) routes and the sandbox ACS: thin adapters over
:class:`tools.commerce.threeds.service.DelegateAuthentication`.

``POST /acp/delegate_authentication`` (201), ``POST /acp/delegate_authentication/{id}/
authenticate`` and ``GET /acp/delegate_authentication/{id}`` for agent platforms' shopper keys
(and the tenant's admins); ``POST /acp/3ds/acs/challenge`` is the simulated issuer ACS the
``challenge.acs_url`` points at (a ``CReq`` in, a ``CRes`` out). Errors are ACP's flat shape.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cockpit.api.deps import RequestContext
from cockpit.api.routing import api_router
from cockpit.clock import utcnow
from tools.commerce.errors import AcpError
from tools.commerce.http.checkout import acp_allow, meta_of
from tools.commerce.http.doc import acp_doc
from tools.commerce.threeds.service import CHALLENGE_PATH, DRIVERS, DelegateAuthentication
from tools.commerce.threeds.wire import AuthenticateIn, CreateIn

router = api_router()
Driver = Annotated[RequestContext, acp_allow(DRIVERS)]
BASE = "/acp/delegate_authentication"
CREQ_BODY = {
    "type": "object",
    "required": ["creq"],
    "properties": {"creq": {"type": "string", "description": "base64url of the EMV 3DS CReq"}},
}


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise AcpError("the request body must be a JSON object", code="invalid_request")
    return data


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _service(ctx: RequestContext) -> DelegateAuthentication:
    return DelegateAuthentication(ctx.db)


def _reply(resp: Any) -> JSONResponse:
    return JSONResponse(resp.body, status_code=resp.status, headers=resp.headers)


@router.post(BASE, status_code=201, openapi_extra=acp_doc(body=CreateIn, post=True))
async def create_authentication_session(request: Request, ctx: Driver) -> JSONResponse:
    """Start 3-D Secure for a delegated token (ACP ``createAuthenticationSession``)."""
    body = await _body(request)
    svc, meta = _service(ctx), meta_of(request)
    return _reply(
        await run_in_threadpool(
            svc.create, ctx.principal, meta, body, base_url=_base(request), at=utcnow()
        )
    )


@router.post(
    f"{BASE}/{{authentication_session_id}}/authenticate",
    openapi_extra=acp_doc(body=AuthenticateIn, post=True, lookup=True),
)
async def authenticate_session(
    authentication_session_id: str, request: Request, ctx: Driver
) -> JSONResponse:
    """Report the 3DS Method result and run the authentication (``authenticateSession``)."""
    body = await _body(request)
    svc, meta = _service(ctx), meta_of(request)
    return _reply(
        await run_in_threadpool(
            svc.authenticate,
            ctx.principal,
            meta,
            authentication_session_id,
            body,
            base_url=_base(request),
            at=utcnow(),
        )
    )


@router.get(f"{BASE}/{{authentication_session_id}}", openapi_extra=acp_doc(lookup=True))
async def get_authentication_session(
    authentication_session_id: str, request: Request, ctx: Driver
) -> JSONResponse:
    """The session and, once final, its result (``getAuthenticationSession``)."""
    svc, meta = _service(ctx), meta_of(request)
    return _reply(
        await run_in_threadpool(
            svc.retrieve,
            ctx.principal,
            meta,
            authentication_session_id,
            base_url=_base(request),
            at=utcnow(),
        )
    )


@router.post(CHALLENGE_PATH, openapi_extra=acp_doc(body=CREQ_BODY, version=False, lookup=True))
async def sandbox_acs_challenge(request: Request, ctx: Driver) -> JSONResponse:
    """The sandbox issuer ACS: the cardholder's challenge answer (EMV 3DS ``CReq``)."""
    body = await _body(request)
    svc, meta = _service(ctx), meta_of(request)
    return _reply(await run_in_threadpool(svc.challenge, ctx.principal, meta, body, at=utcnow()))


__all__ = ["router"]
