"""Success rate over time: ``analytics.success_series`` and its route
``GET /v1/payments/analytics/success-rate/series``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cockpit.api.deps import RequestContext, request_context
from cockpit.api.errors import install_error_handlers
from cockpit.clock import FixedClock, install
from cockpit.config import Settings
from cockpit.db.session import Database
from cockpit.errors import ValidationFailed
from cockpit.tenancy.principal import Principal, Role
from tests.support.merchants import add_merchant
from tools.payments.analytics import success_rate, success_series
from tools.payments.gateway import Gateway, PayRequest
from tools.payments.router import router
from tools.payments.simulator import AuthContext, AuthDecision, IssuerSimulator

T = "t_test"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SERIES = "/v1/payments/analytics/success-rate/series"


class Scripted(IssuerSimulator):
    """Declines exactly the requests whose id starts with ``d`` (insufficient funds)."""

    def decide(self, ctx: AuthContext) -> AuthDecision:
        if ctx.request_id.split(":")[-1].startswith("d"):  # the issuer sees merchant:request
            return AuthDecision(approved=False, code="51", cause="funds")
        return AuthDecision(approved=True)


@pytest.fixture(autouse=True)
def clock() -> Iterator[FixedClock]:
    fixed = FixedClock(NOW)
    previous = install(fixed)
    yield fixed
    install(previous)


def _pay(db: Database, merchant: str, request_id: str, minor: int, at: datetime) -> None:
    gw = Gateway(db, simulator=Scripted())
    req = PayRequest(merchant, request_id, minor, "SGD", card_id="card_visa")
    with db.tenant_session(T) as s:
        gw.pay_in(s, req, at=at)


@pytest.fixture
def world(seeded: Database) -> Database:
    """m_sg: 3 approved + 1 declined two days ago, 2 approved today, 1 approved 40 days ago;
    m_other: 1 declined yesterday."""
    add_merchant(seeded, T, "m_other")
    two_days = NOW - timedelta(days=2)
    for i, minor in enumerate((1_000, 2_500, 4_000)):
        _pay(seeded, "m_sg", f"a{i}", minor, two_days + timedelta(hours=i))
    _pay(seeded, "m_sg", "d0", 9_900, two_days + timedelta(hours=5))
    _pay(seeded, "m_sg", "a3", 700, NOW - timedelta(hours=2))
    _pay(seeded, "m_sg", "a4", 300, NOW - timedelta(hours=1))
    _pay(seeded, "m_sg", "a5", 123_456, NOW - timedelta(days=40))
    _pay(seeded, "m_other", "d1", 5_000, NOW - timedelta(days=1))
    return seeded


def client_for(
    db: Database, *, role: Role = Role.MERCHANT, merchant: str | None = "m_sg"
) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    install_error_handlers(app)
    ctx = RequestContext(
        principal=Principal(T, role, "key_1", merchant), db=db, settings=Settings(), extras={}
    )
    app.dependency_overrides[request_context] = lambda: ctx
    return TestClient(app)


def _by_date(body: dict[str, Any]) -> dict[str, tuple[int, int, float | None]]:
    return {p["date"]: (p["attempts"], p["approved"], p["rate"]) for p in body["data"]}


def test_daily_buckets_cover_the_window_with_empty_days_as_none(world: Database) -> None:
    r = client_for(world).get(SERIES, params={"days": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    # The last 3 days from 2026-11-22T12:00 touch four UTC days; the first one is empty.
    assert _by_date(body) == {
        "2026-11-22": (0, 0, None),
        "2026-11-23": (4, 3, 0.75),
        "2026-11-24": (0, 0, None),
        "2026-11-25": (2, 2, 1.0),
    }
    assert (body["attempts"], body["approved"], body["successRate"]) == (6, 5, 0.8333)
    assert body["merchantId"] == "m_sg" and body["bucket"] == "day"
    assert body["approvedVolume"] == [
        {"currency": "SGD", "value": str(1_000 + 2_500 + 4_000 + 700 + 300)}
    ]


def test_totals_match_the_success_rate_endpoint_for_the_same_window(world: Database) -> None:
    api = client_for(world, role=Role.ADMIN, merchant=None)
    for days in (1, 3, 30, 90):
        series = api.get(SERIES, params={"days": days}).json()
        rate = api.get("/v1/payments/analytics/success-rate", params={"days": days}).json()
        assert (series["attempts"], series["approved"]) == (rate["attempts"], rate["approved"])
        assert series["successRate"] == rate["successRate"]
        assert sum(p["attempts"] for p in series["data"]) == series["attempts"]
    # 90 days reach the payment 40 days back; the whole tenant includes m_other's decline.
    assert api.get(SERIES, params={"days": 90}).json()["attempts"] == 8


def test_weeks_start_on_monday(world: Database) -> None:
    with world.tenant_session(T) as s:
        body = success_series(
            s, start=NOW - timedelta(days=14), end=NOW, bucket="week", merchant_id="m_sg"
        )
        total = success_rate(s, group_by="method_type", start=NOW - timedelta(days=14))
    dates = [datetime.fromisoformat(p["date"]) for p in body["data"]]
    assert all(d.weekday() == 0 for d in dates)
    # 2026-11-11 (a Wednesday) to 2026-11-25: the weeks of Nov 9, 16 and 23.
    assert [p["date"] for p in body["data"]] == ["2026-11-09", "2026-11-16", "2026-11-23"]
    assert body["data"][-1]["attempts"] == 6 and total["attempts"] == 7  # m_other's decline


def test_window_and_bucket_are_validated(world: Database) -> None:
    api = client_for(world)
    for params, param in (
        ({"days": 0}, "days"),
        ({"days": 366}, "days"),
        ({"days": "month"}, "days"),
        ({"bucket": "hour"}, "bucket"),
    ):
        r = api.get(SERIES, params=params)
        assert r.status_code == 422, params
        assert r.json()["param"] == param and r.json()["type"] == "invalid_request_error"
    assert api.get(SERIES, params={"bucket": "hour"}).json()["code"] == "invalid_bucket"
    with world.tenant_session(T) as s, pytest.raises(ValidationFailed) as err:
        success_series(s, start=NOW, end=NOW)
    assert err.value.code == "invalid_window"


def test_merchant_scoping_like_the_other_analytics_routes(world: Database) -> None:
    own = client_for(world)
    assert own.get(SERIES).json()["attempts"] == 6  # its own merchant only, without asking
    for path in (SERIES, "/v1/payments/analytics/success-rate"):
        r = own.get(path, params={"merchant_id": "m_other"})
        assert r.status_code == 404 and r.json()["code"] == "merchant_not_found"
        assert r.json()["param"] == "merchant_id"
    admin = client_for(world, role=Role.ADMIN, merchant=None)
    other = admin.get(SERIES, params={"merchant_id": "m_other"}).json()
    assert (other["attempts"], other["approved"], other["approvedVolume"]) == (1, 0, [])
    assert other["merchantId"] == "m_other"
    assert admin.get(SERIES).json()["attempts"] == 7
    partner = client_for(world, role=Role.PARTNER, merchant=None)
    assert partner.get(SERIES, params={"merchant_id": "m_sg"}).json()["attempts"] == 6
    shopper = client_for(world, role=Role.SHOPPER, merchant=None)
    assert shopper.get(SERIES).status_code == 403
