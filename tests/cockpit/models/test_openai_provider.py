"""The openai: provider against a local OpenAI-compatible server, with the real openai client."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel

from cockpit.errors import ModelBehaviorError, UserError
from cockpit.models import UsageTracker, resolve_model
from cockpit.testing import FakeOpenAIServer, FakeReply, fake_openai_server

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


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    replies = {
        "good-model": [
            FakeReply(
                tool_calls=[{"name": "get_payment", "arguments": {"payment_id": "pay_123abc"}}],
                prompt_tokens=42,
                completion_tokens=9,
            ),
            FakeReply(
                content="Payment pay_123abc succeeded.", prompt_tokens=60, completion_tokens=8
            ),
        ],
        "broken-model": [FakeReply(status=500)],
    }
    with fake_openai_server(replies) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        yield srv


def test_tool_call_round_trip_through_real_client(server: FakeOpenAIServer) -> None:
    tracker = UsageTracker(tenant_id="t1", agent_id="copilot", run_id="run-1")
    model = resolve_model("openai:good-model").bind_tools([TOOL])
    reply = model.invoke([HumanMessage("status of pay_123abc")], config={"callbacks": [tracker]})
    assert reply.tool_calls[0]["name"] == "get_payment"
    assert reply.tool_calls[0]["args"] == {"payment_id": "pay_123abc"}
    # The request the server saw carried the tool in OpenAI format and the model name.
    sent = server.requests[-1]
    assert sent["model"] == "good-model"
    assert sent["tools"][0]["function"]["name"] == "get_payment"
    # Accounting equals what the server reported, not an estimate.
    summary = tracker.summary()
    assert (summary.calls, summary.input_tokens, summary.output_tokens) == (1, 42, 9)
    record = tracker.records[0]
    assert record.model == "openai:good-model"
    assert not record.estimated
    assert (record.tenant_id, record.agent_id, record.run_id) == ("t1", "copilot", "run-1")


def test_fallback_to_next_model_when_first_errors(server: FakeOpenAIServer) -> None:
    tracker = UsageTracker(tenant_id="t1")
    model = resolve_model("openai:broken-model", fallbacks=["openai:good-model"])
    reply = model.bind_tools([TOOL]).invoke(
        [HumanMessage("status of pay_123abc")], config={"callbacks": [tracker]}
    )
    assert reply.tool_calls[0]["args"]["payment_id"] == "pay_123abc"
    assert reply.response_metadata["cockpit_model"] == "openai:good-model"
    assert reply.response_metadata["cockpit_fallbacks"] == 1
    models_called = [r["model"] for r in server.requests]
    assert models_called[0] == "broken-model" and models_called[-1] == "good-model"
    assert [r.model for r in tracker.records] == ["openai:good-model"]
    assert tracker.summary().input_tokens == 42


def test_fallback_async(server: FakeOpenAIServer) -> None:
    model = resolve_model("openai:broken-model", fallbacks=["openai:good-model"])
    reply = asyncio.run(model.bind_tools([TOOL]).ainvoke([HumanMessage("status of pay_123abc")]))
    assert reply.tool_calls[0]["name"] == "get_payment"


def test_fallback_across_providers_to_fake(server: FakeOpenAIServer) -> None:
    from cockpit.testing import register_fake_script, unregister_fake_script

    register_fake_script("backup", ["backup answer"])
    try:
        model = resolve_model("openai:broken-model", fallbacks=["fake:backup"])
        reply = model.invoke([HumanMessage("hi")])
    finally:
        unregister_fake_script("backup")
    assert reply.content == "backup answer"
    assert reply.response_metadata["cockpit_model"] == "fake:backup"


def test_every_model_failing_is_a_clear_error(server: FakeOpenAIServer) -> None:
    model = resolve_model("openai:broken-model", fallbacks=["openai:missing-model"])
    with pytest.raises(ModelBehaviorError) as info:
        model.invoke([HumanMessage("hi")])
    assert info.value.code == "model_unavailable"
    assert info.value.details["tried"] == ["openai:broken-model", "openai:missing-model"]


def test_structured_tool_and_pydantic_tools_bind(server: FakeOpenAIServer) -> None:
    class GetPayment(BaseModel):
        """Look up a payment."""

        payment_id: str

    model = resolve_model("openai:good-model").bind_tools([GetPayment])
    reply = model.invoke([HumanMessage("status of pay_123abc")])
    assert server.requests[-1]["tools"][0]["function"]["name"] == "GetPayment"
    assert reply.tool_calls


def test_openai_without_key_or_base_url_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(UserError) as info:
        resolve_model("openai:gpt-4o-mini")
    assert info.value.code == "model_not_configured"
    assert info.value.param == "model"
