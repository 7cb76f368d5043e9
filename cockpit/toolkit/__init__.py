"""The contract between domain tools and the agent runtime.

A domain package declares its agent tools in ``tools.py``::

    class ForecastArgs(BaseModel):
        pair: str = Field(description="Currency pair, e.g. USD/PHP")

    @register_tool("fx_forecast", kind=ToolKind.READ, args=ForecastArgs)
    def fx_forecast(ctx: ToolContext, args: ForecastArgs) -> dict[str, Any]:
        \"\"\"Forecast a currency pair. (The docstring is the model's spec of the tool.)\"\"\"

The registry (``cockpit.toolkit.registry``) is filled by importing those
modules through the ``cockpit.tools`` entry-point group. Tenant, caller and
idempotency key reach a tool only through :class:`ToolContext`; they are never
arguments the model can set.
"""

from cockpit.toolkit.registry import (
    PrecheckFn,
    ToolContext,
    ToolDef,
    ToolKind,
    ToolRegistry,
    default_registry,
    register_tool,
)

__all__ = [
    "PrecheckFn",
    "ToolContext",
    "ToolDef",
    "ToolKind",
    "ToolRegistry",
    "default_registry",
    "register_tool",
]
