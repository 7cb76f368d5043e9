"""Agent tools: registered as READ, tenant from the context, compact results."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.db.session import Database
from cockpit.errors import UserError
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit import ToolContext, ToolKind, default_registry
from tools.fx import InMemoryExposureSource, Volume
from tools.fx import tools as fx_tools
from tools.fx.exposure import EXPOSURE_SOURCE_KEY

NAMES = ("fx_forecast", "fx_exposure", "fx_hedge_recommendation", "fx_convert")


def _ctx(tmp_path: Path, extras: dict[str, object], tenant: str = "t1") -> ToolContext:
    return ToolContext(
        principal=Principal(tenant_id=tenant, role=Role.MERCHANT, key_id="k"),
        db=Database("sqlite:///" + str(tmp_path / "t.db")),
        extras=extras,
    )


def test_tools_are_registered_read_only() -> None:
    assert fx_tools.fx_forecast is not None
    for name in NAMES:
        tool = default_registry.get(name)
        assert tool.kind is ToolKind.READ
        assert len(tool.description) > 40
        assert "tenant" not in tool.json_schema()["properties"]


def test_forecast_and_convert_tools(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, {})
    tool = default_registry.get("fx_forecast")
    out = tool.fn(ctx, tool.args.model_validate({"pair": "USD/PHP", "horizon": 22}))
    assert out["horizon"] == 22 and len(out["points"]) == 5  # weekly steps + the last
    conv = default_registry.get("fx_convert")
    res = conv.fn(ctx, conv.args.model_validate({"amount": "50", "source": "EUR", "target": "USD"}))
    assert res["target"] == "USD" and float(res["converted"]) > 0


def test_exposure_and_hedge_tools_use_the_callers_tenant(
    tmp_path: Path, daily_records: list[Volume]
) -> None:
    source = InMemoryExposureSource({"t1": daily_records})
    exp = default_registry.get("fx_exposure")
    out = exp.fn(
        _ctx(tmp_path, {EXPOSURE_SOURCE_KEY: source}), exp.args.model_validate({"horizon": 14})
    )
    assert set(out["currencies"]) == {"USD", "SGD"}
    hedge = default_registry.get("fx_hedge_recommendation")
    res = hedge.fn(
        _ctx(tmp_path, {EXPOSURE_SOURCE_KEY: source}),
        hedge.args.model_validate({"home": "PHP", "tenor_days": 28}),
    )
    assert {r["currency"] for r in res["recommendations"]} == {"USD", "SGD"}
    # Another tenant sees no volumes at all.
    with pytest.raises(UserError) as err:
        exp.fn(
            _ctx(tmp_path, {EXPOSURE_SOURCE_KEY: source}, tenant="t2"), exp.args.model_validate({})
        )
    assert err.value.code == "no_exposure"
    with pytest.raises(UserError) as nerr:
        exp.fn(_ctx(tmp_path, {}), exp.args.model_validate({}))
    assert nerr.value.code == "exposure_source_unavailable"
