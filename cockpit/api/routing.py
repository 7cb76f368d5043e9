"""Cockpit's routers: each route guarded at the boundary, built once per process.

Every router is made by :func:`api_router`, so each of its routes runs
:func:`~cockpit.api.limits.check_input` before its own dependencies and body.

:func:`add_routes` puts a router's routes into an app unchanged. FastAPI's ``include_router``
(since 0.137) instead keeps the router and, on an app's first request that reaches it, builds
each of its routes again for that app: the endpoint's signature and dependencies analysed and
its response fields made anew, about 1 ms a route. For Cockpit's ~200 routes that was 0.17
CPU-s in the first requests of every server, worker and test app (measured: 0.165-0.205 s,
against 0.004 s for the next request); with the routes as built at import it is ~0.02 s.
Our routers carry their prefix, tags and guard themselves, so nothing an inclusion would add
is missing, except ``app.dependency_overrides``: it reaches a route only through
``include_router``. Cockpit does not use it; a test app around a single router still can.
"""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute

from cockpit.api.limits import check_input


def api_router(
    *, prefix: str = "", tags: list[str | Enum] | None = None, include_in_schema: bool = True
) -> APIRouter:
    """A router whose every route runs :func:`check_input` first."""
    return APIRouter(
        prefix=prefix,
        tags=tags,
        include_in_schema=include_in_schema,
        dependencies=[Depends(check_input)],
    )


def add_routes(target: APIRouter, source: APIRouter) -> None:
    """Append ``source``'s routes to ``target`` as they are, in order.

    Raises ``TypeError`` for a route that is not an API route made by :func:`api_router`
    (unguarded, or a router that ``source`` included: add that one's routes with this
    function instead), before anything is added.
    """
    for route in source.routes:
        _check(route)
    target.routes.extend(source.routes)


def _check(route: BaseRoute) -> None:
    if not isinstance(route, APIRoute | APIWebSocketRoute):
        raise TypeError(
            f"{type(route).__name__} in a router's routes: add its routes with add_routes"
        )
    first = route.dependencies[0].dependency if route.dependencies else None
    if first is not check_input:
        raise TypeError(
            f"route {route.path} does not run check_input first: make its router with api_router"
        )


__all__ = ["add_routes", "api_router"]
