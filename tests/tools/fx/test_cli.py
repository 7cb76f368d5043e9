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


def test_forecast_a_users_own_quarterly_csv_with_a_chart(tmp_path: Path) -> None:
    rows = [
        f"{1990 + i // 4} Q{i % 4 + 1},north,{(200 + 3 * i) * (1.5 if i % 4 == 0 else 1.0):.1f}"
        for i in range(48)
    ]
    path = tmp_path / "arrivals.csv"
    path.write_text("Quarter,Region,Arrivals\n" + "\n".join(rows))
    chart = tmp_path / "arrivals.svg"
    r = runner.invoke(
        app,
        ["forecast", "--csv", str(path), "--value-column", "Arrivals", "--plot", str(chart)],
    )
    assert r.exit_code == 0, r.output
    assert "2002 Q1" in r.output and "chosen by cross-validation" in r.output
    assert b"<svg" in chart.read_bytes()[:1000]
    j = runner.invoke(app, ["forecast", "--csv", str(path), "--value-column", "3", "--json"])
    assert j.exit_code == 3 and "missing_column" in j.output
    j = runner.invoke(
        app,
        ["forecast", "--csv", str(path), "--value-column", "Arrivals", "--json", "--horizon", "4"],
    )
    body = json.loads(j.output)
    assert body["series"] == "arrivals" and body["freq"] == "Q"
    assert [p["period"] for p in body["points"]] == ["2002 Q1", "2002 Q2", "2002 Q3", "2002 Q4"]
    assert body["selection"]["chosen"] == body["model"]


def test_cli_errors_are_clean(tmp_path: Path) -> None:
    for args, code in (
        (["forecast", "USD/PHP", "--horizon", "0"], "invalid_horizon"),
        (["forecast", "USD/XXX"], "unknown_currency"),
        (["forecast", "USD/PHP", "--plot", str(tmp_path / "x.gif")], "invalid_chart_format"),
        (["rates", "USD/PHP", "--start", "yesterday"], "invalid_date"),
        (["hedge", str(tmp_path / "missing.csv")], "file_unreadable"),
        (["forecast", "--csv", str(tmp_path / "missing.csv")], "file_unreadable"),
        (["forecast"], "invalid_request"),
        (["forecast", "USD/PHP", "--csv", str(tmp_path / "x.csv")], "invalid_request"),
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
