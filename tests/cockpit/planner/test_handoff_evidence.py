"""Values a request carries (an amount, a payment id) and handoff intents.

A handoff has no slots of its own: the values its examples carry are the ones the agent it
hands to works with, so "refund 15 EUR on pay_1" in the dispute agent counts as evidence for
the copilot handoff, not against it. Test-local spec: the mechanism is the core's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cockpit.embeddings import Embedder, make_embedder
from cockpit.planner import PlannerSpec
from cockpit.planner.dialogue import Dialogue
from cockpit.planner.intents import IntentScore
from tests.support.tools import tool

TODAY = date(2026, 11, 25)
TOOLS = [
    tool("get_payment", {"payment_id": {"type": "string"}}, ["payment_id"]),
    tool("list_disputes", {"limit": {"type": "integer", "default": 20}}, []),
    tool("transfer_to_copilot", {"reason": {"type": "string"}}, []),
]
SPEC: dict[str, Any] = {
    "intents": [
        {
            "name": "payment_evidence",
            "description": "show a disputed payment's refund history",
            "tool": "get_payment",
            "examples": ["has payment pay_1a2s3d been refunded before"],
            "responses": {"ok": "Payment {paymentId}."},
        },
        {
            "name": "open_disputes",
            "description": "list open disputes",
            "tool": "list_disputes",
            "examples": ["show my open disputes"],
            "responses": {"ok": "Open disputes: {count}."},
        },
        {
            "name": "to_copilot",
            "description": "payments and refunds with the copilot",
            "handoff": "copilot",
            "examples": ["why did my payment fail", "issue a 12.50 SGD refund for pay_2k3j4h"],
        },
    ]
}


@pytest.fixture(scope="module")
def dialogue() -> Dialogue:
    embedder: Embedder = make_embedder("minilm")
    spec = PlannerSpec.model_validate(SPEC)
    return Dialogue(spec, tools=TOOLS, embedder=embedder, today=TODAY)


def _scores(dialogue: Dialogue, text: str) -> dict[str, float]:
    flat = [IntentScore(i.name, 0.5, 0.5, 0.0, "") for i in dialogue.spec.intents]
    return {r.name: r.score for r in dialogue._with_evidence(text, flat)}


def test_a_handoff_accepts_the_values_its_examples_carry(dialogue: Dialogue) -> None:
    handoff = dialogue.spec.intent("to_copilot")
    assert handoff is not None
    assert dialogue._accepts(handoff) == {"amount", "id:pay"}


def test_an_amount_and_a_payment_favour_the_handoff_over_a_read(dialogue: Dialogue) -> None:
    scores = _scores(dialogue, "refund 15 EUR on pay_b28c46e2")
    assert scores["to_copilot"] > scores["payment_evidence"] > scores["open_disputes"]


def test_a_handoff_is_not_taken_for_a_tool_without_a_place_for_the_id(
    dialogue: Dialogue,
) -> None:
    # A dispute id is no value the copilot's examples carry: the handoff gains nothing from it.
    scores = _scores(dialogue, "what about dsp_9f8e7d")
    assert scores["to_copilot"] <= 0.5


def test_a_slot_read_from_a_record_takes_that_records_id() -> None:
    """An intent whose dispute id can be read from the payment ("the chargeback on pay_1")
    has a place for a payment id: it is neither pushed down nor passed over for the read."""
    assess = {
        "name": "assess_dispute",
        "description": "rate a dispute's win likelihood",
        "tool": "get_dispute",
        "examples": ["can I win dsp_1a"],
        "slots": {
            "dispute_id": {
                "from_record": {
                    "tool": "get_payment",
                    "id": "payment_id",
                    "field": "disputes.0.disputeId",
                }
            }
        },
        "responses": {"ok": "Dispute {disputeId}."},
    }
    spec = PlannerSpec.model_validate({"intents": [*SPEC["intents"], assess]})
    tools = [*TOOLS, tool("get_dispute", {"dispute_id": {"type": "string"}}, ["dispute_id"])]
    reading = Dialogue(spec, tools=tools, embedder=make_embedder("minilm"), today=TODAY)
    intent = reading.spec.intent("assess_dispute")
    assert intent is not None
    assert {"id:dsp", "id:pay"} <= reading._accepts(intent)
    scores = _scores(reading, "can I fight the chargeback on pay_b28c46e2")
    assert scores["assess_dispute"] == scores["payment_evidence"] > scores["open_disputes"]


def test_a_record_field_chosen_by_another_slot_is_no_place_for_the_records_id() -> None:
    """ "The device / card / shopper on pay_1" reads ``entities.{kind}``: which entity is meant
    is the request's to say, so naming the payment is no evidence for the graph read."""
    graph = {
        "name": "entity_graph",
        "description": "show an entity's neighbourhood",
        "tool": "entity_graph",
        "examples": ["show the graph around customer cus_1a"],
        "slots": {
            "entity_id": {
                "from_record": {
                    "tool": "get_payment",
                    "id": "payment_id",
                    "field": "entities.{kind}",
                }
            }
        },
        "responses": {"ok": "Graph of {entity_id}."},
    }
    spec = PlannerSpec.model_validate({"intents": [*SPEC["intents"], graph]})
    schema = {"kind": {"type": "string"}, "entity_id": {"type": "string"}}
    tools = [*TOOLS, tool("entity_graph", schema, ["kind", "entity_id"])]
    reading = Dialogue(spec, tools=tools, embedder=make_embedder("minilm"), today=TODAY)
    intent = reading.spec.intent("entity_graph")
    assert intent is not None
    assert "id:pay" not in reading._accepts(intent)
