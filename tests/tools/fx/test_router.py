"""The /v1/fx API through a tiny FastAPI app with a fixed caller."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
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


def _client(tmp_path: Path, daily_records: list[Volume], role: Role = Role.MERCHANT) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    db = Database("sqlite:///" + str(tmp_path / "t.db"))
    extras = {EXPOSURE_SOURCE_KEY: InMemoryExposureSource({"t1": daily_records})}
    ctx = RequestContext(
        principal=Principal(tenant_id="t1", role=role, key_id="k1", merchant_id=None),
        db=db,
        settings=Settings(data_dir=tmp_path),
        extras=extras,
    )
    app.dependency_overrides[request_context] = lambda: ctx
    return TestClient(app)


@pytest.fixture
def client(tmp_path: Path, daily_records: list[Volume]) -> Iterator[TestClient]:
    with _client(tmp_path, daily_records) as c:
        yield c


def test_rates_and_convert(client: TestClient) -> None:
    r = client.get("/v1/fx/rates", params={"pair": "USD/PHP", "start": "2026-10-01"})
    assert r.status_code == 200 and r.json()["rates"][-1]["date"] == "2026-10-30"
    bad = client.get("/v1/fx/rates", params={"pair": "USD/QQQ"})
    assert (
        bad.status_code == 404
        and bad.json()["code"] == "unknown_currency"
        and bad.json()["param"] == "pair"
    )
    c = client.get("/v1/fx/convert", params={"amount": "100", "from": "USD", "to": "PHP"})
    assert c.status_code == 200 and float(c.json()["converted"]) > 1000


def test_forecast_json_and_charts(client: TestClient) -> None:
    r = client.post("/v1/fx/forecast", json={"pair": "USD/PHP", "horizon": 10, "history": 3})
    assert r.status_code == 200
    body = r.json()
    assert len(body["points"]) == 10 and len(body["history"]) == 3
    assert body["model"] == body["selection"]["chosen"] and body["selection"]["baseline"] == "rw"
    png = client.post("/v1/fx/forecast", json={"pair": "USD/PHP", "horizon": 10, "chart": "png"})
    assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    svg = client.post(
        "/v1/fx/forecast",
        json={"pair": "USD/PHP", "horizon": 10},
        headers={"accept": "image/svg+xml"},
    )
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content[:500]


def test_forecast_user_series(client: TestClient) -> None:
    series = [{"date": f"2026-01-{d:02d}", "value": 100 + d} for d in range(1, 29)]
    r = client.post(
        "/v1/fx/forecast", json={"series": series, "horizon": 5, "model": "drift", "name": "sales"}
    )
    assert r.status_code == 200 and r.json()["series"] == "sales"
    csv_text = "date,value\n" + "\n".join(f"2026-01-{d:02d},{100 + d}" for d in range(1, 29))
    c = client.post("/v1/fx/forecast", json={"csv": csv_text, "horizon": 5})
    assert c.status_code == 200 and c.json()["points"][0]["date"] == "2026-01-29"


def test_a_quarterly_series_with_period_labels_and_no_model(client: TestClient) -> None:
    series = [
        {"date": f"{1990 + i // 4} Q{i % 4 + 1}", "value": (100 + 2 * i) * (1.4 if i % 4 else 1.0)}
        for i in range(48)
    ]
    r = client.post("/v1/fx/forecast", json={"series": series, "name": "arrivals"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["freq"] == "Q" and body["horizon"] == 8
    assert body["points"][0]["period"] == "2002 Q1" and body["points"][0]["date"] == "2002-01-01"
    assert body["selection"]["baseline"] == "snaive"
    assert body["model"] == body["selection"]["chosen"]
    csv_text = "Quarter,Region,Nights\n" + "\n".join(
        f"{p['date']},north,{p['value']}" for p in series
    )
    c = client.post(
        "/v1/fx/forecast", json={"csv": csv_text, "value_column": "Nights", "horizon": 2}
    )
    assert c.status_code == 200, c.text
    assert [p["period"] for p in c.json()["points"]] == ["2002 Q1", "2002 Q2"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"pair": "USD/PHP", "horizon": 0}, 422, "invalid_horizon"),
        ({"pair": "USD/PHP", "horizon": 99999}, 422, "horizon_too_long"),
        ({"pair": "USD/ZZZ", "horizon": 5}, 404, "unknown_currency"),
        ({"horizon": 5}, 422, "invalid_request"),
        (
            {
                "series": [{"date": "2026-01-02", "value": 1}, {"date": "2026-01-01", "value": 2}]
                * 6,
                "horizon": 2,
            },
            422,
            None,
        ),
        (
            {
                "csv": "date,value\n2026-01-01,1\n2026-01-02,NaN\n"
                + "\n".join(f"2026-02-{d:02d},1" for d in range(1, 15)),
                "horizon": 2,
            },
            422,
            "missing_value",
        ),
        ({"csv": "date,value\n2026-01-01,1\n2026-01-02,2", "horizon": 1}, 422, "series_too_short"),
        (
            {  # 2022 Q3 is 2022-07-01: the same period written two ways
                "series": [
                    {"date": d, "value": 1}
                    for d in [f"{2020 + i // 4} Q{i % 4 + 1}" for i in range(11)] + ["2022-07-01"]
                ]
            },
            422,
            "duplicate_dates",
        ),
        (
            {"series": [{"date": f"{m}/1/2026", "value": 1} for m in range(1, 13)]},
            422,
            "invalid_date",
        ),
        ({"series": [{"date": "x" * 41, "value": 1}] * 12}, 422, "validation_failed"),
        ({"pair": "USD/PHP", "value_column": "v"}, 422, "invalid_request"),
    ],
)
def test_forecast_bad_input(
    client: TestClient, body: dict[str, object], status: int, code: str | None
) -> None:
    r = client.post("/v1/fx/forecast", json=body)
    assert r.status_code == status, r.text
    data = r.json()
    assert "Traceback" not in r.text
    if code:
        assert data["code"] == code
    else:
        assert data["code"] in {"duplicate_dates", "unsorted_dates"}


def test_exposure_from_ledger_and_from_records(
    client: TestClient, daily_records: list[Volume]
) -> None:
    r = client.post("/v1/fx/exposure", json={"horizon": 7, "model": "snaive"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == "ledger" and set(body["currencies"]) == {"USD", "SGD"}
    assert len(body["currencies"]["USD"]["points"]) == 7
    recs = [
        {"date": str(v.date), "currency": v.currency, "amount": v.amount}
        for v in daily_records
        if v.currency == "SGD"
    ]
    r2 = client.post("/v1/fx/exposure", json={"records": recs, "horizon": 3, "model": "snaive"})
    assert (
        r2.status_code == 200
        and r2.json()["source"] == "request"
        and set(r2.json()["currencies"]) == {"SGD"}
    )


def test_hedge_endpoint(client: TestClient) -> None:
    r = client.post(
        "/v1/fx/hedge",
        json={
            "home": "PHP",
            "tenor_days": 28,
            "model": "snaive",
            "interest_rates": {"USD": 0.045, "PHP": 0.06},
        },
    )
    assert r.status_code == 200, r.text
    recs = {x["currency"]: x for x in r.json()["recommendations"]}
    assert recs["USD"]["forward_rate"] > recs["USD"]["spot"]  # PHP rates above USD: forward premium
    q = client.post(
        "/v1/fx/hedge",
        json={
            "home": "PHP",
            "exposures": [{"currency": "USD", "quantiles": {"0.1": 80, "0.5": 100, "0.9": 120}}],
        },
    )
    assert q.status_code == 200 and q.json()["recommendations"][0]["hedge_amount"] > 0
    bad = client.post(
        "/v1/fx/hedge",
        json={"home": "PHP", "exposures": [{"currency": "USD", "quantiles": {"0.1": 1}}]},
    )
    assert bad.status_code == 422


def test_roles_and_missing_ledger(tmp_path: Path, daily_records: list[Volume]) -> None:
    with _client(tmp_path, daily_records, role=Role.SHOPPER) as c:
        assert c.post("/v1/fx/hedge", json={"home": "PHP"}).status_code == 403
        # Shoppers reach only the commerce surfaces: not even a read-only forecast.
        assert c.post("/v1/fx/forecast", json={"pair": "USD/PHP", "horizon": 2}).status_code == 403
    app_client = _client(tmp_path, daily_records)
    app_client.app.dependency_overrides.clear()  # type: ignore[attr-defined]
    ctx = RequestContext(
        principal=Principal(tenant_id="t1", role=Role.MERCHANT, key_id="k"),
        db=Database("sqlite:///" + str(tmp_path / "u.db")),
        settings=Settings(data_dir=tmp_path),
        extras={},
    )
    app_client.app.dependency_overrides[request_context] = lambda: ctx  # type: ignore[attr-defined]
    with app_client as c:
        r = c.post("/v1/fx/exposure", json={"horizon": 3})
        assert r.status_code == 400 and r.json()["code"] == "exposure_source_unavailable"
