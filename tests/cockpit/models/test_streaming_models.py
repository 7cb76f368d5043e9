"""Token streaming in the model layer, with the real openai client against the local server.

A graph node calls ``ainvoke`` exactly as the agent node does; LangGraph's ``messages`` stream
mode makes the model stream, and the chunks must come out one by one, with one message id, the
tool-call deltas put back together, and the usage still accounted once per call. Fallbacks
apply until the first chunk; after it, a failure is an error, never a second answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from cockpit.errors import ModelBehaviorError
from cockpit.models import ChainedChatModel, UsageTracker, resolve_model
from cockpit.testing import FakeOpenAIServer, FakeReply, fake_openai_server
from cockpit.testing.scripted import register_fake_script, unregister_fake_script

TOOL = {
    "type": "function",
    "function": {
        "name": "get_payment",
        "description": "Look up a payment.",
        "parameters": {
            "type": "object",
            "properties": {"payment_id": {"type": "string"}},
            "required": ["payment_id"],
        },
    },
}
ANSWER = "Payment pay_123abc succeeded on the 3rd and settles tomorrow."


class State(TypedDict):
    reply: AIMessage | None


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    with fake_openai_server({}) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        yield srv


def _script(server: FakeOpenAIServer, model: str, *replies: FakeReply) -> None:
    server.replies[model] = list(replies)


def _stream_node(
    model: Any, tracker: UsageTracker | None = None, mode: str = "messages"
) -> tuple[list[tuple[BaseMessage, dict[str, Any]]], AIMessage]:
    """Run a one-node graph whose node calls ``model.ainvoke``, as the agent node does."""

    async def node(state: State, config: RunnableConfig) -> dict[str, Any]:
        reply = await model.ainvoke([HumanMessage("status of pay_123abc")], config)
        return {"reply": reply}

    builder = StateGraph(State)
    builder.add_node("agent", node)
    builder.add_edge(START, "agent")
    builder.add_edge("agent", END)
    graph = builder.compile()

    async def run() -> tuple[list[tuple[BaseMessage, dict[str, Any]]], AIMessage]:
        pairs: list[tuple[BaseMessage, dict[str, Any]]] = []
        final: dict[str, Any] = {}
        config: RunnableConfig = {"callbacks": [tracker] if tracker else []}
        async for kind, data in graph.astream(
            {"reply": None}, config, stream_mode=[mode, "values"]
        ):
            if kind == "messages":
                pairs.append(data)
            else:
                final = data
        return pairs, final["reply"]

    return asyncio.run(run())


def test_text_streams_in_chunks_of_one_message_and_usage_is_the_providers(
    server: FakeOpenAIServer,
) -> None:
    _script(server, "chatty", FakeReply(content=ANSWER, prompt_tokens=31, completion_tokens=12))
    tracker = UsageTracker(tenant_id="t1", run_id="run-1")
    pairs, reply = _stream_node(resolve_model("openai:chatty"), tracker)
    chunks = [m for m, _ in pairs]
    assert all(isinstance(m, AIMessageChunk) for m in chunks)
    texts = [c.content for c in chunks if c.content]
    # Word by word, in order, adding up to the answer the node got.
    assert len(texts) == len(ANSWER.split()) and "".join(texts) == ANSWER  # type: ignore[arg-type]
    assert reply.content == ANSWER
    assert len({c.id for c in chunks}) == 1 and chunks[0].id == reply.id
    assert isinstance(chunks[-1], AIMessageChunk) and chunks[-1].chunk_position == "last"
    sent = server.requests[-1]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    # One call, accounted with what the server reported, stamped with the model that answered.
    assert reply.response_metadata["cockpit_model"] == "openai:chatty"
    assert [(r.model, r.input_tokens, r.output_tokens, r.estimated) for r in tracker.records] == [
        ("openai:chatty", 31, 12, False)
    ]


def test_tool_call_deltas_are_assembled(server: FakeOpenAIServer) -> None:
    args = {"payment_id": "pay_123abc", "expand": ["refunds", "disputes"]}
    _script(
        server,
        "caller",
        FakeReply(tool_calls=[{"name": "get_payment", "arguments": args, "id": "call_7"}]),
    )
    tracker = UsageTracker(tenant_id="t1")
    pairs, reply = _stream_node(resolve_model("openai:caller").bind_tools([TOOL]), tracker)
    pieces = [tc for m, _ in pairs for tc in getattr(m, "tool_call_chunks", [])]
    # The header (id and name) first, then the arguments in several pieces.
    assert pieces[0]["id"] == "call_7" and pieces[0]["name"] == "get_payment"
    assert len(pieces) >= 3 and all(p["name"] is None for p in pieces[1:])
    assert reply.tool_calls == [
        {"name": "get_payment", "args": args, "id": "call_7", "type": "tool_call"}
    ]
    assert not reply.invalid_tool_calls
    assert server.requests[-1]["tools"][0]["function"]["name"] == "get_payment"
    assert len(tracker.records) == 1 and not tracker.records[0].estimated


def test_a_failure_before_the_first_chunk_falls_back(server: FakeOpenAIServer) -> None:
    _script(server, "down", FakeReply(status=500))
    _script(server, "backup", FakeReply(content=ANSWER, prompt_tokens=5, completion_tokens=6))
    tracker = UsageTracker(tenant_id="t1")
    pairs, reply = _stream_node(resolve_model("openai:down", fallbacks=["openai:backup"]), tracker)
    assert "".join(str(m.content) for m, _ in pairs) == ANSWER == reply.content
    assert reply.response_metadata["cockpit_model"] == "openai:backup"
    assert reply.response_metadata["cockpit_fallbacks"] == 1
    asked = [r["model"] for r in server.requests]  # the client retries a 500 once
    assert set(asked[:-1]) == {"down"} and asked[-1] == "backup"
    assert [(r.model, r.input_tokens) for r in tracker.records] == [("openai:backup", 5)]


def test_a_failure_after_the_first_chunk_is_an_error_not_a_fallback(
    server: FakeOpenAIServer,
) -> None:
    _script(server, "flaky", FakeReply(content=ANSWER, fail_after=3))
    _script(server, "backup", FakeReply(content="a second, different answer"))
    model = resolve_model("openai:flaky", fallbacks=["openai:backup"])
    with pytest.raises(ModelBehaviorError) as info:
        _stream_node(model)
    assert info.value.code == "model_stream_failed" and "openai:flaky" in info.value.message
    assert [r["model"] for r in server.requests] == ["flaky"]  # the backup was never asked


def test_a_stall_after_the_first_chunk_is_a_timeout(server: FakeOpenAIServer) -> None:
    never = threading.Event()
    _script(server, "stalls", FakeReply(content=ANSWER, hold=never, hold_s=5.0))
    _script(server, "backup", FakeReply(content="late answer"))
    model = resolve_model("openai:stalls", fallbacks=["openai:backup"], timeout_s=0.5)
    try:
        with pytest.raises(ModelBehaviorError) as info:
            _stream_node(model)
    finally:
        never.set()
    assert info.value.code == "model_timeout"
    assert [r["model"] for r in server.requests] == ["stalls"]


def test_usage_is_estimated_when_the_server_reports_none(server: FakeOpenAIServer) -> None:
    _script(server, "quiet", FakeReply(content=ANSWER, report_usage=False))
    tracker = UsageTracker(tenant_id="t1")
    _, reply = _stream_node(resolve_model("openai:quiet"), tracker)
    assert reply.response_metadata["usage_estimated"] is True
    (record,) = tracker.records
    assert record.estimated and record.input_tokens > 0 and record.output_tokens > 0


def test_models_that_do_not_stream_answer_whole_and_unchanged() -> None:
    reply = AIMessage(
        content="",
        tool_calls=[{"name": "get_payment", "args": {"payment_id": "pay_9"}, "id": "c1"}],
    )
    register_fake_script("whole", [reply, "done"])
    try:
        model = resolve_model("fake:whole")
        assert isinstance(model, ChainedChatModel)
        pairs, got = _stream_node(model)
        # No token stream: one whole message, exactly what the scripted model returned.
        assert [type(m).__name__ for m, _ in pairs] == ["AIMessage"]
        assert got.tool_calls == reply.tool_calls and got.content == ""
    finally:
        unregister_fake_script("whole")


def test_a_streaming_chain_falls_back_to_a_model_that_does_not_stream(
    server: FakeOpenAIServer,
) -> None:
    _script(server, "down", FakeReply(status=503))
    steps = [
        AIMessage(
            content="checking",
            tool_calls=[{"name": "get_payment", "args": {"payment_id": "pay_9"}, "id": "c1"}],
        )
    ]
    register_fake_script("local-backup", steps)
    try:
        tracker = UsageTracker(tenant_id="t1")
        model = resolve_model("openai:down", fallbacks=["fake:local-backup"])
        pairs, reply = _stream_node(model, tracker)
    finally:
        unregister_fake_script("local-backup")
    # The whole reply as one chunk (plus the closing one), tool call intact.
    texts = [m.content for m, _ in pairs if m.content]
    assert texts == ["checking"]
    assert reply.tool_calls[0]["args"] == {"payment_id": "pay_9"}
    assert reply.response_metadata["cockpit_model"] == "fake:local-backup"
    assert [r.model for r in tracker.records] == ["fake:local-backup"]
    assert tracker.records[0].input_tokens > 0
