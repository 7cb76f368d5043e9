"""Amounts whose currency or size a record decides, through the dialogue (issue 15).

"5 bucks" or "$12" in a first turn names no currency outright: it waits for the payment's
record, and the refund is in the payment's currency. "Whatever is left" is what remains
refundable on the payment, not its whole amount. Test-local spec, real slot filler.
"""

from __future__ import annotations

from typing import Any

import pytest

from cockpit.embeddings import Embedder, make_embedder
from cockpit.planner import LocalPlanner
from cockpit.planner.amounts import says_full_amount, says_remaining_amount
from tests.cockpit.planner.test_followups import SPEC, Chat, call_of, make_planner

CURRENCY = {"from_record": {"tool": "get_payment", "id": "payment_id", "field": "amount.currency"}}
REFUND = {
    "name": "refund",
    "description": "refund a payment",
    "tool": "refund",
    "examples": [
        "refund 20 SGD on pay_1a",
        "give the buyer 5 dollars back on pay_2b",
        "refund the rest of pay_3c",
        "pay back the remainder of pay_4d",
    ],
    "slots": {
        "currency": CURRENCY,
        "amount": {
            "from_record": {
                "tool": "get_payment",
                "id": "payment_id",
                "field": "refundable.value",
                "when": "full_amount",
            }
        },
    },
    "responses": {"ok": "Refunded {amount} {currency} on {payment_id}."},
}
REFUND_WHOLE = {
    "name": "refund_whole",
    "description": "refund a whole payment",
    "tool": "refund",
    "examples": ["refund it", "refund the whole payment", "refund all of pay_1a"],
    "slots": {
        "currency": CURRENCY,
        "amount": {
            "from_record": {"tool": "get_payment", "id": "payment_id", "field": "amount.value"}
        },
    },
    "responses": {"ok": "Refunded {amount} {currency} on {payment_id}."},
}
RECORD = {
    "payment_id": "pay_sg1",
    "amount": {"value": 2000, "currency": "SGD"},
    "refundable": {"value": 1500},
}


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return make_embedder("minilm")


@pytest.fixture(scope="module")
def planner(embedder: Embedder) -> LocalPlanner:
    return make_planner(embedder, intents=[SPEC["intents"][5], REFUND, REFUND_WHOLE])


@pytest.mark.parametrize(
    "text",
    ["$12 refund on pay_sg1 asap", "give 12 bucks back to the buyer of pay_sg1"],
)
def test_a_dollar_or_bucks_waits_for_the_payments_currency(
    planner: LocalPlanner, text: str
) -> None:
    chat = Chat(planner)
    assert call_of(chat.say(text)) == ("get_payment", {"payment_id": "pay_sg1"})
    assert call_of(chat.result(RECORD)) == (
        "refund",
        {"payment_id": "pay_sg1", "amount": 1200, "currency": "SGD"},
    )


def test_a_code_said_outright_is_not_second_guessed(planner: LocalPlanner) -> None:
    chat = Chat(planner)
    assert call_of(chat.say("refund 12 USD on pay_sg1")) == (
        "refund",
        {"payment_id": "pay_sg1", "amount": 1200, "currency": "USD"},
    )


def test_bucks_without_a_payment_asks_only_for_the_payment(planner: LocalPlanner) -> None:
    chat = Chat(planner)
    ask = chat.say("please give 5 bucks back to a customer")
    assert not ask.tool_calls
    assert "payment" in str(ask.content) and "currency" not in str(ask.content)
    assert call_of(chat.say("pay_sg1")) == ("get_payment", {"payment_id": "pay_sg1"})
    assert call_of(chat.result(RECORD)) == (
        "refund",
        {"payment_id": "pay_sg1", "amount": 500, "currency": "SGD"},
    )


@pytest.mark.parametrize(
    ("text", "remaining"),
    [
        ("refund whatever is left on pay_1", True),
        ("what's left", True),
        ("refund the rest", True),
        ("the remaining balance", True),
        ("refund it in full", False),
        ("refund the whole payment", False),
    ],
)
def test_what_is_left_is_told_apart_from_the_whole(text: str, remaining: bool) -> None:
    assert says_full_amount(text)
    assert says_remaining_amount(text) is remaining


def test_whatever_is_left_refunds_what_remains_refundable(planner: LocalPlanner) -> None:
    chat = Chat(planner)
    assert call_of(chat.say("please refund whatever is left on pay_sg1"))[0] == "get_payment"
    reply: Any = chat.result(RECORD)
    assert call_of(reply) == (
        "refund",
        {"payment_id": "pay_sg1", "amount": 1500, "currency": "SGD"},
    )
