"""A turn that spans two agents: each does its own part once, and the turn does not bounce.

Two test-local agents hand each other the conversation the way the runtime does (the transfer
call answered by ``{"transferred_to": ...}``, then the receiver replies to the same history).
A handoff carries the request the handing agent routed (the whole turn, or only its part
when it split the turn) and the rest of the turn queued after it.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from cockpit.embeddings import Embedder, make_embedder
from cockpit.planner import LocalPlanner, PlannerSpec
from tests.support.tools import tool

TODAY = date(2026, 11, 25)


HANDOFF = {"reason": {"type": "string"}}
DISPUTE_TOOLS = [
    tool("list_disputes", {"limit": {"type": "integer", "default": 20}}, []),
    tool("transfer_to_payments", HANDOFF, []),
]
PAYMENT_TOOLS = [
    tool("success_rate", {"days": {"type": "integer", "default": 30}}, []),
    tool("transfer_to_disputes", HANDOFF, []),
]

DISPUTES = {
    "intents": [
        {
            "name": "open_disputes",
            "description": "list open disputes",
            "tool": "list_disputes",
            "examples": ["show my open disputes", "list my chargebacks", "any disputes open"],
            "responses": {"ok": "Open disputes: {count}."},
        },
        {
            "name": "to_payments",
            "description": "payments questions with the payments agent",
            "handoff": "payments",
            "examples": [
                "what is my payment success rate",
                "how many payments went through",
                "refund a payment",
            ],
        },
    ]
}
PAYMENTS = {
    "intents": [
        {
            "name": "rate",
            "description": "report the payment success rate",
            "tool": "success_rate",
            "examples": [
                "what is my payment success rate",
                "how many payments went through this month",
                "acceptance rate report",
            ],
            "responses": {"ok": "Success rate: {rate}."},
        },
        {
            "name": "to_disputes",
            "description": "disputes with the dispute agent",
            "handoff": "disputes",
            "examples": ["show my open disputes", "list my chargebacks", "fight this dispute"],
        },
    ]
}


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return make_embedder("minilm")


class Team:
    """Two planners sharing one history; a transfer switches who answers, as the runtime does."""

    def __init__(self, embedder: Embedder) -> None:
        def planner(spec: dict[str, Any]) -> LocalPlanner:
            return LocalPlanner(
                spec=PlannerSpec.model_validate(spec), embedder=embedder, clock=lambda: TODAY
            )

        self.agents = {
            "disputes": planner(DISPUTES).bind_tools(DISPUTE_TOOLS),
            "payments": planner(PAYMENTS).bind_tools(PAYMENT_TOOLS),
        }
        self.results = {"list_disputes": {"count": 2}, "success_rate": {"rate": "91%"}}
        self.history: list[BaseMessage] = []
        self.calls: list[str] = []

    def say(self, text: str, active: str, *, max_steps: int = 12) -> str:
        self.history.append(HumanMessage(text))
        answers: list[str] = []
        for _ in range(max_steps):
            reply = self.agents[active].invoke(self.history)
            assert isinstance(reply, AIMessage)
            self.history.append(reply)
            if isinstance(reply.content, str) and reply.content:
                answers.append(reply.content)
            if not reply.tool_calls:
                return " ".join(answers)
            for call in reply.tool_calls:
                name = call["name"]
                self.calls.append(name)
                if name.startswith("transfer_to_"):
                    active = name.removeprefix("transfer_to_")
                    result: Any = {"transferred_to": active}
                else:
                    result = self.results[name]
                self.history.append(
                    ToolMessage(json.dumps(result), tool_call_id=call["id"], name=name)
                )
        raise AssertionError(f"the turn did not end: {self.calls}")


def test_a_turn_spanning_two_agents_runs_each_part_once(embedder: Embedder) -> None:
    team = Team(embedder)
    answer = team.say("first show my open disputes, then my payment success rate", "disputes")
    assert team.calls == ["list_disputes", "transfer_to_payments", "success_rate"]
    assert "Open disputes: 2." in answer and "Success rate: 91%." in answer


def test_a_handoff_without_planner_state_carries_the_whole_turn(embedder: Embedder) -> None:
    team = Team(embedder)
    # Handed the turn by an agent that keeps no planner state (an LLM front door), the
    # receiver reads the user's whole message and splits it itself.
    team.history.append(HumanMessage("show my open disputes and then my payment success rate"))
    team.history.append(
        AIMessage(
            content="",
            tool_calls=[{"name": "transfer_to_disputes", "args": {}, "id": "call_0"}],
        )
    )
    team.history.append(
        ToolMessage(json.dumps({"transferred_to": "disputes"}), tool_call_id="call_0")
    )
    reply = team.agents["disputes"].invoke(team.history)
    assert isinstance(reply, AIMessage)
    assert [c["name"] for c in reply.tool_calls] == ["list_disputes"]


def test_a_handed_request_is_never_handed_straight_back(embedder: Embedder) -> None:
    team = Team(embedder)
    # The disputes agent (named on its message, as the runtime names every reply) decided this
    # request is the payments agent's; the payments agent reads it as a disputes request, but
    # handing it back would bounce it between the two until the step limit.
    team.history.append(HumanMessage("list my chargebacks"))
    team.history.append(
        AIMessage(
            content="",
            name="disputes",
            tool_calls=[{"name": "transfer_to_payments", "args": {}, "id": "call_0"}],
        )
    )
    team.history.append(
        ToolMessage(json.dumps({"transferred_to": "payments"}), tool_call_id="call_0")
    )
    reply = team.agents["payments"].invoke(team.history)
    assert isinstance(reply, AIMessage)
    assert "transfer_to_disputes" not in [c["name"] for c in reply.tool_calls]
    # Unnamed (no agent said it handed the request on): the same history routes as before.
    team.history[1] = AIMessage(content="", tool_calls=team.history[1].tool_calls)
    reply = team.agents["payments"].invoke(team.history)
    assert isinstance(reply, AIMessage)
    assert [c["name"] for c in reply.tool_calls] == ["transfer_to_disputes"]
