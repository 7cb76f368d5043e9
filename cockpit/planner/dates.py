"""Dates and relative ranges in English: "last 7 days", "this month", "since Monday", "3 Oct".

Everything is relative to an explicit ``today`` so results are reproducible.
Ranges are inclusive on both ends: "last 7 days" on 2026-11-25 is
2026-11-19 .. 2026-11-25 (seven calendar days ending today). Numeric dates
other than ISO ``YYYY-MM-DD`` (``03/10``) are ambiguous between locales and are
not read.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {
    name: i
    for i in range(1, 13)
    for name in (calendar.month_name[i].lower(), calendar.month_abbr[i].lower())
}
MONTHS["sept"] = 9
WEEKDAYS = {
    name: i
    for i in range(7)
    for name in (calendar.day_name[i].lower(), calendar.day_abbr[i].lower())
}
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fourteen": 14, "fifteen": 15, "thirty": 30, "sixty": 60, "ninety": 90,
}  # fmt: skip
_UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14, "month": 30, "quarter": 91, "year": 365}

_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_NUM_RE = r"\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_UNIT_RE = r"(?P<unit>days?|weeks?|fortnights?|months?|quarters?|years?|hours?|hrs?)"
_DAY = r"(?P<{n}>\d{{1,2}})(?:st|nd|rd|th)?"

_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAY_MONTH = re.compile(
    rf"\b{_DAY.format(n='d')}\s+(?:of\s+)?(?P<m>{_MONTH_RE})\.?(?:,?\s+(?P<y>\d{{4}}))?\b", re.I
)
_MONTH_DAY = re.compile(
    rf"\b(?P<m>{_MONTH_RE})\.?\s+{_DAY.format(n='d')}(?:,?\s+(?P<y>\d{{4}}))?\b", re.I
)
_LAST_N = re.compile(
    rf"\b(?:(?:in|over|for|during)\s+)?(?:the\s+)?(?P<q>last|past|previous|prior|trailing)\s+"
    rf"(?:(?P<n>{_NUM_RE})\s+)?{_UNIT_RE}\b",
    re.I,
)
_NEXT_N = re.compile(
    rf"\b(?:(?:over|for|in|during|within)\s+)?(?:the\s+)?(?:next|coming|upcoming|following)\s+"
    rf"(?:(?P<n>{_NUM_RE})\s+)?{_UNIT_RE}\b",
    re.I,
)
_THIS = re.compile(
    r"\b(?:(?:so\s+far\s+)?this|current|the\s+current)\s+(?P<unit>week|month|quarter|year)"
    r"(?:\s+(?:so\s+far|to\s+date))?\b",
    re.I,
)
_TO_DATE = re.compile(r"\b(?P<u>[mqwy])td\b|\b(?P<w>month|quarter|year|week)[- ]to[- ]date\b", re.I)
_LAST_CAL = re.compile(r"\b(?:last|previous|prior)\s+(?P<unit>week|month|quarter|year)'?s?\b", re.I)
_SINCE_WEEKDAY = re.compile(rf"\bsince\s+(?:last\s+)?(?P<wd>{_WEEKDAY_RE})\b", re.I)
_ON_WEEKDAY = re.compile(rf"\b(?:on\s+|last\s+)(?P<wd>{_WEEKDAY_RE})\b", re.I)
_IN_MONTH = re.compile(
    rf"\b(?:in|during|for|of|over)\s+(?P<m>{_MONTH_RE})(?:\s+(?P<y>\d{{4}}))?\b", re.I
)
_QUARTER = re.compile(r"\b[Qq](?P<q>[1-4])(?:\s+(?P<y>\d{4}))?\b")
_SIMPLE = re.compile(r"\b(?P<w>today|yesterday|tonight|this morning|day before yesterday)\b", re.I)


@dataclass(frozen=True, slots=True)
class DateSpan:
    """A date or date range found in text, with where it was found."""

    start: date
    end: date
    span: tuple[int, int]
    is_range: bool
    horizon_days: int | None = None
    """For "next N days"-style mentions: the forward-looking length in days."""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _num(token: str | None) -> int:
    if not token:
        return 1
    token = token.lower()
    return int(token) if token.isdigit() else _NUMBER_WORDS.get(token, 1)


def _unit(token: str) -> str:
    token = token.lower().rstrip("s")
    return {"hr": "hour"}.get(token, token)


def month_bounds(year: int, month: int) -> tuple[date, date]:
    last = calendar.monthrange(year, month)[1]
    return date(year, month, 1), date(year, month, last)


def _quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    first_month = 3 * (quarter - 1) + 1
    return date(year, first_month, 1), month_bounds(year, first_month + 2)[1]


def _minus_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _explicit(match: re.Match[str], today: date) -> date | None:
    month = MONTHS[match.group("m").lower()]
    day = int(match.group("d"))
    if match.group("y"):
        return _safe_date(int(match.group("y")), month, day)
    found = _safe_date(today.year, month, day)
    # A day-month without a year means the most recent such date, never the future.
    if found is not None and found > today:
        found = _safe_date(today.year - 1, month, day)
    return found


def find_dates(text: str, today: date) -> list[DateSpan]:
    """Every date or range mentioned in ``text``, in order, non-overlapping."""
    found: list[DateSpan] = []
    taken: list[tuple[int, int]] = []

    def add(item: DateSpan) -> None:
        if any(item.span[0] < end and start < item.span[1] for start, end in taken):
            return
        taken.append(item.span)
        found.append(item)

    for m in _ISO.finditer(text):
        day = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if day:
            add(DateSpan(day, day, m.span(), False))
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        for m in pattern.finditer(text):
            day = _explicit(m, today)
            if day:
                add(DateSpan(day, day, m.span(), False))
    for m in _NEXT_N.finditer(text):
        n, unit = _num(m.group("n")), _unit(m.group("unit"))
        days = 1 if unit == "hour" else n * _UNIT_DAYS[unit]
        add(DateSpan(today, today + timedelta(days=days - 1), m.span(), True, horizon_days=days))
    for m in _LAST_N.finditer(text):
        n_token, unit = m.group("n"), _unit(m.group("unit"))
        calendar_word = m.group("q").lower() in ("last", "previous", "prior")
        if n_token is None and calendar_word and unit in ("week", "month", "quarter", "year"):
            continue  # "last month" is the calendar month; handled below
        n = _num(n_token)
        if unit == "hour":
            start = today - timedelta(days=1 if n <= 24 else -(-n // 24))
        elif unit == "month":
            start = _minus_months(today, n) + timedelta(days=1)
        else:
            start = today - timedelta(days=n * _UNIT_DAYS[unit] - 1)
        add(DateSpan(start, today, m.span(), True))
    for m in _LAST_CAL.finditer(text):
        unit = m.group("unit").lower()
        if unit == "week":
            monday = today - timedelta(days=today.weekday() + 7)
            add(DateSpan(monday, monday + timedelta(days=6), m.span(), True))
        elif unit == "month":
            prev = today.replace(day=1) - timedelta(days=1)
            add(DateSpan(*month_bounds(prev.year, prev.month), m.span(), True))
        elif unit == "quarter":
            q = (today.month - 1) // 3
            year, q = (today.year - 1, 4) if q == 0 else (today.year, q)
            add(DateSpan(*_quarter_bounds(year, q), m.span(), True))
        else:
            add(DateSpan(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), m.span(), True))
    for m in (*_THIS.finditer(text), *_TO_DATE.finditer(text)):
        groups = m.groupdict()
        raw = (groups.get("unit") or groups.get("w") or groups.get("u") or "").lower()
        unit = {"m": "month", "q": "quarter", "w": "week", "y": "year"}.get(raw, raw)
        if unit == "week":
            start = today - timedelta(days=today.weekday())
        elif unit == "month":
            start = today.replace(day=1)
        elif unit == "quarter":
            start = _quarter_bounds(today.year, (today.month - 1) // 3 + 1)[0]
        else:
            start = date(today.year, 1, 1)
        add(DateSpan(start, today, m.span(), True))
    for m in _SINCE_WEEKDAY.finditer(text):
        back = (today.weekday() - WEEKDAYS[m.group("wd").lower()]) % 7
        add(DateSpan(today - timedelta(days=back), today, m.span(), True))
    for m in _ON_WEEKDAY.finditer(text):
        back = (today.weekday() - WEEKDAYS[m.group("wd").lower()]) % 7 or 7
        day = today - timedelta(days=back)
        add(DateSpan(day, day, m.span(), False))
    for m in _IN_MONTH.finditer(text):
        month = MONTHS[m.group("m").lower()]
        year = int(m.group("y")) if m.group("y") else today.year
        if not m.group("y") and month > today.month:
            year -= 1
        start, end = month_bounds(year, month)
        add(DateSpan(start, min(end, today) if end > today else end, m.span(), True))
    for m in _QUARTER.finditer(text):
        year = int(m.group("y")) if m.group("y") else today.year
        start, end = _quarter_bounds(year, int(m.group("q")))
        if not m.group("y") and start > today:
            start, end = _quarter_bounds(year - 1, int(m.group("q")))
        add(DateSpan(start, min(end, today), m.span(), True))
    for m in _SIMPLE.finditer(text):
        word = m.group("w").lower()
        back = {"yesterday": 1, "day before yesterday": 2}.get(word, 0)
        day = today - timedelta(days=back)
        add(DateSpan(day, day, m.span(), False))
    found.sort(key=lambda d: d.span[0])
    return _join_between(text, found, today)


_BETWEEN_GAP = re.compile(r"^\s*(?:-|–|to|till|until|through|and|thru)\s*$", re.I)
_SINCE_BEFORE = re.compile(r"\b(?:since|from|starting|after)\s*$", re.I)


def _join_between(text: str, items: list[DateSpan], today: date) -> list[DateSpan]:
    """Merge "from X to Y" into one range and widen "since X" to X .. today."""
    merged: list[DateSpan] = []
    i = 0
    while i < len(items):
        item = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        if (
            nxt is not None
            and not item.is_range
            and not nxt.is_range
            and _BETWEEN_GAP.match(text[item.span[1] : nxt.span[0]])
        ):
            merged.append(DateSpan(item.start, nxt.end, (item.span[0], nxt.span[1]), True))
            i += 2
            continue
        if not item.is_range and _SINCE_BEFORE.search(text[: item.span[0]]):
            item = DateSpan(item.start, today, item.span, True)
        merged.append(item)
        i += 1
    return merged


__all__ = ["MONTHS", "WEEKDAYS", "DateSpan", "find_dates", "month_bounds"]
