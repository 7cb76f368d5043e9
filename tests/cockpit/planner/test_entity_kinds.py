"""Which entity a request is about: the kind an id's shape names (``SlotHint.by_shape``), a
record field that depends on another slot (``entities.{kind}``), and a reason that never names
the kind ("block ip X because of card testing"). Test-local spec: the mechanisms are the
core's, so their tests do not move when an agent's yaml does.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from cockpit.embeddings import Embedder, make_embedder
from cockpit.planner import LocalPlanner, PlannerSpec
from cockpit.planner.slots import extract, plan_slots
from cockpit.planner.spec import SlotHint
from tests.support.tools import tool

TODAY = date(2026, 11, 25)
KINDS = ["customer", "card", "device", "ip"]
ENTITY = r"(?!pay_)[a-z]+_\w*\d\w*|\d{1,3}(?:\.\d{1,3}){3}"
SHAPES = {
    "entity_id": {"ip": r"\d{1,3}(?:\.\d{1,3}){3}", "card": r"card_\w+", "device": r"dev_\w+"}
}


BLOCK = {
    "kind": {"type": "string", "enum": KINDS},
    "entity_id": {"type": "string"},
    "reason": {"type": "string"},
}
TOOLS = [
    tool("block_entity", BLOCK, ["kind", "entity_id", "reason"]),
    tool("get_payment", {"payment_id": {"type": "string"}}, ["payment_id"]),
]
SPEC: dict[str, Any] = {
    "intents": [
        {
            "name": "block",
            "description": "block a card, device, customer or ip",
            "tool": "block_entity",
            "examples": [
                "block card card_1 because it was stolen",
                "block the device used on pay_1",
                "blacklist ip 192.0.2.1",
                "ban the customer cus_1",
            ],
            "slots": {
                "kind": {"by_shape": SHAPES},
                "entity_id": {
                    "pattern": ENTITY,
                    "from_record": {
                        "tool": "get_payment",
                        "id": "payment_id",
                        "field": "entities.{kind}",
                    },
                },
            },
            "responses": {"ok": "{kind} {entity_id} blocked."},
        },
        {
            "name": "payment",
            "description": "show a payment",
            "tool": "get_payment",
            "examples": ["show payment pay_1", "what happened to pay_2"],
            "responses": {"ok": "Payment {paymentId}."},
        },
    ]
}


def plans() -> list[Any]:
    hints = {k: SlotHint.model_validate(v) for k, v in SPEC["intents"][0]["slots"].items()}
    params = TOOLS[0]["function"]["parameters"]
    return plan_slots(params, hints)


def test_the_reason_never_names_the_kind() -> None:
    got = extract("blacklist ip 203.0.113.7 because of card testing", plans(), today=TODAY)
    assert got.values == {"kind": "ip", "entity_id": "203.0.113.7", "reason": "card testing"}


def test_the_id_shape_names_the_kind_when_no_word_does() -> None:
    got = extract("stop card_77 from paying, it is stolen", plans(), today=TODAY)
    assert got.values["kind"] == "card"
    assert got.values["reason"] == "it is stolen"


def test_an_id_of_no_known_shape_leaves_the_kind_to_the_words() -> None:
    got = extract("block customer cus_5 because of chargebacks", plans(), today=TODAY)
    assert got.values["kind"] == "customer"
    assert got.values["reason"] == "chargebacks"


def test_the_situation_before_a_short_command_is_its_reason() -> None:
    got = extract("some bot is testing cards from ip 203.0.113.77, block it", plans(), today=TODAY)
    assert got.values == {
        "kind": "ip",
        "entity_id": "203.0.113.77",
        "reason": "some bot is testing cards from ip 203.0.113.77",
    }
    got = extract(
        "ip 198.51.100.9 is our office, false positive - pls unblock it", plans(), today=TODAY
    )
    assert got.values["reason"] == "ip 198.51.100.9 is our office, false positive"


def test_a_clause_that_only_names_the_entity_is_no_reason() -> None:
    got = extract("ip 203.0.113.7 - block it", plans(), today=TODAY)
    assert "reason" not in got.values


def test_a_bad_shape_regex_is_refused() -> None:
    with pytest.raises(ValueError, match="regular expression"):
        SlotHint.model_validate({"by_shape": {"entity_id": {"ip": "("}}})


def test_a_record_field_must_be_a_path_or_a_slot() -> None:
    bad = {"tool": "get_payment", "id": "payment_id", "field": "entities.{Kind!}"}
    with pytest.raises(ValueError):
        SlotHint.model_validate({"from_record": bad})


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return make_embedder("minilm")


def run(planner: LocalPlanner, messages: list[BaseMessage]) -> AIMessage:
    reply = planner.bind_tools(TOOLS).invoke(messages)
    assert isinstance(reply, AIMessage)
    return reply


def test_the_named_kind_is_read_from_the_payment_record(embedder: Embedder) -> None:
    planner = LocalPlanner(
        spec=PlannerSpec.model_validate(SPEC), embedder=embedder, clock=lambda: TODAY
    )
    messages: list[BaseMessage] = [
        HumanMessage("block the card used on pay_9 because it was stolen")
    ]
    read = run(planner, messages)
    assert [(c["name"], c["args"]) for c in read.tool_calls] == [
        ("get_payment", {"payment_id": "pay_9"})
    ]
    record = {"paymentId": "pay_9", "entities": {"card": "card_42", "device": "dev_42"}}
    messages += [read, ToolMessage(json.dumps(record), tool_call_id=read.tool_calls[0]["id"])]
    block = run(planner, messages)
    assert [(c["name"], c["args"]) for c in block.tool_calls] == [
        ("block_entity", {"kind": "card", "entity_id": "card_42", "reason": "it was stolen"})
    ]


def test_without_a_kind_the_record_is_not_read_and_nothing_is_blocked(embedder: Embedder) -> None:
    planner = LocalPlanner(
        spec=PlannerSpec.model_validate(SPEC), embedder=embedder, clock=lambda: TODAY
    )
    reply = run(planner, [HumanMessage("block pay_9 because it was fraud")])
    assert not reply.tool_calls
    assert "block" in str(reply.content).lower()
