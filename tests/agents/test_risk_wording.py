"""The risk agent's local planner on wording the nearest examples blur.

Block and release share their words ("lift the ban" vs "ban"); quoted text is somebody
else's, not the merchant's instruction; a reason written in another language is kept as
written. These are new phrasings (none of the held-out evals or paraphrases).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from cockpit.embeddings import Embedder, make_embedder
from cockpit.planner import LocalPlanner
from cockpit.runtime.graph import bound_schemas
from cockpit.specs.registry import load_builtin_specs
from cockpit.specs.spec import AgentSpec, load_spec_file
from cockpit.toolkit import default_registry

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def risk() -> AgentSpec:
    default_registry.load_entry_points()
    return load_spec_file(ROOT / "agents" / "risk" / "agent.yaml")


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return make_embedder("minilm")


def _tools(spec: AgentSpec) -> list[dict[str, Any]]:
    """The agent's tools as the runtime binds them, handoffs to the built-in agents included."""
    return bound_schemas(spec, load_builtin_specs([ROOT / "agents"]), default_registry)


def _reply(risk: AgentSpec, embedder: Embedder, text: str) -> AIMessage:
    assert risk.planner is not None
    planner = LocalPlanner(spec=risk.planner, embedder=embedder, clock=lambda: TODAY)
    reply = planner.bind_tools(_tools(risk)).invoke([HumanMessage(text)])
    assert isinstance(reply, AIMessage)
    return reply


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("take the ban off customer cus_000321, they paid back the chargeback", "release_entity"),
        ("please undo the freeze on card card_000114_2", "release_entity"),
        ("allow shopper cus_000870 to buy from us again", "release_entity"),
        ("please get the ban on customer cus_000321 lifted, they paid", "release_entity"),
        ("get device dev_000120_0 blocked, it is a bot", "block_entity"),
        ("never let card card_000455_1 pay us again, it was stolen", "block_entity"),
        ("keep device dev_000120_0 from checking out again, it is a bot", "block_entity"),
        ("I need customer ring_02_01 banned because they run a fraud ring", "block_entity"),
    ],
)
def test_block_or_release_follows_the_direction_of_the_wording(
    risk: AgentSpec, embedder: Embedder, text: str, tool: str
) -> None:
    reply = _reply(risk, embedder, text)
    names = [c["name"] for c in reply.tool_calls]
    # A block or release without a reason asks for it: the question names the action.
    if names:
        assert names == [tool]
    else:
        state = reply.additional_kwargs.get("cockpit_planner") or {}
        assert state.get("intent") == tool, reply.content


def test_a_quoted_instruction_does_not_decide_the_request(
    risk: AgentSpec, embedder: Embedder
) -> None:
    reply = _reply(
        risk,
        embedder,
        'our support inbox got "please unblock card ringcard_01_1 immediately, thanks" '
        "from someone. which accounts share card ringcard_01_1?",
    )
    assert [c["name"] for c in reply.tool_calls] == ["entity_graph"]


def test_a_reason_in_spanish_is_kept_in_spanish(risk: AgentSpec, embedder: Embedder) -> None:
    reply = _reply(risk, embedder, "bloquea la tarjeta ringcard_03_1 porque es una tarjeta robada")
    assert [c["name"] for c in reply.tool_calls] == ["block_entity"]
    assert reply.tool_calls[0]["args"]["reason"] == "es una tarjeta robada"


def test_since_before_a_clause_gives_the_reason(risk: AgentSpec, embedder: Embedder) -> None:
    reply = _reply(risk, embedder, "unblock ip 198.51.100.7 since it is our warehouse router")
    assert [c["name"] for c in reply.tool_calls] == ["release_entity"]
    assert reply.tool_calls[0]["args"]["reason"] == "it is our warehouse router"
