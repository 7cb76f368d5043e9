"""POST /v1/fx/exposure for one merchant, with its history series (what the dashboard draws)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cockpit.api.deps import RequestContext, request_context
from cockpit.api.errors import install_error_handlers
from cockpit.config import Settings
from cockpit.db.session import Database
from cockpit.tenancy.principal import Principal, Role
from tools.fx import InMemoryExposureSource, Volume
from tools.fx.exposure import EXPOSURE_SOURCE_KEY
from tools.fx.router import router

BODY = {"horizon": 5, "model": "snaive"}


def _client(
    tmp_path: Path, records: list[Volume], *, role: Role, merchant: str | None
) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    ctx = RequestContext(
        principal=Principal(tenant_id="t1", role=role, key_id="k1", merchant_id=merchant),
        db=Database("sqlite:///" + str(tmp_path / "t.db")),
        settings=Settings(data_dir=tmp_path),
        extras={EXPOSURE_SOURCE_KEY: InMemoryExposureSource({"t1": records})},
    )
    app.dependency_overrides[request_context] = lambda: ctx
    return TestClient(app)


def test_a_merchant_key_sees_its_own_volumes_and_no_other_merchant(
    tmp_path: Path, daily_records: list[Volume]
) -> None:
    # m1: USD receivables and SGD payables; m2: USD payables only.
    m2 = _client(tmp_path, daily_records, role=Role.MERCHANT, merchant="m2")
    own = m2.post("/v1/fx/exposure", json=BODY)
    assert own.status_code == 200, own.text
    usd = own.json()["currencies"]
    assert set(usd) == {"USD"} and all(p["q50"] < 0 for p in usd["USD"]["points"])
    assert m2.post("/v1/fx/exposure", json={**BODY, "merchant_id": "m2"}).json() == own.json()
    other = m2.post("/v1/fx/exposure", json={**BODY, "merchant_id": "m1"})
    assert other.status_code == 404
    assert (other.json()["code"], other.json()["param"]) == ("merchant_not_found", "merchant_id")


def test_staff_pick_a_merchant_or_the_whole_tenant(
    tmp_path: Path, daily_records: list[Volume]
) -> None:
    for role in (Role.ADMIN, Role.PARTNER):
        api = _client(tmp_path, daily_records, role=role, merchant=None)
        m1 = api.post("/v1/fx/exposure", json={**BODY, "merchant_id": "m1"}).json()["currencies"]
        assert set(m1) == {"USD", "SGD"}
        tenant = api.post("/v1/fx/exposure", json=BODY).json()["currencies"]
        # Netting across merchants: m2's USD payables lower the tenant's USD inflow.
        assert tenant["USD"]["points"][0]["q50"] < m1["USD"]["points"][0]["q50"]
        nobody = api.post("/v1/fx/exposure", json={**BODY, "merchant_id": "m9"})
        assert nobody.status_code == 422 and nobody.json()["code"] == "no_exposure"


def test_history_comes_back_when_asked(tmp_path: Path, daily_records: list[Volume]) -> None:
    api = _client(tmp_path, daily_records, role=Role.MERCHANT, merchant="m1")
    usd = api.post("/v1/fx/exposure", json={**BODY, "history": 30}).json()["currencies"]["USD"]
    assert len(usd["history"]) == 30 and usd["history"][-1]["date"] == usd["last_date"]
    days = [p["date"] for p in usd["history"]]
    assert days == sorted(days) and all(p["value"] > 0 for p in usd["history"])
    assert "history" not in api.post("/v1/fx/exposure", json=BODY).json()["currencies"]["USD"]
    for body, param in (
        ({**BODY, "history": -1}, "history"),
        ({**BODY, "history": 5001}, "history"),
        ({**BODY, "merchant_id": "m" * 65}, "merchant_id"),
    ):
        r = api.post("/v1/fx/exposure", json=body)
        assert r.status_code == 422 and r.json()["param"] == param
