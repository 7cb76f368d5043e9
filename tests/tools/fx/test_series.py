"""User-supplied series are validated before any model sees them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cockpit.errors import ValidationFailed
from tools.fx import make_series, series_from_csv, series_from_records
from tools.fx.series import infer_freq


def _dates(n: int, start: str = "2026-01-01") -> list[str]:
    return [str(np.datetime64(start) + i) for i in range(n)]


def test_valid_series_round_trip() -> None:
    s = make_series(_dates(12), list(range(1, 13)), name="x")
    assert len(s) == 12 and s.freq == "D" and s.values[-1] == 12.0


@pytest.mark.parametrize(
    ("dates", "values", "code", "param"),
    [
        (_dates(12), [1.0] * 11 + [math.nan], "missing_value", "series.values"),
        (_dates(12), [1.0] * 11 + [None], "missing_value", "series.values"),
        (_dates(12), [1.0] * 11 + ["abc"], "invalid_value", "series.values"),
        (_dates(5), [1.0] * 5, "series_too_short", "series"),
        ([*_dates(11), "2025-01-01"], [1.0] * 12, "unsorted_dates", "series.dates"),
        ([*_dates(11), _dates(11)[-1]], [1.0] * 12, "duplicate_dates", "series.dates"),
        ([*_dates(11), "31/12/2026"], [1.0] * 12, "invalid_date", "series.dates"),
        (_dates(12), [1.0] * 11, "length_mismatch", "series"),
    ],
)
def test_bad_series_get_clear_errors(
    dates: list[str], values: list[object], code: str, param: str
) -> None:
    with pytest.raises(ValidationFailed) as err:
        make_series(dates, values)  # type: ignore[arg-type]
    assert err.value.code == code
    assert err.value.param == param


def test_unsorted_error_names_the_row() -> None:
    dates = _dates(12)
    dates[3], dates[4] = dates[4], dates[3]
    with pytest.raises(ValidationFailed, match="row 4"):
        make_series(dates, [1.0] * 12)


def test_csv_and_records() -> None:
    text = "day,amount\n" + "\n".join(f"{d},{i + 1}" for i, d in enumerate(_dates(15)))
    s = series_from_csv(text)
    assert s.name == "amount" and len(s) == 15 and s.values.sum() == sum(range(1, 16))
    with pytest.raises(ValidationFailed) as err:
        series_from_csv(text, value_column="nope")
    assert err.value.code == "missing_column"
    recs = [{"date": d, "value": i} for i, d in enumerate(_dates(12))]
    assert len(series_from_records(recs)) == 12
    with pytest.raises(ValidationFailed) as rerr:
        series_from_records([{"day": "2026-01-01"}])
    assert rerr.value.code == "invalid_record"


def test_frequency_inference() -> None:
    bdays = np.busday_offset("2026-01-05", np.arange(30), roll="forward")
    assert infer_freq(bdays) == "B"
    assert infer_freq(np.arange(np.datetime64("2026-01-01"), np.datetime64("2026-02-01"))) == "D"
    months = np.array(
        ["2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30"], dtype="datetime64[D]"
    )
    assert infer_freq(months) == "M"
    quarters = np.array(
        ["2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01"], dtype="datetime64[D]"
    )
    assert infer_freq(quarters) == "Q"


def test_future_dates_follow_frequency() -> None:
    s = make_series(["2026-01-31", "2026-02-28", "2026-03-31"], [1, 2, 3], min_length=3, freq="M")
    assert [str(d) for d in s.future_dates(3)] == ["2026-04-30", "2026-05-31", "2026-06-30"]
    b = make_series(["2026-10-29", "2026-10-30"], [1, 2], min_length=2, freq="B")  # Thu, Fri
    assert str(b.future_dates(1)[0]) == "2026-11-02"  # next Monday
