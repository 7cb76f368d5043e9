"""Authorisation matrix: every tool of the registry × every role, through the agent runtime.

Generated, not hand-listed: the tools come from the registry, their REST twins from the app's
route table. For each (tool, role) the runtime must refuse exactly the calls the role may not
make by REST, whatever the model asks for; approvals, threads and runs are checked for the
own merchant, another merchant of the tenant and another tenant. Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from cockpit.tenancy import rights
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit import default_registry
from tests.support.apptest import Api, running_app
from tests.support.merchants import add_merchant
from tests.support.routes import api_routes
from tests.support.spinekit import AGENTS_DIR

ROLES = (Role.ADMIN, Role.MERCHANT, Role.PARTNER, Role.SHOPPER)
TOOLS = sorted(n for n in default_registry.names() if not n.startswith("spine_"))
RAW_CALLS = [{"name": name, "args": {}} for name in TOOLS]


@dataclass
class World:
    api: Api
    keys: dict[str, str]
    """Secrets by label: admin, merchant_a, merchant_b, partner, shopper, other_admin."""
    principals: dict[str, Principal]


def _matrix_agent(folder: Path) -> Path:
    spec = {
        "id": "matrix",
        "name": "Matrix agent",
        "description": "Test agent that may call every registered tool (authorisation matrix).",
        "instructions": "Call the tool you are told to.",
        "model": "fake:matrix",
        "roles": [r.value for r in ROLES],
        "tools": [{"name": n} for n in TOOLS]
        + [{"name": "spine_payout", "approval": {"above": {"USD": 10000}}}],
    }
    (folder / "matrix").mkdir(parents=True)
    (folder / "matrix" / "agent.yaml").write_text(yaml.safe_dump(spec))
    four = {
        **spec,
        "id": "four-eyes",
        "name": "Four eyes",
        "tools": [{"name": "spine_payout", "approval": {"always": True, "four_eyes": True}}],
    }
    (folder / "four-eyes").mkdir()
    (folder / "four-eyes" / "agent.yaml").write_text(yaml.safe_dump(four))
    return folder


@pytest.fixture(scope="module")
def world(
    module_database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    url = module_database_url
    backend = "sqlite" if url is None else "postgres"
    tmp = tmp_path_factory.mktemp(f"matrix-{backend}")
    agents = _matrix_agent(tmp / "agents")
    with running_app(tmp, url, raw_calls=RAW_CALLS, agents_path=[AGENTS_DIR, agents]) as api:
        svc = api.client.app.state.services  # type: ignore[attr-defined]
        tenant = f"mx_{backend}"
        other = f"mx_{backend}_other"
        svc.keys.ensure_tenant(tenant, name="matrix")
        svc.keys.ensure_tenant(other, name="matrix other")
        add_merchant(svc.db, tenant, "mer_a")
        add_merchant(svc.db, tenant, "mer_b")
        issued = {
            "admin": svc.keys.create_key(tenant, Role.ADMIN),
            "merchant_a": svc.keys.create_key(tenant, Role.MERCHANT, merchant_id="mer_a"),
            "merchant_b": svc.keys.create_key(tenant, Role.MERCHANT, merchant_id="mer_b"),
            "partner": svc.keys.create_key(tenant, Role.PARTNER),
            "shopper": svc.keys.create_key(tenant, Role.SHOPPER),
            "other_admin": svc.keys.create_key(other, Role.ADMIN),
        }
        yield World(
            api,
            {k: v.secret for k, v in issued.items()},
            {k: svc.keys.authenticate(v.secret) for k, v in issued.items()},
        )


def _run_in_process(world: World, who: str, assistant: str, text: str) -> dict[str, Any]:
    """Start a run for ``who`` below the HTTP layer (shoppers have no thread routes)."""
    svc = world.api.client.app.state.services  # type: ignore[attr-defined]
    principal = world.principals[who]
    from cockpit.runtime.runs import RunSpec

    async def go() -> dict[str, Any]:
        thread = svc.runtime.threads.create(principal.tenant_id, owner=principal)
        _resolved, graph = svc.runtime.graph_for(principal.tenant_id, assistant)
        spec = RunSpec(
            assistant_id=assistant, input={"messages": [{"role": "user", "content": text}]}
        )
        handle = await svc.runtime.runs.start(principal, thread.thread_id, spec, graph)
        await handle.done.wait()
        return handle.final

    return world.api.client.portal.call(go)  # type: ignore[union-attr]


def _tool_reply(final: dict[str, Any], tool: str) -> dict[str, Any]:
    (msg,) = [m for m in final["messages"] if m.get("type") == "tool" and m.get("name") == tool]
    content = json.loads(msg["content"])
    assert isinstance(content, dict)
    return content


# ---- tools × roles, through the agent runtime ------------------------------------------


def test_every_tool_declares_roles_and_a_rest_twin_with_the_same_roles(world: World) -> None:
    routes = {(r.method, r.path): r for r in api_routes(world.api.client.app)}
    for name in TOOLS:
        tool = default_registry.get(name)
        assert tool.rest is not None, f"{name} names no REST twin"
        route = routes.get(tool.rest)
        assert route is not None, f"{name}: no route {tool.rest}"
        assert route.roles == tool.roles, f"{name} and {tool.rest} admit different roles"
        assert Role.SHOPPER not in tool.roles, f"{name} is open to shoppers"


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_the_agent_has_the_callers_rights_and_no_more(world: World, role: Role) -> None:
    who = {
        Role.ADMIN: "admin",
        Role.MERCHANT: "merchant_a",
        Role.PARTNER: "partner",
        Role.SHOPPER: "shopper",
    }[role]
    leaks = []
    for i, name in enumerate(TOOLS):
        tool = default_registry.get(name)
        reply = _tool_reply(_run_in_process(world, who, "matrix", f"raw:{i}"), name)
        refused = reply.get("error", {}).get("code") == "role_required"
        if refused == rights.permits(world.principals[who], tool.roles):
            leaks.append((name, role.value, reply.get("error")))
    assert leaks == []


def test_a_shopper_moves_no_money_by_any_route(world: World) -> None:
    open_to_shoppers = [
        (r.method, r.path)
        for r in api_routes(world.api.client.app)
        if r.roles is not None and Role.SHOPPER in r.roles
    ]
    # A shopper writes only through the commerce protocols (ACP under /acp): a checkout moves
    # money only with a credential the buyer delegated (a vault token or a signed AP2 mandate).
    writes = [(m, p) for m, p in open_to_shoppers if m != "GET"]
    assert writes and all(p.startswith("/acp/") for _m, p in writes), writes
    h = world.api.h(world.keys["shopper"])
    c = world.api.client
    assert c.post("/threads", json={}, headers=h).status_code == 403
    assert c.post("/runs/wait", json={"assistant_id": "copilot"}, headers=h).status_code == 403
    r = c.post("/v1/payments/payments/pay_x/refunds", json={}, headers=h)
    assert r.status_code == 403 and r.json()["code"] == "role_required"


# ---- approvals: who may decide, by route and by command.resume -------------------------


def _pending_payout(world: World, key: str, assistant: str = "matrix") -> tuple[str, str]:
    c, h = world.api.client, world.api.h(key)
    tid = c.post("/threads", json={}, headers=h).json()["thread_id"]
    r = c.post(
        f"/threads/{tid}/runs/wait",
        headers=h,
        json={
            "assistant_id": assistant,
            "input": {"messages": [{"role": "user", "content": "pay 250.00 USD to bob"}]},
        },
    )
    assert r.status_code == 200, r.text
    (apr,) = [i["value"]["approval_id"] for i in r.json()["__interrupt__"]]
    return tid, apr


def _resume(world: World, key: str, tid: str, assistant: str = "matrix") -> Any:
    return world.api.client.post(
        f"/threads/{tid}/runs/wait",
        headers=world.api.h(key),
        json={"assistant_id": assistant, "command": {"resume": {"action": "approve"}}},
    )


def _decide(world: World, key: str, apr: str, action: str = "approve") -> Any:
    return world.api.client.post(
        f"/v1/approvals/{apr}/decision", headers=world.api.h(key), json={"action": action}
    )


def test_only_a_key_that_may_run_the_tool_for_that_merchant_decides(world: World) -> None:
    tid, apr = _pending_payout(world, world.keys["merchant_a"])
    expected = {"merchant_b": 404, "other_admin": 404, "partner": 403, "shopper": 403}
    for who, status in expected.items():
        by_route = _decide(world, world.keys[who], apr, "reject")
        assert by_route.status_code == status, (who, by_route.text)
        by_resume = _resume(world, world.keys[who], tid)
        assert by_resume.status_code == status, (who, by_resume.text)
        assert set(by_route.json()) >= {"type", "code", "message", "param"}
    # Still pending: nobody above changed anything.
    got = world.api.client.get(f"/v1/approvals/{apr}", headers=world.api.h(world.keys["admin"]))
    assert got.json()["status"] == "pending"
    done = _resume(world, world.keys["merchant_a"], tid)
    assert done.status_code == 200, done.text
    assert _decide(world, world.keys["merchant_a"], apr).status_code == 409


def test_four_eyes_needs_another_key(world: World) -> None:
    tid, apr = _pending_payout(world, world.keys["admin"], "four-eyes")
    refused = _resume(world, world.keys["admin"], tid, "four-eyes")
    assert refused.status_code == 403 and refused.json()["code"] == "four_eyes_required"
    assert _decide(world, world.keys["admin"], apr).json()["code"] == "four_eyes_required"
    svc = world.api.client.app.state.services  # type: ignore[attr-defined]
    second = svc.keys.create_key(world.principals["admin"].tenant_id, Role.ADMIN).secret
    approved = _decide(world, second, apr)
    assert approved.status_code == 200, approved.text
    assert approved.json()["approval"]["status"] == "approved"


# ---- ownership of conversational records -------------------------------------------------


def test_another_merchants_thread_runs_and_approvals_do_not_exist(world: World) -> None:
    tid, apr = _pending_payout(world, world.keys["merchant_a"])
    c = world.api.client
    runs = c.get(f"/threads/{tid}/runs", headers=world.api.h(world.keys["merchant_a"])).json()
    run_id = runs[0]["run_id"]
    probes = [
        ("GET", f"/threads/{tid}", None),
        ("GET", f"/threads/{tid}/state", None),
        ("GET", f"/threads/{tid}/history", None),
        ("POST", f"/threads/{tid}/history", {}),
        ("PATCH", f"/threads/{tid}", {"metadata": {"x": 1}}),
        ("GET", f"/threads/{tid}/runs", None),
        ("GET", f"/threads/{tid}/runs/{run_id}", None),
        ("GET", f"/threads/{tid}/runs/{run_id}/join", None),
        ("POST", f"/threads/{tid}/runs/{run_id}/cancel", None),
        ("GET", f"/v1/approvals/{apr}", None),
        ("POST", f"/v1/approvals/{apr}/decision", {"action": "reject"}),
        ("DELETE", f"/threads/{tid}", None),
    ]
    for who in ("merchant_b", "other_admin"):
        h = world.api.h(world.keys[who])
        for method, path, body in probes:
            r = c.request(method, path, headers=h, json=body)
            assert r.status_code == 404, (who, method, path, r.text)
        listed = c.post("/threads/search", json={"limit": 1000}, headers=h).json()
        assert tid not in {t["thread_id"] for t in listed}
        approvals = c.get("/v1/approvals", headers=h).json()
        assert apr not in {a["approval_id"] for a in approvals}
    # The owner and a tenant-wide key still see it.
    for who in ("merchant_a", "admin"):
        assert c.get(f"/threads/{tid}", headers=world.api.h(world.keys[who])).status_code == 200
