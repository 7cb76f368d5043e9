"""The app serves the routes its routers built at import, each guarded, not copies per app."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from cockpit.api.limits import check_input
from cockpit.api.routing import add_routes, api_router
from cockpit.app import create_app
from cockpit.config import Settings
from tests.support.apptest import running_app
from tools.payments.router import router as payments_router


def _api_routes(routes: list[object]) -> list[APIRoute]:
    return [r for r in routes if isinstance(r, APIRoute)]


def test_two_apps_share_the_routes_built_at_import(tmp_path: Path) -> None:
    first = create_app(Settings(data_dir=tmp_path / "a"))
    second = create_app(Settings(data_dir=tmp_path / "b"))
    mine, theirs = _api_routes(first.routes), _api_routes(second.routes)
    assert len(mine) > 150
    assert all(a is b for a, b in zip(mine, theirs, strict=True))
    # Every payments route is the object the payments router built, with its prefix.
    ids = {id(r) for r in mine}
    assert all(id(r) in ids for r in _api_routes(payments_router.routes))
    assert all(r.path.startswith("/v1/payments") for r in _api_routes(payments_router.routes))
    # And every route runs the boundary check before anything of its own.
    assert all(r.dependant.dependencies[0].call is check_input for r in mine)


def test_the_shared_routes_still_answer(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        assert api.client.get("/ok").status_code == 200
        anonymous = api.client.get("/v1/payments/payments")
        listed = api.client.get("/v1/payments/payments", headers=api.h(api.admin_key))
        refused = api.client.get("/v1/payments/payments/pay%00x", headers=api.h(api.admin_key))
    assert anonymous.status_code == 401 and anonymous.json()["param"] is None
    assert listed.status_code == 200 and "data" in listed.json()
    assert refused.status_code == 422 and refused.json()["param"] == "payment_id"


def _with_route(router: APIRouter) -> APIRouter:
    @router.get("/x")
    def x() -> dict[str, str]:
        return {}

    return router


def test_an_unguarded_or_nested_router_is_refused_with_what_to_do() -> None:
    target = APIRouter()
    plain = _with_route(APIRouter(prefix="/plain"))
    with pytest.raises(TypeError, match="make its router with api_router"):
        add_routes(target, plain)
    outer = api_router()
    outer.include_router(_with_route(api_router(prefix="/inner")))
    with pytest.raises(TypeError, match="add its routes with add_routes"):
        add_routes(target, outer)
    assert target.routes == []  # nothing half-added
    add_routes(target, _with_route(api_router(prefix="/flat")))
    assert [r.path for r in _api_routes(target.routes)] == ["/flat/x"]
