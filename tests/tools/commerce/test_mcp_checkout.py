"""ACP checkout through MCP (``openrpc.agentic_checkout.json``), with the official MCP client
against the real server: the same sessions, orders and money movement as REST, ACP errors in
the binding's error shape. Every session, order and error is validated against the official
JSON Schema bundle. Runs on SQLite and PostgreSQL.

The app is the real one, but for two dice: the card handler's fraud model is left out (its
prior stands in) and the issuer simulator approves, so that a small payment by an established
platform is approved and captured deterministically (risk and issuer declines have their own
tests; this file tests the MCP binding).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import mcp_types as types
import pytest
from mcp.client.session import ClientSession
from mcp.shared.exceptions import MCPError
from sqlalchemy import select

from cockpit.clock import utcnow
from cockpit.tenancy import rights
from cockpit.tenancy.principal import Role
from tests.support.merchants import add_merchant
from tests.support.routes import api_routes
from tests.tools.commerce.mcp_support import Live, live_server, with_session
from tests.tools.commerce.specs import ACP_VERSION, acp_examples, assert_acp
from tools.commerce.acp.catalog import seed_catalogue
from tools.commerce.acp.models import Item
from tools.commerce.acp.orders import load_order, order_json
from tools.commerce.mcp.checkout_tools import TOOLS as CHECKOUT_TOOLS
from tools.commerce.platforms import Platform
from tools.commerce.ports import HANDLERS_KEY
from tools.commerce.vault.handler import HANDLER_ID, TokenizedCardHandler
from tools.payments.gateway import Gateway
from tools.payments.models import Payment
from tools.payments.simulator import AuthDecision, IssuerSimulator

TENANT = "mcp_co"
PER_ORDER = frozenset({"order_number", "confirmation_number", "available_quantity"})
"""Fields two identical checkouts differ in: numbers derived from the order id, and the stock
left (the first purchase took one)."""
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


class Approves(IssuerSimulator):
    def decide(self, ctx: Any) -> Any:
        return AuthDecision(approved=True)


@dataclass
class World:
    live: Live
    keys: dict[str, str]
    """Secrets: ``shopper`` (bound to mer_a), ``shopper_b`` (bound to mer_b), ``merchant``
    (bound to mer_a), ``admin`` and ``partner`` (tenant-wide)."""
    items: list[str]
    """The two cheapest in-stock shipped items of mer_a's catalogue."""


@pytest.fixture(scope="module")
def world(
    module_database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    backend = "sqlite" if module_database_url is None else "postgres"
    with live_server(tmp_path_factory.mktemp(f"mcp-co-{backend}"), module_database_url) as live:
        svc = live.services
        svc.keys.ensure_tenant(TENANT, name="mcp checkout")
        for mid in ("mer_a", "mer_b"):
            add_merchant(svc.db, TENANT, mid)
            with svc.db.tenant_session(TENANT) as s:
                seed_catalogue(s, mid, at=utcnow())
        with svc.db.tenant_session(TENANT) as s:
            rows = s.scalars(
                select(Item)
                .where(Item.merchant_id == "mer_a", Item.fulfillment == "shipping")
                .order_by(Item.unit_amount)
            ).all()
            # The two cheapest in stock: a small agent payment the risk layer approves.
            items = [r.item_id for r in rows if r.stock is None or r.stock > 5][:2]
        keys = {
            "shopper": svc.keys.create_key(TENANT, Role.SHOPPER, merchant_id="mer_a"),
            "shopper_b": svc.keys.create_key(TENANT, Role.SHOPPER, merchant_id="mer_b"),
            "merchant": svc.keys.create_key(TENANT, Role.MERCHANT, merchant_id="mer_a"),
            "admin": svc.keys.create_key(TENANT, Role.ADMIN),
            "partner": svc.keys.create_key(TENANT, Role.PARTNER),
        }
        # The shopper key's agent platform, registered long ago (the risk layer trusts an
        # established platform more than an unknown key).
        with svc.db.tenant_session(TENANT) as s:
            s.add(
                Platform(
                    id="plat_mcp",
                    key_id=keys["shopper"].id,
                    name="MCP test agent",
                    webhook_secret="whsec_test",
                    created_at=utcnow() - timedelta(days=120),
                )
            )
        gateway = Gateway(svc.db, simulator=Approves())
        svc.extras[HANDLERS_KEY][HANDLER_ID] = TokenizedCardHandler(gateway, scorer=None)
        yield World(live, {k: v.secret for k, v in keys.items()}, items)


def _meta(**extra: str) -> dict[str, str]:
    return {"api_version": ACP_VERSION, "idempotency_key": str(uuid.uuid4()), **extra}


def _headers(meta: dict[str, str]) -> dict[str, str]:
    names = {
        "api_version": "API-Version",
        "idempotency_key": "Idempotency-Key",
        "request_id": "Request-Id",
    }
    return {names[k]: v for k, v in meta.items() if k in names}


def _create_body(world: World) -> dict[str, Any]:
    return {
        "currency": "sgd",
        "line_items": [{"id": world.items[0]}],
        "capabilities": {"interventions": {"supported": []}},
        "fulfillment_details": {
            "name": "Tan Mei Ling",
            "email": "mei@example.com",
            "phone_number": "6591234567",
            "address": {
                "name": "Tan Mei Ling",
                "line_one": "1 Raffles Place",
                "city": "Singapore",
                "state": "SG",
                "country": "SG",
                "postal_code": "048616",
            },
        },
    }


def _select_body(session: dict[str, Any]) -> dict[str, Any]:
    """Express shipping for every item (the default is standard), so the update changes totals."""
    shipping = [o for o in session["fulfillment_options"] if o["type"] == "shipping"]
    option = max(shipping, key=lambda o: o["totals"][-1]["amount"])
    item_ids = sorted({li["item"]["id"] for li in session["line_items"]})
    return {
        "selected_fulfillment_options": [
            {"type": "shipping", "option_id": option["id"], "item_ids": item_ids}
        ]
    }


def _total(session: dict[str, Any]) -> int:
    return int(next(t["amount"] for t in session["totals"] if t["type"] == "total"))


def _delegate(world: World, key: str, session: dict[str, Any]) -> str:
    """A vault token for exactly this session's total (the PSP side, by REST)."""
    body = {
        "payment_method": {
            "type": "card",
            "card_number_type": "fpan",
            "virtual": False,
            "number": "4242424242424242",
            "exp_month": "11",
            "exp_year": str(utcnow().year + 2),
            "cvc": "223",
            "display_card_funding_type": "credit",
            "display_brand": "visa",
            "display_last4": "4242",
            "metadata": {},
        },
        "allowance": {
            "reason": "one_time",
            "max_amount": _total(session),
            "currency": session["currency"],
            "checkout_session_id": session["id"],
            "merchant_id": "mer_a",
            "expires_at": (utcnow() + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
        },
        "billing_address": {
            "name": "Tan Mei Ling",
            "line_one": "1 Raffles Place",
            "city": "Singapore",
            "state": "SG",
            "country": "SG",
            "postal_code": "048616",
        },
        "risk_signals": [],
        "metadata": {},
    }
    meta = _meta()
    with world.live.rest(key) as rest:
        r = rest.post("/acp/agentic_commerce/delegate_payment", json=body, headers=_headers(meta))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _complete_body(token: str) -> dict[str, Any]:
    return {
        "payment_data": {
            "handler_id": "dev.acp.tokenized.card",
            "instrument": {"type": "card", "credential": {"type": "spt", "token": token}},
        }
    }


def _structured(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result
    assert result.structured_content is not None
    (text,) = result.content
    assert isinstance(text, types.TextContent)
    assert json.loads(text.text) == result.structured_content
    return dict(result.structured_content)


def _acp_meta(result: types.CallToolResult) -> dict[str, Any]:
    assert result.meta is not None
    found = result.meta.get("cockpit/acp")
    assert isinstance(found, dict)
    return found


# ---- the full flow ---------------------------------------------------------------------------


def test_create_update_complete_over_mcp_is_the_rest_checkout(world: World) -> None:
    key = world.keys["shopper"]

    async def flow(session: ClientSession) -> dict[str, Any]:
        created = await session.call_tool(
            "create_checkout_session", {"meta": _meta(), "payload": _create_body(world)}
        )
        cs = _structured(created)
        assert _acp_meta(created)["status"] == 201
        updated = _structured(
            await session.call_tool(
                "update_checkout_session",
                {"meta": _meta(), "id": cs["id"], "payload": _select_body(cs)},
            )
        )
        token = _delegate(world, key, updated)
        done = await session.call_tool(
            "complete_checkout_session",
            {"meta": _meta(), "id": cs["id"], "payload": _complete_body(token)},
        )
        got = _structured(
            await session.call_tool(
                "get_checkout_session", {"meta": {"api_version": ACP_VERSION}, "id": cs["id"]}
            )
        )
        return {"created": cs, "updated": updated, "completed": _structured(done), "got": got}

    mcp = with_session(world.live, key, flow)
    assert_acp("CheckoutSession", mcp["created"])
    assert_acp("CheckoutSession", mcp["updated"])
    assert mcp["completed"]["status"] == "completed", mcp["completed"]["messages"]
    assert_acp("CheckoutSessionWithOrder", mcp["completed"])
    assert mcp["updated"]["status"] == "ready_for_payment"
    assert mcp["completed"]["status"] == "completed"
    order = mcp["completed"]["order"]
    assert order["checkout_session_id"] == mcp["created"]["id"]

    # The same steps by REST give the same checkout (ids and times aside).
    with world.live.rest(key) as rest:
        r = rest.post("/acp/checkout_sessions", json=_create_body(world), headers=_headers(_meta()))
        assert r.status_code == 201, r.text
        cs = r.json()
        r = rest.post(
            f"/acp/checkout_sessions/{cs['id']}", json=_select_body(cs), headers=_headers(_meta())
        )
        assert r.status_code == 200, r.text
        updated = r.json()
        token = _delegate(world, key, updated)
        r = rest.post(
            f"/acp/checkout_sessions/{cs['id']}/complete",
            json=_complete_body(token),
            headers=_headers(_meta()),
        )
        assert r.status_code == 200, r.text
        completed = r.json()
        # The MCP session is a REST session: REST reads back what MCP's get returned.
        r = rest.get(
            f"/acp/checkout_sessions/{mcp['created']['id']}", headers={"API-Version": ACP_VERSION}
        )
        assert r.status_code == 200, r.text
        assert r.json() == mcp["got"]
    _same_checkout(mcp["completed"], completed)
    _same_checkout(mcp["updated"], updated)
    # The MCP purchase took stock, as the REST one after it did.
    before, after = (
        x["line_items"][0]["available_quantity"] for x in (mcp["completed"], completed)
    )
    assert before - after == 1
    _assert_order_rows(world, mcp["completed"], completed)
    assert _total(mcp["completed"]) == _total(completed)


def _assert_order_rows(world: World, *sessions: dict[str, Any]) -> None:
    """Each completed session has one order row with a captured payment of its total."""
    with world.live.services.db.tenant_session(TENANT) as s:
        for cs in sessions:
            row = load_order(s, cs["order"]["id"])
            assert row is not None and row.checkout_session_id == cs["id"]
            assert row.merchant_id == "mer_a" and row.handler_id == HANDLER_ID
            payment = s.get(Payment, row.payment_id)
            assert payment is not None and payment.merchant_id == "mer_a"
            assert payment.captured_amount == _total(cs) == payment.amount
            assert order_json(row)["checkout_session_id"] == cs["id"]


def _same_checkout(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Equal but for what differs between two sessions by nature: their ids and the times."""
    ids = {a["id"]: "<session>", b["id"]: "<session>"}
    for x in (a, b):
        if "order" in x:
            ids[x["order"]["id"]] = "<order>"

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items() if k not in PER_ORDER}
        if isinstance(value, list):
            return [norm(v) for v in value]
        if isinstance(value, str):
            if TIMESTAMP.match(value):
                return "<time>"
            for old, new in ids.items():
                value = value.replace(old, new)
        return value

    left, right = norm(a), norm(b)
    assert left == right, list(_diff(left, right))


def _diff(a: Any, b: Any, path: str = "$") -> Iterator[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            yield from _diff(a.get(k), b.get(k), f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _diff(x, y, f"{path}[{i}]")
    elif a != b:
        yield f"{path}: {a!r} != {b!r}"


# ---- ACP errors in the binding's shape --------------------------------------------------------


def _mcp_error(world: World, who: str, name: str, args: dict[str, Any]) -> MCPError:
    async def go(session: ClientSession) -> MCPError:
        with pytest.raises(MCPError) as err:
            await session.call_tool(name, args)
        return err.value

    return with_session(world.live, world.keys[who], go)


def _assert_binding_error(err: MCPError) -> dict[str, Any]:
    example = acp_examples("mcp.agentic_checkout")["error_invalid_request"]["error"]
    assert err.code == example["code"] == -32000
    assert isinstance(err.data, dict)
    assert_acp("Error", err.data)
    assert err.message == err.data["message"]
    return err.data


def test_missing_api_version_in_meta_is_the_binding_error(world: World) -> None:
    err = _mcp_error(
        world,
        "shopper",
        "create_checkout_session",
        {"meta": {"idempotency_key": str(uuid.uuid4())}, "payload": _create_body(world)},
    )
    data = _assert_binding_error(err)
    assert data["type"] == "invalid_request"
    assert data["code"] == "missing_api_version"
    assert data["supported_versions"] == [ACP_VERSION]
    assert data["param"] == "$.meta.api_version"


def test_a_payload_error_points_into_the_arguments(world: World) -> None:
    body = _create_body(world)
    del body["currency"]
    err = _mcp_error(
        world, "shopper", "create_checkout_session", {"meta": _meta(), "payload": body}
    )
    data = _assert_binding_error(err)
    assert data["param"] == "$.payload.currency"


def test_idempotency_replay_and_conflict(world: World) -> None:
    meta = _meta()

    async def twice(session: ClientSession) -> tuple[types.CallToolResult, types.CallToolResult]:
        args = {"meta": meta, "payload": _create_body(world)}
        first = await session.call_tool("create_checkout_session", args)
        again = await session.call_tool("create_checkout_session", args)
        return first, again

    first, again = with_session(world.live, world.keys["shopper"], twice)
    assert _structured(first)["id"] == _structured(again)["id"]
    headers = _acp_meta(again)["headers"]
    assert headers.get("Idempotent-Replayed") == "true"
    assert headers.get("Idempotency-Key") == meta["idempotency_key"]
    # Same key, another body: 422-class idempotency_conflict, as the binding's error.
    other = _create_body(world)
    other["line_items"] = [{"id": world.items[1]}]
    err = _mcp_error(world, "shopper", "create_checkout_session", {"meta": meta, "payload": other})
    data = _assert_binding_error(err)
    assert data["code"] == "idempotency_conflict"


def test_another_merchants_session_is_not_found(world: World) -> None:
    async def create(session: ClientSession) -> dict[str, Any]:
        return _structured(
            await session.call_tool(
                "create_checkout_session", {"meta": _meta(), "payload": _create_body(world)}
            )
        )

    cs = with_session(world.live, world.keys["shopper"], create)
    err = _mcp_error(
        world,
        "shopper_b",
        "get_checkout_session",
        {"meta": {"api_version": ACP_VERSION}, "id": cs["id"]},
    )
    data = _assert_binding_error(err)
    with world.live.rest(world.keys["shopper_b"]) as rest:
        twin = rest.get(f"/acp/checkout_sessions/{cs['id']}", headers={"API-Version": ACP_VERSION})
    assert twin.status_code == 404
    assert data["code"] == twin.json()["code"]


def test_a_merchant_key_is_not_offered_checkout(world: World) -> None:
    err = _mcp_error(
        world,
        "merchant",
        "create_checkout_session",
        {"meta": _meta(), "payload": _create_body(world)},
    )
    assert _assert_binding_error(err)["code"] == "role_required"


# ---- the authorisation matrix: every checkout tool x every role, MCP against its REST twin ----

TWINS = {
    "create_checkout_session": ("POST", "/acp/checkout_sessions"),
    "get_checkout_session": ("GET", "/acp/checkout_sessions/{id}"),
    "update_checkout_session": ("POST", "/acp/checkout_sessions/{id}"),
    "complete_checkout_session": ("POST", "/acp/checkout_sessions/{id}/complete"),
    "cancel_checkout_session": ("POST", "/acp/checkout_sessions/{id}/cancel"),
}


@pytest.mark.parametrize("who", ["shopper", "merchant", "admin", "partner"])
def test_each_role_gets_over_mcp_exactly_what_rest_gives_it(world: World, who: str) -> None:
    """The same request (a session that does not exist, an empty body) by both transports:
    refused for the same reason or answered alike, and offered over MCP only when allowed."""
    assert set(TWINS) == {t.name for t in CHECKOUT_TOOLS}
    key = world.keys[who]
    principal = world.live.services.keys.authenticate(key)
    calls: dict[str, dict[str, Any]] = {}
    for tool in CHECKOUT_TOOLS:
        args: dict[str, Any] = {"meta": _meta()}
        if tool.with_id:
            args["id"] = "cs_does_not_exist"
        if tool.payload != "none":
            args["payload"] = {}
        calls[tool.name] = args

    async def probe(session: ClientSession) -> tuple[set[str], dict[str, Any]]:
        offered = {t.name for t in (await session.list_tools()).tools}
        outcomes: dict[str, Any] = {}
        for name, args in calls.items():
            try:
                outcomes[name] = _structured(await session.call_tool(name, args))
            except MCPError as exc:
                outcomes[name] = _assert_binding_error(exc)
        return offered, outcomes

    offered, outcomes = with_session(world.live, key, probe)
    routes = {(r.method, r.path): r for r in api_routes(world.live.app)}
    for tool in CHECKOUT_TOOLS:
        method, path = TWINS[tool.name]
        route = routes[(method, path.replace("{id}", "{checkout_session_id}"))]
        assert route.roles == tool.roles, (tool.name, route.roles)
        args = calls[tool.name]
        meta = dict(args["meta"], idempotency_key=str(uuid.uuid4()))
        with world.live.rest(key) as rest:
            twin = rest.request(
                method,
                path.replace("{id}", str(args.get("id", ""))),
                json=args.get("payload") if method == "POST" else None,
                headers=_headers(meta),
            )
        got = outcomes[tool.name]
        assert twin.status_code >= 400, (tool.name, who, twin.text)  # nothing here can succeed
        assert got.get("code") == twin.json().get("code"), (tool.name, who, got, twin.text)
        rest_refuses = twin.status_code in (401, 403)
        assert (tool.name in offered) == rights.permits(principal, tool.roles), (tool.name, who)
        if tool.name in offered:
            assert not rest_refuses or twin.json()["code"] == "merchant_binding_required"
        else:
            assert rest_refuses, (tool.name, who, twin.text)
