"""Agent-platform registration: who may register which shopper key's platform, what a
signing key and a webhook URL must be, the secret shown once, update and disable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jwcrypto.jwk import JWK

from cockpit.db.session import Database
from tests.support.apptest import Api, running_app
from tests.support.merchants import add_merchant

TENANT = "plat-t"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("platforms")
    with running_app(tmp, module_database_url) as api:
        api.tenant(TENANT)
        url = module_database_url or f"sqlite:///{api.data_dir}/cockpit.db"
        db = Database(url)
        add_merchant(db, TENANT, "mer_a")
        add_merchant(db, TENANT, "mer_b")
        db.dispose()
        yield api


def key(
    api: Api, role: str, merchant_id: str | None = None, tenant: str = TENANT
) -> tuple[str, str]:
    """(secret, key id) of a new key."""
    body: dict[str, Any] = {"role": role, "tenant_id": tenant}
    if merchant_id:
        body["merchant_id"] = merchant_id
    r = api.client.post("/v1/keys", json=body, headers=api.h(api.admin_key))
    assert r.status_code == 201, r.text
    return r.json()["key"], r.json()["id"]


def public_jwk() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(JWK.generate(kty="EC", crv="P-256").export_public())
    return data


def test_admin_registers_a_platform_and_sees_the_secret_once(api: Api) -> None:
    admin, _ = key(api, "admin")
    _, shopper = key(api, "shopper", "mer_a")
    jwk = public_jwk()
    r = api.client.post(
        "/v1/commerce/platforms",
        json={
            "key_id": shopper,
            "name": "Agent One",
            "signing_jwk": jwk,
            "webhook_url": "http://127.0.0.1:9/hooks",
        },
        headers=api.h(admin),
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["key_id"] == shopper and created["signing_jwk"]["x"] == jwk["x"]
    assert created["webhook_secret"].startswith("whsec_") and len(created["webhook_secret"]) > 30
    got = api.client.get(f"/v1/commerce/platforms/{created['id']}", headers=api.h(admin)).json()
    assert "webhook_secret" not in got and got["name"] == "Agent One"
    listed = api.client.get("/v1/commerce/platforms", headers=api.h(admin)).json()["data"]
    assert created["id"] in [p["id"] for p in listed]
    assert all("webhook_secret" not in p for p in listed)
    again = api.client.post(
        "/v1/commerce/platforms", json={"key_id": shopper, "name": "Dup"}, headers=api.h(admin)
    )
    assert again.status_code == 409 and again.json()["code"] == "platform_exists"


def test_merchant_keys_reach_only_their_merchants_shopper_keys(api: Api) -> None:
    merchant_a, _ = key(api, "merchant", "mer_a")
    merchant_b, _ = key(api, "merchant", "mer_b")
    _, shopper_b = key(api, "shopper", "mer_b")
    r = api.client.post(
        "/v1/commerce/platforms",
        json={"key_id": shopper_b, "name": "B agent"},
        headers=api.h(merchant_a),
    )
    assert r.status_code == 404 and r.json()["code"] == "key_not_found"
    r = api.client.post(
        "/v1/commerce/platforms",
        json={"key_id": shopper_b, "name": "B agent"},
        headers=api.h(merchant_b),
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert (
        api.client.get(f"/v1/commerce/platforms/{pid}", headers=api.h(merchant_a)).status_code
        == 404
    )
    ids_a = [
        p["id"]
        for p in api.client.get("/v1/commerce/platforms", headers=api.h(merchant_a)).json()["data"]
    ]
    assert pid not in ids_a
    r = api.client.patch(
        f"/v1/commerce/platforms/{pid}", json={"name": "x"}, headers=api.h(merchant_a)
    )
    assert r.status_code == 404


def test_keys_that_are_not_shopper_keys_or_not_of_the_tenant_are_refused(api: Api) -> None:
    admin, _ = key(api, "admin")
    _, merchant_key = key(api, "merchant", "mer_a")
    api.tenant("plat-other")
    _, foreign = key(api, "shopper", tenant="plat-other")
    for key_id in (merchant_key, foreign, "nope"):
        r = api.client.post(
            "/v1/commerce/platforms", json={"key_id": key_id, "name": "n"}, headers=api.h(admin)
        )
        assert r.status_code == 404, (key_id, r.text)
    shopper_secret, _ = key(api, "shopper", "mer_a")
    r = api.client.get("/v1/commerce/platforms", headers=api.h(shopper_secret))
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda j: {**j, "d": "A" * 43}, "invalid_signing_jwk"),
        (lambda j: {**j, "crv": "P-384"}, "invalid_signing_jwk"),
        (lambda j: {**j, "kty": "RSA"}, "invalid_signing_jwk"),
        (lambda j: {**j, "y": j["x"]}, "invalid_signing_jwk"),
        (lambda j: {**j, "x": j["x"][:-2]}, "invalid_signing_jwk"),
        (lambda j: {**j, "alg": "RS256"}, "invalid_signing_jwk"),
    ],
)
def test_signing_keys_must_be_public_p256_points(api: Api, mutate: Any, code: str) -> None:
    admin, _ = key(api, "admin")
    _, shopper = key(api, "shopper", "mer_a")
    r = api.client.post(
        "/v1/commerce/platforms",
        json={"key_id": shopper, "name": "n", "signing_jwk": mutate(public_jwk())},
        headers=api.h(admin),
    )
    assert r.status_code == 422 and r.json()["code"] == code, r.text


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://127.0.0.1/x", "invalid_webhook_url"),
        ("http:///nohost", "invalid_webhook_url"),
        ("http://user:pw@127.0.0.1/x", "invalid_webhook_url"),
        ("https://agent.example.com/hooks", "webhook_host_not_allowed"),
        ("http://10.0.0.5/hooks", "webhook_host_not_allowed"),
    ],
)
def test_webhook_urls_must_be_http_and_callable(api: Api, url: str, code: str) -> None:
    admin, _ = key(api, "admin")
    _, shopper = key(api, "shopper", "mer_a")
    r = api.client.post(
        "/v1/commerce/platforms",
        json={"key_id": shopper, "name": "n", "webhook_url": url},
        headers=api.h(admin),
    )
    assert r.status_code == 422 and r.json()["code"] == code, r.text


def test_update_rotates_the_secret_clears_fields_and_disables(api: Api, tmp_path: Path) -> None:
    admin, _ = key(api, "admin")
    _, shopper = key(api, "shopper", "mer_a")
    created = api.client.post(
        "/v1/commerce/platforms",
        json={
            "key_id": shopper,
            "name": "n",
            "signing_jwk": public_jwk(),
            "webhook_url": "http://localhost:9/h",
        },
        headers=api.h(admin),
    ).json()
    pid = created["id"]
    r = api.client.patch(
        f"/v1/commerce/platforms/{pid}", json={"rotate_secret": True}, headers=api.h(admin)
    )
    assert r.status_code == 200
    rotated = r.json()["webhook_secret"]
    assert rotated != created["webhook_secret"]
    r = api.client.patch(
        f"/v1/commerce/platforms/{pid}",
        json={"signing_jwk": None, "webhook_url": None, "name": "renamed"},
        headers=api.h(admin),
    )
    body = r.json()
    assert (body["signing_jwk"], body["webhook_url"], body["name"]) == (None, None, "renamed")
    assert "webhook_secret" not in body
    r = api.client.delete(f"/v1/commerce/platforms/{pid}", headers=api.h(admin))
    assert r.status_code == 200 and r.json()["disabled"] is True
    got = api.client.get(f"/v1/commerce/platforms/{pid}", headers=api.h(admin)).json()
    assert got["disabled"] is True
