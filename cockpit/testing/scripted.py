"""``ScriptedChatModel``: a chat model that replays scripted replies, tool calls included.

Which reply comes next is read from the history, not kept in the instance:
the n-th call in a conversation is the one whose history already holds n-1
replies of this script. So the same script works when the runtime builds a
new model per turn, resumes from a checkpoint, or replays a node. A script
step is an ``AIMessage``, a string (a plain answer), an exception instance
(raised, to test fallbacks and error paths) or a function of the history.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field

from cockpit.errors import ModelBehaviorError, UserError

ScriptStep = AIMessage | str | BaseException | Callable[[Sequence[BaseMessage]], AIMessage]

_SCRIPTS: dict[str, tuple[ScriptStep, ...]] = {}
_LOCK = threading.Lock()
_MARK = "cockpit_script"


class ScriptedChatModel(BaseChatModel):
    """Replays ``script`` in order; supports ``bind_tools`` (and records what was bound)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    script: list[Any] = Field(default_factory=list)
    """The steps (see the module docstring)."""
    script_name: str = "scripted"
    """Name stamped on replies; the next step is found by counting them in the history."""
    loop: bool = False
    """Start over when the script runs out (otherwise that is a ModelBehaviorError)."""
    calls: list[list[BaseMessage]] = Field(default_factory=list, exclude=True)
    """Every history this model was called with (for assertions)."""
    bound_tools: list[dict[str, Any]] = Field(default_factory=list, exclude=True)
    """The tools of the most recent call, in OpenAI format."""

    @property
    def _llm_type(self) -> str:
        return "cockpit-scripted"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": f"fake:{self.script_name}"}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, **kwargs)

    def _position(self, messages: Sequence[BaseMessage]) -> int:
        return sum(
            1
            for m in messages
            if isinstance(m, AIMessage) and m.response_metadata.get(_MARK) == self.script_name
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append(list(messages))
        self.bound_tools = list(kwargs.get("tools") or [])
        position = self._position(messages)
        if not self.script:
            raise ModelBehaviorError("the scripted model has no steps", code="script_empty")
        if position >= len(self.script):
            if not self.loop:
                raise ModelBehaviorError(
                    f"script {self.script_name!r} has no step {position + 1}",
                    code="script_exhausted",
                )
            position %= len(self.script)
        step = self.script[position]
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, str):
            reply = AIMessage(content=step)
        elif isinstance(step, AIMessage):
            reply = step.model_copy(deep=True)
        else:
            reply = step(messages)
        reply.response_metadata = {
            **reply.response_metadata,
            _MARK: self.script_name,
            "model_name": f"fake:{self.script_name}",
        }
        if reply.usage_metadata is None:
            input_tokens = count_tokens_approximately(messages)
            output_tokens = count_tokens_approximately([reply])
            reply.usage_metadata = {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            }
        return ChatResult(
            generations=[ChatGeneration(message=reply)],
            llm_output={"model_name": f"fake:{self.script_name}"},
        )


def register_fake_script(
    name: str, messages: Sequence[ScriptStep], *, replace: bool = True
) -> None:
    """Make ``fake:<name>`` resolve to a :class:`ScriptedChatModel` replaying ``messages``."""
    if not name or ":" in name:
        raise UserError(
            "a fake script needs a name without ':'", code="invalid_fake_name", param="name"
        )
    with _LOCK:
        if not replace and name in _SCRIPTS:
            raise UserError(
                f"fake script {name!r} already exists", code="fake_exists", param="name"
            )
        _SCRIPTS[name] = tuple(messages)


def unregister_fake_script(name: str) -> None:
    with _LOCK:
        _SCRIPTS.pop(name, None)


def fake_script(name: str) -> tuple[ScriptStep, ...]:
    """The steps registered as ``name``; :class:`UserError` if there is none."""
    with _LOCK:
        try:
            return _SCRIPTS[name]
        except KeyError:
            raise UserError(
                f"no fake model script named {name!r}", code="unknown_model", param="model"
            ) from None


def scripted_model(name: str) -> ScriptedChatModel:
    """A fresh :class:`ScriptedChatModel` for the registered script ``name``."""
    return ScriptedChatModel(script=list(fake_script(name)), script_name=name)


__all__ = [
    "ScriptStep",
    "ScriptedChatModel",
    "fake_script",
    "register_fake_script",
    "scripted_model",
    "unregister_fake_script",
]
