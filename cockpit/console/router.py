"""Serve the console: ``/console`` (the page) and ``/console/static/…`` (its modules).

Nothing here reads data: every figure on a page comes from the REST API, called by the
browser with the key it signed in with.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse, RedirectResponse, Response

from cockpit.api.routing import api_router
from cockpit.errors import NotFound

STATIC_DIR = Path(__file__).parent / "static"

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
#: The console loads only its own files and talks only to this server.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = api_router(include_in_schema=False)


@router.get("/console")
async def console_root() -> Response:
    return RedirectResponse("/console/", status_code=307)


@router.get("/console/")
async def console_page() -> Response:
    return _file(STATIC_DIR / "index.html")


@router.get("/console/static/{path:path}")
async def console_asset(path: str) -> Response:
    target = (STATIC_DIR / path).resolve()
    if STATIC_DIR.resolve() not in target.parents or not target.is_file():
        raise NotFound(f"no console file {path!s}", code="console_file_not_found")
    return _file(target)


def _file(path: Path) -> Response:
    media = _TYPES.get(path.suffix)
    if media is None:
        raise NotFound(f"no console file {path.name}", code="console_file_not_found")
    return FileResponse(path, media_type=media, headers=_HEADERS)
