"""``LocalPlanner``: the dialogue engine as a LangChain chat model that emits tool calls.

Because it is an ordinary ``BaseChatModel`` with ``bind_tools``, the same
LangGraph graph runs with it or with an LLM. It needs no network: intent
detection uses the offline sentence embedder from :mod:`cockpit.embeddings`.
Requests in other languages pass through :class:`~cockpit.planner.languages.LanguageGate`
(translated by the spec's glossaries, or answered with the supported languages).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

from cockpit.clock import utcnow
from cockpit.embeddings import Embedder, default_embedder
from cockpit.planner.dialogue import Dialogue
from cockpit.planner.languages import LanguageGate
from cockpit.planner.spec import PlannerSpec

MODEL_NAME = "local:planner"


def _utc_today() -> date:
    return utcnow().date()


class LocalPlanner(BaseChatModel):
    """Deterministic, offline dialogue engine (intent kNN + schema slot filling + templates)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    spec: PlannerSpec = Field(default_factory=PlannerSpec)
    """Intents, thresholds and templates (an AgentSpec's ``planner`` section)."""
    embedder: Embedder | None = Field(default=None, exclude=True)
    """Sentence embedder; default: :func:`cockpit.embeddings.default_embedder`."""
    clock: Callable[[], date] = Field(default=_utc_today, exclude=True)
    """Today's date for relative ranges ("last 7 days"); fixed in tests."""
    _gate: LanguageGate | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "cockpit-local-planner"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": MODEL_NAME, "intents": [i.name for i in self.spec.intents]}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (OpenAI function dicts, pydantic models or LangChain tools)."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        # tool_choice is accepted for compatibility; the planner decides per turn.
        return self.bind(tools=formatted, **kwargs)

    def dialogue(self, tools: Sequence[dict[str, Any]] = ()) -> Dialogue:
        """The dialogue policy for this spec and these (OpenAI-format) tools."""
        return Dialogue(
            self.spec,
            tools=tools,
            embedder=self.embedder or default_embedder(),
            today=self.clock(),
        )

    def language_gate(self) -> LanguageGate:
        """The spec's language policy (glossaries compiled on first use, then kept)."""
        if self._gate is None:
            self._gate = LanguageGate(self.spec)
        return self._gate

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools = kwargs.get("tools") or []
        gate = self.language_gate()
        turn = gate.read(messages, _tool_names(tools))
        if turn.reply is None:
            reply = gate.finish(turn, self.dialogue(tools).reply(turn.messages), tools)
        else:
            reply = gate.finish(turn, turn.reply)
        input_tokens = count_tokens_approximately(messages)
        output_tokens = count_tokens_approximately([reply])
        reply.usage_metadata = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        }
        reply.response_metadata = {"model_name": MODEL_NAME, "usage_estimated": True}
        return ChatResult(
            generations=[ChatGeneration(message=reply)],
            llm_output={"model_name": MODEL_NAME},
        )


def _tool_names(tools: Sequence[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for tool in tools:
        function = tool.get("function", tool)
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.append(function["name"])
    return names


__all__ = ["MODEL_NAME", "LocalPlanner"]
