"""Assistants over agent versions: the eval gate is never bypassed, another tenant sees nothing,
delete keeps the versions and can take the assistant's threads along."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.apptest import Api, running_app


@pytest.fixture(scope="module")
def api(module_database_url: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with running_app(tmp_path_factory.mktemp("assistants"), module_database_url) as app:
        yield app


@pytest.fixture(scope="module")
def keys(api: Api) -> dict[str, str]:
    return {"a": api.tenant("as-a"), "b": api.tenant("as-b")}


def test_a_gated_update_is_stored_but_not_live(api: Api, keys: dict[str, str]) -> None:
    c, h = api.client, api.h(keys["a"])
    aid = c.post("/assistants", json={"graph_id": "spine"}, headers=h).json()["assistant_id"]
    r = c.patch(f"/assistants/{aid}", json={"context": {"evals": ["no-such-suite"]}}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "eval_gate_failed", r.text
    assert c.get(f"/assistants/{aid}", headers=h).json()["version"] == 1
    versions = c.post(f"/assistants/{aid}/versions", json={}, headers=h).json()
    assert [v["version"] for v in versions] == [2, 1]
    r = c.post(f"/assistants/{aid}/latest", json={"version": 2}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "eval_gate_failed"
    assert c.get(f"/assistants/{aid}", headers=h).json()["version"] == 1
    gates = c.get("/v1/audit", params={"kind": "agent_publish_gate"}, headers=h).json()
    assert gates, "every gate decision is audited"


def test_a_gated_new_assistant_is_not_live_until_it_passes(api: Api, keys: dict[str, str]) -> None:
    c, h = api.client, api.h(keys["a"])
    body = {"graph_id": "spine", "assistant_id": "gated-one", "context": {"evals": ["nope"]}}
    r = c.post("/assistants", json=body, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "eval_gate_failed"
    assert c.get("/assistants/gated-one", headers=h).status_code == 404
    assert [v["version"] for v in c.get("/v1/agents/gated-one/versions", headers=h).json()] == [1]


def test_another_tenant_sees_no_assistant_of_this_one(api: Api, keys: dict[str, str]) -> None:
    c = api.client
    ha, hb = api.h(keys["a"]), api.h(keys["b"])
    aid = c.post("/assistants", json={"graph_id": "spine"}, headers=ha).json()["assistant_id"]
    for method, path, body in (
        ("GET", f"/assistants/{aid}", None),
        ("PATCH", f"/assistants/{aid}", {"name": "taken"}),
        ("DELETE", f"/assistants/{aid}", None),
        ("POST", f"/assistants/{aid}/versions", {}),
        ("POST", f"/assistants/{aid}/latest", {"version": 1}),
        ("GET", f"/assistants/{aid}/graph", None),
    ):
        r = c.request(method, path, json=body, headers=hb)
        assert r.status_code == 404, (method, path, r.text)
    assert aid not in [
        a["assistant_id"]
        for a in c.post("/assistants/search", json={"limit": 1000}, headers=hb).json()
    ]
    assert (
        c.post("/assistants", json={"graph_id": aid}, headers=hb).json()["code"]
        == "graph_not_found"
    )
    assert c.get(f"/assistants/{aid}", headers=ha).json()["name"] != "taken"


def test_delete_keeps_versions_and_may_take_threads(api: Api, keys: dict[str, str]) -> None:
    c, key = api.client, keys["a"]
    h = api.h(key)
    aid = c.post("/assistants", json={"graph_id": "spine"}, headers=h).json()["assistant_id"]
    tid = c.post("/threads", json={}, headers=h).json()["thread_id"]
    api.say(key, tid, "note bye", assistant=aid)
    keep = c.post("/threads", json={}, headers=h).json()["thread_id"]
    assert c.delete(f"/assistants/{aid}?delete_threads=true", headers=h).status_code == 204
    assert c.get(f"/threads/{tid}", headers=h).status_code == 404
    assert c.get(f"/threads/{keep}", headers=h).status_code == 200
    assert c.get(f"/v1/agents/{aid}/versions", headers=h).status_code == 200  # kept for audit
    r = c.post(
        f"/threads/{keep}/runs/wait",
        headers=h,
        json={
            "assistant_id": f"{aid}@v1",
            "input": {"messages": [{"role": "user", "content": "hi"}]},
        },
    )
    assert r.status_code == 404 and r.json()["code"] == "assistant_not_found"
    # A new version brings it back (published through the gate like any first one).
    again = c.post("/assistants", json={"graph_id": "spine", "assistant_id": aid}, headers=h)
    assert again.status_code == 200 and again.json()["version"] == 2


def test_unknown_body_fields_are_named(api: Api, keys: dict[str, str], tmp_path: Path) -> None:
    c, h = api.client, api.h(keys["a"])
    r = c.post(
        "/assistants", json={"graph_id": "spine", "config": {"recursion_limit": 5}}, headers=h
    )
    assert (r.status_code, r.json()["param"]) == (422, "config.recursion_limit")
    r = c.post("/assistants", json={"graph_id": "spine", "metadata": {"source": "me"}}, headers=h)
    assert (r.status_code, r.json()["code"]) == (422, "reserved_metadata")
    r = c.post(
        "/assistants",
        json={
            "graph_id": "spine",
            "config": {"configurable": {"model": "a"}},
            "context": {"model": "b"},
        },
        headers=h,
    )
    assert (r.status_code, r.json()["code"]) == (422, "conflicting_fields")
    r = c.post("/assistants", json={"graph_id": "spine", "description": "short"}, headers=h)
    assert (r.status_code, r.json()["param"]) == (422, "description")
    r = c.post("/assistants", json={"graph_id": "spine", "assistant_id": "9-bad"}, headers=h)
    assert (r.status_code, r.json()["param"]) == (422, "assistant_id")
