"""Seeded synthetic cross-currency payment volumes (for demos, tests and benchmarks).

Stands in for the payments ledger until it is wired in: daily volumes per currency with
a trend, weekly and yearly seasonality, month-end payroll peaks, holiday spikes and
log-normal noise. Deterministic for a given seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from tools.fx.exposure import Volume


@dataclass(frozen=True, slots=True)
class Corridor:
    """One currency's demand shape."""

    currency: str
    level: float
    """Typical daily volume in the currency's major units."""
    sign: float = 1.0
    """+1 receivables (inflows), -1 payables (outflows)."""
    weekly: Sequence[float] = (1.0, 1.0, 1.0, 1.05, 1.2, 1.5, 1.35)
    """Multipliers Monday..Sunday."""
    yearly_amplitude: float = 0.2
    growth_per_year: float = 0.1
    noise: float = 0.08
    holiday_lift: float = 1.8


DEFAULT_CORRIDORS: tuple[Corridor, ...] = (
    Corridor("USD", 250_000.0),
    Corridor("PHP", 9_000_000.0, yearly_amplitude=0.3),
    Corridor("SGD", 120_000.0, sign=-1.0, weekly=(1.2, 1.1, 1.1, 1.1, 1.2, 0.6, 0.5)),
)


def simulate_volumes(
    *,
    start: date = date(2023, 1, 1),
    days: int = 1096,
    corridors: Sequence[Corridor] = DEFAULT_CORRIDORS,
    holidays: Sequence[date] = (),
    seed: int = 0,
    merchant_id: str = "demo",
) -> list[Volume]:
    """Daily signed volumes for each corridor (one record per currency and day)."""
    rng = np.random.default_rng(seed)
    hol = set(holidays)
    out: list[Volume] = []
    t = np.arange(days)
    for c in corridors:
        weekday = np.array([(start + timedelta(days=int(i))).weekday() for i in t])
        doy = np.array([(start + timedelta(days=int(i))).timetuple().tm_yday for i in t])
        dom = np.array([(start + timedelta(days=int(i))).day for i in t])
        shape = (
            np.asarray(c.weekly)[weekday]
            * (1 + c.yearly_amplitude * np.sin(2 * np.pi * (doy - 80) / 365.25))
            * (1 + c.growth_per_year * t / 365.25)
            * np.where(dom >= 28, 1.15, 1.0)
        )
        noise = np.exp(rng.normal(0.0, c.noise, days))
        for i in t:
            d = start + timedelta(days=int(i))
            lift = c.holiday_lift if d in hol else 1.0
            out.append(
                Volume(
                    d, c.currency, float(c.sign * c.level * shape[i] * noise[i] * lift), merchant_id
                )
            )
    return out


__all__ = ["DEFAULT_CORRIDORS", "Corridor", "simulate_volumes"]
