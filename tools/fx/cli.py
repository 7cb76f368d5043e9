"""``cockpit fx`` commands: rates, convert, forecast (with a chart), exposure-driven hedge, backtest."""

from __future__ import annotations

import csv
import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cockpit.cli_errors import CliGroup
from cockpit.errors import ValidationFailed

if TYPE_CHECKING:
    from rich.console import Console

    from tools.fx.forecast import Forecast

# statsforecast, matplotlib and rich are imported inside the commands: ``--help`` stays fast.
# A command fails by raising; CliGroup prints the one line and picks the exit code.
app = typer.Typer(
    cls=CliGroup,
    help="FX rates, forecasts with calibrated intervals, and hedging.",
    no_args_is_help=True,
)


@cache
def _console() -> Console:
    from rich.console import Console

    return Console()


def _print_json(data: Any) -> None:
    _console().print_json(json.dumps(data, default=str))


def _invalid(exc: ValueError) -> ValidationFailed:
    """A request model's error, as the one line the CLI prints."""
    return ValidationFailed(str(exc).splitlines()[0], code="invalid_request")


@app.command("rates")
def rates_cmd(
    pair: Annotated[str, typer.Argument(help="BASE/QUOTE, e.g. USD/PHP")],
    start: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    last: Annotated[int, typer.Option(help="Show only the last N rates")] = 10,
    gaps: Annotated[str, typer.Option(help="drop | ffill | error")] = "drop",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """ECB reference rates for a pair."""
    from rich.table import Table

    from tools.fx.service import rates

    out = rates(pair, start=_date(start, "start"), end=_date(end, "end"), gaps=gaps)
    if last > 0:
        out["rates"] = out["rates"][-last:]
    if as_json:
        _print_json(out)
        return
    table = Table(title=f"{out['pair']} (ECB)")
    table.add_column("date")
    table.add_column("rate", justify="right")
    for row in out["rates"]:
        table.add_row(row["date"], f"{row['rate']:.6g}")
    _console().print(table)
    for note in out["notes"]:
        _console().print(f"[dim]{note}[/dim]")


@app.command("convert")
def convert_cmd(
    amount: str,
    source: Annotated[str, typer.Argument(help="from currency")],
    target: Annotated[str, typer.Argument(help="to currency")],
    on: Annotated[str | None, typer.Option(help="Rate date YYYY-MM-DD")] = None,
) -> None:
    """Convert an amount at the ECB reference rate."""
    from tools.fx.service import convert

    out = convert(amount, source, target, on=_date(on, "on")).to_dict()
    _console().print(
        f"{out['amount']} {out['currency']} = [bold]{out['converted']} {out['target']}[/bold] "
        f"(rate {out['rate']} on {out['rate_date']})"
    )


@app.command("forecast")
def forecast_cmd(
    pair: Annotated[
        str | None, typer.Argument(help="BASE/QUOTE, e.g. USD/PHP (or use --csv)")
    ] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", help="Your own series: a CSV with a header row, dates then values"),
    ] = None,
    date_column: Annotated[
        str | None, typer.Option(help="CSV column with the dates (default: the first)")
    ] = None,
    value_column: Annotated[
        str | None, typer.Option(help="CSV column with the values (default: the second)")
    ] = None,
    freq: Annotated[
        str | None, typer.Option(help="B, D, W, M or Q (default: read from the dates)")
    ] = None,
    horizon: Annotated[
        int | None,
        typer.Option(help="Steps ahead (default: 22 business days; 8 quarters; 12 months)"),
    ] = None,
    model: Annotated[
        str, typer.Option(help="auto (chosen by cross-validation), rw, snaive, ets, theta, ...")
    ] = "auto",
    calibration: Annotated[str, typer.Option(help="conformal | empirical | native")] = "conformal",
    plot: Annotated[Path | None, typer.Option(help="Write a chart (.png or .svg)")] = None,
    as_of: Annotated[str | None, typer.Option(help="Forecast from this date")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Forecast a pair, or your own series from a CSV, with calibrated 80 %/90 % intervals."""
    from tools.fx.charts import render_forecast
    from tools.fx.handlers import run_forecast
    from tools.fx.schemas import ForecastRequest

    try:
        fmt = None
        if plot is not None:
            fmt = plot.suffix.lower().lstrip(".")
            if fmt not in ("png", "svg"):
                raise ValidationFailed(
                    "--plot must end in .png or .svg", code="invalid_chart_format", param="plot"
                )
        if (pair is None) == (csv_file is None):
            raise ValidationFailed(
                "name a pair (e.g. USD/PHP) or a series with --csv FILE, not both",
                code="invalid_request",
                param="pair",
            )
        fc = run_forecast(
            ForecastRequest(
                pair=pair,
                csv=None if csv_file is None else _read_text(csv_file, param="csv"),
                name=csv_file.stem if csv_file is not None else "series",
                date_column=date_column,
                value_column=value_column,
                freq=freq,  # type: ignore[arg-type]
                horizon=horizon,
                model=model,
                calibration=calibration,  # type: ignore[arg-type]
                as_of=_date(as_of, "as_of"),
            )
        )
        if plot is not None and fmt is not None:
            plot.write_bytes(render_forecast(fc, fmt=fmt))
    except ValidationFailed:
        raise
    except ValueError as exc:  # the request model's own checks
        raise _invalid(exc) from None
    if as_json:
        _print_json(fc.to_dict())
    else:
        _print_forecast(fc)
    if plot is not None:
        _console().print(f"chart written to {plot}")


def _read_text(path: Path, *, param: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise ValidationFailed(
            f"cannot read {path} as UTF-8 text", code="file_unreadable", param=param
        ) from None


def _print_forecast(fc: Forecast) -> None:
    from rich.table import Table

    from tools.fx.periods import period_label

    body = fc.to_dict()
    table = Table(title=f"{fc.name} forecast — {fc.model}, {fc.calibration} intervals")
    for col in ("period", "mean", "5%", "10%", "90%", "95%"):
        table.add_column(col, justify="right")
    lo90, hi90 = fc.interval(0.9)
    lo80, hi80 = fc.interval(0.8)
    n = fc.horizon
    for i in sorted({*range(0, n, max(1, n // 10)), n - 1}):
        point = body["points"][i]
        table.add_row(
            point.get("period", point["date"]),
            *(f"{v[i]:.6g}" for v in (fc.mean, lo90, lo80, hi80, hi90)),
        )
    _console().print(table)
    last = body["last_date"]
    if fc.freq in ("Q", "M"):
        last = period_label(date.fromisoformat(last), fc.freq)
    _console().print(f"last {fc.history_values[-1]:.6g} ({last})")
    selection = body.get("selection")
    if selection:
        runner_up = [n for n in selection["candidates"] if n != selection["chosen"]][:2]
        _console().print(
            f"model chosen by cross-validation over {selection['origins']} origins: "
            f"{selection['chosen']} (error {selection['relative_to_baseline']:.2f}x "
            f"{selection['baseline']}; next: {', '.join(runner_up)})"
        )


@app.command("hedge")
def hedge_cmd(
    volumes: Annotated[
        Path, typer.Argument(help="CSV with columns date,currency,amount (+ inflow, − outflow)")
    ],
    home: Annotated[str, typer.Option(help="Reporting currency")] = "USD",
    tenor: Annotated[int, typer.Option(help="Days until settlement")] = 30,
    policy: Annotated[str, typer.Option(help="forecast | full | fixed | none")] = "forecast",
    model: Annotated[str, typer.Option(help="Exposure model")] = "ets_theta",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Recommend forwards from a volume CSV (exposure netted per currency)."""
    from rich.table import Table

    from tools.fx.handlers import run_hedge
    from tools.fx.schemas import HedgeRequest, VolumeIn

    try:
        try:
            with volumes.open(newline="") as fh:
                recs = [VolumeIn.model_validate(row) for row in csv.DictReader(fh)]
        except OSError:
            raise ValidationFailed(
                f"cannot read {volumes}", code="file_unreadable", param="volumes"
            ) from None
        except ValueError as exc:
            raise ValidationFailed(
                f"bad row in {volumes}: {str(exc).splitlines()[0]}",
                code="invalid_record",
                param="volumes",
            ) from None
        out = run_hedge(
            HedgeRequest(home=home, tenor_days=tenor, records=recs, policy=policy, model=model),  # type: ignore[arg-type]
            extras={},
            tenant_id="cli",
            merchant_id=None,
        )
    except ValidationFailed:
        raise
    except ValueError as exc:  # the request model's own checks
        raise _invalid(exc) from None
    if as_json:
        _print_json(out)
        return
    table = Table(title=f"Hedge recommendation — home {out['home']}, {out['tenor_days']} days")
    for col in ("currency", "direction", "forecast", "hedge", "ratio", "forward"):
        table.add_column(col, justify="right")
    for r in out["recommendations"]:
        table.add_row(
            r["currency"],
            r["direction"],
            f"{r['forecast_mean']:,.0f}",
            f"{r['hedge_amount']:,.0f}",
            f"{r['hedge_ratio']:.0%}",
            f"{r['forward_rate']:.6g}",
        )
    _console().print(table)
    for r in out["recommendations"]:
        _console().print(
            f"[dim]{r['currency']}: {r['rationale']}; {r['assumptions']['forward']}[/dim]"
        )


def _date(value: str | None, param: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"{param} must be YYYY-MM-DD, got {value!r}", code="invalid_date", param=param
        ) from None


__all__ = ["app"]
