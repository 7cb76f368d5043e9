"""``/mcp`` on the real server, through the official MCP client: who gets in, what each key is
offered, and that a merchant's read tools answer exactly as their REST twins do.

The authorisation matrix is generated: every registry tool × every role, the REST twin found in
the app's route table. MCP must offer and allow a key exactly the read tools its REST twin
admits, and never a write (writes stay with REST and agent runs, where approvals apply).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import mcp_types as types
import pytest
from mcp.client.session import ClientSession

from cockpit.clock import utcnow
from cockpit.tenancy import rights
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit import ToolKind, default_registry
from tests.support.merchants import add_merchant
from tests.support.routes import RouteInfo, api_routes
from tests.tools.commerce.mcp_support import Live, live_server, with_session
from tools.commerce.mcp.checkout_tools import TOOLS as CHECKOUT_TOOLS
from tools.payments.gateway import Gateway, PayRequest
from tools.payments.models import Card, Customer
from tools.payments.simulator import AuthDecision, IssuerSimulator

TENANT = "mcp_t"
CHECKOUT_NAMES = {t.name for t in CHECKOUT_TOOLS}


class Approves(IssuerSimulator):
    def decide(self, ctx: Any) -> Any:
        return AuthDecision(approved=True)


@dataclass
class World:
    live: Live
    keys: dict[str, str]
    """Secrets by label: admin, merchant_a, merchant_b, partner, shopper."""
    principals: dict[str, Principal]
    payments: dict[str, str]
    """A captured payment id per merchant (``mer_a``, ``mer_b``)."""


@pytest.fixture(scope="module")
def world(
    module_database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    backend = "sqlite" if module_database_url is None else "postgres"
    tmp = tmp_path_factory.mktemp(f"mcp-{backend}")
    with live_server(tmp, module_database_url) as live:
        svc = live.services
        svc.keys.ensure_tenant(TENANT, name="mcp")
        for mid in ("mer_a", "mer_b"):
            add_merchant(svc.db, TENANT, mid)
        with svc.db.tenant_session(TENANT) as s:
            s.add(Customer(id="cus_1", email="a@example.com", country="SG"))
            s.flush()
            s.add(
                Card(
                    id="card_1",
                    customer_id="cus_1",
                    brand="VISA",
                    bin="411111",
                    last4="1111",
                    funding="CREDIT",
                    issuer="Merlion Bank",
                    issuing_country="SG",
                    exp_month=12,
                    exp_year=2031,
                )
            )
        gateway = Gateway(svc.db, simulator=Approves())
        payments = {
            mid: str(
                gateway.pay(
                    TENANT,
                    PayRequest(mid, f"r_{mid}", 12_345, "SGD", card_id="card_1"),
                    at=utcnow(),
                )["paymentId"]
            )
            for mid in ("mer_a", "mer_b")
        }
        issued = {
            "admin": svc.keys.create_key(TENANT, Role.ADMIN),
            "merchant_a": svc.keys.create_key(TENANT, Role.MERCHANT, merchant_id="mer_a"),
            "merchant_b": svc.keys.create_key(TENANT, Role.MERCHANT, merchant_id="mer_b"),
            "partner": svc.keys.create_key(TENANT, Role.PARTNER),
            "shopper": svc.keys.create_key(TENANT, Role.SHOPPER, merchant_id="mer_a"),
        }
        yield World(
            live,
            {k: v.secret for k, v in issued.items()},
            {k: svc.keys.authenticate(v.secret) for k, v in issued.items()},
            payments,
        )


def _tools(world: World, who: str) -> dict[str, types.Tool]:
    async def go(session: ClientSession) -> dict[str, types.Tool]:
        listed = await session.list_tools()
        return {t.name: t for t in listed.tools}

    return with_session(world.live, world.keys[who], go)


def _call(world: World, who: str, name: str, args: dict[str, Any]) -> types.CallToolResult:
    async def go(session: ClientSession) -> types.CallToolResult:
        return await session.call_tool(name, args)

    return with_session(world.live, world.keys[who], go)


def _payload(result: types.CallToolResult) -> dict[str, Any]:
    """The structured result, checked to be the same JSON as the text content."""
    assert result.structured_content is not None
    (text,) = result.content
    assert isinstance(text, types.TextContent)
    assert json.loads(text.text) == result.structured_content
    return dict(result.structured_content)


def _initialize(world: World, key: str | None, *, header: str = "authorization") -> httpx.Response:
    """A raw ``initialize`` POST, as the first message of any MCP client."""
    headers = {"accept": "application/json, text/event-stream"}
    if key is not None:
        headers[header] = f"Bearer {key}" if header == "authorization" else key
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    }
    return httpx.post(world.live.mcp_url, json=body, headers=headers, timeout=30)


# ---- who gets in -----------------------------------------------------------------------------


def test_no_key_or_a_bad_key_is_refused_before_any_mcp_message(world: World) -> None:
    for key, code in ((None, "missing_api_key"), ("ck_bogus_key", "invalid_api_key")):
        r = _initialize(world, key)
        assert r.status_code == 401, r.text
        assert r.json()["code"] == code
        assert "jsonrpc" not in r.json()  # no JSON-RPC answer: the message was never read
        assert r.headers["www-authenticate"].startswith("Bearer")
    # The official client cannot even initialise.
    with pytest.raises(BaseException) as err:
        with_session(world.live, "ck_bogus_key", lambda s: s.list_tools())
    assert "Server returned an error response" in repr(err.value)
    # A revoked key is refused like on REST.
    svc = world.live.services
    revoked = svc.keys.create_key(TENANT, Role.MERCHANT, merchant_id="mer_a")
    assert _initialize(world, revoked.secret).status_code == 200
    svc.keys.revoke(revoked.id, tenant_id=TENANT)
    r = _initialize(world, revoked.secret)
    assert r.status_code == 401 and r.json()["code"] == "revoked_api_key"


def test_both_key_headers_are_accepted(world: World) -> None:
    for header in ("authorization", "x-api-key"):
        r = _initialize(world, world.keys["merchant_a"], header=header)
        assert r.status_code == 200, r.text
        assert r.json()["result"]["serverInfo"]["name"] == "cockpit"
    listed = with_session(
        world.live,
        world.keys["merchant_a"],
        lambda s: s.list_tools(),
        bearer=False,
    )
    assert "payments_get_payment" in {t.name for t in listed.tools}


# ---- what each key is offered ----------------------------------------------------------------


def test_a_shopper_is_offered_only_the_checkout_tools(world: World) -> None:
    tools = _tools(world, "shopper")
    assert set(tools) == CHECKOUT_NAMES
    create = tools["create_checkout_session"].input_schema
    assert create["required"] == ["meta", "payload"]
    assert create["properties"]["meta"]["required"] == ["api_version"]
    cancel = tools["cancel_checkout_session"].input_schema
    assert cancel["required"] == ["meta", "id"]  # the binding's payload is optional on cancel
    # Registry tools are refused to shoppers even when named directly.
    pid = world.payments["mer_a"]
    refused = _call(world, "shopper", "payments_get_payment", {"payment_id": pid})
    assert refused.is_error
    assert _payload(refused)["error"]["code"] == "role_required"


def test_a_merchant_is_offered_its_read_tools_and_no_write(world: World) -> None:
    tools = _tools(world, "merchant_a")
    # Of the checkout, only the read: a merchant may look at its own sessions.
    assert CHECKOUT_NAMES & set(tools) == {"get_checkout_session"}
    assert {"payments_get_payment", "payments_search", "payments_list_disputes"} <= set(tools)
    for name, tool in tools.items():
        if name in CHECKOUT_NAMES:
            continue
        definition = default_registry.get(name)
        assert definition.kind is ToolKind.READ, name
        assert tool.input_schema == definition.json_schema()
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
    assert "payments_refund" not in tools
    # A write named directly is refused and moves nothing.
    pid = world.payments["mer_a"]
    refused = _call(
        world,
        "merchant_a",
        "payments_refund",
        {"payment_id": pid, "amount": 100, "currency": "SGD"},
    )
    assert refused.is_error
    assert _payload(refused)["error"]["code"] == "tool_not_exposed"
    with world.live.rest(world.keys["merchant_a"]) as rest:
        assert rest.get(f"/v1/payments/payments/{pid}").json()["refundedAmount"]["value"] == "0"


def test_a_partner_sees_reads_but_no_checkout(world: World) -> None:
    tools = _tools(world, "partner")
    assert not CHECKOUT_NAMES & set(tools)
    assert "payments_search" in tools


# ---- read tools answer as their REST twins ------------------------------------------------------


def test_a_read_tool_returns_what_its_rest_twin_returns(world: World) -> None:
    pid = world.payments["mer_a"]
    got = _call(world, "merchant_a", "payments_get_payment", {"payment_id": pid})
    assert not got.is_error
    with world.live.rest(world.keys["merchant_a"]) as rest:
        twin = rest.get(f"/v1/payments/payments/{pid}")
    assert twin.status_code == 200
    assert _payload(got) == twin.json()
    assert _payload(got)["merchantId"] == "mer_a"


def test_another_merchants_record_does_not_exist(world: World) -> None:
    other = world.payments["mer_b"]
    got = _call(world, "merchant_a", "payments_get_payment", {"payment_id": other})
    assert got.is_error
    error = _payload(got)["error"]
    with world.live.rest(world.keys["merchant_a"]) as rest:
        twin = rest.get(f"/v1/payments/payments/{other}")
    assert twin.status_code == 404
    assert error["code"] == twin.json()["code"]
    # The owner sees it.
    mine = _call(world, "merchant_b", "payments_get_payment", {"payment_id": other})
    assert not mine.is_error and _payload(mine)["paymentId"] == other


def test_arguments_are_validated_and_identity_cannot_be_smuggled(world: World) -> None:
    bad = _call(world, "merchant_a", "payments_search", {"limit": 10_000})
    assert bad.is_error and _payload(bad)["error"]["code"] == "invalid_tool_arguments"
    smuggled = _call(
        world, "merchant_a", "payments_search", {"tenant_id": "someone_else", "limit": 5}
    )
    assert smuggled.is_error and _payload(smuggled)["error"]["code"] == "identity_argument"
    # Naming another merchant in the arguments is a not-found, as on REST.
    named = _call(world, "merchant_a", "payments_search", {"merchant_id": "mer_b"})
    assert named.is_error and _payload(named)["error"]["code"] == "merchant_not_found"


def test_calls_are_audited_with_the_callers_key(world: World) -> None:
    pid = world.payments["mer_a"]
    _call(world, "merchant_a", "payments_get_payment", {"payment_id": pid})
    records = world.live.services.audit.records(TENANT, kind="tool_call", limit=1000)
    mine = [
        r
        for r in records
        if r["payload"].get("key_id") == world.principals["merchant_a"].key_id
        and r["payload"].get("tool") == "payments_get_payment"
    ]
    assert mine and mine[-1]["actor"] == "agent:mcp"


def test_the_tenants_tool_allowlist_applies(world: World) -> None:
    svc = world.live.services
    svc.keys.set_tool_allowlist(TENANT, ["payments_search"])
    try:
        # (The allowlist governs registry tools; the ACP checkout is a protocol surface.)
        assert set(_tools(world, "merchant_a")) - CHECKOUT_NAMES == {"payments_search"}
        pid = world.payments["mer_a"]
        refused = _call(world, "merchant_a", "payments_get_payment", {"payment_id": pid})
        assert refused.is_error and _payload(refused)["error"]["code"] == "tool_not_enabled"
    finally:
        svc.keys.set_tool_allowlist(TENANT, None)


# ---- the authorisation matrix: MCP allows exactly what REST allows ------------------------------

ROLES = {
    Role.ADMIN: "admin",
    Role.MERCHANT: "merchant_a",
    Role.PARTNER: "partner",
    Role.SHOPPER: "shopper",
}


def _routes(world: World) -> dict[tuple[str, str], RouteInfo]:
    return {(r.method, r.path): r for r in api_routes(world.live.app)}


def _rest_refuses(world: World, who: str, route: RouteInfo) -> bool:
    """Does the REST twin refuse this key for its role (403 ``role_required``)?"""
    path = route.path
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + "x_1" + path[end + 1 :]
    with world.live.rest(world.keys[who]) as rest:
        r = rest.request(route.method, path, json={} if route.method != "GET" else None)
    return r.status_code == 403 and r.json().get("code") == "role_required"


@pytest.mark.parametrize("role", list(ROLES), ids=[r.value for r in ROLES])
def test_mcp_offers_and_allows_exactly_what_rest_allows(world: World, role: Role) -> None:
    who = ROLES[role]
    principal = world.principals[who]
    routes = _routes(world)
    names = sorted(n for n in default_registry.names() if not n.startswith("spine_"))

    async def probe(session: ClientSession) -> tuple[set[str], dict[str, types.CallToolResult]]:
        offered = {t.name for t in (await session.list_tools()).tools}
        # An identity argument: refused for the role first, else for the argument — so the
        # probe never runs a tool, whatever the role (the agent runtime checks in this order).
        replies = {n: await session.call_tool(n, {"tenant_id": "x"}) for n in names}
        return offered, replies

    offered, replies = with_session(world.live, world.keys[who], probe)
    leaks = []
    for name in names:
        tool = default_registry.get(name)
        assert tool.rest is not None, f"{name} names no REST twin"
        route = routes[tool.rest]
        rest_allows = rights.permits(principal, route.roles or frozenset())
        if tool.kind is ToolKind.READ:  # the declared roles are what the live route does
            assert rest_allows == (not _rest_refuses(world, who, route)), (name, who)
        mcp_allows = tool.kind is ToolKind.READ and rest_allows
        if (name in offered) != mcp_allows:
            leaks.append((name, "listed" if name in offered else "missing"))
        code = _payload(replies[name])["error"]["code"]
        if code == "identity_argument" and not mcp_allows:
            leaks.append((name, "allowed"))
        if code != "identity_argument" and mcp_allows:
            leaks.append((name, f"refused {code}"))
        if not mcp_allows:
            expected = "tool_not_exposed" if tool.kind is ToolKind.WRITE else "role_required"
            assert code == expected, (name, who, code)
    assert leaks == []
    # The checkout tools are offered by the roles the checkout service admits (the REST
    # comparison of those is in test_mcp_checkout.py).
    for checkout in CHECKOUT_TOOLS:
        assert (checkout.name in offered) == rights.permits(principal, checkout.roles)
