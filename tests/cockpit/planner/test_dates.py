"""Calendar expressions relative to an explicit today, each with a label for the answer."""

from __future__ import annotations

from datetime import date

import pytest

from cockpit.planner.dates import describe_span, find_dates, format_range
from cockpit.planner.slots import extract, plan_slots

TODAY = date(2026, 11, 25)  # a Wednesday
RANGE = {
    "type": "object",
    "properties": {
        "start_date": {"type": "string", "format": "date"},
        "end_date": {"type": "string", "format": "date"},
    },
}
LOOKBACK = {"type": "object", "properties": {"days": {"type": "integer"}}}


@pytest.mark.parametrize(
    ("text", "start", "end", "said"),
    [
        ("today", "2026-11-25", "2026-11-25", "today (25 Nov 2026)"),
        ("yesterday", "2026-11-24", "2026-11-24", "yesterday (24 Nov 2026)"),
        ("this week", "2026-11-23", "2026-11-25", "this week (23–25 Nov 2026)"),
        ("last week", "2026-11-16", "2026-11-22", "last week (16–22 Nov 2026)"),
        ("this month", "2026-11-01", "2026-11-25", "this month (1–25 Nov 2026)"),
        ("last month", "2026-10-01", "2026-10-31", "last month (1–31 Oct 2026)"),
        ("the past month", "2026-10-26", "2026-11-25", "the past month (26 Oct – 25 Nov 2026)"),
        ("past 3 months", "2026-08-26", "2026-11-25", "the past 3 months (26 Aug – 25 Nov 2026)"),
        ("last 2 weeks", "2026-11-12", "2026-11-25", "the last 2 weeks (12–25 Nov 2026)"),
        ("last 30d", "2026-10-27", "2026-11-25", "the last 30 days (27 Oct – 25 Nov 2026)"),
        ("since Tuesday", "2026-11-24", "2026-11-25", "since Tuesday (24–25 Nov 2026)"),
        ("since 3 Nov", "2026-11-03", "2026-11-25", "since 3 Nov (3–25 Nov 2026)"),
        ("since last Friday", "2026-11-20", "2026-11-25", "since last Friday (20–25 Nov 2026)"),
        (
            "since last Wednesday",
            "2026-11-18",
            "2026-11-25",
            "since last Wednesday (18–25 Nov 2026)",
        ),
        ("in October", "2026-10-01", "2026-10-31", "October 2026 (1–31 Oct 2026)"),
        ("October 2025", "2025-10-01", "2025-10-31", "October 2025 (1–31 Oct 2025)"),
        ("how did October go", "2026-10-01", "2026-10-31", "October 2026 (1–31 Oct 2026)"),
        ("Q3", "2026-07-01", "2026-09-30", "Q3 2026 (1 Jul – 30 Sep 2026)"),
        ("the third quarter", "2026-07-01", "2026-09-30", "Q3 2026 (1 Jul – 30 Sep 2026)"),
        ("last quarter", "2026-07-01", "2026-09-30", "last quarter (1 Jul – 30 Sep 2026)"),
        ("this quarter", "2026-10-01", "2026-11-25", "this quarter (1 Oct – 25 Nov 2026)"),
        ("this year", "2026-01-01", "2026-11-25", "this year (1 Jan – 25 Nov 2026)"),
        ("last year", "2025-01-01", "2025-12-31", "last year (1 Jan – 31 Dec 2025)"),
        ("YTD", "2026-01-01", "2026-11-25", "year to date (1 Jan – 25 Nov 2026)"),
        ("lately", "2026-10-27", "2026-11-25", "the last 30 days (27 Oct – 25 Nov 2026)"),
        ("recently", "2026-10-27", "2026-11-25", "the last 30 days (27 Oct – 25 Nov 2026)"),
        ("over the weekend", "2026-11-21", "2026-11-22", "the weekend (21–22 Nov 2026)"),
        ("the past fortnight", "2026-11-12", "2026-11-25", "the past fortnight (12–25 Nov 2026)"),
        ("in 2025", "2025-01-01", "2025-12-31", "2025 (1 Jan – 31 Dec 2025)"),
        ("1-15 Nov", "2026-11-01", "2026-11-15", "1–15 Nov 2026"),
        ("Nov 1 to Nov 15", "2026-11-01", "2026-11-15", "1–15 Nov 2026"),
        ("Nov 1-15", "2026-11-01", "2026-11-15", "1–15 Nov 2026"),
        ("between 1 and 15 November", "2026-11-01", "2026-11-15", "1–15 Nov 2026"),
        ("2026-11-01 to 2026-11-15", "2026-11-01", "2026-11-15", "1–15 Nov 2026"),
        ("28 Dec - 3 Jan", "2025-12-28", "2026-01-03", "28 Dec 2025 – 3 Jan 2026"),
    ],
)
def test_calendar_expressions(text: str, start: str, end: str, said: str) -> None:
    got = extract(f"payments {text}", plan_slots(RANGE, {}), today=TODAY)
    assert (got.values["start_date"], got.values["end_date"]) == (start, end)
    assert got.window is not None and describe_span(got.window) == said


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("last 7 days", 7),
        ("this week", 7),  # the rolling week a look-back report means
        ("this month", 30),
        ("last week", 10),  # back to the Monday of last week
        ("yesterday", 2),
        ("lately", 30),
        ("the past fortnight", 14),
    ],
)
def test_a_look_back_in_days_covers_the_period(text: str, days: int) -> None:
    got = extract(f"failed payments {text}", plan_slots(LOOKBACK, {}), today=TODAY)
    assert got.values == {"days": days}


@pytest.mark.parametrize(
    ("text", "days"),
    [("next 2 weeks", 14), ("next month", 30), ("over the next 30 days", 30), ("tomorrow", 1)],
)
def test_future_horizons(text: str, days: int) -> None:
    [span] = find_dates(text, TODAY)
    assert span.horizon_days == days and span.start >= TODAY


def test_the_weekend_on_a_weekend_day() -> None:
    sunday = date(2026, 11, 29)
    [this] = find_dates("over the weekend", sunday)
    assert (this.start, this.end) == (date(2026, 11, 28), date(2026, 11, 29))
    [last] = find_dates("last weekend", sunday)
    assert (last.start, last.end) == (date(2026, 11, 21), date(2026, 11, 22))
    assert find_dates("this weekend", TODAY) == []  # still ahead on a Wednesday


@pytest.mark.parametrize(
    "text",
    ["may I refund this", "march on", "the last 4 digits", "over the coming weeks", "past months"],
)
def test_words_that_are_no_dates(text: str) -> None:
    assert find_dates(text, TODAY) == []


def test_a_year_ahead_of_today_means_last_year() -> None:
    [span] = find_dates("1-15 Dec", TODAY)
    assert span.start == date(2025, 12, 1)


def test_format_range() -> None:
    assert format_range(date(2026, 1, 2), date(2026, 1, 2)) == "2 Jan 2026"
    assert format_range(date(2026, 10, 28), date(2026, 11, 3)) == "28 Oct – 3 Nov 2026"
