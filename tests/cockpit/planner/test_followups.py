"""Follow-ups on the record under discussion, several requests in one turn, and slots read
from records: the dialogue mechanisms, on a small test-local spec.

Test-local on purpose: the mechanisms are the core's, so their tests must not move when an
agent's yaml does.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from cockpit.embeddings import Embedder
from cockpit.planner import STATE_KEY, LocalPlanner, PlannerSpec
from tests.support.tools import tool

TODAY = date(2026, 11, 25)


DISPUTE = {"dispute_id": {"type": "string"}}
PAYMENT = {"payment_id": {"type": "string"}}
TOOLS = [
    tool("get_dispute", DISPUTE, ["dispute_id"]),
    tool("draft_response", DISPUTE, ["dispute_id"]),
    tool(
        "submit_response",
        {**DISPUTE, "evidence": {"type": "object"}},
        ["dispute_id", "evidence"],
    ),
    tool("accept_dispute", DISPUTE, ["dispute_id"]),
    tool("list_disputes", {"limit": {"type": "integer", "default": 20}}, []),
    tool("get_payment", PAYMENT, ["payment_id"]),
    tool(
        "refund",
        {**PAYMENT, "amount": {"type": "integer"}, "currency": {"type": "string"}},
        ["payment_id", "amount", "currency"],
    ),
    tool("block_device", {"device_id": {"type": "string"}}, ["device_id"]),
    tool("search_guide", {"query": {"type": "string"}}, ["query"]),
]

SPEC: dict[str, Any] = {
    "intents": [
        {
            "name": "dispute_details",
            "description": "show one dispute",
            "tool": "get_dispute",
            "examples": [
                "tell me about dispute dsp_1a",
                "what is dispute dsp_2b about",
                "show the details of this chargeback",
                "what's happening with dsp_3c",
            ],
            "responses": {"ok": "Dispute {dispute_id} is {status}."},
        },
        {
            "name": "draft",
            "description": "draft the response to a dispute",
            "tool": "draft_response",
            "examples": [
                "draft a response to dsp_1a",
                "prepare the defence for this dispute",
                "write the rebuttal for dispute dsp_4d",
            ],
            "offer": {"intent": "submit"},
            "responses": {"ok": "Draft for {dispute_id}: {text}. Shall I submit it?"},
        },
        {
            "name": "submit",
            "description": "submit the response to a dispute",
            "tool": "submit_response",
            "min_margin": 0.05,
            "examples": [
                "submit the response for dsp_1a",
                "send my defence for dispute dsp_2b to the issuer",
                "file the representment now",
                "fight this chargeback",
            ],
            "slots": {
                "evidence": {
                    "kind": "enum",
                    "from_result": "draft_response.evidence",
                    "default": {"ORDER": "order records"},
                }
            },
            "responses": {"ok": "Submitted {dispute_id}."},
        },
        {
            "name": "accept",
            "description": "accept a dispute",
            "tool": "accept_dispute",
            "min_margin": 0.05,
            "examples": [
                "accept dispute dsp_1a",
                "concede the chargeback dsp_2b",
                "we will not fight this dispute, accept the loss",
            ],
            "responses": {"ok": "Accepted {dispute_id}."},
        },
        {
            "name": "open_disputes",
            "description": "list open disputes",
            "tool": "list_disputes",
            "examples": ["show my open disputes", "list my chargebacks", "any disputes open"],
            "responses": {"ok": "Open: {disputes|list:id}.", "empty": "No open disputes."},
        },
        {
            "name": "payment",
            "description": "look a payment up",
            "tool": "get_payment",
            "examples": [
                "look up payment pay_1a",
                "check pay_2b",
                "show me the details of payment pay_3c",
                "what is the status of pay_4d",
            ],
            "responses": {"ok": "Payment {payment_id} is {status}."},
        },
        {
            "name": "refund",
            "description": "refund a payment",
            "tool": "refund",
            "examples": [
                "refund 5 SGD on pay_1a",
                "give the customer 20 EUR back on payment pay_2b",
                "issue a refund for this payment",
            ],
            "responses": {"ok": "Refunded {amount|money:currency} on {payment_id}."},
        },
        {
            "name": "block_device",
            "description": "block a device",
            "tool": "block_device",
            "examples": [
                "block the device used on pay_1a",
                "block device dev_77",
                "put this device on the block list",
            ],
            "slots": {
                "device_id": {
                    "pattern": "dev_[A-Za-z0-9]+",
                    "prompt": "the device id (it starts with dev_)",
                    "from_record": {
                        "tool": "get_payment",
                        "id": "payment_id",
                        "field": "device.id",
                    },
                }
            },
            "responses": {"ok": "Blocked {device_id}."},
        },
        {
            "name": "guide",
            "description": "explain how chargebacks work",
            "tool": "search_guide",
            "examples": [
                "how do chargebacks work",
                "what is a representment",
                "explain the dispute process",
            ],
            "responses": {"ok": "From the guide: {text}"},
        },
        {
            "name": "capabilities",
            "description": "explain what I can do",
            "answer": "I handle disputes and payments.",
            "examples": ["what can you do", "help", "what are your capabilities"],
        },
    ]
}


def make_planner(embedder: Embedder, **overrides: Any) -> LocalPlanner:
    spec = PlannerSpec.model_validate({**SPEC, **overrides})
    return LocalPlanner(spec=spec, embedder=embedder, clock=lambda: TODAY)


class Chat:
    """Drives the planner like the runtime: history in, one AIMessage out."""

    def __init__(self, planner: LocalPlanner, tools: list[dict[str, Any]] | None = None) -> None:
        self.model = planner.bind_tools(tools if tools is not None else TOOLS)
        self.history: list[BaseMessage] = []

    def say(self, text: str) -> AIMessage:
        self.history.append(HumanMessage(text))
        return self._reply()

    def result(self, result: Any, *, status: str = "success") -> AIMessage:
        last = self.history[-1]
        assert isinstance(last, AIMessage) and last.tool_calls, "no call to answer"
        call = last.tool_calls[0]
        self.history.append(
            ToolMessage(
                json.dumps(result), tool_call_id=call["id"], name=call["name"], status=status
            )
        )
        return self._reply()

    def _reply(self) -> AIMessage:
        reply = self.model.invoke(self.history)
        assert isinstance(reply, AIMessage)
        self.history.append(reply)
        return reply


def call_of(message: AIMessage) -> tuple[str, dict[str, Any]]:
    assert message.tool_calls, f"expected a tool call, got {message.content!r}"
    call = message.tool_calls[0]
    return call["name"], dict(call["args"])


def state_of(message: AIMessage) -> dict[str, Any]:
    state = message.additional_kwargs[STATE_KEY]
    assert isinstance(state, dict)
    return state


# ---------------------------------------------------------------------------------------
import pytest  # noqa: E402

from cockpit.embeddings import make_embedder  # noqa: E402
from cockpit.planner import dialogue as dialogue_module  # noqa: E402
from cockpit.planner.context import record_value  # noqa: E402


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return make_embedder("minilm")


@pytest.fixture(scope="module")
def planner(embedder: Embedder) -> LocalPlanner:
    return make_planner(embedder)


def drafted(planner: LocalPlanner) -> Chat:
    chat = Chat(planner)
    assert call_of(chat.say("draft a response to dsp_9x"))[0] == "draft_response"
    answer = chat.result({"dispute_id": "dsp_9x", "text": "shipped", "evidence": {"D": "DHL 1"}})
    assert state_of(answer)["offer"] == "submit"
    assert state_of(answer)["entities"] == {"dispute_id": "dsp_9x"}
    return chat


# ----- offers: a yes runs the step the answer proposed ------------------------------------
@pytest.mark.parametrize("reply", ["ok do it", "yes send it", "go ahead", "yes", "send it"])
def test_a_yes_runs_the_offered_intent_on_the_same_record(
    planner: LocalPlanner, reply: str
) -> None:
    chat = drafted(planner)
    name, args = call_of(chat.say(reply))
    assert name == "submit_response"
    # The id is carried from the draft; the evidence is the drafted evidence.
    assert args == {"dispute_id": "dsp_9x", "evidence": {"D": "DHL 1"}}


def test_a_no_ends_the_offer_without_acting(planner: LocalPlanner) -> None:
    chat = drafted(planner)
    reply = chat.say("no, not yet")
    assert not reply.tool_calls and "leave it there" in str(reply.content)
    assert "offer" not in state_of(reply)


def test_another_request_after_an_offer_is_not_taken_as_a_yes(planner: LocalPlanner) -> None:
    chat = drafted(planner)
    assert call_of(chat.say("ok fine, accept it instead")) == (
        "accept_dispute",
        {"dispute_id": "dsp_9x"},
    )


def test_an_answer_offers_nothing_after_an_error(planner: LocalPlanner) -> None:
    chat = Chat(planner)
    chat.say("draft a response to dsp_9x")
    answer = chat.result({"error": {"code": "not_found", "message": "no such dispute"}})
    assert "offer" not in state_of(answer)
    assert not chat.say("yes").tool_calls


def test_an_offer_spec_must_name_an_intent_of_the_spec() -> None:
    broken = {**SPEC, "intents": [dict(SPEC["intents"][1], offer={"intent": "nope"})]}
    with pytest.raises(ValueError, match="offers 'nope'"):
        PlannerSpec.model_validate(broken)


# ----- short follow-ups read in the light of the record under discussion ------------------
def tie_spec(embedder: Embedder, other: dict[str, Any]) -> LocalPlanner:
    """``accept`` and ``other`` share their only example: a dead heat without context."""
    accept = dict(SPEC["intents"][3], examples=["settle it"])
    details = SPEC["intents"][0]
    return make_planner(embedder, intents=[details, accept, other])


def test_a_near_tie_goes_to_the_action_on_the_record_under_discussion(
    embedder: Embedder,
) -> None:
    guide = dict(SPEC["intents"][8], examples=["settle it"])
    planner = tie_spec(embedder, guide)
    assert not Chat(planner).say("settle it").tool_calls  # no context: asked
    chat = Chat(planner)
    chat.say("tell me about dispute dsp_9x")
    chat.result({"dispute_id": "dsp_9x", "status": "NEEDS_RESPONSE"})
    assert call_of(chat.say("settle it")) == ("accept_dispute", {"dispute_id": "dsp_9x"})


def test_two_actions_on_the_same_record_that_tie_are_still_asked(embedder: Embedder) -> None:
    submit = dict(SPEC["intents"][2], examples=["settle it"])
    planner = tie_spec(embedder, submit)
    chat = Chat(planner)
    chat.say("tell me about dispute dsp_9x")
    chat.result({"dispute_id": "dsp_9x", "status": "NEEDS_RESPONSE"})
    reply = chat.say("settle it")
    assert not reply.tool_calls and state_of(reply)["pending"] == "clarify"


@pytest.mark.parametrize(("said", "tool"), [("submit it", "submit_response")])
def test_a_short_follow_up_acts_on_the_dispute_just_discussed(
    planner: LocalPlanner, said: str, tool: str
) -> None:
    chat = Chat(planner)
    chat.say("what's happening with dsp_9x")
    chat.result({"dispute_id": "dsp_9x", "status": "NEEDS_RESPONSE"})
    name, args = call_of(chat.say(said))
    assert (name, args["dispute_id"]) == (tool, "dsp_9x")


# ----- two requests in one turn -----------------------------------------------------------
def test_first_then_does_both_and_carries_the_id(planner: LocalPlanner) -> None:
    chat = Chat(planner)
    first = chat.say("check pay_1a and then refund 5 SGD on it")
    assert call_of(first) == ("get_payment", {"payment_id": "pay_1a"})
    assert state_of(first)["queue"] == ["refund 5 SGD on it"]
    second = chat.result({"payment_id": "pay_1a", "status": "CAPTURED"})
    # The first answer and the second request's call go out together.
    assert second.content == "Payment pay_1a is CAPTURED."
    assert call_of(second) == (
        "refund",
        {"payment_id": "pay_1a", "amount": 500, "currency": "SGD"},
    )
    done = chat.result({"refund_id": "rfd_1", "status": "SUCCESS"})
    assert done.content == "Refunded 5.00 SGD on pay_1a." and not done.tool_calls
    assert "queue" not in state_of(done)


def test_a_request_answered_without_a_tool_goes_straight_on(planner: LocalPlanner) -> None:
    reply = Chat(planner).say("first tell me what you can do, then show my open disputes")
    assert reply.content == "I handle disputes and payments."
    assert call_of(reply)[0] == "list_disputes"


def test_a_second_sentence_that_only_adds_details_is_one_request(planner: LocalPlanner) -> None:
    reply = Chat(planner).say("I want to refund 5 SGD. The payment is pay_1a.")
    assert call_of(reply) == ("refund", {"payment_id": "pay_1a", "amount": 500, "currency": "SGD"})
    assert "queue" not in state_of(reply)


def test_splitting_can_be_turned_off(embedder: Embedder) -> None:
    planner = make_planner(embedder, split_requests=False)
    reply = Chat(planner).say("check pay_1a and then refund 5 SGD on it")
    assert "queue" not in state_of(reply)


# ----- slots read from records --------------------------------------------------------------
def test_a_slot_in_a_record_is_read_first_then_the_request_goes_on(
    planner: LocalPlanner,
) -> None:
    chat = Chat(planner)
    read = chat.say("block the device used on pay_7z")
    assert call_of(read) == ("get_payment", {"payment_id": "pay_7z"})
    block = chat.result({"payment_id": "pay_7z", "device": {"id": "dev_42"}})
    assert call_of(block) == ("block_device", {"device_id": "dev_42"})
    assert chat.result({"blocked": True}).content == "Blocked dev_42."


def test_a_record_already_read_in_the_thread_is_not_read_again(planner: LocalPlanner) -> None:
    chat = Chat(planner)
    chat.say("look up payment pay_7z")
    chat.result({"payment_id": "pay_7z", "status": "CAPTURED", "device": {"id": "dev_42"}})
    assert call_of(chat.say("block the device used on that payment")) == (
        "block_device",
        {"device_id": "dev_42"},
    )


def test_a_failed_read_says_why_and_asks_instead_of_reading_again(
    planner: LocalPlanner,
) -> None:
    chat = Chat(planner)
    chat.say("block the device used on pay_7z")
    reply = chat.result({"error": {"code": "not_found", "message": "no payment pay_7z"}})
    assert not reply.tool_calls
    assert "no payment pay_7z" in str(reply.content) and "device id" in str(reply.content)


def test_without_the_read_tool_the_slot_is_asked(planner: LocalPlanner) -> None:
    tools = [t for t in TOOLS if t["function"]["name"] != "get_payment"]
    reply = Chat(planner, tools).say("block the device used on pay_7z")
    assert not reply.tool_calls and "device id" in str(reply.content)


def test_a_record_field_the_author_wrote_never_fills_a_slot() -> None:
    record = {"device": {"id": "dev_1"}, "metadata": {"device": "dev_evil"}}
    assert record_value(record, "device.id") == "dev_1"
    assert record_value(record, "metadata.device") is None
    assert record_value({**record, "_untrusted": ["$.device"]}, "device.id") is None


def test_the_record_gives_the_implied_currency_and_the_full_amount(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wiring of the slot filler's ``implied_currency`` and ``full_amount``: "5 bucks" on an
    SGD payment is SGD, "refund it in full" is what is left to refund."""
    seen: list[str | None] = []
    real = dialogue_module.extract

    def fake(text: str, plans: Any, **kwargs: Any) -> Any:
        implied = kwargs.pop("implied_currency", None)
        seen.append(implied)
        got = real(text, plans, **kwargs)
        if "bucks" in text and implied:
            got.values["currency"] = implied
            got.values["amount"] = 500
        elif "bucks" in text:
            # No currency of its own: "bucks" waits for the record's.
            got.values.pop("currency", None)
            got.values.pop("amount", None)
            got.pending_amount = "5"
        got.full_amount = "in full" in text  # type: ignore[attr-defined]
        return got

    monkeypatch.setattr(dialogue_module, "extract", fake)
    monkeypatch.setattr(
        dialogue_module,
        "_EXTRACT_KEYWORDS",
        dialogue_module._EXTRACT_KEYWORDS | {"implied_currency"},
    )
    refund = dict(
        SPEC["intents"][6],
        slots={
            "currency": {
                "from_record": {
                    "tool": "get_payment",
                    "id": "payment_id",
                    "field": "amount.currency",
                }
            },
            "amount": {
                "from_record": {
                    "tool": "get_payment",
                    "id": "payment_id",
                    "field": "refundable.value",
                    "when": "full_amount",
                }
            },
        },
    )
    planner = make_planner(embedder, intents=[SPEC["intents"][5], refund])
    record = {
        "payment_id": "pay_sg1",
        "amount": {"value": 2000, "currency": "SGD"},
        "refundable": {"value": 1500},
    }
    chat = Chat(planner)
    assert call_of(chat.say("refund 5 bucks on pay_sg1"))[0] == "get_payment"
    assert call_of(chat.result(record)) == (
        "refund",
        {"payment_id": "pay_sg1", "amount": 500, "currency": "SGD"},
    )
    assert "SGD" in seen
    chat = Chat(planner)
    chat.say("look up payment pay_sg1")
    chat.result(record)
    assert call_of(chat.say("refund it in full")) == (
        "refund",
        {"payment_id": "pay_sg1", "amount": 1500, "currency": "SGD"},
    )


def _dispute_of_payment(embedder: Embedder) -> LocalPlanner:
    """The dispute read (SPEC's first intent) can also take its id from the payment's record:
    "the chargeback on pay_1" is the dispute that payment lists first."""
    details = dict(
        SPEC["intents"][0],
        examples=[*SPEC["intents"][0]["examples"], "can I fight the chargeback on pay_1a"],
        slots={
            "dispute_id": {
                "prompt": "the dispute id (it starts with dsp_)",
                "from_record": {
                    "tool": "get_payment",
                    "id": "payment_id",
                    "field": "disputes.0.dispute_id",
                },
            }
        },
    )
    return make_planner(embedder, intents=[details, *SPEC["intents"][1:]])


def test_a_dispute_is_found_through_the_payment_it_was_raised_on(embedder: Embedder) -> None:
    chat = Chat(_dispute_of_payment(embedder))
    read = chat.say("the bank took the money back on pay_7z, can I fight the chargeback?")
    assert call_of(read) == ("get_payment", {"payment_id": "pay_7z"})
    record = {
        "payment_id": "pay_7z",
        "disputes": [{"dispute_id": "dsp_new"}, {"dispute_id": "dsp_old"}],
    }
    assert call_of(chat.result(record)) == ("get_dispute", {"dispute_id": "dsp_new"})


def test_a_payment_without_a_dispute_leaves_the_dispute_to_ask_for(embedder: Embedder) -> None:
    chat = Chat(_dispute_of_payment(embedder))
    chat.say("the bank took the money back on pay_7z, can I fight the chargeback?")
    reply = chat.result({"payment_id": "pay_7z", "disputes": []})
    assert not reply.tool_calls  # no dispute id is guessed
    assert "dispute id" in str(reply.content)
