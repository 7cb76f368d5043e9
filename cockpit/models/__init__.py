"""The model layer: one way to name, build and account for chat models.

Agents name a model as ``provider:model`` (``local:planner`` by default,
``openai:<model>``, ``fake:<name>``) with optional fallbacks;
:func:`resolve_model` returns a LangChain chat model that supports
``bind_tools``. :class:`UsageTracker` records tokens and cost per call for a
tenant / agent / run; :func:`usage_summary` queries what was saved. Every model
call has a timeout (:data:`DEFAULT_MODEL_TIMEOUT_S` per model unless set);
:func:`call_timeout_s` says how long a whole chain may take.
"""

from cockpit.models.accounting import (
    DEFAULT_PRICES,
    ModelPrice,
    ModelTotals,
    PriceTable,
    UsageRecord,
    UsageSummary,
    UsageTracker,
    summarise,
    usage_summary,
)
from cockpit.models.chain import DEFAULT_MODEL_TIMEOUT_S, ChainedChatModel, call_timeout_s
from cockpit.models.resolve import (
    LOCAL_SERVER_KEY,
    PROVIDERS,
    parse_model_ref,
    planner_spec,
    resolve_model,
)
from cockpit.models.usage import ModelUsage

__all__ = [
    "DEFAULT_MODEL_TIMEOUT_S",
    "DEFAULT_PRICES",
    "LOCAL_SERVER_KEY",
    "PROVIDERS",
    "ChainedChatModel",
    "ModelPrice",
    "ModelTotals",
    "ModelUsage",
    "PriceTable",
    "UsageRecord",
    "UsageSummary",
    "UsageTracker",
    "call_timeout_s",
    "parse_model_ref",
    "planner_spec",
    "resolve_model",
    "summarise",
    "usage_summary",
]
