"""The console is served by the app itself: its page and modules, locked to this server."""

from __future__ import annotations

import re
from pathlib import Path

from cockpit.console import STATIC_DIR
from tests.support.apptest import running_app


def test_the_page_and_its_modules_are_served_with_a_strict_policy(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        page = api.client.get("/console/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        # every module the page and the shell import is there, with a JavaScript type
        for src in re.findall(r'src="/console/static/([^"]+)"', page.text):
            asset = api.client.get(f"/console/static/{src}")
            assert asset.status_code == 200, src
        for name in ("app.js", "api.js", "ui.js", "pages/audit.js"):
            asset = api.client.get(f"/console/static/{name}")
            assert asset.status_code == 200
            assert asset.headers["content-type"].startswith("text/javascript")
        assert api.client.get("/console", follow_redirects=False).headers["location"] == (
            "/console/"
        )


def test_nothing_outside_the_console_folder_is_served(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        for path in (
            "/console/static/../router.py",
            "/console/static/%2e%2e/router.py",
            "/console/static/..%2f..%2fconfig.py",
            "/console/static/missing.js",
            "/console/static/pages",
        ):
            r = api.client.get(path)
            assert r.status_code == 404, path
            body = r.json()
            assert set(body) >= {"type", "code", "message", "param"}, path
            assert str(STATIC_DIR.parent) not in body["message"], "no server path in answers"


def test_no_asset_reaches_for_the_network() -> None:
    """No CDN, no remote font: the console works offline (and under its CSP)."""
    remote = re.compile(r"""(?:src|href|url|import|from)\s*\(?\s*["']https?://""")
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in {".js", ".css", ".html"}:
            assert not remote.search(path.read_text(encoding="utf-8")), path


def test_the_readme_shows_every_console_page_from_the_browser_tests() -> None:
    """The README's pictures are the browser tests' screenshots (COCKPIT_UPDATE_SCREENSHOTS=1)."""
    root = STATIC_DIR.parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    pictures = set(re.findall(r"\(docs/console/([a-z\-]+)\.png\)", readme))
    assert {"dashboard", "chat", "approvals", "agents", "audit"} <= pictures
    taken = "\n".join(p.read_text(encoding="utf-8") for p in (root / "tests/browser").glob("*.py"))
    for name in pictures:
        assert (root / "docs/console" / f"{name}.png").is_file(), name
        assert f'shot(browser, "{name}")' in taken, f"no browser test takes {name}.png"
