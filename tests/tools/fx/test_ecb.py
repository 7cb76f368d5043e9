"""ECB data: the shipped file, cross rates through EUR and explicit gap handling."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from cockpit.errors import NotFound, UserError, ValidationFailed
from tools.fx import GapPolicy, load_ecb, parse_pair
from tools.fx.ecb import read_table


def test_file_has_the_documented_shape() -> None:
    table = load_ecb()
    assert table.first_date == date(1999, 1, 4)
    assert table.last_date >= date(2026, 10, 30)
    assert np.all(np.diff(table.dates.astype(np.int64)) > 0)
    codes = table.currencies()
    assert "EUR" in codes and len(codes) == 42  # 41 quoted currencies + EUR
    live = table.currencies(live_only=True)
    assert "USD" in live and "PHP" in live
    assert "RUB" not in live and "HRK" not in live


def test_cross_rate_is_ratio_of_euro_quotes() -> None:
    table = load_ecb()
    i = int(np.flatnonzero(table.dates == np.datetime64("2024-03-15"))[0])
    usd, php = table.per_eur["USD"][i], table.per_eur["PHP"][i]
    series = table.cross("USD/PHP", start=date(2024, 3, 15), end=date(2024, 3, 15))
    assert series.values[0] == pytest.approx(php / usd)
    inverse = table.cross("PHP/USD", start=date(2024, 3, 15), end=date(2024, 3, 15))
    assert inverse.values[0] * series.values[0] == pytest.approx(1.0)
    eur = table.cross("EUR/USD", start=date(2024, 3, 15), end=date(2024, 3, 15))
    assert eur.values[0] == pytest.approx(usd)


def test_late_start_currency_begins_at_first_quote() -> None:
    series = load_ecb().cross("USD/PHP", start=date(2000, 1, 1))
    assert series.first_date == date(2005, 4, 1)
    assert any("2005-04-01" in n for n in series.notes)


def test_isk_gap_policies_are_explicit() -> None:
    table = load_ecb()
    span: dict[str, date] = {"start": date(2008, 1, 1), "end": date(2019, 1, 1)}
    dropped = table.cross("EUR/ISK", gaps=GapPolicy.DROP, **span)  # type: ignore[arg-type]
    assert dropped.dropped > 2000
    assert not np.any(
        (dropped.dates > np.datetime64("2008-12-10"))
        & (dropped.dates < np.datetime64("2018-01-31"))
    )
    filled = table.cross("EUR/ISK", gaps="ffill", max_fill=5, **span)  # type: ignore[arg-type]
    # A ten-year hole is far longer than five days: only its first days are filled.
    assert 0 < filled.filled <= 5 and filled.dropped == dropped.dropped - filled.filled
    with pytest.raises(ValidationFailed) as err:
        table.cross("EUR/ISK", gaps="error", **span)  # type: ignore[arg-type]
    assert err.value.code == "rate_gaps"


def test_ffill_fills_short_gaps_with_last_quote() -> None:
    table = load_ecb()
    # RON starts 2005-07-01 while USD is quoted throughout; a pair of both is complete after.
    series = table.cross("USD/RON", start=date(2010, 1, 1), end=date(2010, 12, 31), gaps="ffill")
    assert series.filled == 0 and np.all(np.isfinite(series.values))


def test_unknown_currency_and_bad_pairs() -> None:
    table = load_ecb()
    with pytest.raises(NotFound) as err:
        table.cross("USD/XXX")
    assert err.value.code == "unknown_currency" and err.value.param == "pair"
    for bad in ("USD", "USD/PHP/EUR", "US/PHP", "USD/USD", "12345678"):
        with pytest.raises(ValidationFailed) as verr:
            parse_pair(bad)
        assert verr.value.code == "invalid_pair"
    assert str(parse_pair("usd-php")) == "USD/PHP"
    assert str(parse_pair("usdphp")) == "USD/PHP"
    with pytest.raises(ValidationFailed):
        table.cross("USD/PHP", gaps="interpolate")
    with pytest.raises(ValidationFailed) as rerr:
        table.cross("USD/PHP", start=date(2020, 1, 2), end=date(2020, 1, 1))
    assert rerr.value.code == "invalid_date_range"


def test_discontinued_currency_is_flagged() -> None:
    table = load_ecb()
    pair = parse_pair("EUR/RUB")
    assert table.is_discontinued(pair)
    series = table.cross(pair)
    assert series.last_date <= date(2022, 3, 1)
    assert any("no longer quoted" in n for n in series.notes)


def test_rate_on_uses_last_business_day() -> None:
    table = load_ecb()
    day, rate = table.rate_on("EUR/USD", date(2024, 3, 16))  # a Saturday
    assert day == date(2024, 3, 15)
    assert rate == pytest.approx(
        table.per_eur["USD"][table.dates == np.datetime64("2024-03-15")][0]
    )


def test_reading_marks_every_unquoted_cell_and_keeps_one_row_per_date() -> None:
    table = read_table(
        "Date,USD,PHP,ISK,CYP,\n"
        "2024-03-15,1.0890,N/A,,N/A,\n"
        "2024-03-13,1.0950,61.0,,N/A,\n"
        "2024-03-14,1.0920,0,150.1,N/A,\n"
        "2024-03-13,9.9999,99.9,,N/A,\n"
    )
    assert [str(d) for d in table.dates] == ["2024-03-13", "2024-03-14", "2024-03-15"]
    assert table.per_eur["USD"].tolist() == [1.0950, 1.0920, 1.0890]  # the first 03-13 row
    np.testing.assert_array_equal(table.per_eur["PHP"], [61.0, np.nan, np.nan])  # 0 is no quote
    np.testing.assert_array_equal(table.per_eur["ISK"], [np.nan, 150.1, np.nan])
    assert "CYP" not in table.per_eur  # no quote on any row: the column is dropped
    assert table.per_eur["EUR"].tolist() == [1.0, 1.0, 1.0]
    # A blank last cell without the ECB's trailing comma, and a blank first quote.
    no_trailing_comma = read_table("Date,USD,PHP\n2024-03-15,1.0890,\n2024-03-14,,61.2\n")
    np.testing.assert_array_equal(no_trailing_comma.per_eur["USD"], [np.nan, 1.0890])
    np.testing.assert_array_equal(no_trailing_comma.per_eur["PHP"], [61.2, np.nan])


def test_an_unreadable_file_says_so() -> None:
    with pytest.raises(UserError) as bad:
        read_table("Date,USD\n15 March 2024,1.0890\n")
    assert bad.value.code == "ecb_data_bad"


def test_forward_fill_stops_at_its_limit() -> None:
    dates = ["2024-03-11", "2024-03-12", "2024-03-13", "2024-03-14", "2024-03-15"]
    quotes = ["1.10", "N/A", "N/A", "N/A", "1.20"]
    table = read_table(
        "Date,USD\n" + "".join(f"{d},{q}\n" for d, q in zip(dates, quotes, strict=True))
    )
    two = table.cross("EUR/USD", start=date(2024, 3, 11), gaps="ffill", max_fill=2)
    assert [str(d) for d in two.dates] == [*dates[:3], dates[4]]  # the gap's third day dropped
    assert two.values.tolist() == [1.10, 1.10, 1.10, 1.20]
    assert (two.filled, two.dropped) == (2, 1)
    none = table.cross("EUR/USD", start=date(2024, 3, 11), gaps="ffill", max_fill=0)
    assert none.values.tolist() == [1.10, 1.20] and (none.filled, none.dropped) == (0, 3)
