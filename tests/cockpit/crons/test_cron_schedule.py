"""Five-field cron expressions: what each field admits, and the next fire after an instant."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cockpit.crons.schedule import next_fire, parse_schedule, parse_timezone
from cockpit.errors import ValidationFailed

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday


def _fires(expression: str, after: datetime = AT, n: int = 3, tz: str | None = None) -> list[str]:
    schedule, zone = parse_schedule(expression), parse_timezone(tz)
    out, t = [], after
    for _ in range(n):
        nxt = next_fire(schedule, t, tz=zone)
        assert nxt is not None
        out.append(nxt.strftime("%Y-%m-%d %H:%M %a"))
        t = nxt
    return out


def test_fields_ranges_steps_and_lists() -> None:
    s = parse_schedule("*/15 9-17/4 1,15 * *")
    assert s.minutes == {0, 15, 30, 45}
    assert s.hours == {9, 13, 17}
    assert s.days == {1, 15} and s.months == set(range(1, 13))
    assert parse_schedule("5/20 * * * *").minutes == {5, 25, 45}
    assert parse_schedule("0 0 * jan-mar,dec *").months == {1, 2, 3, 12}
    assert parse_schedule("0 0 * * mon-fri").weekdays == {1, 2, 3, 4, 5}
    assert parse_schedule("0 0 * * 7").weekdays == {0}  # 7 is Sunday too
    assert parse_schedule("@hourly").minutes == {0}


def test_next_fire_is_strictly_after_and_in_utc() -> None:
    assert _fires("* * * * *", n=2) == ["2026-11-25 12:01 Wed", "2026-11-25 12:02 Wed"]
    assert _fires("0 12 * * *", n=1) == ["2026-11-26 12:00 Thu"]  # 12:00 itself has passed
    assert _fires("30 9 * * mon-fri") == [
        "2026-11-26 09:30 Thu",
        "2026-11-27 09:30 Fri",
        "2026-11-30 09:30 Mon",
    ]
    assert _fires("@monthly", n=2) == ["2026-12-01 00:00 Tue", "2027-01-01 00:00 Fri"]
    assert _fires("0 0 29 2 *", n=1) == ["2028-02-29 00:00 Tue"]  # the next leap day


def test_day_of_month_or_day_of_week_when_both_are_restricted() -> None:
    # Vixie cron: the 1st of the month OR any Friday.
    assert _fires("0 8 1 * fri", n=4) == [
        "2026-11-27 08:00 Fri",
        "2026-12-01 08:00 Tue",
        "2026-12-04 08:00 Fri",
        "2026-12-11 08:00 Fri",
    ]
    # Only one restricted: that one alone decides.
    assert _fires("0 8 * * fri", n=1) == ["2026-11-27 08:00 Fri"]
    assert _fires("0 8 1 * *", n=1) == ["2026-12-01 08:00 Tue"]


def test_a_time_zone_moves_wall_times_and_skips_a_gap() -> None:
    # 09:00 in New York is 14:00 UTC in winter.
    assert _fires("0 9 * * *", n=1, tz="America/New_York") == ["2026-11-25 14:00 Wed"]
    # Europe/Berlin jumps from 02:00 to 03:00 on 2027-03-28: 02:30 does not exist that day.
    spring = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)
    assert _fires("30 2 * * *", after=spring, n=2, tz="Europe/Berlin") == [
        "2027-03-29 00:30 Mon",  # 02:30 CEST on the 29th
        "2027-03-30 00:30 Tue",
    ]


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "* * * *",
        "* * * * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * * 13 *",
        "* * * * 8",
        "*/0 * * * *",
        "5-1 * * * *",
        "a * * * *",
        "1,,2 * * * *",
        "* * * foo *",
        "0 0 30 2 *",  # never fires
        "@sometimes",
    ],
)
def test_invalid_expressions_are_422_with_the_param(expression: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_schedule(expression)
    assert (info.value.code, info.value.param) == ("invalid_schedule", "schedule")


def test_an_unknown_time_zone_is_422() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_timezone("Mars/Olympus")
    assert (info.value.code, info.value.param) == ("invalid_timezone", "timezone")
    assert parse_timezone(None) is UTC


def test_next_fire_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError):
        next_fire(parse_schedule("* * * * *"), datetime(2026, 1, 1))
