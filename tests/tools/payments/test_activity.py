"""A merchant's processing activity, as the credit tools read it (30-day months in EUR)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from sqlalchemy import update

from cockpit.errors import NotFound, ValidationFailed
from tools.credit.activity import ActivitySource, applicant_from_activity
from tools.payments.activity import (
    EXTRAS_KEY,
    LedgerActivitySource,
    market_region,
    mcc_risk_band,
)
from tools.payments.disputes import Disputes
from tools.payments.gateway import Gateway, PayRequest, RefundRequest
from tools.payments.models import Merchant
from tools.payments.money import FixedRates

T = "t_test"
AS_OF = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
MONTH = timedelta(days=30)


def _eur(minor: int, per_eur: str) -> float:
    value = Decimal(minor) / 100 / Decimal(per_eur)
    return float(value.quantize(Decimal("0.01"), ROUND_HALF_EVEN))


def _created(gw: Gateway, merchant_id: str, at: datetime) -> None:
    with gw.db.tenant_session(T) as s:
        s.execute(update(Merchant).where(Merchant.id == merchant_id).values(created_at=at))


def _pay(gw: Gateway, rid: str, amount: int, at: datetime, currency: str = "SGD") -> str:
    req = PayRequest(
        merchant_id="m_sg", request_id=rid, amount=amount, currency=currency, card_id="card_visa"
    )
    result = gw.pay(T, req, at=at)
    assert result["state"] == "CAPTURED", result
    return str(result["paymentId"])


def test_six_thirty_day_months_in_eur_with_disputes_refunds_and_tenure(gw: Gateway) -> None:
    _created(gw, "m_sg", AS_OF - timedelta(days=200))
    start = AS_OF - 6 * MONTH
    # One payment per month, 100 … 600 SGD, a day into each month (oldest first).
    ids = [
        _pay(gw, f"p{k}", (k + 1) * 10_000, start + k * MONTH + timedelta(days=1)) for k in range(6)
    ]
    usd = _pay(gw, "usd", 10_800, AS_OF - timedelta(days=3), currency="USD")  # last month
    _pay(gw, "old", 99_900, start - timedelta(hours=1))  # before the window
    _pay(gw, "now", 99_900, AS_OF)  # the window ends before ``as_of``
    gw.refund(
        T, RefundRequest("m_sg", ids[2], "rf1", 5_000), at=start + 2 * MONTH + timedelta(days=3)
    )
    gw.refund(T, RefundRequest("m_sg", ids[0], "rf_old", 1_000), at=start - timedelta(days=1))
    Disputes(gw).open(T, usd, "10.4", at=AS_OF - timedelta(days=1))

    source = LedgerActivitySource(gw.db, rates=FixedRates())
    typed: ActivitySource = source  # satisfies the credit side's protocol
    activity = typed.activity(T, "m_sg", as_of=AS_OF)

    expected = [_eur((k + 1) * 10_000, "1.45") for k in range(6)]
    expected[5] = float(
        (
            Decimal(60_000) / 100 / Decimal("1.45") + Decimal(10_800) / 100 / Decimal("1.08")
        ).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    )
    assert list(activity.monthly_volumes) == expected
    assert activity.transactions == 7
    assert activity.disputes == 1
    assert activity.refunded_volume == _eur(5_000, "1.45")
    assert activity.tenure_months == 6  # 200 days
    assert (activity.mcc, activity.mcc_risk, activity.market) == ("5732", "low", "APAC")
    assert activity.as_of == AS_OF and activity.window_start == start
    assert activity.to_dict()["monthly_volumes"] == expected

    # The credit side turns it into an application over exactly these figures.
    app = applicant_from_activity(activity, requested_amount=500)
    assert app["monthly_revenue"] == pytest.approx(sum(expected) / 6, abs=0.01)
    assert app["dispute_rate"] == pytest.approx(1 / 7, abs=1e-6)
    assert app["refund_rate"] == pytest.approx(_eur(5_000, "1.45") / sum(expected), abs=1e-6)


def test_a_young_merchant_has_only_its_whole_months(gw: Gateway) -> None:
    _created(gw, "m_sg", AS_OF - timedelta(days=95))
    _pay(gw, "p1", 10_000, AS_OF - timedelta(days=10))
    activity = LedgerActivitySource(gw.db).activity(T, "m_sg", as_of=AS_OF)
    assert len(activity.monthly_volumes) == 3 and activity.tenure_months == 3
    assert activity.monthly_volumes[-1] == _eur(10_000, "1.45")
    with pytest.raises(ValidationFailed) as err:
        applicant_from_activity(activity)
    assert err.value.code == "insufficient_history" and "3 whole month(s)" in err.value.message


def test_no_payments_and_unknown_merchants(gw: Gateway) -> None:
    _created(gw, "m_pending", AS_OF - timedelta(days=400))
    source = LedgerActivitySource(gw.db)
    idle = source.activity(T, "m_pending", as_of=AS_OF)
    assert idle.monthly_volumes == (0.0,) * 6 and idle.transactions == 0
    with pytest.raises(ValidationFailed) as err:
        applicant_from_activity(idle)
    assert err.value.code == "no_processing_history"
    with pytest.raises(NotFound) as missing:
        source.activity(T, "m_nobody", as_of=AS_OF)
    assert missing.value.code == "merchant_not_found"
    with pytest.raises(NotFound):  # another tenant's merchant is not found either
        source.activity("someone-else", "m_sg", as_of=AS_OF)


def test_risk_bands_and_regions() -> None:
    assert EXTRAS_KEY == "credit_activity_source"
    assert [mcc_risk_band(m) for m in ("7995", "5816", "5122", "5962", "4722", "7011", "5732")] == [
        "high", "high", "high", "high", "medium", "medium", "low",
    ]  # fmt: skip
    assert [market_region(c) for c in ("DE", "gb", "US", "TH", "BR")] == [
        "EU", "UK", "US", "APAC", "LATAM",
    ]  # fmt: skip
    with pytest.raises(ValidationFailed) as err:
        market_region("ZA")
    assert err.value.code == "market_unsupported"
