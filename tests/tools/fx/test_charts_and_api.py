"""Charts render headless; the package's public surface is what ``__all__`` says."""

from __future__ import annotations

import importlib

import pytest

import tools.fx as fx
from cockpit.errors import ValidationFailed
from tests.support.source import parse_source
from tools.fx.charts import render_forecast


def test_chart_formats() -> None:
    fc = fx.forecast_pair("USD/THB", horizon=10)
    png = render_forecast(fc, history=60)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    svg = render_forecast(fc, fmt="svg", title="t")
    assert b"<svg" in svg[:1000]
    with pytest.raises(ValidationFailed):
        render_forecast(fc, fmt="gif")


def test_public_surface_is_curated() -> None:
    for name in fx.__all__:
        assert hasattr(fx, name), name
    assert sorted(fx.__all__) == sorted(set(fx.__all__))
    for mod in (
        "backtest",
        "ecb",
        "exposure",
        "forecast",
        "hedging",
        "intervals",
        "metrics",
        "models",
        "series",
        "service",
        "charts",
    ):
        m = importlib.import_module(f"tools.fx.{mod}")
        for name in m.__all__:
            assert hasattr(m, name), (mod, name)


def test_domain_code_imports_no_transport_or_payments() -> None:
    import ast
    from pathlib import Path

    root = Path(fx.__file__).parent
    for path in root.glob("*.py"):
        if path.name in {"router.py", "tools.py", "cli.py"}:
            continue
        tree = parse_source(path)
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for n in names:
                assert not n.startswith(
                    ("fastapi", "langgraph", "langchain", "tools.payments", "cockpit.toolkit")
                ), (path.name, n)
