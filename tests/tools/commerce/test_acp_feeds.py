"""Catalogues, feeds, discovery and request signatures of the ACP merchant server.

Feeds and discovery answers are validated against the official feed / agentic-checkout JSON
Schemas, and the spec's ``examples.feed.json`` requests replay against the server (the
example's USD price is re-priced in the merchant's SGD: our merchants sell in one currency).
"""

from __future__ import annotations

import base64
import copy
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwcrypto import jwk
from sqlalchemy import select

from cockpit.clock import utcnow
from cockpit.money import exponent
from tests.tools.commerce.conftest import (
    MERCHANT,
    SHOP_TENANT,
    AcpWorld,
    acp_headers,
)
from tests.tools.commerce.specs import acp_examples, assert_acp
from tools.commerce.acp.models import Feed, Item
from tools.commerce.acp.seeding import CLOSED_KYB, seed_tenant_catalogues
from tools.commerce.acp.signatures import signing_input
from tools.commerce.platforms import Platform
from tools.payments.demo import MERCHANTS as DEMO_SPECS
from tools.payments.models import Merchant

CAPS = {"interventions": {"supported": []}}


def feed_id(world: AcpWorld, merchant_id: str = MERCHANT) -> str:
    with world.session() as s:
        return str(s.scalars(select(Feed.id).where(Feed.merchant_id == merchant_id)).first())


# ---- catalogue -------------------------------------------------------------------------


def test_demo_merchants_get_fitting_catalogues(acp_world: AcpWorld) -> None:
    """The demo world's merchants (as tools.payments.demo defines them) in a tenant of their own."""
    tenant = f"demo_like_{acp_world.backend}"
    acp_world.services.keys.ensure_tenant(tenant, name="demo-like")
    at = utcnow()
    specs = {f"mer_demo_{m.key}": m for m in DEMO_SPECS}
    with acp_world.db.tenant_session(tenant) as s:
        for mid, spec in specs.items():
            s.add(
                Merchant(
                    id=mid,
                    name=spec.name,
                    legal_name=spec.name,
                    country=spec.country,
                    mcc=spec.mcc,
                    markets=[spec.country],
                    settlement_currency=spec.currency,
                    kyb_state=spec.kyb,
                    webhook_secret="s",
                )
            )
        s.flush()
        added = seed_tenant_catalogues(s, at=at)
        again = seed_tenant_catalogues(s, at=at)
    closed = {mid for mid, spec in specs.items() if spec.kyb in CLOSED_KYB}
    assert closed and set(added) == set(specs) - closed  # a rejected merchant sells nothing
    assert all(n >= 6 for n in added.values()), added
    assert set(again.values()) == {0}  # idempotent
    with acp_world.db.tenant_session(tenant) as s:
        items = s.scalars(select(Item)).all()
        by = {mid: [i for i in items if i.merchant_id == mid] for mid in added}
        for mid, rows in by.items():
            currency = specs[mid].currency
            assert {r.currency for r in rows} == {currency}
            assert all(isinstance(r.unit_amount, int) and r.unit_amount > 0 for r in rows)
            assert any(r.stock == 0 for r in rows), f"{mid} has nothing out of stock"
            assert any(r.stock is not None and 0 < r.stock <= 3 for r in rows), (
                f"{mid}: no low stock"
            )
            assert len(s.scalars(select(Feed).where(Feed.merchant_id == mid)).all()) == 1
        # KRW has no minor unit: a 32,000 won serum is 32000, not 3200000.
        assert exponent("KRW") == 0
        serum = next(r for r in by["mer_demo_kr"] if r.item_id == "dew_serum_30ml")
        assert serum.unit_amount == 32000
        assert {r.fulfillment for r in by["mer_demo_th"]} == {"digital"}  # travel vouchers
        assert {r.fulfillment for r in by["mer_demo_br"]} == {"digital"}  # game codes
        assert {r.fulfillment for r in by["mer_demo_de"]} == {"shipping"}  # outdoor gear
        assert {r.fulfillment for r in by["mer_demo_sg"]} == {"shipping", "digital"}


# ---- feeds -----------------------------------------------------------------------------


def test_feed_and_products_for_shopper_and_merchant(acp_world: AcpWorld) -> None:
    fid = feed_id(acp_world)
    for who in ("shopper", "merchant"):
        h = acp_headers(acp_world.keys[who], idem=None)
        meta = acp_world.client.get(f"/acp/feeds/{fid}", headers=h)
        assert meta.status_code == 200
        assert_acp("FeedMetadata", meta.json(), bundle="feed")
        assert meta.json()["id"] == fid
        r = acp_world.client.get(f"/acp/feeds/{fid}/products", headers=h)
        assert r.status_code == 200
        assert_acp("ProductsResponse", r.json(), bundle="feed")
        variants = [v for p in r.json()["products"] for v in p["variants"]]
        assert len(variants) >= 6
        assert {v["price"]["currency"] for v in variants} == {"SGD"}
        red = next(v for v in variants if v["id"] == "kestrel_kb_red")
        assert red["availability"] == {"available": False, "status": "out_of_stock"}
    # Another merchant's keys do not see it; unbound keys are refused.
    for who in ("shopper_other", "merchant_other"):
        r = acp_world.client.get(
            f"/acp/feeds/{fid}", headers=acp_headers(acp_world.keys[who], idem=None)
        )
        assert r.status_code == 404 and r.json() == acp_examples("feed")["feed_error_not_found"]
    r = acp_world.client.get(
        f"/acp/feeds/{fid}", headers=acp_headers(acp_world.keys["shopper_unbound"], idem=None)
    )
    assert r.status_code == 403


def test_feed_examples_replay(acp_world: AcpWorld) -> None:
    ex = acp_examples("feed")
    for name, schema in (
        ("create_feed_request_minimal", "CreateFeedRequest"),
        ("create_feed_response", "FeedMetadata"),
        ("get_feed_response", "FeedMetadata"),
        ("get_products_response", "ProductsResponse"),
        ("upsert_products_request_single_product", "UpsertProductsRequest"),
        ("feed_error_not_found", "Error"),
        ("feed_error_invalid_request", "Error"),
    ):
        assert_acp(schema, ex[name], bundle="feed")
    h = acp_headers(acp_world.keys["merchant"])
    r = acp_world.client.post("/acp/feeds", json=ex["create_feed_request_minimal"], headers=h)
    assert r.status_code == 201, r.text
    assert_acp("FeedMetadata", r.json(), bundle="feed")
    assert r.json()["target_country"] == "US"
    new_feed = r.json()["id"]
    # Shoppers cannot create feeds or upsert products.
    r = acp_world.client.post("/acp/feeds", json={}, headers=acp_headers(acp_world.keys["shopper"]))
    assert r.status_code == 403 and r.json()["code"] == "role_required"
    upsert = copy.deepcopy(ex["upsert_products_request_single_product"])
    upsert["products"][0]["variants"][0]["price"] = {"amount": 1999, "currency": "SGD"}
    assert_acp("UpsertProductsRequest", upsert, bundle="feed")
    r = acp_world.client.patch(
        f"/acp/feeds/{new_feed}/products",
        json=upsert,
        headers=acp_headers(acp_world.keys["merchant"], idem=None),
    )
    assert r.status_code == 200 and r.json() == {"id": new_feed, "accepted": True}
    products = acp_world.client.get(
        f"/acp/feeds/{feed_id(acp_world)}/products",
        headers=acp_headers(acp_world.keys["shopper"], idem=None),
    ).json()
    assert_acp("ProductsResponse", products, bundle="feed")
    tee = next(p for p in products["products"] if p["id"] == "prod_classic_tee")
    assert tee["title"] == "Classic Tee"
    (variant,) = tee["variants"]
    assert variant["id"] == "sku124-red-m" and variant["availability"]["available"] is False
    # An out-of-stock upserted variant is sold as out of stock by checkout.
    body = {"currency": "sgd", "line_items": [{"id": "sku124-red-m"}], "capabilities": CAPS}
    r = acp_world.client.post(
        "/acp/checkout_sessions", json=body, headers=acp_headers(acp_world.keys["shopper"])
    )
    assert r.status_code == 201
    errors = [m["code"] for m in r.json()["messages"] if m["type"] == "error"]
    assert errors == ["out_of_stock", "missing"]  # and no address yet
    # A price in another currency is refused; products not named stay as they are.
    bad = copy.deepcopy(ex["upsert_products_request_single_product"])
    r = acp_world.client.patch(
        f"/acp/feeds/{new_feed}/products",
        json=bad,
        headers=acp_headers(acp_world.keys["merchant"], idem=None),
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_product_payload"
    assert_acp("Error", r.json(), bundle="feed")
    assert any(p["id"] == "prod_volt_charger" for p in products["products"])
    r = acp_world.client.patch(
        f"/acp/feeds/{new_feed}/products",
        json={"products": []},
        headers=acp_headers(acp_world.keys["merchant"], idem=None),
    )
    assert r.status_code == 400


# ---- discovery -------------------------------------------------------------------------


def test_discovery_is_public_and_names_no_merchant(acp_world: AcpWorld) -> None:
    r = acp_world.client.get("/.well-known/acp.json")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "public, max-age=3600"
    body = r.json()
    assert_acp("DiscoveryResponse", body)
    assert body["api_base_url"] == "http://testserver/acp"
    assert "rest" in body["transports"] and "mcp" in body["transports"]
    assert set(body["capabilities"]["services"]) == {"checkout", "orders", "delegate_payment"}
    assert {"sgd", "krw", "eur", "thb", "brl"} <= set(body["capabilities"]["supported_currencies"])
    assert "mer_" not in r.text


# ---- request signatures --------------------------------------------------------------------


@pytest.fixture(scope="module")
def signing_key(acp_world: AcpWorld) -> jwk.JWK:
    """A P-256 key registered as the signing key of the platform behind ``shopper2``."""
    key = jwk.JWK.generate(kty="EC", crv="P-256")
    with acp_world.db.tenant_session(SHOP_TENANT) as s:
        s.add(
            Platform(
                id=f"plt_sig_{acp_world.backend}",
                key_id=acp_world.principals["shopper2"].key_id,
                name="Signing platform",
                signing_jwk=key.export_public(as_dict=True),
                webhook_url=None,
                webhook_secret="x",
                disabled=False,
            )
        )
    return key


def sign(key: jwk.JWK, timestamp: str, body: dict[str, Any] | None) -> str:
    private = key.get_op_key("sign")
    der = private.sign(signing_input(timestamp, body), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_signed_requests_are_verified(acp_world: AcpWorld, signing_key: jwk.JWK) -> None:
    body = {"currency": "sgd", "line_items": [{"id": "care_warranty_2y"}], "capabilities": CAPS}
    key = acp_world.keys["shopper2"]
    ts = utcnow().isoformat().replace("+00:00", "Z")
    c = acp_world.client

    def call(headers: dict[str, str], payload: dict[str, Any] = body) -> Any:
        return c.post(
            "/acp/checkout_sessions", json=payload, headers={**acp_headers(key), **headers}
        )

    r = call({})
    assert r.status_code == 401 and r.json()["code"] == "signature_required"
    assert_acp("Error", r.json())
    # Key order in the body does not matter (JCS), the signature does.
    reordered = {
        "capabilities": CAPS,
        "line_items": [{"id": "care_warranty_2y"}],
        "currency": "sgd",
    }
    r = call({"Signature": sign(signing_key, ts, body), "Timestamp": ts}, reordered)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = call({"Signature": sign(signing_key, ts, {**body, "currency": "usd"}), "Timestamp": ts})
    assert r.status_code == 401 and r.json()["code"] == "invalid_signature"
    old = (utcnow() - timedelta(seconds=400)).isoformat()
    r = call({"Signature": sign(signing_key, old, body), "Timestamp": old})
    assert r.status_code == 401 and r.json()["code"] == "timestamp_out_of_range"
    other = jwk.JWK.generate(kty="EC", crv="P-256")
    r = call({"Signature": sign(other, ts, body), "Timestamp": ts})
    assert r.status_code == 401 and r.json()["code"] == "invalid_signature"
    # GET signs the empty body.
    h = acp_headers(key, idem=None)
    r = c.get(
        f"/acp/checkout_sessions/{sid}",
        headers={**h, "Signature": sign(signing_key, ts, None), "Timestamp": ts},
    )
    assert r.status_code == 200
    assert c.get(f"/acp/checkout_sessions/{sid}", headers=h).status_code == 401
    # Keys whose platform registered no signing key are not asked for one.
    r = c.post("/acp/checkout_sessions", json=body, headers=acp_headers(acp_world.keys["shopper"]))
    assert r.status_code == 201
