"""Cross-currency volumes from the payments world feed the FX tool's exposure report."""

from __future__ import annotations

from datetime import UTC, datetime

from tools.fx.exposure import ExposureSource
from tools.payments.exposure import LedgerExposureSource
from tools.payments.gateway import Gateway, PayRequest, RefundRequest

T = "t_test"
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def test_foreign_captures_and_refunds_become_signed_daily_volumes(gw: Gateway) -> None:
    usd = gw.pay(T, PayRequest(merchant_id="m_sg", request_id="u1", amount=12_345, currency="USD",
                               card_id="card_visa"), at=NOW)  # fmt: skip
    gw.pay(T, PayRequest(merchant_id="m_sg", request_id="s1", amount=5_000, currency="SGD",
                         card_id="card_visa"), at=NOW)  # home currency: no exposure  # fmt: skip
    gw.pay(T, PayRequest(merchant_id="m_sg", request_id="j1", amount=7_000, currency="JPY",
                         card_id="card_visa"), at=NOW)  # fmt: skip
    gw.refund(T, RefundRequest("m_sg", usd["paymentId"], "rf1", 2_345), at=NOW)

    source = LedgerExposureSource(gw.db)
    assert isinstance(source, ExposureSource)
    rows = {(r.date, r.currency): r.amount for r in source.daily_volumes(T)}
    assert rows == {(NOW.date(), "USD"): 100.00, (NOW.date(), "JPY"): 7000.0}
    assert list(source.daily_volumes(T, merchant_id="m_pending")) == []
    assert list(source.daily_volumes("someone-else")) == []
