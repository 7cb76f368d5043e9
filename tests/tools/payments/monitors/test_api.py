"""``/v1/monitors`` over HTTP: on-demand runs, findings with filters, acknowledging, settings,
and who sees what (a merchant-bound key only its merchant's; another tenant nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.apptest import Api, running_app
from tests.tools.payments.monitors import world

A, B = "mon-a", "mon-b"
MISSING = {"missing": ["UBO_PROVE"]}


@dataclass
class World:
    api: Api
    keys: dict[str, str]

    def call(self, who: str, method: str, path: str, **kw: Any) -> Any:
        return self.api.client.request(method, path, headers=self.api.h(self.keys[who]), **kw)


def _key(api: Api, admin: str, role: str, merchant_id: str | None = None) -> str:
    body: dict[str, Any] = {"role": role}
    if merchant_id:
        body["merchant_id"] = merchant_id
    r = api.client.post("/v1/keys", json=body, headers=api.h(admin))
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_app(tmp_path_factory.mktemp("monitors"), monitors_poll_s=0) as api:
        admin_a, admin_b = api.tenant(A), api.tenant(B)
        db = api.client.app.state.services.db  # type: ignore[attr-defined]
        world.merchant(db, "mer_a1", tenant=A, kyb_state="IN_REVIEW", kyb_detail=MISSING)
        world.merchant(db, "mer_a2", tenant=A, kyb_detail=MISSING)
        world.merchant(db, "mer_b1", tenant=B, kyb_state="IN_REVIEW", kyb_detail=MISSING)
        keys = {
            "admin": admin_a,
            "a1": _key(api, admin_a, "merchant", "mer_a1"),
            "a2": _key(api, admin_a, "merchant", "mer_a2"),
            "partner": _key(api, admin_a, "partner"),
            "shopper": _key(api, admin_a, "shopper"),
            "admin_b": admin_b,
        }
        w = World(api, keys)
        runs = (
            ("admin", {"merchant_id": "mer_a1"}),
            ("a2", {}),
            ("admin_b", {"merchant_id": "mer_b1"}),
        )
        for who, body in runs:
            r = w.call(who, "POST", "/v1/monitors/run", json=body)
            assert r.status_code == 200, r.text
        yield w


def _findings(w: World, who: str, **params: Any) -> list[dict[str, Any]]:
    r = w.call(who, "GET", "/v1/monitors/findings", params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["data"])


def test_runs_write_findings_that_each_key_sees_in_its_scope(w: World) -> None:
    everything = _findings(w, "admin")
    assert {(f["merchant_id"], f["monitor"]) for f in everything} == {
        ("mer_a1", "kyb_missing_documents"),
        ("mer_a2", "kyb_missing_documents"),
    }
    assert {f["severity"] for f in everything} == {"critical", "warning"}
    assert [f["merchant_id"] for f in _findings(w, "a1")] == ["mer_a1"]
    assert [f["merchant_id"] for f in _findings(w, "partner", merchant_id="mer_a2")] == ["mer_a2"]
    assert [f["severity"] for f in _findings(w, "admin", severity="critical")] == ["critical"]
    assert _findings(w, "admin", monitor="dispute_deadline") == []
    r = w.call("a1", "GET", "/v1/monitors/findings", params={"merchant_id": "mer_a2"})
    assert r.status_code == 404 and r.json()["code"] == "merchant_not_found"
    r = w.call("admin", "GET", "/v1/monitors/findings", params={"severity": "loud"})
    assert r.status_code == 422 and (r.json()["code"], r.json()["param"]) == (
        "invalid_severity",
        "severity",
    )
    assert _findings(w, "admin_b")[0]["merchant_id"] == "mer_b1"  # B sees only its own


def test_a_finding_explains_itself_and_is_404_outside_its_scope(w: World) -> None:
    (f,) = _findings(w, "a2")
    r = w.call("admin", "GET", f"/v1/monitors/findings/{f['id']}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["summary"] == f["summary"] and body["why"] and body["actions"]
    for who in ("a1", "admin_b"):
        r = w.call(who, "GET", f"/v1/monitors/findings/{f['id']}")
        assert r.status_code == 404 and r.json()["code"] == "finding_not_found", who


def test_acknowledge_is_for_merchants_once(w: World) -> None:
    (f,) = _findings(w, "a1")
    path = f"/v1/monitors/findings/{f['id']}/acknowledge"
    r = w.call("partner", "POST", path)
    assert r.status_code == 403 and r.json()["code"] == "role_required"
    assert w.call("a2", "POST", path).status_code == 404
    r = w.call("a1", "POST", path)
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    r = w.call("a1", "POST", path)
    assert r.status_code == 409 and r.json()["code"] == "finding_already_acknowledged"
    assert [x["id"] for x in _findings(w, "admin", status="acknowledged")] == [f["id"]]


def test_run_needs_a_merchant_and_a_bound_key_runs_only_its_own(w: World) -> None:
    r = w.call("admin", "POST", "/v1/monitors/run", json={})
    assert r.status_code == 422 and r.json()["code"] == "merchant_required"
    r = w.call("a1", "POST", "/v1/monitors/run", json={"merchant_id": "mer_a2"})
    assert r.status_code == 404 and r.json()["code"] == "merchant_not_found"
    r = w.call("admin_b", "POST", "/v1/monitors/run", json={"merchant_id": "mer_a1"})
    assert r.status_code == 404 and r.json()["code"] == "merchant_not_found"
    r = w.call("a1", "POST", "/v1/monitors/run", json={"monitors": ["kyb_missing_documents"]})
    assert r.status_code == 200 and r.json()["new_findings"] == []  # already reported
    r = w.call("a1", "POST", "/v1/monitors/run", json={"monitors": ["nope"]})
    assert r.status_code == 422 and r.json()["code"] == "unknown_monitor"


def test_settings_read_and_change_per_merchant(w: World) -> None:
    r = w.call("a1", "GET", "/v1/monitors/settings")
    assert r.status_code == 200 and r.json()["merchant_id"] == "mer_a1"
    fx = {m["monitor"]: m for m in r.json()["monitors"]}["fx_exposure_limit"]
    assert fx["params"]["limit"] is None and fx["runs"] == 1
    body = {"monitors": {"fx_exposure_limit": {"params": {"limit": 80_000}}}}
    assert w.call("partner", "PATCH", "/v1/monitors/settings", json=body).status_code == 403
    r = w.call("a1", "PATCH", "/v1/monitors/settings", json=body)
    assert r.status_code == 200, r.text
    fx = {m["monitor"]: m for m in r.json()["monitors"]}["fx_exposure_limit"]
    assert fx["params"]["limit"] == 80_000
    other = w.call("admin", "GET", "/v1/monitors/settings", params={"merchant_id": "mer_a2"})
    fx2 = {m["monitor"]: m for m in other.json()["monitors"]}["fx_exposure_limit"]
    assert fx2["params"]["limit"] is None  # another merchant's setting is its own
    r = w.call("admin", "GET", "/v1/monitors/settings")
    assert r.status_code == 422 and r.json()["code"] == "merchant_required"
    bad = {"monitors": {"fx_exposure_limit": {"params": {"limit": "lots"}}}}
    r = w.call("a1", "PATCH", "/v1/monitors/settings", json=bad)
    assert r.status_code == 422 and r.json()["param"] == "monitors.fx_exposure_limit.params.limit"


def test_the_catalogue_lists_every_monitor_for_staff_only(w: World) -> None:
    r = w.call("partner", "GET", "/v1/monitors")
    assert r.status_code == 200
    assert len(r.json()["data"]) == 5
    assert w.call("shopper", "GET", "/v1/monitors").status_code == 403
