"""Conversion, rate listing and hedge sizing from volume records."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cockpit.errors import CockpitError, ValidationFailed
from tools.fx import Volume, convert, hedge_recommendation, rates, tenor_total_quantiles
from tools.fx.exposure import daily_exposure


def test_convert_rounds_half_even_to_minor_units() -> None:
    out = convert("100.00", "USD", "JPY", on=date(2024, 3, 15))
    assert out.rate_date == date(2024, 3, 15)
    assert out.converted == out.converted.to_integral_value()  # JPY has no minor unit
    assert out.to_dict()["converted_minor"] == int(out.converted)
    usd = convert("10", "EUR", "USD", on=date(2024, 3, 16))
    assert usd.rate_date == date(2024, 3, 15)
    assert usd.converted == (Decimal(10) * usd.rate).quantize(Decimal("0.01"))
    same = convert("12.345", "USD", "USD")
    assert same.converted == Decimal("12.34")  # half-even
    for bad, code in (("abc", "invalid_amount"), ("NaN", "invalid_amount")):
        with pytest.raises(ValidationFailed) as err:
            convert(bad, "USD", "PHP")
        assert err.value.code == code
    with pytest.raises(CockpitError) as cerr:
        convert("1", "USD", "ZZZ")
    assert cerr.value.code == "unknown_currency"


def test_rates_listing() -> None:
    out = rates("USD/PHP", start=date(2026, 10, 1), end=date(2026, 10, 31))
    assert out["pair"] == "USD/PHP" and len(out["rates"]) == 22
    assert all(r["rate"] > 0 for r in out["rates"])
    with pytest.raises(ValidationFailed) as err:
        rates("EUR/USD", max_points=100)
    assert err.value.code == "range_too_large"


def test_tenor_total_brackets_the_realised_sum(daily_records: list[Volume]) -> None:
    usd = daily_exposure(daily_records)["USD"]
    qs = tenor_total_quantiles(usd, tenor=28, model="snaive", season_length=7)
    # Net USD ≈ (10k weekdays, 16k weekends) − 2k: four weeks ≈ 4 × (5·8k + 2·14k) = 272k.
    assert qs[0.05] < 272_000 < qs[0.95]
    assert qs[0.05] <= qs[0.1] <= qs[0.5] <= qs[0.9] <= qs[0.95]


def test_hedge_recommendation_nets_and_sizes(daily_records: list[Volume]) -> None:
    recs = hedge_recommendation(daily_records, home="PHP", tenor_days=28, model="snaive")
    by = {r.currency: r for r in recs}
    assert by["USD"].direction == "receivable" and by["SGD"].direction == "payable"
    for r in recs:
        assert 0.8 < r.hedge_ratio <= 1.0
        assert r.forward_rate == r.spot  # no interest rates given: forward = spot, stated
        assert "assumption" in r.assumptions["forward"]
    with pytest.raises(ValidationFailed) as err:
        hedge_recommendation(
            [v for v in daily_records if v.currency == "USD"], home="USD", tenor_days=28
        )
    assert err.value.code == "no_exposure"
    with pytest.raises(CockpitError):
        hedge_recommendation(daily_records, home="XXX", tenor_days=28)
    with pytest.raises(ValidationFailed):
        hedge_recommendation(daily_records[:60], home="PHP", tenor_days=28, model="snaive")
