"""Amounts whose currency or size a record decides, and several requests in one turn, through
the dialogue (issue 15).

"5 bucks" or "$12" in a first turn names no currency outright: it waits for the payment's
record, and the refund is in the payment's currency. "Whatever is left" is what remains
refundable on the payment, not its whole amount. "Refund 15 on A and 25 on B" is two
refunds; "and the same for the other one" repeats the last one on the other payment.
Test-local spec, real slot filler.
"""

from __future__ import annotations

from typing import Any

import pytest

from cockpit.embeddings import Embedder, make_embedder
from cockpit.planner import STATE_KEY, LocalPlanner
from cockpit.planner.amounts import says_full_amount, says_remaining_amount
from cockpit.planner.slots import only_values
from cockpit.planner.turns import asks_the_same, split_on_and
from tests.cockpit.planner.test_followups import SPEC, TODAY, Chat, call_of, make_planner

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


# ----- several requests in one turn, and "the same for the other one" ---------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (
            "refund 15 SGD on pay_1 and 25 SGD on pay_2",
            ["refund 15 SGD on pay_1", "25 SGD on pay_2"],
        ),
        ("what's my balance, and is my KYB done?", ["what's my balance", "is my KYB done?"]),
        ("refund it and then cancel pay_2", ["refund it and then cancel pay_2"]),
    ],
)
def test_and_splits_candidates(text: str, parts: list[str]) -> None:
    assert split_on_and(text) == parts


def test_comma_and_only_when_asked() -> None:
    assert split_on_and("refund pay_1 and pay_2", after_comma=True) == ["refund pay_1 and pay_2"]


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("25 SGD on pay_2x", True),
        ("40 for pay_2x too", True),
        ("is my kyb done?", False),
        ("cancel pay_2x", False),
    ],
)
def test_a_part_of_values_only(text: str, values: bool) -> None:
    assert only_values(text, TODAY) is values


@pytest.mark.parametrize(
    ("text", "same"),
    [
        ("and the same for the other one", True),
        ("same for pay_2x please", True),
        ("the same thing happened to pay_2x", False),
        ("is it the same as before?", False),
    ],
)
def test_the_same_again(text: str, same: bool) -> None:
    assert asks_the_same(text) is same


def _refund(chat: Chat, reply: Any, payment: str, amount: int) -> Any:
    assert call_of(reply) == (
        "refund",
        {"payment_id": payment, "amount": amount, "currency": "SGD"},
    )
    return chat.result({"payment_id": payment, "amount": amount, "currency": "SGD"})


def test_two_refunds_joined_by_and_are_both_made(planner: LocalPlanner) -> None:
    chat = Chat(planner)
    first = chat.say("refund 15 SGD on pay_sg1 and 25 SGD on pay_sg2")
    second = _refund(chat, first, "pay_sg1", 1500)
    done = _refund(chat, second, "pay_sg2", 2500)
    assert "pay_sg1" in str(second.content)
    assert not done.tool_calls and "pay_sg2" in str(done.content)


def test_and_inside_one_request_keeps_it_whole(planner: LocalPlanner) -> None:
    chat = Chat(planner)
    assert call_of(chat.say("refund 15 SGD on pay_sg1 and 25 SGD on it")) == (
        "refund",
        {"payment_id": "pay_sg1", "amount": 1500, "currency": "SGD"},
    )
    assert (
        not Chat(planner)
        .say("when was pay_sg1 paid and how much?")
        .additional_kwargs[STATE_KEY]
        .get("queue")
    )


def test_the_same_for_the_other_one_repeats_the_request_on_it(planner: LocalPlanner) -> None:
    chat = Chat(planner)
    chat.say("two orders came back, pay_sg1 and pay_sg2. refund 10 SGD on pay_sg1 first")
    reply = chat.result({"payment_id": "pay_sg1", "amount": 1000, "currency": "SGD"})
    assert not reply.tool_calls
    assert call_of(chat.say("and the same for the other one")) == (
        "refund",
        {"payment_id": "pay_sg2", "amount": 1000, "currency": "SGD"},
    )


def test_two_refunds_without_a_currency_read_each_payment(planner: LocalPlanner) -> None:
    chat = Chat(planner)
    assert call_of(chat.say("please refund 5 on pay_sg1 and 7 on pay_sg2"))[0] == "get_payment"
    first = _refund(chat, chat.result(RECORD), "pay_sg1", 500)
    assert call_of(first) == ("get_payment", {"payment_id": "pay_sg2"})
    _refund(chat, chat.result({**RECORD, "payment_id": "pay_sg2"}), "pay_sg2", 700)
