"""Exposure series from volume records: netting, zero-filled days, sources."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from cockpit.errors import ValidationFailed
from tools.fx import ExposureSource, InMemoryExposureSource, Volume, daily_exposure


def _recs() -> list[Volume]:
    d0 = date(2026, 1, 1)
    out = [
        Volume(d0 + timedelta(days=i), "USD", 100.0, "m1") for i in range(0, 20, 2)
    ]  # every other day
    out += [Volume(d0 + timedelta(days=i), "usd", -30.0, "m2") for i in range(0, 20, 2)]
    out += [Volume(d0 + timedelta(days=i), "SGD", 5.0, "m1") for i in range(20)]
    return out


def test_net_and_gross_per_currency_with_zero_days() -> None:
    series = daily_exposure(_recs())
    usd = series["USD"]
    assert usd.freq == "D" and len(usd) == 19
    np.testing.assert_allclose(usd.values[::2], 70.0)  # netted across merchants
    np.testing.assert_allclose(usd.values[1::2], 0.0)  # no payments = zero demand
    gross = daily_exposure(_recs(), absolute=True)["USD"]
    np.testing.assert_allclose(gross.values[::2], 130.0)
    assert set(daily_exposure(_recs(), currencies=["sgd"])) == {"SGD"}


def test_bad_records() -> None:
    with pytest.raises(ValidationFailed) as err:
        daily_exposure([Volume(date(2026, 1, 1), "XXX", 1.0)])
    assert err.value.code == "unknown_currency"
    with pytest.raises(ValidationFailed) as nerr:
        daily_exposure([Volume(date(2026, 1, 1), "USD", float("nan"))])
    assert nerr.value.code == "missing_value"
    with pytest.raises(ValidationFailed) as serr:
        daily_exposure(_recs()[:3])
    assert serr.value.code == "series_too_short"
    with pytest.raises(ValidationFailed) as cerr:
        daily_exposure(_recs(), currencies=["JPY"])
    assert cerr.value.code == "no_exposure"
    with pytest.raises(ValidationFailed):
        daily_exposure([])


def test_in_memory_source_filters_tenant_merchant_and_dates() -> None:
    src = InMemoryExposureSource({"t1": _recs(), "t2": [Volume(date(2026, 1, 1), "USD", 1.0)]})
    assert isinstance(src, ExposureSource)
    mine = list(src.daily_volumes("t1", merchant_id="m2"))
    assert len(mine) == 10 and all(r.amount == -30.0 for r in mine)
    windowed = list(src.daily_volumes("t1", start=date(2026, 1, 10), end=date(2026, 1, 11)))
    assert {r.date for r in windowed} == {date(2026, 1, 10), date(2026, 1, 11)}
    assert list(src.daily_volumes("nobody")) == []
