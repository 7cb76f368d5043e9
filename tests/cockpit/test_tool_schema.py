"""A tool's argument schema: generated once per argument model, handed out as a copy."""

from __future__ import annotations

import gc
from typing import Any

from pydantic import BaseModel, Field, create_model

from cockpit.toolkit.registry import ToolDef, ToolKind, default_registry


def _tool(args: type[BaseModel]) -> ToolDef:
    def fn(ctx: Any, a: BaseModel) -> dict[str, Any]:
        return {}

    return ToolDef(name="t", kind=ToolKind.READ, args=args, fn=fn, description="d")


def test_every_registered_tool_gives_pydantics_schema_each_time() -> None:
    tools = [default_registry.get(name) for name in default_registry.names()]
    assert tools
    for tool in tools:
        made, kept = tool.json_schema(), tool.json_schema()  # the second comes from the cache
        assert made == kept == tool.args.model_json_schema(), tool.name


def test_a_change_to_a_handed_out_schema_reaches_no_other_caller() -> None:
    class Args(BaseModel):
        amount: int = Field(ge=1)

    tool = _tool(Args)
    first = tool.json_schema()
    first["properties"]["amount"]["minimum"] = 100
    first["required"] = ["nothing"]
    assert tool.json_schema() == Args.model_json_schema()


def test_a_discarded_argument_model_is_not_kept() -> None:
    from cockpit.toolkit import registry

    args = create_model("Dropped", note=(str, ...))
    _tool(args).json_schema()
    assert args in registry._SCHEMAS
    del args
    gc.collect()
    assert not any(model.__name__ == "Dropped" for model in registry._SCHEMAS)
