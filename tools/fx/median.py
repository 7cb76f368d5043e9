"""Median combination: each step's forecast is the median of its members' forecasts.

A mean follows its most extreme member; a median of models that disagree about one thing
(here: the trend — none, damped, Theta's) takes the middle view, so one member's wrong
trend does not move the forecast. This is the idea of the SCUM combination (Petropoulos &
Svetunkov 2020, the median of ETS, CES, ARIMA and dynamic optimised Theta), which did well
on the M4 quarterly series. Quantiles are the members' per-level medians; ``forecast``
recalibrates them on past errors in any case.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from cockpit.errors import UserError
from tools.fx.models import DEFAULT_QUANTILES, Forecaster, ForecastPath

FloatArray = NDArray[np.float64]


class Median:
    """Per-step median of member forecasts (points and quantiles)."""

    def __init__(self, members: Sequence[Forecaster], *, name: str = "median") -> None:
        if not members:
            raise UserError("a median combination needs at least one member", code="empty_ensemble")
        self.name = name
        self.members = list(members)
        self.min_length = max(m.min_length for m in members)

    def fit(self, y: FloatArray) -> Median:
        for m in self.members:
            m.fit(y)
        return self

    def predict(self, h: int, *, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> ForecastPath:
        paths = [m.predict(h, quantiles=quantiles) for m in self.members]
        mean = np.median([p.mean for p in paths], axis=0)
        qs = {
            float(q): np.median([p.quantiles[float(q)] for p in paths], axis=0) for q in quantiles
        }
        return ForecastPath(self.name, mean, qs)

    def past_errors(self, y: FloatArray, h: int, origins: NDArray[np.intp]) -> FloatArray | None:
        """Median of the members' re-applied errors, if all have them.

        ``y - median(f)`` is ``median(y - f)``: the median's error is the members' median error.
        """
        parts: list[FloatArray] = []
        for m in self.members:
            reuse = getattr(m, "past_errors", None)
            part = reuse(y, h, origins) if callable(reuse) else None
            if part is None:
                return None
            parts.append(np.asarray(part, dtype=np.float64))
        return median_errors(parts)


def median_errors(parts: Sequence[FloatArray]) -> FloatArray:
    """The median combination's errors from its members' errors on the same origins."""
    return np.asarray(np.median(np.stack(parts), axis=0), dtype=np.float64)


__all__ = ["Median", "median_errors"]
