"""Time series as the forecasters see them, and the checks every user-supplied series passes.

A :class:`TimeSeries` is dates + float values, strictly increasing and finite. Series
arrive from the ECB file, the payments ledger (through :mod:`tools.fx.exposure`) or a
user (CSV text, JSON records, an API body); all go through :func:`make_series`, which
rejects NaNs, unsorted or duplicate dates and too-short series with a clear error
naming the bad field instead of letting a model fail deep inside.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cockpit.errors import ValidationFailed
from tools.fx.periods import parse_period

#: Fewest observations any forecaster accepts.
MIN_LENGTH = 10

_FREQ_BY_STEP = {1: "D", 7: "W"}


@dataclass(frozen=True, slots=True)
class TimeSeries:
    """A named, validated series of float observations."""

    name: str
    dates: NDArray[np.datetime64]
    """Observation dates (``datetime64[D]``), strictly increasing."""
    values: NDArray[np.float64]
    """Finite observations, one per date."""
    freq: str
    """``B`` business days, ``D`` daily, ``W`` weekly, ``M`` monthly, ``Q`` quarterly."""

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def future_dates(self, horizon: int) -> NDArray[np.datetime64]:
        """The next ``horizon`` dates at this series' frequency (business days skip weekends only)."""
        last = self.dates[-1]
        k = np.arange(1, horizon + 1)
        if self.freq == "B":
            out = np.busday_offset(last, k, roll="forward")
        elif self.freq == "D":
            out = last + k.astype("timedelta64[D]")
        elif self.freq == "W":
            out = last + (7 * k).astype("timedelta64[D]")
        else:
            out = _add_months(last, k * (1 if self.freq == "M" else 3))
        return np.asarray(out, dtype="datetime64[D]")


def _add_months(last: np.datetime64, months: NDArray[np.int64]) -> NDArray[np.datetime64]:
    """Same day-of-month ``months`` later, clipped to month ends (month-end stays month-end)."""
    month0 = last.astype("datetime64[M]")
    day = int((last - month0.astype("datetime64[D]")).astype(np.int64))
    next_start = (month0 + 1).astype("datetime64[D]")
    is_month_end = bool(last == next_start - 1)
    targets = month0 + months.astype("timedelta64[M]")
    ends = (targets + 1).astype("datetime64[D]") - 1
    if is_month_end:
        return np.asarray(ends, dtype="datetime64[D]")
    wanted = targets.astype("datetime64[D]") + day
    return np.asarray(np.minimum(wanted, ends), dtype="datetime64[D]")


def season_length_for(freq: str) -> int:
    """The natural seasonal period of a frequency (business week, week, year...)."""
    return {"B": 5, "D": 7, "W": 52, "M": 12, "Q": 4}.get(freq, 1)


def infer_freq(dates: NDArray[np.datetime64]) -> str:
    """Guess the frequency from the median spacing of the dates."""
    if dates.shape[0] < 2:
        return "D"
    steps = np.diff(dates.astype("datetime64[D]").astype(np.int64))
    median = float(np.median(steps))
    if median <= 1.0:
        weekdays = (dates.astype("datetime64[D]").astype(np.int64) + 3) % 7
        # No Saturdays or Sundays at all means a business-day series (ECB style).
        return "B" if not np.any(weekdays >= 5) else "D"
    if median <= 1.5 or (median < 4 and np.all(steps <= 4)):
        return "B"
    if 6 <= median <= 8:
        return "W"
    if 27 <= median <= 32:
        return "M"
    if 88 <= median <= 93:
        return "Q"
    return _FREQ_BY_STEP.get(int(median), "D")


def _parse_date(value: Any, *, param: str, row: int) -> np.datetime64:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return np.datetime64(value, "D")
    if isinstance(value, np.datetime64):
        value = str(np.datetime_as_string(value, unit="D"))
    parsed = parse_period(str(value))
    if parsed is None:
        raise ValidationFailed(
            f"row {row}: cannot read date {value!r}; use an ISO date (YYYY-MM-DD) or a period "
            "such as 1981 Q1, 1981-03 or Mar 1981",
            code="invalid_date",
            param=param,
        )
    return np.datetime64(parsed, "D")


def _parse_value(value: Any, *, param: str, row: int) -> float:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        raise ValidationFailed(f"row {row}: value is missing", code="missing_value", param=param)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            f"row {row}: value {value!r} is not a number", code="invalid_value", param=param
        ) from None
    if not math.isfinite(number):
        raise ValidationFailed(
            f"row {row}: value is NaN or infinite", code="missing_value", param=param
        )
    return number


def make_series(
    dates: Sequence[Any] | NDArray[Any],
    values: Sequence[Any] | NDArray[Any],
    *,
    name: str = "series",
    freq: str | None = None,
    min_length: int = MIN_LENGTH,
    positive: bool = False,
    param: str = "series",
) -> TimeSeries:
    """Validate and build a series: equal lengths, finite values, strictly increasing dates."""
    if len(dates) != len(values):
        raise ValidationFailed(
            f"{len(dates)} dates but {len(values)} values", code="length_mismatch", param=param
        )
    parsed_dates = np.array(
        [_parse_date(d, param=f"{param}.dates", row=i) for i, d in enumerate(dates)],
        dtype="datetime64[D]",
    )
    parsed_values = np.array(
        [_parse_value(v, param=f"{param}.values", row=i) for i, v in enumerate(values)],
        dtype=np.float64,
    )
    if parsed_values.shape[0] < min_length:
        raise ValidationFailed(
            f"series {name!r} has {parsed_values.shape[0]} observations; at least {min_length} are needed",
            code="series_too_short",
            param=param,
        )
    steps = np.diff(parsed_dates.astype(np.int64))
    if np.any(steps == 0):
        row = int(np.flatnonzero(steps == 0)[0]) + 1
        raise ValidationFailed(
            f"series {name!r} repeats date {parsed_dates[row]} (row {row})",
            code="duplicate_dates",
            param=f"{param}.dates",
        )
    if np.any(steps < 0):
        row = int(np.flatnonzero(steps < 0)[0]) + 1
        raise ValidationFailed(
            f"series {name!r} dates are not sorted: row {row} ({parsed_dates[row]}) comes before "
            f"row {row - 1} ({parsed_dates[row - 1]}); sort them ascending",
            code="unsorted_dates",
            param=f"{param}.dates",
        )
    if positive and np.any(parsed_values <= 0):
        row = int(np.flatnonzero(parsed_values <= 0)[0])
        raise ValidationFailed(
            f"row {row}: series {name!r} must be positive (rates are modelled in logs)",
            code="non_positive_value",
            param=f"{param}.values",
        )
    chosen = freq or infer_freq(parsed_dates)
    if chosen not in {"B", "D", "W", "M", "Q"}:
        raise ValidationFailed(
            f"unknown frequency {chosen!r}; use B, D, W, M or Q", code="invalid_freq", param="freq"
        )
    return TimeSeries(name=name, dates=parsed_dates, values=parsed_values, freq=chosen)


def series_from_records(
    records: Iterable[Mapping[str, Any]],
    *,
    name: str = "series",
    date_key: str = "date",
    value_key: str = "value",
    freq: str | None = None,
    min_length: int = MIN_LENGTH,
    param: str = "series",
) -> TimeSeries:
    """Build a series from JSON-like records ``[{"date": ..., "value": ...}, ...]``."""
    dates: list[Any] = []
    values: list[Any] = []
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping) or date_key not in rec or value_key not in rec:
            raise ValidationFailed(
                f"record {i} needs keys {date_key!r} and {value_key!r}",
                code="invalid_record",
                param=param,
            )
        dates.append(rec[date_key])
        values.append(rec[value_key])
    return make_series(dates, values, name=name, freq=freq, min_length=min_length, param=param)


def series_from_csv(
    text: str,
    *,
    name: str | None = None,
    date_column: str | None = None,
    value_column: str | None = None,
    freq: str | None = None,
    min_length: int = MIN_LENGTH,
) -> TimeSeries:
    """Read a two-column CSV (a header row, then date,value); columns may be named explicitly."""
    reader = csv.DictReader(io.StringIO(text.strip()))
    header = reader.fieldnames or []
    if len(header) < 2:
        raise ValidationFailed(
            "CSV needs a header row with a date column and a value column",
            code="invalid_csv",
            param="csv",
        )
    dcol = date_column or header[0]
    vcol = value_column or header[1]
    for col, p in ((dcol, "date_column"), (vcol, "value_column")):
        if col not in header:
            raise ValidationFailed(
                f"CSV has no column {col!r} (columns: {', '.join(header)})",
                code="missing_column",
                param=p,
            )
    rows = list(reader)
    return make_series(
        [r[dcol] for r in rows],
        [r[vcol] for r in rows],
        name=name or vcol,
        freq=freq,
        min_length=min_length,
        param="csv",
    )


__all__ = [
    "MIN_LENGTH",
    "TimeSeries",
    "infer_freq",
    "make_series",
    "season_length_for",
    "series_from_csv",
    "series_from_records",
]
