"""Period labels people put in spreadsheets, read as the date their period starts.

Quarterly and monthly data rarely come as ISO dates: statistics offices write ``1981 Q1``,
``1981-Q1`` or ``Q1 1981``; ledgers and exports write ``1981-03``, ``Mar 1981`` or
``March 1981``. Each is read as the first day of its period (``1981 Q2`` → 1981-04-01), so a
series of such labels is evenly spaced and its frequency is inferred as usual. ISO dates
(with or without a time) are read as they are. Anything else — notably day-first or
month-first dates like ``31/12/2026``, whose order cannot be told from one value — is not
guessed at: the caller gets ``None`` and reports the row.
"""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}

_YEAR = r"(?P<year>\d{4})"
_QUARTER = r"[Qq](?P<quarter>[1-4])"
_MONTH_NAME = r"(?P<name>[A-Za-z]{3,9})\.?"
_SEP = r"[\s\-/_.]*"

_QUARTER_FORMS = (
    re.compile(rf"{_YEAR}{_SEP}{_QUARTER}"),  # 1981 Q1, 1981-Q1, 1981Q1
    re.compile(rf"{_QUARTER}{_SEP}{_YEAR}"),  # Q1 1981, Q1-1981
)
_MONTH_FORMS = (
    re.compile(rf"{_YEAR}[\-/.](?P<month>\d{{1,2}})"),  # 1981-03, 1981/3
    re.compile(rf"{_YEAR}[\s\-]*[Mm](?P<month>\d{{1,2}})"),  # 1981M03, 1981 M3
    re.compile(rf"{_MONTH_NAME}{_SEP}{_YEAR}"),  # Mar 1981, March-1981
    re.compile(rf"{_YEAR}{_SEP}{_MONTH_NAME}"),  # 1981 Mar, 1981-March
)


def parse_period(text: str) -> date | None:
    """The first day of the period ``text`` names, or ``None`` when it names none we read."""
    value = text.strip()
    try:
        # ISO dates, and ISO date-times cut to their date (2026-11-25T12:00:00Z).
        return date.fromisoformat(value[:10])
    except ValueError:
        pass
    for form in _QUARTER_FORMS:
        match = form.fullmatch(value)
        if match:
            return date(int(match["year"]), 3 * int(match["quarter"]) - 2, 1)
    for form in _MONTH_FORMS:
        match = form.fullmatch(value)
        if not match:
            continue
        groups = match.groupdict()
        month = int(groups["month"]) if groups.get("month") else _MONTHS.get(groups["name"].lower())
        if month is not None and 1 <= month <= 12:
            return date(int(match["year"]), month, 1)
    return None


def period_label(day: date, freq: str) -> str:
    """How a period is usually written: ``1981 Q1`` for quarters, ``1981-03`` for months."""
    if freq == "Q":
        return f"{day.year} Q{(day.month - 1) // 3 + 1}"
    if freq == "M":
        return f"{day.year}-{day.month:02d}"
    return day.isoformat()


__all__ = ["parse_period", "period_label"]
