"""Escalations: no key does more than its role and its merchant binding allow, on any route.

The matrix walks every route of the app (from ``app.routes``) with every role and checks that a
role outside the route's declared set (``allow(...).roles``, cockpit.api.deps) gets 403 before
anything else happens. The rest are escalations a role check cannot see: minting keys (binding,
tenant, more rights than the issuer) and a merchant-bound key naming another merchant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from cockpit.tenancy.models import ApiKey
from cockpit.tenancy.principal import Role
from tests.support.apptest import Api, running_app
from tests.support.merchants import add_merchant
from tests.support.routes import api_routes

A, B = "esc-a", "esc-b"
MER_A1, MER_A2, MER_B1 = "mer_esc_a1", "mer_esc_a2", "mer_esc_b1"
ROLES = ("admin", "merchant_bound", "merchant", "partner", "shopper")
PUBLIC = {
    "/ok",
    "/info",
    "/.well-known/acp.json",
    # the console's page and modules: static files; every figure on it comes from the API
    "/console",
    "/console/",
    "/console/static/{path}",
}
"""Routes anyone may call without a key (anything else must declare who may call it)."""
APPLICANT = {
    "monthly_revenue": 30_000,
    "revenue_growth": 0.05,
    "revenue_volatility": 0.2,
    "dispute_rate": 0.003,
    "refund_rate": 0.02,
    "tenure_months": 30,
    "mcc_risk": "low",
    "market": "EU",
    "requested_amount": 10_000,
    "existing_financing": "none",
}


@dataclass
class World:
    api: Api
    keys: dict[str, str]
    """Role name (``ROLES``) → a key of tenant A."""
    admin_b: str

    def call(self, key: str, method: str, path: str, **kw: Any) -> Any:
        return self.api.client.request(method, path, headers=self.api.h(key), **kw)


def _key(api: Api, admin: str, role: str, merchant_id: str | None = None) -> str:
    body = {"role": role} if merchant_id is None else {"role": role, "merchant_id": merchant_id}
    r = api.client.post("/v1/keys", json=body, headers=api.h(admin))
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


@pytest.fixture(scope="module")
def world(
    module_database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    # Both backends: the role matrix, the key rules and the 404s must not depend on the database.
    with running_app(tmp_path_factory.mktemp("escalations"), module_database_url) as api:
        admin_a, admin_b = api.tenant(A), api.tenant(B)
        db = api.client.app.state.services.db  # type: ignore[attr-defined]
        for tenant, merchant in ((A, MER_A1), (A, MER_A2), (B, MER_B1)):
            add_merchant(db, tenant, merchant)
        keys = {
            "admin": admin_a,
            "merchant_bound": _key(api, admin_a, "merchant", MER_A1),
            "merchant": _key(api, admin_a, "merchant"),
            "partner": _key(api, admin_a, "partner"),
            "shopper": _key(api, admin_a, "shopper"),
        }
        yield World(api, keys, admin_b)


def _admits(roles: frozenset[Role], who: str) -> bool:
    role = Role.MERCHANT if who == "merchant_bound" else Role(who)
    return role is Role.ADMIN or role in roles


def _routes(world: World) -> list[tuple[str, str, frozenset[Role] | None]]:
    return [(r.method, r.path, r.roles) for r in api_routes(world.api.client.app)]


# ----- the role matrix --------------------------------------------------------------------


def test_every_route_declares_who_may_call_it(world: World) -> None:
    routes = _routes(world)
    assert len(routes) > 60
    undeclared = sorted((m, p) for m, p, roles in routes if roles is None and p not in PUBLIC)
    assert undeclared == []


def test_a_role_outside_a_routes_set_gets_403_before_anything_else(world: World) -> None:
    """Empty bodies and made-up ids: the role check runs before validation and lookups."""
    escalations = []
    checked = 0
    for method, path, roles in _routes(world):
        if roles is None:
            continue
        concrete = re.sub(r"{\w+}", "esc-x", path)
        for who in ROLES:
            if _admits(roles, who):
                continue
            r = world.call(world.keys[who], method, concrete, json={})
            checked += 1
            if r.status_code != 403 or r.json().get("code") != "role_required":
                escalations.append((who, method, path, r.status_code, r.text[:120]))
    assert checked > 100
    assert escalations == []


# ----- keys -------------------------------------------------------------------------------


def test_a_key_is_bound_only_to_a_merchant_of_its_own_tenant(world: World) -> None:
    # Tenant B's admin binding a key to tenant A's merchant: that merchant does not exist in B.
    r = world.call(
        world.admin_b, "POST", "/v1/keys", json={"role": "merchant", "merchant_id": MER_A1}
    )
    assert r.status_code == 404, r.text
    assert (r.json()["code"], r.json()["param"]) == ("merchant_not_found", "merchant_id")
    r = world.call(
        world.keys["admin"], "POST", "/v1/keys", json={"role": "merchant", "merchant_id": "mer_no"}
    )
    assert r.status_code == 404, r.text
    # Its own merchants bind fine, by the tenant's admin and by the platform admin.
    _key(world.api, world.admin_b, "merchant", MER_B1)
    r = world.call(
        world.api.admin_key,
        "POST",
        "/v1/keys",
        json={"role": "merchant", "merchant_id": MER_A2, "tenant_id": A},
    )
    assert r.status_code == 201, r.text
    r = world.call(
        world.api.admin_key,
        "POST",
        "/v1/keys",
        json={"role": "merchant", "merchant_id": MER_B1, "tenant_id": A},
    )
    assert r.status_code == 404, r.text


@pytest.mark.parametrize("role", ["admin", "partner"])
def test_only_merchant_and_shopper_keys_carry_a_merchant(world: World, role: str) -> None:
    r = world.call(
        world.keys["admin"], "POST", "/v1/keys", json={"role": role, "merchant_id": MER_A1}
    )
    assert r.status_code == 422, r.text
    assert (r.json()["code"], r.json()["param"]) == ("merchant_binding_not_allowed", "merchant_id")
    _key(world.api, world.keys["admin"], "shopper", MER_A1)


def test_an_admin_mints_keys_for_its_own_tenant_only(world: World) -> None:
    r = world.call(world.keys["admin"], "POST", "/v1/keys", json={"role": "admin", "tenant_id": B})
    assert r.status_code == 403 and r.json()["code"] == "platform_admin_only"
    r = world.call(
        world.keys["admin"],
        "POST",
        "/v1/keys",
        json={"role": "merchant", "merchant_id": MER_B1, "tenant_id": B},
    )
    assert r.status_code == 403 and r.json()["code"] == "platform_admin_only"


def test_a_bound_admin_cannot_mint_a_key_with_more_rights(world: World) -> None:
    """An admin key bound to a merchant (possible before bindings were checked) mints only keys
    bound to that same merchant: an unbound key or another merchant's would widen its reach."""
    services = world.api.client.app.state.services  # type: ignore[attr-defined]
    issued = services.keys.create_key(A, Role.ADMIN, name="legacy bound admin")
    with services.db.system_session() as s:
        row = s.get(ApiKey, issued.id)
        row.merchant_id = MER_A1  # as an older release stored it
    bound_admin = issued.secret
    for body in (
        {"role": "admin"},
        {"role": "merchant"},
        {"role": "partner"},
        {"role": "merchant", "merchant_id": MER_A2},
    ):
        r = world.call(bound_admin, "POST", "/v1/keys", json=body)
        assert r.status_code == 403, (body, r.text)
        assert r.json()["code"] == "key_exceeds_issuer", body
    _key(world.api, bound_admin, "merchant", MER_A1)


# ----- a merchant-bound key naming another merchant ---------------------------------------

OTHER_MERCHANT = [
    ("GET", f"/v1/payments/payments?merchant_id={MER_A2}"),
    ("GET", f"/v1/payments/disputes?merchant_id={MER_A2}"),
    ("GET", f"/v1/payments/analytics/success-rate?merchant_id={MER_A2}"),
    ("GET", f"/v1/payments/analytics/success-rate/series?merchant_id={MER_A2}"),
    ("GET", f"/v1/payments/analytics/declines?merchant_id={MER_A2}"),
    ("GET", f"/v1/payments/analytics/levers?merchant_id={MER_A2}"),
    ("GET", f"/v1/payments/balances/{MER_A2}"),
    ("GET", f"/v1/payments/merchants/{MER_A2}"),
    ("GET", f"/v1/payments/analytics/dispute-monitoring/{MER_A2}"),
    ("GET", f"/v1/fraud/merchants/{MER_A2}/report"),
    ("GET", f"/v1/monitors/findings?merchant_id={MER_A2}"),
    ("GET", f"/v1/monitors/settings?merchant_id={MER_A2}"),
]


@pytest.mark.parametrize(("method", "path"), OTHER_MERCHANT)
def test_a_bound_key_naming_another_merchant_gets_404(world: World, method: str, path: str) -> None:
    r = world.call(world.keys["merchant_bound"], method, path)
    assert r.status_code == 404, r.text
    assert r.json()["code"] == "merchant_not_found"
    # Its own merchant is fine (or simply has nothing yet).
    own = world.call(world.keys["merchant_bound"], method, path.replace(MER_A2, MER_A1))
    assert own.status_code in (200, 404), own.text
    if own.status_code == 404:
        assert own.json()["code"] != "merchant_not_found" or "fraud" in path


def test_a_bound_key_cannot_preview_credit_for_another_merchant(world: World) -> None:
    body = {"strategy": "merchant-default", "applicant": APPLICANT, "merchant_id": MER_A2}
    path = "/v1/credit/applications/preview"
    r = world.call(world.keys["merchant_bound"], "POST", path, json=body)
    assert r.status_code == 404, r.text
    assert r.json()["code"] == "merchant_not_found"
