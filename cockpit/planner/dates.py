"""Dates and periods in English: "last week", "since Tuesday", "Q3", "1-15 Nov", "lately".

Everything is relative to an explicit ``today`` so results are reproducible, and each
:class:`DateSpan` carries a label so an answer can say which window it used
(:func:`describe_span`: "last week (16–22 Nov 2026)"). The conventions:

- ranges are inclusive on both ends and never run past ``today``: "this month" on
  2026-11-25 is 1–25 Nov; "last 7 days" is 19–25 Nov (seven calendar days ending today);
- weeks are ISO weeks, Monday to Sunday; "last week" is the previous full week;
- "past month" / "last 2 months" are rolling (same day N months back, + 1 day), while
  "last month" / "in October" / "Q3" / "last quarter" / "last year" are calendar periods;
- "lately" and "recently" mean the last 30 days; "the weekend" is the latest Saturday
  and Sunday up to today; a day or month without a year is the latest one not after today;
- "next 2 weeks", "next month", "over the next 30 days" are forecast horizons
  (``horizon_days``), not past windows;
- numeric dates other than ISO ``YYYY-MM-DD`` (``03/10``) are ambiguous between locales
  and are not read.

A tool that only takes a look-back in days gets :attr:`DateSpan.lookback_days`: enough
days back from today to cover the period ("last week" on a Wednesday is 10), except that
"this week" and "this month" read as the rolling 7 and 30 days such a report means.

``dateparser`` was evaluated for this and not used: it returns single instants, not
periods ("last week" became one day seven days ago), has no quarters, weekends or
"lately", read "next 2 weeks" as two weeks *ago*, and took over a second to load.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
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
WEEKDAYS.update({"tues": 1, "weds": 2, "thur": 3, "thurs": 3})
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30, "sixty": 60, "ninety": 90,
}  # fmt: skip
_UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14, "month": 30, "quarter": 91, "year": 365}
_UNIT_ALIASES = {
    "d": "day",
    "hr": "hour",
    "wk": "week",
    "mo": "month",
    "mth": "month",
    "yr": "year",
}
_ORDINAL_QUARTER = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2}
_ORDINAL_QUARTER.update({"3rd": 3, "4th": 4})

_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
# A month named alone ("how did October go") must be a full name that is no everyday word.
_LONE_MONTH_RE = "|".join(calendar.month_name[i].lower() for i in range(1, 13) if i not in (3, 5))
_WEEKDAY_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_NUM_RE = r"\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_UNIT_RE = (
    r"(?P<unit>days?|d|weeks?|wks?|fortnights?|months?|mos?|mths?|quarters?|years?|yrs?"
    r"|hours?|hrs?)"
)
_DAY = r"(?P<{n}>\d{{1,2}})(?:st|nd|rd|th)?"
_THROUGH = r"\s*(?:-|–|—|to|till|until|through|thru)\s*"
_LEAD = r"(?:(?:in|over|for|during|within)\s+)?"

_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAYS_MONTH = re.compile(
    rf"\b(?:between\s+)?{_DAY.format(n='d')}(?:{_THROUGH}|\s+and\s+){_DAY.format(n='d2')}\s+"
    rf"(?:of\s+)?(?P<m>{_MONTH_RE})\.?(?:,?\s+(?P<y>\d{{4}}))?\b",
    re.I,
)
_MONTH_DAYS = re.compile(
    rf"\b(?P<m>{_MONTH_RE})\.?\s+{_DAY.format(n='d')}{_THROUGH}{_DAY.format(n='d2')}"
    rf"(?:,?\s+(?P<y>\d{{4}}))?\b",
    re.I,
)
_DAY_MONTH = re.compile(
    rf"\b{_DAY.format(n='d')}\s+(?:of\s+)?(?P<m>{_MONTH_RE})\.?(?:,?\s+(?P<y>\d{{4}}))?\b", re.I
)
_MONTH_DAY = re.compile(
    rf"\b(?P<m>{_MONTH_RE})\.?\s+{_DAY.format(n='d')}(?:,?\s+(?P<y>\d{{4}}))?\b(?!\s*:)", re.I
)
_LAST_N = re.compile(
    rf"\b{_LEAD}(?:the\s+)?(?P<q>last|past|previous|prior|trailing)\s+"
    rf"(?:(?P<n>{_NUM_RE})\s*)?{_UNIT_RE}\b",
    re.I,
)
_NEXT_N = re.compile(
    rf"\b{_LEAD}(?:the\s+)?(?:next|coming|upcoming|following)\s+"
    rf"(?:(?P<n>{_NUM_RE})\s*)?{_UNIT_RE}\b",
    re.I,
)
_AGO = re.compile(rf"\b(?P<n>{_NUM_RE})\s+{_UNIT_RE}\s+ago\b", re.I)
_THIS = re.compile(
    r"\b(?:(?:so\s+far\s+|earlier\s+)?this|current|the\s+current)\s+"
    r"(?P<unit>week|month|quarter|year)(?:\s+(?:so\s+far|to\s+date))?\b",
    re.I,
)
_TO_DATE = re.compile(r"\b(?P<u>[mqwy])td\b|\b(?P<w>month|quarter|year|week)[- ]to[- ]date\b", re.I)
_LAST_CAL = re.compile(r"\b(?:last|previous|prior)\s+(?P<unit>week|month|quarter|year)'?s?\b", re.I)
_SINCE_WEEKDAY = re.compile(rf"\bsince\s+(?P<last>last\s+)?(?P<wd>{_WEEKDAY_RE})\b", re.I)
_ON_WEEKDAY = re.compile(rf"\b(?:on\s+|last\s+)(?P<wd>{_WEEKDAY_RE})\b", re.I)
_IN_MONTH = re.compile(
    rf"\b(?:in|during|for|of|over|since)\s+(?P<m>{_MONTH_RE})\.?(?:\s+(?P<y>\d{{4}}))?\b", re.I
)
_MONTH_YEAR = re.compile(rf"\b(?P<m>{_MONTH_RE})\.?\s+(?P<y>\d{{4}})\b", re.I)
_LONE_MONTH = re.compile(rf"\b(?P<m>{_LONE_MONTH_RE})\b(?!\s+\d)", re.I)
_YEAR = re.compile(
    r"\b(?:in|during|for|of|since)\s+(?:the\s+year\s+)?(?P<y>(?:19|20)\d{2})\b", re.I
)
_QUARTER = re.compile(
    r"\b(?:[Qq](?P<q>[1-4])|(?P<ord>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter)"
    r"(?:\s+(?:of\s+)?(?P<y>\d{4}))?\b",
    re.I,
)
_SIMPLE = re.compile(
    r"\b(?P<w>today|yesterday|tonight|this morning|this afternoon|(?:the\s+)?day before yesterday"
    r"|tomorrow)\b",
    re.I,
)
_LATELY = re.compile(r"\b(?P<w>lately|recently|of\s+late)\b", re.I)
_WEEKEND = re.compile(
    r"\b(?:(?:over|during|on|at)\s+)?(?P<which>the\s+past|the|this|last|past)\s+weekend\b", re.I
)


@dataclass(frozen=True, slots=True)
class DateSpan:
    """A date or date range found in text, with where it was found and how to say it."""

    start: date
    end: date
    span: tuple[int, int]
    is_range: bool
    horizon_days: int | None = None
    """For "next N days"-style mentions: the forward-looking length in days."""
    label: str = ""
    """How the text named the period ("last week", "Q3 2026"); empty for plain dates."""
    lookback: int | None = None
    """Days back from today a look-back-only report needs (see :attr:`lookback_days`)."""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def lookback_days(self) -> int:
        """Days back from today (inclusive) that cover this period, for a ``days`` argument."""
        return self.lookback if self.lookback is not None else self.days


_MONTH_ABBR = tuple(calendar.month_abbr[i] for i in range(13))


def format_range(start: date, end: date) -> str:
    """ "24 Nov 2026", "16–22 Nov 2026", "28 Oct – 3 Nov 2026", "29 Dec 2025 – 4 Jan 2026"."""

    def day(d: date, year: bool = True) -> str:
        return f"{d.day} {_MONTH_ABBR[d.month]}" + (f" {d.year}" if year else "")

    if start == end:
        return day(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{day(end)}"
    if start.year == end.year:
        return f"{day(start, year=False)} – {day(end)}"
    return f"{day(start)} – {day(end)}"


def describe_span(span: DateSpan) -> str:
    """The window in words for an answer: "last week (16–22 Nov 2026)"."""
    dates = format_range(span.start, span.end)
    return f"{span.label} ({dates})" if span.label and span.label != dates else dates


def _num(token: str | None) -> int:
    if not token:
        return 1
    token = token.lower()
    return int(token) if token.isdigit() else _NUMBER_WORDS.get(token, 1)


def _unit(token: str) -> str:
    token = token.lower()
    token = token[:-1] if token.endswith("s") and len(token) > 2 else token
    return _UNIT_ALIASES.get(token, token)


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


def _latest(month: int, day: int, year: str | None, today: date) -> date | None:
    """The date, in the given year or else the latest one not after today."""
    if year:
        return _safe_date(int(year), month, day)
    found = _safe_date(today.year, month, day)
    if found is not None and found > today:
        found = _safe_date(today.year - 1, month, day)
    return found


def _clip(start: date, end: date, today: date) -> date:
    return today if start <= today < end else end


def _phrase(word: str, n_token: str | None, unit: str) -> str:
    """ "the last 30 days", "the past fortnight", "the next 2 weeks" (whatever the spelling)."""
    if n_token is None:
        return f"the {word.lower()} {unit}"
    n = _num(n_token)
    return f"the {word.lower()} {n} {unit}{'s' if n != 1 else ''}"


def _vague(match: re.Match[str]) -> bool:
    # "over the coming weeks", "the past months": no number, a plural unit, no length.
    unit = match.group("unit").lower()
    return match.group("n") is None and unit.endswith("s")


Rule = Callable[[str, date], Iterator[DateSpan]]


def _iso(text: str, today: date) -> Iterator[DateSpan]:
    for m in _ISO.finditer(text):
        day = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if day:
            yield DateSpan(day, day, m.span(), False)


def _day_ranges(text: str, today: date) -> Iterator[DateSpan]:
    for m in (*_DAYS_MONTH.finditer(text), *_MONTH_DAYS.finditer(text)):
        month = MONTHS[m.group("m").lower()]
        year = int(m.group("y")) if m.group("y") else today.year
        first = _safe_date(year, month, int(m.group("d")))
        last = _safe_date(year, month, int(m.group("d2")))
        if first is None or last is None or last < first:
            continue
        if not m.group("y") and first > today:
            first, last = first.replace(year=year - 1), last.replace(year=year - 1)
        yield DateSpan(first, last, m.span(), True)


def _explicit_days(text: str, today: date) -> Iterator[DateSpan]:
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        for m in pattern.finditer(text):
            day = _latest(MONTHS[m.group("m").lower()], int(m.group("d")), m.group("y"), today)
            if day:
                yield DateSpan(day, day, m.span(), False)


def _next_n(text: str, today: date) -> Iterator[DateSpan]:
    for m in _NEXT_N.finditer(text):
        if _vague(m):
            continue
        n, unit = _num(m.group("n")), _unit(m.group("unit"))
        days = 1 if unit == "hour" else n * _UNIT_DAYS[unit]
        end = today + timedelta(days=days - 1)
        label = _phrase("next", m.group("n"), unit)
        yield DateSpan(today, end, m.span(), True, horizon_days=days, label=label)


def _last_n(text: str, today: date) -> Iterator[DateSpan]:
    for m in _LAST_N.finditer(text):
        if _vague(m):
            continue
        n_token, unit = m.group("n"), _unit(m.group("unit"))
        calendar_word = m.group("q").lower() in ("last", "previous", "prior")
        if n_token is None and calendar_word and unit in ("week", "month", "quarter", "year"):
            continue  # "last month" is the calendar month: see _calendar_last
        n = _num(n_token)
        if unit == "hour":
            start = today - timedelta(days=1 if n <= 24 else -(-n // 24))
        elif unit == "month":
            start = _minus_months(today, n) + timedelta(days=1)
        else:
            start = today - timedelta(days=n * _UNIT_DAYS[unit] - 1)
        label = _phrase(m.group("q"), n_token, unit)
        yield DateSpan(start, today, m.span(), True, label=label)


def _ago(text: str, today: date) -> Iterator[DateSpan]:
    for m in _AGO.finditer(text):
        n, unit = _num(m.group("n")), _unit(m.group("unit"))
        if unit == "hour":
            continue
        day = (
            _minus_months(today, n) if unit == "month" else today - timedelta(n * _UNIT_DAYS[unit])
        )
        n_words = f"{n} {unit}{'s' if n != 1 else ''} ago"
        yield DateSpan(day, day, m.span(), False, label=n_words)


def _calendar_last(text: str, today: date) -> Iterator[DateSpan]:
    for m in _LAST_CAL.finditer(text):
        unit = m.group("unit").lower()
        if unit == "week":
            monday = today - timedelta(days=today.weekday() + 7)
            start, end = monday, monday + timedelta(days=6)
        elif unit == "month":
            prev = today.replace(day=1) - timedelta(days=1)
            start, end = month_bounds(prev.year, prev.month)
        elif unit == "quarter":
            q = (today.month - 1) // 3
            year, q = (today.year - 1, 4) if q == 0 else (today.year, q)
            start, end = _quarter_bounds(year, q)
        else:
            start, end = date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
        yield DateSpan(start, end, m.span(), True, label=f"last {unit}")


def _this(text: str, today: date) -> Iterator[DateSpan]:
    for m in (*_THIS.finditer(text), *_TO_DATE.finditer(text)):
        groups = m.groupdict()
        raw = (groups.get("unit") or groups.get("w") or groups.get("u") or "").lower()
        unit = {"m": "month", "q": "quarter", "w": "week", "y": "year"}.get(raw, raw)
        rolling = {"week": 7, "month": 30}.get(unit)
        if unit == "week":
            start = today - timedelta(days=today.weekday())
        elif unit == "month":
            start = today.replace(day=1)
        elif unit == "quarter":
            start = _quarter_bounds(today.year, (today.month - 1) // 3 + 1)[0]
        else:
            start = date(today.year, 1, 1)
        label = f"this {unit}" if groups.get("unit") else f"{unit} to date"
        yield DateSpan(start, today, m.span(), True, label=label, lookback=rolling)


def _weekdays(text: str, today: date) -> Iterator[DateSpan]:
    for m in _SINCE_WEEKDAY.finditer(text):
        back = (today.weekday() - WEEKDAYS[m.group("wd").lower()]) % 7
        if m.group("last"):
            back = back or 7
        name = calendar.day_name[WEEKDAYS[m.group("wd").lower()]]
        label = f"since {'last ' if m.group('last') else ''}{name}"
        yield DateSpan(today - timedelta(days=back), today, m.span(), True, label=label)
    for m in _ON_WEEKDAY.finditer(text):
        back = (today.weekday() - WEEKDAYS[m.group("wd").lower()]) % 7 or 7
        day = today - timedelta(days=back)
        name = calendar.day_name[day.weekday()]
        yield DateSpan(day, day, m.span(), False, label=name)


def _weekend(text: str, today: date) -> Iterator[DateSpan]:
    for m in _WEEKEND.finditer(text):
        which = m.group("which").lower()
        in_weekend = today.weekday() >= 5
        if which == "this" and not in_weekend:
            continue  # a weekend still ahead is no reporting window
        saturday = today - timedelta(days=(today.weekday() - 5) % 7)
        if which in ("last", "past") and in_weekend:
            saturday -= timedelta(days=7)
        end = min(saturday + timedelta(days=1), today)
        yield DateSpan(saturday, end, m.span(), True, label="the weekend")


def _months(text: str, today: date) -> Iterator[DateSpan]:
    for pattern in (_IN_MONTH, _MONTH_YEAR, _LONE_MONTH):
        for m in pattern.finditer(text):
            groups = m.groupdict()
            month = MONTHS[m.group("m").lower()]
            year = int(groups["y"]) if groups.get("y") else today.year
            if not groups.get("y") and month > today.month:
                year -= 1
            start, end = month_bounds(year, month)
            label = f"{calendar.month_name[month]} {year}"
            if m.group(0).lower().startswith("since"):
                end, label = today, f"since {label}"
            yield DateSpan(start, _clip(start, end, today), m.span(), True, label=label)


def _years(text: str, today: date) -> Iterator[DateSpan]:
    for m in _YEAR.finditer(text):
        year = int(m.group("y"))
        start, end = date(year, 1, 1), date(year, 12, 31)
        if m.group(0).lower().startswith("since"):
            end = today
        yield DateSpan(start, _clip(start, end, today), m.span(), True, label=str(year))


def _quarters(text: str, today: date) -> Iterator[DateSpan]:
    for m in _QUARTER.finditer(text):
        q = int(m.group("q")) if m.group("q") else _ORDINAL_QUARTER[m.group("ord").lower()]
        year = int(m.group("y")) if m.group("y") else today.year
        start, end = _quarter_bounds(year, q)
        if not m.group("y") and start > today:
            year -= 1
            start, end = _quarter_bounds(year, q)
        yield DateSpan(start, _clip(start, end, today), m.span(), True, label=f"Q{q} {year}")


def _simple(text: str, today: date) -> Iterator[DateSpan]:
    for m in _SIMPLE.finditer(text):
        word = re.sub(r"^the\s+", "", m.group("w").lower())
        if word == "tomorrow":
            day = today + timedelta(days=1)
            yield DateSpan(day, day, m.span(), False, horizon_days=1, label="tomorrow")
            continue
        back = {"yesterday": 1, "day before yesterday": 2}.get(word, 0)
        day = today - timedelta(days=back)
        label = word if back else "today"
        yield DateSpan(day, day, m.span(), False, label=label)
    for m in _LATELY.finditer(text):
        start = today - timedelta(days=29)
        yield DateSpan(start, today, m.span(), True, label="the last 30 days")


# Most specific first: a rule only gets text no earlier rule has taken.
_RULES: tuple[Rule, ...] = (
    _iso,
    _day_ranges,
    _explicit_days,
    _next_n,
    _last_n,
    _ago,
    _calendar_last,
    _this,
    _weekdays,
    _weekend,
    _quarters,
    _months,
    _years,
    _simple,
)


def find_dates(text: str, today: date) -> list[DateSpan]:
    """Every date or range mentioned in ``text``, in order, non-overlapping."""
    found: list[DateSpan] = []
    for rule in _RULES:
        for item in rule(text, today):
            if not any(item.span[0] < f.span[1] and f.span[0] < item.span[1] for f in found):
                found.append(item)
    found.sort(key=lambda d: d.span[0])
    return [_with_lookback(d, today) for d in _join_between(text, found, today)]


def _with_lookback(item: DateSpan, today: date) -> DateSpan:
    if item.lookback is not None or item.horizon_days is not None:
        return item
    return replace(item, lookback=max(1, (today - item.start).days + 1))


_BETWEEN_GAP = re.compile(r"^\s*(?:-|–|—|to|till|until|through|and|thru|\.\.)\s*$", re.I)
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
        since = _SINCE_BEFORE.search(text[: item.span[0]])
        if not item.is_range and since is not None and item.horizon_days is None:
            label = f"since {item.start.day} {_MONTH_ABBR[item.start.month]}"
            item = DateSpan(item.start, today, (since.start(), item.span[1]), True, label=label)
        merged.append(item)
        i += 1
    return merged


__all__ = [
    "MONTHS",
    "WEEKDAYS",
    "DateSpan",
    "describe_span",
    "find_dates",
    "format_range",
    "month_bounds",
]
