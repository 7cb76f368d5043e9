"""The app's route table, flattened (FastAPI nests included routers), with each route's roles."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts

from cockpit.tenancy.principal import Role


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str
    """The full path as the client calls it (prefixes applied)."""
    roles: frozenset[Role] | None
    """Roles the route admits, read from its context dependency; None when it declares none."""


def _roles(route: APIRoute) -> frozenset[Role] | None:
    todo = list(route.dependant.dependencies)
    while todo:
        dep = todo.pop(0)
        roles = getattr(dep.call, "roles", None)
        if roles is not None:
            return frozenset(roles)
        todo.extend(dep.dependencies)
    return None


def api_routes(app: Any) -> Iterator[RouteInfo]:
    for ctx in iter_route_contexts(app.routes):
        original = ctx.original_route
        if not isinstance(original, APIRoute):
            continue
        for method in sorted(ctx.methods or ()):
            yield RouteInfo(method, str(ctx.path_format or ctx.path), _roles(original))


__all__ = ["RouteInfo", "api_routes"]
