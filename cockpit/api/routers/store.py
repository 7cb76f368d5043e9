"""``/store`` — the LangGraph store API over :mod:`cockpit.store` (items, search, namespaces).

The caller's key picks the store (its tenant; its merchant for a merchant-bound key), so the
namespaces in a request are always relative to that store.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cockpit.api.deps import StaffCtx
from cockpit.api.limits import MAX_PAGE
from cockpit.api.routers._common import services
from cockpit.api.routing import api_router
from cockpit.store import ItemStore, StoreScope, parse_namespace

router = api_router(prefix="/store", tags=["store"])


class PutItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    namespace: list[str]
    key: str
    value: dict[str, Any]
    index: Any = None
    """``false`` (not searchable by ``query``) or the value's field paths ``query`` reads."""
    ttl: float | None = None
    """Minutes until the item expires (each read restarts the count unless refresh_ttl=false)."""


class DeleteItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    namespace: list[str]
    key: str


class SearchItems(BaseModel):
    model_config = ConfigDict(extra="forbid")
    namespace_prefix: list[str] = Field(default_factory=list)
    filter: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0)
    query: str | None = Field(default=None, max_length=2000)
    """Plain words matched against the values (not semantic search)."""
    refresh_ttl: bool | None = None


class ListNamespaces(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prefix: list[str] | None = None
    suffix: list[str] | None = None
    max_depth: int | None = Field(default=None, ge=1, le=16)
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0)


def _store(request: Request) -> ItemStore:
    return ItemStore(services(request).db)


@router.put("/items", status_code=204, summary="Create or replace an item")
def put_item(request: Request, ctx: StaffCtx, body: PutItem) -> Response:
    _store(request).put(
        StoreScope.of(ctx.principal),
        body.namespace,
        body.key,
        body.value,
        index=body.index,
        ttl=body.ttl,
    )
    return Response(status_code=204)


@router.get("/items", summary="Get an item")
def get_item(
    request: Request,
    ctx: StaffCtx,
    key: str = Query(min_length=1, max_length=255),
    namespace: str = Query("", max_length=1024, description="Labels joined by '.'"),
    refresh_ttl: bool | None = None,
) -> dict[str, Any]:
    return _store(request).get(
        StoreScope.of(ctx.principal),
        parse_namespace(namespace),
        key,
        refresh_ttl=refresh_ttl is not False,
    )


@router.delete("/items", status_code=204, summary="Delete an item")
def delete_item(request: Request, ctx: StaffCtx, body: DeleteItem) -> Response:
    _store(request).delete(StoreScope.of(ctx.principal), body.namespace, body.key)
    return Response(status_code=204)


@router.post("/items/search", summary="Search items under a namespace prefix")
def search_items(request: Request, ctx: StaffCtx, body: SearchItems) -> dict[str, Any]:
    items = _store(request).search(
        StoreScope.of(ctx.principal),
        body.namespace_prefix,
        filter=body.filter,
        query=body.query,
        limit=body.limit,
        offset=body.offset,
        refresh_ttl=body.refresh_ttl is not False,
    )
    return {"items": items}


@router.post("/namespaces", summary="List namespaces")
def list_namespaces(request: Request, ctx: StaffCtx, body: ListNamespaces) -> dict[str, Any]:
    names = _store(request).list_namespaces(
        StoreScope.of(ctx.principal),
        prefix=body.prefix,
        suffix=body.suffix,
        max_depth=body.max_depth,
        limit=body.limit,
        offset=body.offset,
    )
    return {"namespaces": names}
