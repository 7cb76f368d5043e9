"""Request paths that read the database do it in a worker thread, not on the event loop.

Every async handler and background loop of a server shares its event loop; a synchronous
database call made there stalls all of them while the database answers. These paths once did:
authenticating a key the cache had not admitted (every unknown, wrong or revoked key, so a
stream of bad keys stalled the server), the ``/ok`` probe, the approvals inbox, and in all about
40 of the app's ~100 GET routes.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.support.apptest import Api, running_app
from tests.support.loopguard import LoopWatch, statements_on_the_loop
from tests.support.routes import api_routes


@pytest.fixture
def api(tmp_path: Path, migrated_backend_url: str) -> Iterator[Api]:
    with running_app(tmp_path, migrated_backend_url) as running:
        yield running


def _engine(api: Api) -> Engine:
    engine: Engine = api.client.app.state.services.db.engine  # type: ignore[attr-defined]
    return engine


def _probe_requests(engine: Engine) -> None:
    """One async handler that runs SQL on the loop, one plain handler that runs it in a worker
    thread, then a background coroutine that runs it on a loop of its own."""
    probe = FastAPI()

    @probe.get("/on-the-loop")
    async def on_the_loop() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT 1")).scalar_one())

    @probe.get("/in-a-thread")
    def in_a_thread() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT 2")).scalar_one())

    async def a_background_loop() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 3"))

    with TestClient(probe) as client:
        assert client.get("/on-the-loop").json() == 1
        assert client.get("/in-a-thread").json() == 2
    asyncio.run(a_background_loop())


@pytest.mark.sql_on_the_loop
def test_the_guard_sees_what_an_async_handler_runs_and_nothing_else(api: Api) -> None:
    engine = _engine(api)
    with statements_on_the_loop(engine) as seen:
        _probe_requests(engine)
    assert seen == ["SELECT 1"]


@pytest.mark.sql_on_the_loop
def test_the_suite_wide_watch_names_the_route_and_spares_the_runtime(api: Api) -> None:
    """``tests/conftest.py`` fails any test whose requests did what ``/on-the-loop`` does."""
    key = api.tenant("acme")
    watch = LoopWatch()
    watch.install()
    try:
        _probe_requests(_engine(api))
        # The runtime's bookkeeping (here: a thread's row): on the loop by design on SQLite, in
        # a worker thread on PostgreSQL.
        made = api.client.post("/threads", json={}, headers=api.h(key))
    finally:
        watch.uninstall()
    assert made.status_code == 200, made.text
    [seen] = watch.take()
    assert "on_the_loop <- " in seen
    assert seen.endswith(": SELECT 1")
    assert watch.take() == []


def test_a_key_the_cache_has_not_admitted_is_read_off_the_loop(api: Api) -> None:
    fresh = api.tenant("acme")
    # Well-formed (12 characters of id, 32 of secret), and issued to nobody.
    unknown = f"ck_{secrets.token_hex(6)}_{secrets.token_urlsafe(24)}"
    with statements_on_the_loop(_engine(api)) as seen:
        me = api.client.get("/v1/me", headers=api.h(fresh))
        refused = api.client.get("/v1/me", headers=api.h(unknown))
    assert me.status_code == 200, me.text
    assert me.json()["tenant_id"] == "acme"
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_api_key"
    assert seen == []


def test_the_liveness_probe_reads_off_the_loop(api: Api) -> None:
    with statements_on_the_loop(_engine(api)) as seen:
        ok = api.client.get("/ok")
    assert ok.json() == {"ok": True}
    assert seen == []


def test_the_approvals_inbox_reads_off_the_loop(api: Api) -> None:
    key = api.tenant("acme")
    with statements_on_the_loop(_engine(api)) as seen:
        listed = api.client.get("/v1/approvals", params={"status": "all"}, headers=api.h(key))
        missing = api.client.get("/v1/approvals/apr_nothing", headers=api.h(key))
    assert listed.status_code == 200, listed.text
    assert listed.json() == []
    assert missing.status_code == 404
    assert missing.json()["code"] == "approval_not_found"
    assert seen == []


def test_no_get_route_reads_on_the_loop(api: Api) -> None:
    """Every GET route of the app, with ids nobody has (their lookups run all the same)."""
    key = api.tenant("acme")
    engine = _engine(api)
    on_the_loop = {}
    for route in api_routes(api.client.app):
        if route.method != "GET":
            continue
        path = re.sub(r"\{[^}]+\}", "nothing_here", route.path)
        with statements_on_the_loop(engine) as seen:
            answer = api.client.get(path, headers=api.h(key))
        assert answer.status_code < 500, (route.path, answer.text)
        if seen:
            on_the_loop[route.path] = seen
    assert on_the_loop == {}


def test_a_threads_state_history_and_runs_are_read_off_the_loop(api: Api) -> None:
    key = api.tenant("acme")
    thread = api.client.post("/threads", json={}, headers=api.h(key)).json()["thread_id"]
    api.say(key, thread, "hello")
    run = api.client.get(f"/threads/{thread}/runs", headers=api.h(key)).json()[0]["run_id"]
    reads = (
        f"/threads/{thread}",
        f"/threads/{thread}/state",
        f"/threads/{thread}/history",
        f"/threads/{thread}/runs",
        f"/threads/{thread}/runs/{run}",
        f"/threads/{thread}/runs/{run}/join",
    )
    with statements_on_the_loop(_engine(api)) as seen:
        answers = {path: api.client.get(path, headers=api.h(key)) for path in reads}
    assert {path: a.status_code for path, a in answers.items()} == dict.fromkeys(reads, 200)
    assert answers[f"/threads/{thread}/runs/{run}"].json()["status"] == "success"
    assert seen == []
