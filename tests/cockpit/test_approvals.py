"""Approval flow through the API: list pending → approve / edit amount / reject → outcome, exactly once."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.apptest import Api, running_app
from tests.support.spinekit import read_payouts


def _pending(api: Api, key: str, text: str) -> tuple[str, str]:
    tid = api.client.post("/threads", json={}, headers=api.h(key)).json()["thread_id"]
    out = api.say(key, tid, text)
    assert "__interrupt__" in out
    pending = api.client.get("/v1/approvals", params={"thread_id": tid}, headers=api.h(key)).json()
    assert len(pending) == 1 and pending[0]["status"] == "pending"
    return tid, pending[0]["approval_id"]


def test_approve_edit_reject(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        key = api.tenant("approver", role="admin")
        # approve
        _tid, apr = _pending(api, key, "pay 200.00 USD to ann")
        req = api.client.get(f"/v1/approvals/{apr}", headers=api.h(key)).json()["request"]
        assert (
            req["amount"] == 20000
            and req["currency"] == "USD"
            and "above the approval" in req["reason"]
        )
        r = api.client.post(
            f"/v1/approvals/{apr}/decision", json={"action": "approve"}, headers=api.h(key)
        )
        assert r.status_code == 200 and r.json()["approval"]["status"] == "approved"
        # a retried decision changes nothing
        again = api.client.post(
            f"/v1/approvals/{apr}/decision", json={"action": "approve"}, headers=api.h(key)
        )
        assert again.status_code == 409 and again.json()["code"] == "approval_decided"
        assert [p["amount"] for p in read_payouts(api.data_dir)] == [20000]

        # edit the amount down
        _tid, apr = _pending(api, key, "pay 400.00 USD to bo")
        r = api.client.post(
            f"/v1/approvals/{apr}/decision",
            headers=api.h(key),
            json={"action": "edit", "args": {"amount": 15000}, "reason": "partial"},
        )
        assert r.json()["approval"]["status"] == "edited"
        assert [p["amount"] for p in read_payouts(api.data_dir)] == [20000, 15000]
        # the tool message says what ran, so agents answer about the edited call
        tool = [m for m in r.json()["values"]["messages"] if m["type"] == "tool"][-1]
        assert tool["additional_kwargs"]["executed_args"]["amount"] == 15000
        # an edit cannot lift the amount over the agent's hard limit
        _tid, apr = _pending(api, key, "pay 300.00 USD to cy")
        r = api.client.post(
            f"/v1/approvals/{apr}/decision",
            headers=api.h(key),
            json={"action": "edit", "args": {"amount": 5_000_000}},
        )
        tool = [m for m in r.json()["values"]["messages"] if m["type"] == "tool"][-1]
        assert json.loads(tool["content"])["error"]["code"] == "amount_over_limit"
        assert len(read_payouts(api.data_dir)) == 2

        # reject
        _tid, apr = _pending(api, key, "pay 600.00 USD to dee")
        r = api.client.post(
            f"/v1/approvals/{apr}/decision",
            headers=api.h(key),
            json={"action": "reject", "reason": "not authorised"},
        )
        assert r.json()["approval"]["status"] == "rejected"
        tool = [m for m in r.json()["values"]["messages"] if m["type"] == "tool"][-1]
        assert json.loads(tool["content"])["rejected"] is True
        assert len(read_payouts(api.data_dir)) == 2
        kinds = [
            a["kind"]
            for a in api.client.get("/v1/audit", params={"limit": 500}, headers=api.h(key)).json()
        ]
        assert kinds.count("approval_decided") == 4 and kinds.count("approval_requested") == 4
        assert api.client.get("/v1/approvals", headers=api.h(key)).json() == []


def test_shopper_cannot_approve(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        admin = api.tenant("shopco", role="admin")
        _tid, apr = _pending(api, admin, "pay 250.00 USD to eve")
        r = api.client.post("/v1/keys", json={"role": "shopper"}, headers=api.h(admin))
        shopper = r.json()["key"]
        r = api.client.post(
            f"/v1/approvals/{apr}/decision", json={"action": "approve"}, headers=api.h(shopper)
        )
        assert r.status_code == 403
        assert read_payouts(api.data_dir) == []


def test_usage_is_returned_with_runs_and_queryable(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        key = api.tenant("metered")
        tid = api.client.post("/threads", json={}, headers=api.h(key)).json()["thread_id"]
        api.say(key, tid, "note one")
        api.say(key, tid, "note two")
        runs = api.client.get(f"/threads/{tid}/runs", headers=api.h(key)).json()
        per_run = [r["usage"] for r in runs]
        assert all(u and u["calls"] == 2 and u["input_tokens"] > 0 for u in per_run), per_run
        total = api.client.get("/v1/usage", params={"agent_id": "spine"}, headers=api.h(key)).json()
        assert total["calls"] == 4
        assert total["input_tokens"] == sum(u["input_tokens"] for u in per_run)
        one = api.client.get(
            "/v1/usage", params={"run_id": runs[0]["run_id"]}, headers=api.h(key)
        ).json()
        assert one["input_tokens"] == runs[0]["usage"]["input_tokens"]
        other = api.tenant("unmetered")
        assert api.client.get("/v1/usage", headers=api.h(other)).json()["calls"] == 0
