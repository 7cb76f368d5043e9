"""Specs are validated field by field; policy holds whatever the model asks for, and refusals are audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cockpit.errors import ValidationFailed
from cockpit.specs import check_tools, parse_spec
from cockpit.toolkit import default_registry
from tests.support.apptest import running_app

BASE: dict[str, Any] = {
    "id": "p-agent",
    "name": "P",
    "description": "A partner agent for policy tests.",
    "instructions": "x",
    "tools": [
        {
            "name": "spine_payout",
            "max_amount": {"USD": 50000},
            "approval": {"above": {"USD": 10000}},
        }
    ],
}


def _spec(**changes: Any) -> dict[str, Any]:
    return {**json.loads(json.dumps(BASE)), **changes}


def test_spec_errors_name_the_field() -> None:
    import tests.support.spinekit  # noqa: F401  (registers the test tools)

    with pytest.raises(ValidationFailed) as err:
        check_tools(
            parse_spec(_spec(tools=[{"name": "spine_note"}, {"name": "teleport"}])),
            default_registry,
        )
    assert err.value.param == "tools.1.name" and "teleport" in err.value.message
    with pytest.raises(ValidationFailed) as err:
        parse_spec(_spec(tools=[{"name": "spine_payout", "max_amount": {"USD": -5}}]))
    assert err.value.param == "tools.0.max_amount"
    with pytest.raises(ValidationFailed) as err:
        parse_spec(_spec(tools=[{"name": "spine_payout", "approval": {"above": {"usd": 1}}}]))
    assert err.value.param == "tools.0.approval.above"
    with pytest.raises(ValidationFailed) as err:
        parse_spec(_spec(model="gpt-4"))
    assert err.value.param == "model"
    with pytest.raises(ValidationFailed) as err:
        parse_spec(_spec(guardrails={"max_tool_calls_per_turn": 0}))
    assert err.value.param == "guardrails.max_tool_calls_per_turn"
    with pytest.raises(ValidationFailed) as err:
        parse_spec(_spec(surprise=True))
    assert err.value.param == "surprise"
    with pytest.raises(ValidationFailed) as err:
        check_tools(
            parse_spec(_spec(tools=[{"name": "spine_note", "approval": {"always": True}}])),
            default_registry,
        )
    assert err.value.param == "tools.0.approval"


def test_api_rejects_bad_spec_with_field(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        key = api.tenant("partner-x", role="partner")
        r = api.client.post("/v1/agents", json=_spec(tools=[{"name": "nope"}]), headers=api.h(key))
        assert r.status_code == 422 and r.json()["param"] == "tools.0.name"
        r = api.client.post(
            "/v1/agents",
            content="id: [unclosed",
            headers={**api.h(key), "content-type": "application/yaml"},
        )
        assert r.status_code == 422 and r.json()["code"] == "invalid_json"
        assert api.client.get("/v1/agents/p-agent/versions", headers=api.h(key)).status_code == 404


RAW_CALLS = [
    {"name": "teleport", "args": {}},  # 0 unlisted tool
    {
        "name": "spine_payout",
        "args": {"amount": 900000, "currency": "USD", "payee": "x"},
    },  # 1 over limit
    {
        "name": "spine_payout",
        "args": {"amount": 500, "currency": "EUR", "payee": "x"},
    },  # 2 currency
    {"name": "spine_note", "args": {"text": "hi", "tenant_id": "victim"}},  # 3 tenant smuggling
    {
        "name": "spine_payout",
        "args": {"amount": "lots", "currency": "USD", "payee": "x"},
    },  # 4 bad args
    {
        "name": "spine_payout",
        "args": {"amount": "9999999", "currency": "USD", "payee": "x"},
    },  # 5 over limit, as a numeric string the schema coerces
    {
        "name": "spine_payout",
        "args": {"amount": 9999999.0, "currency": "USD", "payee": "x"},
    },  # 6 over limit, as an integral float the schema coerces
    {
        "name": "spine_payout",
        "args": {"amount": 900, "currency": "usd", "payee": "x"},
    },  # 7 a currency the schema refuses is not read past policy either
]


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (0, "tool_not_allowed"),
        (1, "amount_over_limit"),
        (2, "currency_not_allowed"),
        (3, "identity_argument"),
        (4, "invalid_tool_arguments"),
        # Policy reads the validated arguments: a coerced amount cannot slip past the limit.
        (5, "amount_over_limit"),
        (6, "amount_over_limit"),
        (7, "invalid_tool_arguments"),
    ],
)
def test_model_cannot_bypass_policy(tmp_path: Path, call: int, code: str) -> None:
    with running_app(tmp_path, raw_calls=RAW_CALLS) as api:
        key = api.tenant("victim")
        other = api.tenant("attacker")
        tid = api.client.post("/threads", json={}, headers=api.h(other)).json()["thread_id"]
        out = api.say(other, tid, f"raw:{call}")
        tool_msg = next(m for m in out["messages"] if m["type"] == "tool")
        assert (
            tool_msg["status"] == "error"
            and json.loads(tool_msg["content"])["error"]["code"] == code
        )
        audit = api.client.get("/v1/audit", headers=api.h(other)).json()
        kinds = [r["kind"] for r in audit]
        if code == "invalid_tool_arguments":
            assert "policy_refusal" in kinds
        refusal = next(r for r in audit if r["kind"] == "policy_refusal")
        assert refusal["payload"]["code"] == code
        # Nothing was paid, and the victim tenant saw nothing.
        from tests.support.spinekit import read_payouts

        assert read_payouts(api.data_dir) == []
        assert api.client.get("/v1/audit", headers=api.h(key)).json() == [] or all(
            r["kind"].startswith("key_")
            for r in api.client.get("/v1/audit", headers=api.h(key)).json()
        )


def test_tenant_allowlist_blocks_tools(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        key = api.tenant("locked")
        r = api.client.put(
            "/v1/tenant/tools", json={"allowlist": ["spine_payout", "nope"]}, headers=api.h(key)
        )
        assert r.status_code == 422 and r.json()["param"] == "allowlist.1"
        r = api.client.put(
            "/v1/tenant/tools", json={"allowlist": ["spine_payout"]}, headers=api.h(key)
        )
        assert r.status_code == 200 and r.json()["tool_allowlist"] == ["spine_payout"]
        tid = api.client.post("/threads", json={}, headers=api.h(key)).json()["thread_id"]
        out = api.say(key, tid, "note blocked?")
        tool = next(m for m in out["messages"] if m["type"] == "tool")
        assert json.loads(tool["content"])["error"]["code"] == "tool_not_enabled"
        api.client.put("/v1/tenant/tools", json={"allowlist": None}, headers=api.h(key))
        out = api.say(key, tid, "note open again")
        assert '"note": "open again"' in out["messages"][-1]["content"]


def test_step_limit_stops_a_looping_model(tmp_path: Path) -> None:
    from tests.support.spinekit import AGENTS_DIR

    looping = tmp_path / "agents_loop"
    (looping / "looper").mkdir(parents=True, exist_ok=True)
    (looping / "looper" / "agent.yaml").write_text(
        "id: looper\nname: Looper\ndescription: An agent whose model never stops calling tools.\n"
        "instructions: loop\nmodel: fake:loop\ntools: [{name: spine_note}]\n"
        "guardrails: {max_steps_per_turn: 3}\n"
    )
    calls = [{"name": "spine_note", "args": {"text": "again"}}]
    with running_app(
        tmp_path,
        raw_calls=calls,
        loop_agents=frozenset({"looper"}),
        agents_path=[AGENTS_DIR, looping],
    ) as api:
        key = api.tenant("loops")
        tid = api.client.post("/threads", json={}, headers=api.h(key)).json()["thread_id"]
        r = api.client.post(
            f"/threads/{tid}/runs/wait",
            headers=api.h(key),
            json={"assistant_id": "looper", "input": {"messages": ["raw:0"]}},
        )
        msgs = r.json()["messages"]
        assert "more steps than I am allowed" in msgs[-1]["content"]
        assert sum(1 for m in msgs if m["type"] == "ai" and m.get("tool_calls")) == 3
