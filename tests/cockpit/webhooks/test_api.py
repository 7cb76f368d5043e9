"""The /v1/webhooks routes: CRUD, secrets shown once, rotation, isolation between tenants and
between merchants of a tenant, and bad input answered with a code and a param."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from cockpit.clock import utcnow
from tests.cockpit.webhooks.kit import Receiver, serving_receiver
from tests.support.apptest import Api, running_app
from tests.support.merchants import add_merchant

A, B = "wh-a", "wh-b"
MER_1, MER_2 = "mer_wh_1", "mer_wh_2"


@dataclass
class World:
    api: Api
    keys: dict[str, str]
    """admin, partner, merchant (unbound), m1 and m2 (bound), shopper, admin_b."""
    receiver: Receiver

    def call(self, who: str, method: str, path: str, **kw: Any) -> Any:
        return self.api.client.request(
            method, "/v1/webhooks" + path, headers=self.api.h(self.keys[who]), **kw
        )

    def url(self, path: str) -> str:
        return self.receiver.url + path

    def create(self, who: str, path: str, **fields: Any) -> dict[str, Any]:
        r = self.call(who, "POST", "/endpoints", json={"url": self.url(path), **fields})
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("webhooks-api")
    with (
        serving_receiver() as receiver,
        running_app(tmp, None, webhook_allowed_hosts=["127.0.0.1"]) as api,
    ):
        admin, admin_b = api.tenant(A), api.tenant(B)
        db = api.client.app.state.services.db  # type: ignore[attr-defined]
        for merchant in (MER_1, MER_2):
            add_merchant(db, A, merchant)

        def key(role: str, merchant: str | None = None) -> str:
            body = {"role": role, **({"merchant_id": merchant} if merchant else {})}
            r = api.client.post("/v1/keys", json=body, headers=api.h(admin))
            assert r.status_code == 201, r.text
            return str(r.json()["key"])

        keys = {
            "admin": admin,
            "partner": key("partner"),
            "merchant": key("merchant"),
            "m1": key("merchant", MER_1),
            "m2": key("merchant", MER_2),
            "shopper": key("shopper"),
            "admin_b": admin_b,
        }
        yield World(api, keys, receiver)


def test_the_catalogue_lists_the_core_event_types(world: World) -> None:
    r = world.call("merchant", "GET", "/event-types")
    assert r.status_code == 200
    names = {e["name"] for e in r.json()}
    assert {"monitor.finding", "run.completed", "webhook.test"} <= names
    assert all(e["description"] for e in r.json())


def test_create_shows_the_secret_once_and_crud_works(world: World) -> None:
    created = world.create("partner", "/crud", event_types=["run.completed"], description="ops")
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["id"].startswith("we_")
    assert created["event_types"] == ["run.completed"] and created["merchant_id"] is None
    assert [s["active"] for s in created["secrets"]] == [True]
    eid = created["id"]
    got = world.call("partner", "GET", f"/endpoints/{eid}")
    assert got.status_code == 200 and secret not in got.text and "secret" not in got.json()
    listed = world.call("admin", "GET", "/endpoints")
    assert eid in {e["id"] for e in listed.json()} and secret not in listed.text
    patched = world.call(
        "partner",
        "PATCH",
        f"/endpoints/{eid}",
        json={"event_types": ["*"], "enabled": False, "description": "paused"},
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["event_types"], body["enabled"], body["description"]) == (["*"], False, "paused")
    assert body["url"] == world.url("/crud")
    assert world.call("partner", "DELETE", f"/endpoints/{eid}").status_code == 204
    assert world.call("partner", "GET", f"/endpoints/{eid}").status_code == 404
    audit = world.api.client.get("/v1/audit", headers=world.api.h(world.keys["admin"])).json()
    kinds = {r["kind"] for r in audit if r["subject"] == eid}
    assert kinds == {
        "webhook_endpoint_created",
        "webhook_endpoint_updated",
        "webhook_endpoint_deleted",
    }
    assert secret not in str(audit)


def test_rotation_keeps_the_old_secret_for_the_grace_period(world: World) -> None:
    created = world.create("admin", "/rotate")
    eid, first = created["id"], created["secret"]
    r = world.call("admin", "POST", f"/endpoints/{eid}/rotate-secret", json={})
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != first
    new, old = rotated["secrets"]
    assert new["expires_at"] is None and old["id"] == created["secrets"][0]["id"]
    expires = datetime.fromisoformat(old["expires_at"])
    assert timedelta(hours=23) < expires - utcnow() <= timedelta(hours=24)
    assert old["active"] is True
    # Without a grace period every older secret retires at once (a leaked secret).
    r = world.call("admin", "POST", f"/endpoints/{eid}/rotate-secret", json={"grace_period_s": 0})
    (only,) = r.json()["secrets"]
    assert only["expires_at"] is None and only["id"] not in (new["id"], old["id"])
    bad = world.call(
        "admin", "POST", f"/endpoints/{eid}/rotate-secret", json={"grace_period_s": -1}
    )
    assert bad.status_code == 422 and bad.json()["param"] == "grace_period_s"


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        ({"url": "ftp://127.0.0.1/x"}, 422, "webhook_destination_refused", "url"),
        ({"url": "http://10.0.0.7/hook"}, 422, "webhook_destination_refused", "url"),
        ({"url": "http://169.254.169.254/latest"}, 422, "webhook_destination_refused", "url"),
        ({"url": "http://localhost:1/hook"}, 422, "webhook_destination_refused", "url"),
        ({"url": "RECEIVER/x", "event_types": ["nope.x"]}, 422, "unknown_event_type", None),
        ({"url": "RECEIVER/x", "event_types": []}, 422, None, "event_types"),
        ({"url": "RECEIVER/x", "secret": "mine"}, 422, None, "secret"),
        ({"url": "RECEIVER/x", "merchant_id": ""}, 422, None, "merchant_id"),
        ({}, 422, None, "url"),
    ],
)
def test_bad_input_is_a_4xx_with_code_and_param(
    world: World, body: dict[str, Any], status: int, code: str | None, param: str | None
) -> None:
    if "url" in body:
        body = {**body, "url": body["url"].replace("RECEIVER", world.receiver.url)}
    r = world.call("admin", "POST", "/endpoints", json=body)
    assert r.status_code == status, r.text
    error = r.json()
    assert set(error) >= {"type", "code", "message", "param"}
    if code is not None:
        assert error["code"] == code
    if param is not None:
        assert error["param"] == param
    if code == "unknown_event_type":
        assert error["param"] == "event_types[0]"


def test_duplicates_and_bad_patches_are_refused(world: World) -> None:
    created = world.create("admin", "/dup")
    again = world.call("admin", "POST", "/endpoints", json={"url": world.url("/dup")})
    assert (again.status_code, again.json()["code"]) == (409, "webhook_url_exists")
    # The same URL for one merchant is another registration.
    assert world.create("m1", "/dup")["merchant_id"] == MER_1
    eid = created["id"]
    refused = world.call("admin", "PATCH", f"/endpoints/{eid}", json={"url": "http://10.1.1.1/"})
    assert (refused.status_code, refused.json()["param"]) == (422, "url")
    extra = world.call("admin", "PATCH", f"/endpoints/{eid}", json={"merchant_id": MER_2})
    assert extra.status_code == 422
    assert world.call("admin", "GET", f"/endpoints/{eid}").json()["url"] == world.url("/dup")


def test_merchant_keys_see_and_register_only_their_own(world: World) -> None:
    own = world.create("m1", "/m1")
    assert own["merchant_id"] == MER_1
    mismatch = world.call(
        "m1", "POST", "/endpoints", json={"url": world.url("/m1b"), "merchant_id": MER_2}
    )
    assert (mismatch.status_code, mismatch.json()["code"]) == (404, "merchant_not_found")
    assert mismatch.json()["param"] == "merchant_id"
    unknown = world.call(
        "admin", "POST", "/endpoints", json={"url": world.url("/nobody"), "merchant_id": "mer_x"}
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "merchant_not_found")
    tenant_wide = world.create("admin", "/wide")
    for_m2 = world.create("admin", "/for-m2", merchant_id=MER_2)
    assert for_m2["merchant_id"] == MER_2
    m1_sees = {e["id"] for e in world.call("m1", "GET", "/endpoints").json()}
    assert own["id"] in m1_sees and not m1_sees & {tenant_wide["id"], for_m2["id"]}
    admin_sees = {e["id"] for e in world.call("admin", "GET", "/endpoints").json()}
    assert {own["id"], tenant_wide["id"], for_m2["id"]} <= admin_sees
    for method, path, body in (
        ("GET", "", None),
        ("PATCH", "", {"enabled": False}),
        ("POST", "/rotate-secret", {}),
        ("POST", "/test", None),
        ("DELETE", "", None),
    ):
        r = world.call("m2", method, f"/endpoints/{own['id']}{path}", json=body)
        assert r.status_code == 404, (method, path, r.text)
        assert own["url"] not in r.text
    assert world.call("m1", "GET", f"/endpoints/{own['id']}").status_code == 200


def test_another_tenant_gets_404_and_an_empty_list(world: World) -> None:
    created = world.create("admin", "/tenant-a")
    eid = created["id"]
    sent = world.call("admin", "POST", f"/endpoints/{eid}/test")
    assert sent.status_code == 202, sent.text
    delivery = sent.json()["id"]
    for method, path in (
        ("GET", f"/endpoints/{eid}"),
        ("PATCH", f"/endpoints/{eid}"),
        ("DELETE", f"/endpoints/{eid}"),
        ("POST", f"/endpoints/{eid}/rotate-secret"),
        ("POST", f"/endpoints/{eid}/test"),
        ("GET", f"/deliveries/{delivery}"),
        ("POST", f"/deliveries/{delivery}/replay"),
    ):
        body = {} if method in ("PATCH", "POST") else None
        r = world.call("admin_b", method, path, json=body)
        assert r.status_code == 404, (method, path, r.text)
    assert world.call("admin_b", "GET", "/endpoints").json() == []
    assert world.call("admin_b", "GET", "/deliveries").json() == []
    assert world.call("admin", "GET", f"/endpoints/{eid}").status_code == 200


def test_shoppers_may_not_touch_webhooks(world: World) -> None:
    for method, path in (("GET", "/endpoints"), ("POST", "/endpoints"), ("GET", "/deliveries")):
        r = world.call("shopper", method, path, json={"url": world.url("/s")})
        assert (r.status_code, r.json()["code"]) == (403, "role_required")


def test_test_events_are_delivered_and_the_log_filters(world: World) -> None:
    runs = world.create("admin", "/log-runs", event_types=["run.completed"])
    m1 = world.create("m1", "/log-m1")
    r = world.call("admin", "POST", f"/endpoints/{runs['id']}/test")
    assert r.status_code == 202
    queued = r.json()
    assert queued["event_type"] == "webhook.test" and queued["endpoint_id"] == runs["id"]
    assert queued["payload"]["data"]["endpoint_id"] == runs["id"]
    m1_test = world.call("m1", "POST", f"/endpoints/{m1['id']}/test").json()
    done = wait_status(world, "admin", queued["id"], "succeeded")
    assert [a["status_code"] for a in done["attempt_log"]] == [200]
    listed = world.call("admin", "GET", "/deliveries", params={"endpoint_id": runs["id"]}).json()
    assert [d["id"] for d in listed] == [queued["id"]]
    assert "attempt_log" not in listed[0]
    typed = world.call("admin", "GET", "/deliveries", params={"event_type": "run.completed"})
    assert queued["id"] not in {d["id"] for d in typed.json()}
    wait_status(world, "m1", m1_test["id"], "succeeded")
    ok = world.call("admin", "GET", "/deliveries", params={"status": "succeeded"}).json()
    assert {queued["id"], m1_test["id"]} <= {d["id"] for d in ok}
    mine = {d["id"] for d in world.call("m1", "GET", "/deliveries").json()}
    assert mine == {m1_test["id"]}  # not the tenant-wide endpoint's delivery
    assert world.call("m2", "GET", f"/deliveries/{m1_test['id']}").status_code == 404
    bad = world.call("admin", "GET", "/deliveries", params={"status": "lost"})
    assert bad.status_code == 422 and bad.json()["param"] == "status"


def test_disabled_endpoints_refuse_tests_and_replays(world: World) -> None:
    created = world.create("admin", "/disabled")
    eid = created["id"]
    sent = world.call("admin", "POST", f"/endpoints/{eid}/test").json()
    wait_status(world, "admin", sent["id"], "succeeded")
    world.call("admin", "PATCH", f"/endpoints/{eid}", json={"enabled": False})
    r = world.call("admin", "POST", f"/endpoints/{eid}/test")
    assert (r.status_code, r.json()["code"]) == (409, "endpoint_disabled")
    r = world.call("admin", "POST", f"/deliveries/{sent['id']}/replay")
    assert (r.status_code, r.json()["code"]) == (409, "endpoint_disabled")
    world.call("admin", "DELETE", f"/endpoints/{eid}")
    r = world.call("admin", "POST", f"/deliveries/{sent['id']}/replay")
    assert (r.status_code, r.json()["code"]) == (409, "endpoint_deleted")
    assert world.call("admin", "GET", f"/deliveries/{sent['id']}").status_code == 200


def wait_status(world: World, who: str, delivery_id: str, status: str) -> dict[str, Any]:
    """Poll the delivery until the app's own dispatcher moved it to ``status`` (bounded)."""
    import time

    deadline = time.monotonic() + 30
    while True:
        body: dict[str, Any] = world.call(who, "GET", f"/deliveries/{delivery_id}").json()
        if body["status"] == status or time.monotonic() > deadline:
            assert body["status"] == status, body
            return body
        time.sleep(0.05)
