"""``ChainedChatModel``: try each model in turn until one answers.

Every model an agent uses is wrapped in one of these (a chain of one when the
spec names no fallbacks), so every reply is stamped the same way: which model
reference answered (``response_metadata["cockpit_model"]``) and token usage,
estimated with ``count_tokens_approximately`` when the provider reports none.
The inner models are called through their ``_generate`` with the chain's run
manager, so callbacks (and the usage tracker) see exactly one call per turn.

Every model of the chain gets ``timeout_s`` per async call: a model that does
not answer in time counts as failed (``model_timeout``) and the next one runs,
so a hung provider never hangs a turn.

Streaming (LangGraph's ``messages`` mode asks for it through its callback): when
a model of the chain streams natively (``openai:``), the chain yields its chunks
as they arrive. A model that fails or times out *before its first chunk* counts
as failed and the next one runs; once a chunk is out, a failure (or a gap of more
than ``timeout_s`` between chunks) ends the call with a ``model_stream_failed`` /
``model_timeout`` error, never a second answer appended to the first. Models that
do not stream (``local:planner``, ``fake:``) answer in one chunk; a chain of only
those never streams, so their replies are exactly what ``_generate`` returns.
Every chunk of one reply carries the same message id; the last one carries the
stamp (``cockpit_model``) and, when the provider reported no usage, the estimate.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableBinding
from langchain_core.tools import BaseTool
from pydantic import ConfigDict, Field, model_validator

from cockpit.errors import ModelBehaviorError

log = logging.getLogger(__name__)

_PER_MODEL = "cockpit_per_model_kwargs"
DEFAULT_MODEL_TIMEOUT_S = 60.0
"""How long one model may take to answer one call, unless the chain says otherwise."""


class ChainedChatModel(BaseChatModel):
    """A fallback chain over ``models`` (named by ``refs``, same order)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    refs: list[str] = Field(min_length=1)
    """``provider:model`` of each model, for accounting and error messages."""
    models: list[BaseChatModel] = Field(min_length=1)
    """The models, tried in order; the next one runs when one raises."""
    timeout_s: float | None = Field(default=DEFAULT_MODEL_TIMEOUT_S, gt=0)
    """Seconds each model has to answer an async call; None waits forever."""

    @model_validator(mode="after")
    def _same_length(self) -> ChainedChatModel:
        if len(self.refs) != len(self.models):
            raise ValueError("refs and models must have the same length")
        return self

    @property
    def _llm_type(self) -> str:
        return "cockpit-chain"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"models": list(self.refs)}

    @property
    def primary(self) -> BaseChatModel:
        """The first model of the chain."""
        return self.models[0]

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind ``tools`` to every model the way each provider wants them."""
        per_model: list[dict[str, Any]] = []
        for model in self.models:
            if tool_choice is None:
                bound = model.bind_tools(tools, **kwargs)
            else:
                bound = model.bind_tools(tools, tool_choice=tool_choice, **kwargs)
            per_model.append(dict(bound.kwargs) if isinstance(bound, RunnableBinding) else {})
        return self.bind(**{_PER_MODEL: per_model})

    def _calls(self, kwargs: dict[str, Any]) -> list[tuple[str, BaseChatModel, dict[str, Any]]]:
        per_model = kwargs.pop(_PER_MODEL, None) or [{} for _ in self.models]
        return [
            (ref, model, {**kwargs, **extra})
            for ref, model, extra in zip(self.refs, self.models, per_model, strict=True)
        ]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        failures: list[tuple[str, Exception]] = []
        for ref, model, call_kwargs in self._calls(kwargs):
            try:
                result = model._generate(
                    messages, stop=stop, run_manager=run_manager, **call_kwargs
                )
            except Exception as exc:
                failures.append((ref, exc))
                log.warning("model %s failed (%s); trying the next", ref, type(exc).__name__)
                continue
            return _stamp(result, ref, messages, fell_back=len(failures))
        raise self._exhausted(failures)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        failures: list[tuple[str, Exception]] = []
        for ref, model, call_kwargs in self._calls(kwargs):
            try:
                async with asyncio.timeout(self.timeout_s):
                    result = await model._agenerate(
                        messages, stop=stop, run_manager=run_manager, **call_kwargs
                    )
            except TimeoutError:
                failures.append((ref, self._timed_out(ref)))
                log.warning("model %s timed out; trying the next", ref)
                continue
            except Exception as exc:
                failures.append((ref, exc))
                log.warning("model %s failed (%s); trying the next", ref, type(exc).__name__)
                continue
            return _stamp(result, ref, messages, fell_back=len(failures))
        raise self._exhausted(failures)

    # ---- streaming ---------------------------------------------------------------
    def _should_stream(
        self,
        *,
        async_api: bool,
        run_manager: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> bool:
        # Only worth it when some model of the chain streams for real; the others answer whole.
        if not any(_streams(model) for model in self.models):
            return False
        return super()._should_stream(async_api=async_api, run_manager=run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        failures: list[tuple[str, Exception]] = []
        for ref, model, call_kwargs in self._calls(kwargs):
            reply = _Reply(ref, messages, fell_back=len(failures))
            try:
                if _streams(model):
                    for chunk in model._stream(messages, stop=stop, **call_kwargs):
                        yield reply.pass_on(chunk)
                else:
                    result = model._generate(
                        messages, stop=stop, run_manager=run_manager, **call_kwargs
                    )
                    yield reply.pass_on(_whole(result))
            except Exception as exc:
                if reply.started:
                    raise _broken(ref, exc) from exc
                failures.append((ref, exc))
                log.warning("model %s failed (%s); trying the next", ref, type(exc).__name__)
                continue
            yield reply.last()
            return
        raise self._exhausted(failures)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        failures: list[tuple[str, Exception]] = []
        for ref, model, call_kwargs in self._calls(kwargs):
            reply = _Reply(ref, messages, fell_back=len(failures))
            try:
                async for chunk in self._chunks_of(model, messages, stop, run_manager, call_kwargs):
                    yield reply.pass_on(chunk)
            except TimeoutError:
                if reply.started:
                    raise self._timed_out(ref) from None
                failures.append((ref, self._timed_out(ref)))
                log.warning("model %s timed out; trying the next", ref)
                continue
            except Exception as exc:
                if reply.started:
                    raise _broken(ref, exc) from exc
                failures.append((ref, exc))
                log.warning("model %s failed (%s); trying the next", ref, type(exc).__name__)
                continue
            yield reply.last()
            return
        raise self._exhausted(failures)

    async def _chunks_of(
        self,
        model: BaseChatModel,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: AsyncCallbackManagerForLLMRun | None,
        call_kwargs: dict[str, Any],
    ) -> AsyncIterator[ChatGenerationChunk]:
        """One model's chunks, each within ``timeout_s`` of the one before (or of the call)."""
        if not _streams(model):
            async with asyncio.timeout(self.timeout_s):
                result = await model._agenerate(
                    messages, stop=stop, run_manager=run_manager, **call_kwargs
                )
            yield _whole(result)
            return
        chunks = model._astream(messages, stop=stop, **call_kwargs)
        try:
            while True:
                try:
                    async with asyncio.timeout(self.timeout_s):
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    return
                yield chunk
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]

    def _timed_out(self, ref: str) -> ModelBehaviorError:
        return ModelBehaviorError(
            f"model {ref} did not answer within {self.timeout_s:g} seconds",
            code="model_timeout",
            param="model",
        )

    def _exhausted(self, failures: list[tuple[str, Exception]]) -> Exception:
        if len(failures) == 1:
            return failures[0][1]  # no fallback configured: surface the model's own error
        tried = ", ".join(f"{ref} ({type(exc).__name__})" for ref, exc in failures)
        error = ModelBehaviorError(
            f"every model in the chain failed: {tried}",
            code="model_unavailable",
            param="model",
            details={"tried": [ref for ref, _ in failures]},
        )
        error.__cause__ = failures[-1][1]
        return error


def _stamp(
    result: ChatResult, ref: str, messages: list[BaseMessage], *, fell_back: int
) -> ChatResult:
    for generation in result.generations:
        if not isinstance(generation, ChatGeneration):
            continue
        message = generation.message
        metadata = {**message.response_metadata, "cockpit_model": ref}
        if fell_back:
            metadata["cockpit_fallbacks"] = fell_back
        if isinstance(message, AIMessage) and message.usage_metadata is None:
            input_tokens = count_tokens_approximately(messages)
            output_tokens = count_tokens_approximately([message])
            message.usage_metadata = {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            }
            metadata["usage_estimated"] = True
        message.response_metadata = metadata
    result.llm_output = {**(result.llm_output or {}), "cockpit_model": ref}
    return result


def _streams(model: BaseChatModel) -> bool:
    """Whether ``model`` has a streaming API of its own (not LangChain's whole-reply fallback)."""
    cls = type(model)
    return cls._stream is not BaseChatModel._stream or cls._astream is not BaseChatModel._astream


def _whole(result: ChatResult) -> ChatGenerationChunk:
    """A whole reply (from a model that does not stream) as one chunk."""
    message = result.generations[0].message
    if not isinstance(message, AIMessage):
        raise ModelBehaviorError("model returned no message", code="model_no_message")
    calls = [
        tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c.get("id"), index=i)
        for i, c in enumerate(message.tool_calls)
    ]
    calls += [
        tool_call_chunk(
            name=c.get("name"), args=c.get("args"), id=c.get("id"), index=len(calls) + i
        )
        for i, c in enumerate(message.invalid_tool_calls)
    ]
    chunk = AIMessageChunk(
        content=message.content,
        additional_kwargs=message.additional_kwargs,
        response_metadata=message.response_metadata,
        usage_metadata=message.usage_metadata,
        tool_call_chunks=calls,
    )
    return ChatGenerationChunk(message=chunk)


def _broken(ref: str, exc: Exception) -> ModelBehaviorError:
    return ModelBehaviorError(
        f"model {ref} failed in the middle of its answer ({type(exc).__name__})",
        code="model_stream_failed",
        param="model",
    )


class _Reply:
    """The chunks of one model's streamed reply: one message id, usage seen, and the last chunk."""

    def __init__(self, ref: str, messages: list[BaseMessage], *, fell_back: int) -> None:
        self.ref = ref
        self.messages = messages
        self.fell_back = fell_back
        self.started = False
        self.usage_reported = False
        self.chunks: list[AIMessageChunk] = []

    def pass_on(self, chunk: ChatGenerationChunk) -> ChatGenerationChunk:
        self.started = True
        message = chunk.message
        # One id for every chunk of the reply (LangChain gives it the run's): clients put the
        # pieces together by id, and a provider id arriving mid-stream would split the message.
        message.id = None
        if isinstance(message, AIMessageChunk):
            if message.usage_metadata is not None:
                self.usage_reported = True
            self.chunks.append(message)
        return chunk

    def last(self) -> ChatGenerationChunk:
        """The closing chunk: which model answered, and estimated usage if none was reported."""
        metadata: dict[str, Any] = {"cockpit_model": self.ref}
        if self.fell_back:
            metadata["cockpit_fallbacks"] = self.fell_back
        usage = None
        if not self.usage_reported:
            input_tokens = count_tokens_approximately(self.messages)
            output_tokens = (
                count_tokens_approximately([_as_message(self.chunks)]) if self.chunks else 0
            )
            usage = {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            }
            metadata["usage_estimated"] = True
        chunk = AIMessageChunk(
            content="",
            response_metadata=metadata,
            usage_metadata=usage,  # type: ignore[arg-type]
            chunk_position="last",
        )
        return ChatGenerationChunk(message=chunk)


def _as_message(chunks: list[AIMessageChunk]) -> AIMessage:
    chunk = chunks[0] + chunks[1:] if len(chunks) > 1 else chunks[0]
    return AIMessage(
        content=chunk.content,
        tool_calls=chunk.tool_calls,
        invalid_tool_calls=chunk.invalid_tool_calls,
    )


def call_timeout_s(model: Runnable[Any, Any]) -> float | None:
    """The longest one call to ``model`` may take: each model of its chain timing out in turn.

    Models that are not a :class:`ChainedChatModel` (under any bindings) get
    :data:`DEFAULT_MODEL_TIMEOUT_S`. A little grace is added so the chain's own,
    more precise timeout is the one that reports.
    """
    while isinstance(model, RunnableBinding):
        model = model.bound
    if not isinstance(model, ChainedChatModel):
        return DEFAULT_MODEL_TIMEOUT_S
    if model.timeout_s is None:
        return None
    return model.timeout_s * len(model.models) + 1.0


__all__ = ["DEFAULT_MODEL_TIMEOUT_S", "ChainedChatModel", "call_timeout_s"]
