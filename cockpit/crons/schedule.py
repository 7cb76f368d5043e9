"""Five-field cron expressions (minute hour day-of-month month day-of-week) and their next fire.

Semantics are Vixie cron's, which LangGraph's crons follow: ``*``, ranges ``a-b``, steps
``*/n`` and ``a-b/n``, lists ``a,b``, month and weekday names (``jan``, ``mon``), ``0`` and
``7`` both Sunday, and the ``@hourly`` family. When both day fields are restricted a day
matches if *either* does (``0 9 1 * mon`` fires on the 1st and on every Monday).

Times are computed on the wall clock of the schedule's time zone (UTC by default) and
returned in UTC: a wall time skipped by a daylight-saving jump does not fire, a repeated one
fires once. This module never reads the clock; callers pass the instant to start after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cockpit.errors import ValidationFailed

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_HORIZON = timedelta(days=366 * 5)
"""How far ahead a schedule must fire at least once (a leap day always comes within it)."""


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    names_from: int = 0


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, _MONTHS, 1),
    _Field("day of week", 0, 7, _DAYS, 0),
)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed expression: the values each field admits."""

    expression: str
    """The expression as given (macros kept), for display."""
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    """Days of the month, 1-31."""
    months: frozenset[int]
    weekdays: frozenset[int]
    """Days of the week, 0 = Sunday … 6 = Saturday (a ``7`` is folded into 0)."""
    days_restricted: bool
    """The day-of-month field is not ``*``: with ``weekdays_restricted``, either day may match."""
    weekdays_restricted: bool

    def day_matches(self, day: datetime) -> bool:
        in_month = day.day in self.days
        in_week = (day.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_month or in_week
        return in_month and in_week


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_schedule", param="schedule")


def _number(text: str, field: _Field) -> int:
    word = text.lower()
    if word in field.names:
        return field.names.index(word) + field.names_from
    if not text.isdigit():
        raise _invalid(f"{field.name}: {text!r} is not a number")
    value = int(text)
    if not field.low <= value <= field.high:
        raise _invalid(f"{field.name}: {value} is outside {field.low}-{field.high}")
    return value


def _part(text: str, field: _Field) -> set[int]:
    """One comma-separated item: ``*``, ``n``, ``a-b``, each optionally ``/step``."""
    base, slash, step_text = text.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) < 1:
            raise _invalid(f"{field.name}: step {step_text!r} must be a positive whole number")
        step = int(step_text)
    if base == "*":
        low, high = field.low, field.high
    elif "-" in base:
        start, _dash, end = base.partition("-")
        low, high = _number(start, field), _number(end, field)
        if low > high:
            raise _invalid(f"{field.name}: range {base!r} runs backwards")
    else:
        low = _number(base, field)
        # "5/15" means from 5 to the end in steps of 15, as in Vixie cron.
        high = field.high if slash else low
    return set(range(low, high + 1, step))


def _values(text: str, field: _Field) -> frozenset[int]:
    if not text:
        raise _invalid(f"{field.name} is empty")
    out: set[int] = set()
    for item in text.split(","):
        if not item:
            raise _invalid(f"{field.name}: empty item in {text!r}")
        out |= _part(item, field)
    return frozenset(out)


def parse_schedule(expression: str) -> Schedule:
    """Parse a five-field expression (or an ``@`` macro); 422 ``invalid_schedule`` otherwise."""
    if not isinstance(expression, str) or not expression.strip():
        raise _invalid("schedule must be a non-empty cron expression")
    text = expression.strip()
    fields = _MACROS.get(text.lower(), text).split()
    if len(fields) != 5:
        raise _invalid(
            f"schedule must have 5 fields (minute hour day month weekday), got {len(fields)}"
        )
    minutes, hours, days, months, weekdays = (
        _values(f, spec) for f, spec in zip(fields, _FIELDS, strict=True)
    )
    schedule = Schedule(
        expression=text,
        minutes=minutes,
        hours=hours,
        days=days,
        months=months,
        weekdays=frozenset(d % 7 for d in weekdays),
        days_restricted=fields[2] != "*",
        weekdays_restricted=fields[4] != "*",
    )
    if _next_wall(schedule, datetime(2000, 1, 1)) is None:
        raise _invalid(f"schedule {text!r} never fires (no such date)")
    return schedule


def parse_timezone(name: str | None) -> tzinfo:
    """An IANA zone (None: UTC); 422 ``invalid_timezone`` for a name the system does not know."""
    if name is None or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'",
            code="invalid_timezone",
            param="timezone",
        ) from None


def _next_wall(schedule: Schedule, after: datetime) -> datetime | None:
    """The first naive wall time strictly after ``after`` that the schedule admits."""
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = after + _HORIZON
    while t <= end:
        if t.month not in schedule.months:
            t = (t.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0)
        elif not schedule.day_matches(t):
            t = t.replace(hour=0, minute=0) + timedelta(days=1)
        elif t.hour not in schedule.hours:
            t = t.replace(minute=0) + timedelta(hours=1)
        elif t.minute not in schedule.minutes:
            t += timedelta(minutes=1)
        else:
            return t
    return None


def next_fire(schedule: Schedule, after: datetime, *, tz: tzinfo = UTC) -> datetime | None:
    """The first instant strictly after ``after`` at which ``schedule`` fires, in UTC.

    ``after`` must be timezone-aware. None when nothing fires within five years (cannot
    happen for a schedule :func:`parse_schedule` accepted, but callers need not trust that).
    """
    if after.tzinfo is None:
        raise ValueError("next_fire needs a timezone-aware instant")
    wall = after.astimezone(tz).replace(tzinfo=None)
    while True:
        found = _next_wall(schedule, wall)
        if found is None:
            return None
        instant = found.replace(tzinfo=tz).astimezone(UTC)
        # A wall time inside a daylight-saving gap does not exist: it maps back elsewhere.
        if instant.astimezone(tz).replace(tzinfo=None) == found and instant > after:
            return instant
        wall = found


__all__ = ["Schedule", "next_fire", "parse_schedule", "parse_timezone"]
