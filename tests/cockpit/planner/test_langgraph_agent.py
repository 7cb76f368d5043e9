"""The same LangChain agent graph runs with the local planner (resolved via the model layer)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import StructuredTool
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel, Field

from cockpit.models import UsageTracker, resolve_model
from cockpit.planner import PlannerSpec


class RefundArgs(BaseModel):
    payment_id: str = Field(pattern=r"^pay_[A-Za-z0-9]{4,}$")
    amount: int | None = Field(default=None, description="minor units")
    currency: str | None = None


def test_create_agent_with_local_planner_runs_tools_over_turns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COCKPIT_EMBEDDINGS", "minilm")  # the real model for resolve_model
    executed: list[dict[str, Any]] = []

    def refund(
        payment_id: str, amount: int | None = None, currency: str | None = None
    ) -> dict[str, Any]:
        executed.append({"payment_id": payment_id, "amount": amount, "currency": currency})
        return {"refund_id": "rfd_1", "status": "succeeded"}

    tool = StructuredTool.from_function(
        refund, name="create_refund", description="Refund a payment.", args_schema=RefundArgs
    )
    spec = PlannerSpec.model_validate(
        {
            "intents": [
                {
                    "name": "refund",
                    "description": "Refund a payment",
                    "tool": "create_refund",
                    "examples": ["refund a payment", "give the customer their money back"],
                    "responses": {"ok": "Refund {refund_id} is {status}."},
                }
            ]
        }
    )
    agent = create_agent(
        resolve_model("local:planner", planner=spec), [tool], checkpointer=InMemorySaver()
    )
    tracker = UsageTracker(tenant_id="t1", agent_id="copilot", run_id="run-1")
    config: Any = {"configurable": {"thread_id": "th-1"}, "callbacks": [tracker]}

    first = agent.invoke({"messages": [HumanMessage("refund 20 EUR please")]}, config)
    assert "payment id" in str(first["messages"][-1].content)
    assert executed == []

    second = agent.invoke({"messages": [HumanMessage("pay_abc123")]}, config)
    assert executed == [{"payment_id": "pay_abc123", "amount": 2000, "currency": "EUR"}]
    final = second["messages"][-1]
    assert isinstance(final, AIMessage) and final.content == "Refund rfd_1 is succeeded."
    # Three model calls (ask, tool call, answer), all accounted to this run at zero cost.
    summary = tracker.summary()
    assert summary.calls == 3 and summary.cost_micros == 0 and summary.input_tokens > 0


def test_same_graph_runs_with_an_openai_compatible_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    from cockpit.testing import FakeReply, fake_openai_server

    executed: list[str] = []

    def refund(
        payment_id: str, amount: int | None = None, currency: str | None = None
    ) -> dict[str, Any]:
        executed.append(payment_id)
        return {"refund_id": "rfd_2", "status": "succeeded"}

    tool = StructuredTool.from_function(
        refund, name="create_refund", description="Refund a payment.", args_schema=RefundArgs
    )
    script = {
        "llm": [
            FakeReply(
                tool_calls=[{"name": "create_refund", "arguments": {"payment_id": "pay_abc123"}}]
            ),
            FakeReply(content="Refund rfd_2 is succeeded."),
        ]
    }
    with fake_openai_server(script) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        agent = create_agent(resolve_model("openai:llm"), [tool])
        out = agent.invoke({"messages": [HumanMessage("refund pay_abc123")]})
    assert executed == ["pay_abc123"]
    assert out["messages"][-1].content == "Refund rfd_2 is succeeded."
    # The second request carried the tool result back to the model, as OpenAI expects.
    assert server.requests[-1]["messages"][-1]["role"] == "tool"
