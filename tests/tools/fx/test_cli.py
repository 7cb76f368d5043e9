"""``cockpit fx`` commands through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tools.fx import Volume
from tools.fx.cli import app

runner = CliRunner()


def test_forecast_with_png_and_svg_plots(tmp_path: Path) -> None:
    png = tmp_path / "out.png"
    r = runner.invoke(app, ["forecast", "USD/PHP", "--horizon", "30", "--plot", str(png)])
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "USD/PHP" in r.output
    svg = tmp_path / "out.svg"
    assert (
        runner.invoke(app, ["forecast", "EUR/USD", "--horizon", "5", "--plot", str(svg)]).exit_code
        == 0
    )
    assert b"<svg" in svg.read_bytes()[:1000]


def test_forecast_json_output() -> None:
    r = runner.invoke(app, ["forecast", "USD/SGD", "--horizon", "3", "--json"])
    assert r.exit_code == 0
    assert len(json.loads(r.output)["points"]) == 3


def test_cli_errors_are_clean(tmp_path: Path) -> None:
    for args, code in (
        (["forecast", "USD/PHP", "--horizon", "0"], "invalid_horizon"),
        (["forecast", "USD/XXX"], "unknown_currency"),
        (["forecast", "USD/PHP", "--plot", str(tmp_path / "x.gif")], "invalid_chart_format"),
        (["rates", "USD/PHP", "--start", "yesterday"], "invalid_date"),
        (["hedge", str(tmp_path / "missing.csv")], "file_unreadable"),
    ):
        r = runner.invoke(app, args)
        assert r.exit_code == 3, (args, r.output)  # bad input (cockpit/exitcodes.py)
        assert code in r.output and "Traceback" not in r.output


def test_rates_convert_and_hedge(tmp_path: Path, daily_records: list[Volume]) -> None:
    r = runner.invoke(app, ["rates", "EUR/USD", "--last", "3", "--json"])
    assert r.exit_code == 0 and len(json.loads(r.output)["rates"]) == 3
    c = runner.invoke(app, ["convert", "100", "USD", "JPY"])
    assert c.exit_code == 0 and "JPY" in c.output
    path = tmp_path / "vol.csv"
    path.write_text(
        "date,currency,amount\n"
        + "\n".join(f"{v.date},{v.currency},{v.amount}" for v in daily_records)
    )
    h = runner.invoke(
        app, ["hedge", str(path), "--home", "PHP", "--tenor", "28", "--model", "snaive", "--json"]
    )
    assert h.exit_code == 0, h.output
    assert {x["currency"] for x in json.loads(h.output)["recommendations"]} == {"USD", "SGD"}
