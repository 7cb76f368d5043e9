"""Quarterly and monthly labels read as the first day of their period; ambiguous dates are refused."""

from __future__ import annotations

from datetime import date

import pytest

from cockpit.errors import ValidationFailed
from tools.fx import make_series, series_from_csv
from tools.fx.periods import parse_period


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1981 Q1", date(1981, 1, 1)),
        ("1981-Q2", date(1981, 4, 1)),
        ("1981Q3", date(1981, 7, 1)),
        ("Q4 1981", date(1981, 10, 1)),
        ("q4-1981", date(1981, 10, 1)),
        ("1981-03", date(1981, 3, 1)),
        ("1981/3", date(1981, 3, 1)),
        ("1981M03", date(1981, 3, 1)),
        ("Mar 1981", date(1981, 3, 1)),
        ("March 1981", date(1981, 3, 1)),
        ("Sept. 1981", date(1981, 9, 1)),
        ("1981 Dec", date(1981, 12, 1)),
        ("  2026-11-25 ", date(2026, 11, 25)),
        ("2026-11-25T12:00:00Z", date(2026, 11, 25)),
    ],
)
def test_period_labels_read_as_their_first_day(text: str, expected: date) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    "text",
    ["31/12/2026", "12/31/2026", "1981 Q5", "1981-13", "Smarch 1981", "81 Q1", "", "Q1"],
)
def test_ambiguous_or_unknown_labels_are_not_guessed(text: str) -> None:
    assert parse_period(text) is None


def test_a_quarterly_csv_of_labels_is_a_quarterly_series() -> None:
    rows = [f"{1981 + i // 4} Q{i % 4 + 1},{100 + i}" for i in range(12)]
    series = series_from_csv("Quarter,Arrivals\n" + "\n".join(rows))
    assert series.freq == "Q"
    assert str(series.dates[0]) == "1981-01-01" and str(series.dates[-1]) == "1983-10-01"
    assert [str(d) for d in series.future_dates(2)] == ["1984-01-01", "1984-04-01"]


def test_month_names_make_a_monthly_series() -> None:
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    series = make_series([f"{m} 2025" for m in months], list(range(1, 13)))
    assert series.freq == "M" and str(series.dates[2]) == "2025-03-01"


def test_an_unreadable_label_names_its_row() -> None:
    labels = [f"2025-{m:02d}" for m in range(1, 12)] + ["Dec 25"]
    with pytest.raises(ValidationFailed) as err:
        make_series(labels, [1.0] * 12)
    assert err.value.code == "invalid_date"
    assert err.value.param == "series.dates"
    assert "row 11" in err.value.message
