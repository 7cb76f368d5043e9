"""ACP REST surface: checkout sessions, product feeds and discovery (thin adapters).

``/acp/checkout_sessions…`` and ``/acp/feeds…`` call :class:`CheckoutService` and
:mod:`tools.commerce.acp.feed`; ``/.well-known/acp.json`` is public. Authentication and the
role check fail in ACP's flat error shape (401/403 :class:`AcpError`), and declare their roles
like every route (``.roles`` on the dependency): checkout writes are for shopper keys, reads
for shopper and merchant keys; the service then requires a merchant binding. Handlers are
``async`` and run the synchronous service in the thread pool.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cockpit.api.deps import RequestContext, request_context
from cockpit.api.routing import api_router
from cockpit.clock import utcnow
from cockpit.errors import AuthError, PermissionDenied
from cockpit.tenancy import rights
from cockpit.tenancy.principal import Role
from tools.commerce.acp import feed as feeds
from tools.commerce.acp.discovery import CACHE_CONTROL, discovery
from tools.commerce.acp.feed import CreateFeedIn, UpsertIn
from tools.commerce.acp.idempotency import run_once
from tools.commerce.acp.requests import CancelRequest, CompleteRequest, CreateRequest, UpdateRequest
from tools.commerce.acp.service import READERS, WRITERS, CheckoutService
from tools.commerce.acp.wire import AcpResponse, RequestMeta, check_version, reject_html
from tools.commerce.errors import AcpError
from tools.commerce.http.doc import acp_doc

router = api_router()
BASE = "/acp"
FEED_WRITERS = frozenset({Role.MERCHANT, Role.ADMIN})


def acp_allow(roles: frozenset[Role]) -> Any:
    """Like :func:`cockpit.api.deps.allow`, answering in ACP's error shape."""

    async def check(request: Request) -> RequestContext:
        try:
            ctx = await request_context(request)
            rights.require(ctx.principal, roles)
        except AuthError as exc:
            raise AcpError(exc.message, code=exc.code, status=401) from None
        except PermissionDenied as exc:
            raise AcpError(exc.message, code=exc.code, status=403) from None
        return ctx

    check.roles = roles  # type: ignore[attr-defined]
    return Depends(check)


Writer = Annotated[RequestContext, acp_allow(WRITERS)]
Reader = Annotated[RequestContext, acp_allow(READERS)]
FeedWriter = Annotated[RequestContext, acp_allow(FEED_WRITERS)]


def meta_of(request: Request) -> RequestMeta:
    return RequestMeta.from_headers(request.headers)


async def _body(request: Request, *, optional: bool = False) -> dict[str, Any] | None:
    raw = await request.body()
    if not raw.strip():
        if optional:
            return None
        raise AcpError("a JSON body is required", code="invalid_request")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise AcpError("request body is not valid JSON", code="invalid_json") from None
    if not isinstance(data, dict):
        raise AcpError("the request body must be a JSON object", code="invalid_request")
    return data


def _reply(resp: AcpResponse) -> JSONResponse:
    return JSONResponse(resp.body, status_code=resp.status, headers=resp.headers)


def _service(ctx: RequestContext) -> CheckoutService:
    return CheckoutService(ctx.db, ctx.extras)


async def _call(fn: Callable[..., AcpResponse], *args: Any) -> JSONResponse:
    return _reply(await run_in_threadpool(fn, *args, at=utcnow()))


# ---- discovery --------------------------------------------------------------------------


@router.get("/.well-known/acp.json", include_in_schema=True)
async def acp_discovery(request: Request) -> JSONResponse:
    base = str(request.base_url).rstrip("/")
    return JSONResponse(discovery(base), headers={"Cache-Control": CACHE_CONTROL})


# ---- checkout sessions ------------------------------------------------------------------


@router.post(
    f"{BASE}/checkout_sessions",
    status_code=201,
    openapi_extra=acp_doc(body=CreateRequest, post=True),
)
async def create_checkout_session(request: Request, ctx: Writer) -> JSONResponse:
    body = await _body(request)
    return await _call(_service(ctx).create, ctx.principal, meta_of(request), body)


@router.get(f"{BASE}/checkout_sessions/{{checkout_session_id}}", openapi_extra=acp_doc(lookup=True))
async def get_checkout_session(
    checkout_session_id: str, request: Request, ctx: Reader
) -> JSONResponse:
    return await _call(_service(ctx).get, ctx.principal, meta_of(request), checkout_session_id)


@router.post(
    f"{BASE}/checkout_sessions/{{checkout_session_id}}",
    openapi_extra=acp_doc(body=UpdateRequest, post=True, lookup=True),
)
async def update_checkout_session(
    checkout_session_id: str, request: Request, ctx: Writer
) -> JSONResponse:
    body = await _body(request)
    svc = _service(ctx)
    return await _call(svc.update, ctx.principal, meta_of(request), checkout_session_id, body)


@router.post(
    f"{BASE}/checkout_sessions/{{checkout_session_id}}/complete",
    openapi_extra=acp_doc(body=CompleteRequest, post=True, lookup=True),
)
async def complete_checkout_session(
    checkout_session_id: str, request: Request, ctx: Writer
) -> JSONResponse:
    body = await _body(request)
    svc = _service(ctx)
    return await _call(svc.complete, ctx.principal, meta_of(request), checkout_session_id, body)


@router.post(
    f"{BASE}/checkout_sessions/{{checkout_session_id}}/cancel",
    openapi_extra=acp_doc(
        body=CancelRequest, body_required=False, post=True, lookup=True, also=(405,)
    ),
)
async def cancel_checkout_session(
    checkout_session_id: str, request: Request, ctx: Writer
) -> JSONResponse:
    body = await _body(request, optional=True)
    svc = _service(ctx)
    return await _call(svc.cancel, ctx.principal, meta_of(request), checkout_session_id, body)


# ---- feeds --------------------------------------------------------------------------------


def _feed_guard(ctx: RequestContext, meta: RequestMeta, body: Any = None) -> str:
    """The caller's merchant; ``API-Version`` is checked when sent (the feed API names none)."""
    if meta.api_version is not None:
        check_version(meta)
    if ctx.principal.merchant_id is None:
        raise AcpError(
            "this key is not bound to a merchant; feeds are read with a merchant-bound key",
            code="merchant_binding_required",
            status=403,
        )
    if body is not None:
        reject_html(body)
    return ctx.principal.merchant_id


@router.post(
    f"{BASE}/feeds",
    status_code=201,
    openapi_extra=acp_doc(body=CreateFeedIn, body_required=False, post=True, version=None),
)
async def create_feed(request: Request, ctx: FeedWriter) -> JSONResponse:
    meta = meta_of(request)
    body = await _body(request, optional=True)
    merchant_id = _feed_guard(ctx, meta, body)

    def run(*, at: Any) -> AcpResponse:
        return run_once(
            ctx.db,
            ctx.principal,
            meta,
            "/feeds",
            body,
            lambda s: (201, feeds.create_feed(s, merchant_id, body, at=at)),
            at=at,
        )

    return _reply(await run_in_threadpool(run, at=utcnow()))


@router.get(f"{BASE}/feeds/{{feed_id}}", openapi_extra=acp_doc(version=None, lookup=True))
async def get_feed(feed_id: str, request: Request, ctx: Reader) -> JSONResponse:
    merchant_id = _feed_guard(ctx, meta_of(request))

    def run() -> dict[str, Any]:
        with ctx.db.tenant_session(ctx.principal.tenant_id) as s:
            return feeds.metadata(feeds.load_feed(s, feed_id, merchant_id))

    return JSONResponse(await run_in_threadpool(run))


@router.get(f"{BASE}/feeds/{{feed_id}}/products", openapi_extra=acp_doc(version=None, lookup=True))
async def get_feed_products(feed_id: str, request: Request, ctx: Reader) -> JSONResponse:
    merchant_id = _feed_guard(ctx, meta_of(request))

    def run() -> dict[str, Any]:
        with ctx.db.tenant_session(ctx.principal.tenant_id) as s:
            feeds.load_feed(s, feed_id, merchant_id)
            return {"products": feeds.products_json(s, merchant_id)}

    return JSONResponse(await run_in_threadpool(run))


@router.patch(
    f"{BASE}/feeds/{{feed_id}}/products",
    openapi_extra=acp_doc(body=UpsertIn, version=None, lookup=True),
)
async def upsert_feed_products(feed_id: str, request: Request, ctx: FeedWriter) -> JSONResponse:
    body = await _body(request)
    merchant_id = _feed_guard(ctx, meta_of(request), body)

    def run(*, at: Any) -> dict[str, Any]:
        with ctx.db.tenant_session(ctx.principal.tenant_id) as s:
            feed = feeds.load_feed(s, feed_id, merchant_id)
            return feeds.upsert_products(s, feed, body, at=at)

    return JSONResponse(await run_in_threadpool(run, at=utcnow()))


__all__ = ["acp_allow", "meta_of", "router"]
