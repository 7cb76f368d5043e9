"""Charts of history plus a forecast fan (PNG or SVG bytes), drawn with matplotlib's Agg backend.

Rendering is headless and thread-safe enough for a server: each chart builds its own
``Figure`` (no pyplot global state) and returns bytes; nothing is written to disk here.
"""

from __future__ import annotations

import io
from typing import Literal

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cockpit.errors import ValidationFailed
from tools.fx.forecast import Forecast

ChartFormat = Literal["png", "svg"]

#: Fan bands drawn from widest to narrowest: (lower quantile, upper quantile, opacity).
_BANDS = ((0.05, 0.95, 0.18), (0.1, 0.9, 0.3))


def render_forecast(
    fc: Forecast,
    *,
    fmt: str = "png",
    history: int = 250,
    title: str | None = None,
    width: float = 9.0,
    height: float = 4.5,
) -> bytes:
    """History (last ``history`` points) plus the forecast mean and its 80 %/90 % fan."""
    if fmt not in ("png", "svg"):
        raise ValidationFailed(
            f"chart format {fmt!r} is not png or svg", code="invalid_chart_format", param="chart"
        )
    if history < 1:
        raise ValidationFailed("history must be ≥ 1", code="invalid_history", param="history")
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    hd = fc.history_dates[-history:].astype("datetime64[D]").astype("O")
    hv = fc.history_values[-history:]
    fd = fc.dates.astype("datetime64[D]").astype("O")
    ax.plot(hd, hv, color="#1f3b5b", linewidth=1.2, label="history")
    # Join the fan to the last observation so there is no visual gap.
    join_d = np.concatenate([[hd[-1]], fd])
    for lo_q, hi_q, alpha in _BANDS:
        if lo_q in fc.quantiles and hi_q in fc.quantiles:
            lo = np.concatenate([[hv[-1]], fc.quantiles[lo_q]])
            hi = np.concatenate([[hv[-1]], fc.quantiles[hi_q]])
            ax.fill_between(
                join_d,
                lo,
                hi,
                color="#d9822b",
                alpha=alpha,
                linewidth=0,
                label=f"{round((hi_q - lo_q) * 100)}% interval",
            )
    ax.plot(
        join_d,
        np.concatenate([[hv[-1]], fc.mean]),
        color="#d9822b",
        linewidth=1.6,
        label=f"forecast ({fc.model})",
    )
    ax.set_title(title or f"{fc.name}: {fc.horizon}-step forecast, {fc.calibration} intervals")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    return buf.getvalue()


def media_type(fmt: str) -> str:
    return "image/svg+xml" if fmt == "svg" else "image/png"


__all__ = ["ChartFormat", "media_type", "render_forecast"]
