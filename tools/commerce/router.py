"""The commerce domain's routes: ACP (checkout, feeds, discovery, delegate payment), AP2
extensions and agent-platform registration, composed from :mod:`tools.commerce.http`."""

from __future__ import annotations

from fastapi import APIRouter

from cockpit.api.routing import add_routes
from tools.commerce.http import ap2, checkout, delegate, platforms, threeds

router = APIRouter()
for part in (checkout, delegate, ap2, platforms, threeds):
    add_routes(router, part.router)

__all__ = ["router"]
