"""The embedding model and the planner work with the network off."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from cockpit.embeddings import make_embedder
from cockpit.planner import LocalPlanner
from evals.planner import load_suite


def test_fresh_model_load_and_turn_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    suite = load_suite()
    embedder = make_embedder("minilm")  # a new instance: reads the model shipped in the wheel
    planner = LocalPlanner(spec=suite.planner, embedder=embedder, clock=lambda: suite.today)
    reply = planner.bind_tools(suite.tools).invoke([HumanMessage("why was pay_abc123 declined?")])
    assert reply.tool_calls[0]["name"] == "explain_decline"
    assert attempts == []
