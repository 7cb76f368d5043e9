"""Text, ids and integers are checked at the boundary: 422 naming the field, on SQLite and PostgreSQL.

Each case here was a 500 once (issue 13, finding 8): a lone surrogate or a NUL in a JSON string,
``%00`` or an id longer than 64 characters in a path, ``limit`` out of 1..1000, integers beyond
int64 in a query or a body. Database errors that still get through map to 4xx in one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

from cockpit.api.errors import install_error_handlers
from tests.support.apptest import Api, running_app

BIG = "9" * 20  # beyond int64


@pytest.fixture(scope="module")
def api(module_database_url: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    backend = "sqlite" if module_database_url is None else "postgres"
    with running_app(tmp_path_factory.mktemp(f"boundary-{backend}"), module_database_url) as a:
        yield a


@pytest.fixture(scope="module")
def key(api: Api) -> str:
    return api.tenant("boundary")


def _err(r: httpx.Response, status: int, code: str, param: str | None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert set(body) >= {"type", "code", "message", "param"}, body
    assert (body["code"], body["param"]) == (code, param), body
    assert "Traceback" not in r.text
    return body


def _json(api: Api, key: str, method: str, path: str, raw: bytes) -> httpx.Response:
    headers = {**api.h(key), "content-type": "application/json"}
    return api.client.request(method, path, content=raw, headers=headers)


def test_lone_surrogates_in_json_strings_are_refused(api: Api, key: str) -> None:
    before = api.client.post("/threads/count", json={}, headers=api.h(key)).json()
    r = _json(api, key, "POST", "/threads", b'{"metadata": {"description": "x\\ud800"}}')
    _err(r, 422, "invalid_text", "metadata.description")
    r = _json(api, key, "POST", "/threads", b'{"metadata": {"\\udc00": 1}}')
    _err(r, 422, "invalid_text", "metadata.\\udc00")  # the name itself is escaped
    tid = api.client.post("/threads", json={}, headers=api.h(key)).json()["thread_id"]
    raw = b'{"assistant_id": "spine", "input": {"messages": [{"role": "user", "content": "\\ud83d"}]}}'
    r = _json(api, key, "POST", f"/threads/{tid}/runs/wait", raw)
    _err(r, 422, "invalid_text", "input.messages.0.content")
    # Nothing was written: one thread more (the one made above), and it has no runs.
    assert api.client.post("/threads/count", json={}, headers=api.h(key)).json() == before + 1
    assert api.client.get(f"/threads/{tid}/runs", headers=api.h(key)).json() == []


def test_nul_in_json_strings_is_refused(api: Api, key: str) -> None:
    keys_before = len(api.client.get("/v1/keys", headers=api.h(key)).json())
    r = api.client.post("/v1/keys", json={"role": "admin", "name": "a\x00b"}, headers=api.h(key))
    _err(r, 422, "invalid_text", "name")
    assert len(api.client.get("/v1/keys", headers=api.h(key)).json()) == keys_before
    r = api.client.post("/threads", json={"metadata": {"a": ["ok", "b\x00"]}}, headers=api.h(key))
    _err(r, 422, "invalid_text", "metadata.a.1")
    r = api.client.post("/threads/search", json={"status": "idle\x00"}, headers=api.h(key))
    _err(r, 422, "invalid_text", "status")


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/threads/ab%00cd", "thread_id"),
        ("/v1/approvals/apr%00x", "approval_id"),
        ("/v1/agents/spine%00", "agent_id"),
        ("/assistants/" + "a" * 65, "assistant_id"),
        ("/v1/approvals/" + "a" * 65, "approval_id"),
        ("/threads/has%20space", "thread_id"),
    ],
)
def test_path_ids_are_bounded(api: Api, key: str, path: str, param: str) -> None:
    _err(api.client.get(path, headers=api.h(key)), 422, "invalid_id", param)


def test_revoking_a_malformed_key_id(api: Api, key: str) -> None:
    _err(api.client.delete("/v1/keys/a%00b", headers=api.h(key)), 422, "invalid_id", "key_id")
    _err(
        api.client.delete("/v1/keys/" + "k" * 300, headers=api.h(key)), 422, "invalid_id", "key_id"
    )


def test_an_id_of_64_safe_characters_is_still_looked_up(api: Api, key: str) -> None:
    r = api.client.get("/v1/approvals/" + "a" * 64, headers=api.h(key))
    _err(r, 404, "approval_not_found", "approval_id")
    r = api.client.get("/v1/agents/spine@live", headers=api.h(key))
    assert r.status_code in (200, 404), r.text


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/approvals?status=pend%00ing", "status"),
        ("/v1/approvals?thread_id=a%00b", "thread_id"),
        ("/v1/audit?kind=a%00b", "kind"),
        ("/v1/usage?agent_id=a%00b", "agent_id"),
    ],
)
def test_nul_in_query_strings_is_refused(api: Api, key: str, path: str, param: str) -> None:
    _err(api.client.get(path, headers=api.h(key)), 422, "invalid_text", param)


@pytest.mark.parametrize("limit", ["0", "-1", "1001", BIG])
def test_history_limit_out_of_range(api: Api, key: str, limit: str) -> None:
    tid = api.client.post("/threads", json={}, headers=api.h(key)).json()["thread_id"]
    r = api.client.get(f"/threads/{tid}/history?limit={limit}", headers=api.h(key))
    code = "integer_out_of_range" if limit == BIG else "validation_failed"
    _err(r, 422, code, "limit")
    r = api.client.post(f"/threads/{tid}/history", json={"limit": 0}, headers=api.h(key))
    _err(r, 422, "validation_failed", "limit")
    ok = api.client.get(f"/threads/{tid}/history?limit=1000", headers=api.h(key))
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    ("path", "param", "code"),
    [
        (f"/v1/audit?after_seq={BIG}", "after_seq", "integer_out_of_range"),
        (f"/v1/audit?after_seq=-{BIG}", "after_seq", "integer_out_of_range"),
        ("/v1/audit?after_seq=-1", "after_seq", "validation_failed"),
        ("/v1/audit?limit=0", "limit", "validation_failed"),
        ("/v1/audit?limit=1001", "limit", "validation_failed"),
        ("/v1/approvals?limit=0", "limit", "validation_failed"),
        ("/v1/approvals?limit=1001", "limit", "validation_failed"),
    ],
)
def test_query_integers_are_bounded(api: Api, key: str, path: str, param: str, code: str) -> None:
    _err(api.client.get(path, headers=api.h(key)), 422, code, param)


def test_run_list_bounds(api: Api, key: str) -> None:
    tid = api.client.post("/threads", json={}, headers=api.h(key)).json()["thread_id"]
    r = api.client.get(f"/threads/{tid}/runs?offset={BIG}", headers=api.h(key))
    _err(r, 422, "integer_out_of_range", "offset")
    for bad in ("0", "1001"):
        r = api.client.get(f"/threads/{tid}/runs?limit={bad}", headers=api.h(key))
        _err(r, 422, "validation_failed", "limit")
    r = api.client.get(f"/threads/{tid}/runs?offset=-1", headers=api.h(key))
    _err(r, 422, "validation_failed", "offset")


def test_body_integers_are_bounded(api: Api, key: str) -> None:
    r = api.client.post("/threads/search", json={"offset": 10**20}, headers=api.h(key))
    _err(r, 422, "integer_out_of_range", "offset")
    r = api.client.put(
        "/v1/agents/spine/aliases/live", json={"version": 10**20}, headers=api.h(key)
    )
    _err(r, 422, "integer_out_of_range", "version")
    r = _json(api, key, "POST", "/threads/search", b'{"limit": NaN}')
    _err(r, 422, "number_not_finite", "limit")


def test_key_and_tenant_ids_use_the_id_charset(api: Api, key: str) -> None:
    admin = api.h(api.admin_key)
    r = api.client.post("/v1/tenants", json={"tenant_id": "a b"}, headers=admin)
    _err(r, 422, "validation_failed", "tenant_id")
    r = api.client.post("/v1/keys", json={"role": "merchant", "merchant_id": "m/1"}, headers=admin)
    _err(r, 422, "validation_failed", "merchant_id")
    r = api.client.post("/v1/keys", json={"role": "admin", "tenant_id": "t" * 65}, headers=admin)
    _err(r, 422, "validation_failed", "tenant_id")


# -- database errors that get past the boundary map to 4xx in one place -------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/db.sqlite"
    url: str = request.getfixturevalue("fresh_pg_url")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _db_app(url: str) -> TestClient:
    engine = create_engine(url)
    meta = MetaData()
    table = Table(
        "things",
        meta,
        Column("id", String(8), primary_key=True),
        Column("n", Integer),
        Column("note", String(200)),
    )
    meta.create_all(engine)
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things")
    def add(body: dict[str, Any]) -> dict[str, Any]:
        with engine.begin() as conn:
            conn.execute(insert(table).values(id="seen"))
            conn.execute(insert(table).values(**body))
        return body

    @app.get("/count")
    def count() -> int:
        with engine.connect() as conn:
            return len(conn.execute(table.select()).all())

    return TestClient(app, raise_server_exceptions=False)


def test_database_errors_map_to_4xx_and_nothing_is_half_written(db_url: str) -> None:
    client = _db_app(db_url)
    _err(client.post("/things", json={"id": "seen"}), 409, "already_exists", None)
    if db_url.startswith("postgresql"):
        _err(client.post("/things", json={"id": "x" * 9}), 422, "value_too_long", None)
        _err(client.post("/things", json={"id": "n", "n": 2**40}), 422, "number_out_of_range", None)
        _err(client.post("/things", json={"id": "z", "note": "a\x00"}), 422, "invalid_text", None)
    assert client.get("/count").json() == 0
