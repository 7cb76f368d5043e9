"""Agent registry: immutable versions, live/canary aliases, rollback by moving an alias."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.apptest import running_app


def _spec(name: str) -> dict[str, Any]:
    return {
        "id": "shop-helper",
        "name": name,
        "description": "A partner agent that writes notes for shoppers.",
        "instructions": f"You are {name}.",
        "model": "fake:spine",
        "tools": [{"name": "spine_note"}],
    }


def test_versions_aliases_and_rollback(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        key = api.tenant("partner-co", role="partner")
        h = api.h(key)
        assert (
            api.client.post("/v1/agents", json=_spec("Helper One"), headers=h).json()["version"]
            == 1
        )
        assert (
            api.client.post("/v1/agents", json=_spec("Helper Two"), headers=h).json()["version"]
            == 2
        )
        # The first version went live; the second waits until published.
        live = api.client.get("/assistants/shop-helper", headers=h).json()
        assert (
            live["name"] == "Helper One"
            and live["version"] == 1
            and "live" in live["metadata"]["aliases"]
        )
        assert (
            api.client.get("/assistants/shop-helper@v2", headers=h).json()["name"] == "Helper Two"
        )
        # Canary, then publish v2, then roll back to v1.
        r = api.client.put("/v1/agents/shop-helper/aliases/canary", json={"version": 2}, headers=h)
        assert r.status_code == 200
        assert api.client.get("/assistants/shop-helper@canary", headers=h).json()["version"] == 2
        api.client.put("/v1/agents/shop-helper/aliases/live", json={"version": 2}, headers=h)
        assert api.client.get("/assistants/shop-helper", headers=h).json()["name"] == "Helper Two"
        api.client.put("/v1/agents/shop-helper/aliases/live", json={"version": 1}, headers=h)
        assert api.client.get("/assistants/shop-helper", headers=h).json()["name"] == "Helper One"
        # Versions are immutable: a change is a new version, the old one is untouched.
        api.client.post("/v1/agents", json=_spec("Helper Three"), headers=h)
        versions = api.client.get("/v1/agents/shop-helper/versions", headers=h).json()
        assert [v["version"] for v in versions] == [1, 2, 3]
        assert (
            api.client.get("/v1/agents/shop-helper@v1", headers=h).json()["spec"]["name"]
            == "Helper One"
        )
        # Runs use what the alias points at, and the run records which version ran.
        tid = api.client.post("/threads", json={}, headers=h).json()["thread_id"]
        api.client.post(
            f"/threads/{tid}/runs/wait",
            headers=h,
            json={"assistant_id": "shop-helper@canary", "input": {"messages": ["note hi"]}},
        )
        run = api.client.get(f"/threads/{tid}/runs", headers=h).json()[0]
        assert run["assistant_id"] == "shop-helper@v2" and run["status"] == "success"
        # Bad alias moves are refused with the field named.
        bad = api.client.put("/v1/agents/shop-helper/aliases/prod", json={"version": 1}, headers=h)
        assert bad.status_code == 422 and bad.json()["param"] == "alias"
        gone = api.client.put("/v1/agents/shop-helper/aliases/live", json={"version": 9}, headers=h)
        assert gone.status_code == 404
        # Merchants may use agents but not publish them.
        merchant = api.client.post(
            "/v1/keys", json={"role": "merchant"}, headers=api.h(api.tenant("partner-co"))
        ).json()["key"]
        assert (
            api.client.post("/v1/agents", json=_spec("X"), headers=api.h(merchant)).status_code
            == 403
        )
