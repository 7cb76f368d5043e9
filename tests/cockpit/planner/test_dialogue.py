"""Multi-turn behaviour of the local planner: slots over turns, clarify, handoff, answers."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from cockpit.embeddings import Embedder, make_embedder
from cockpit.planner import STATE_KEY, LocalPlanner, PlannerSpec
from evals.planner import load_suite

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def suite() -> Any:
    return load_suite()


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return make_embedder("minilm")  # the real model, whatever COCKPIT_EMBEDDINGS says


@pytest.fixture(scope="module")
def planner(suite: Any, embedder: Embedder) -> LocalPlanner:
    return LocalPlanner(spec=suite.planner, embedder=embedder, clock=lambda: TODAY)


class Chat:
    """Drives the planner like the runtime: history in, one AIMessage out."""

    def __init__(self, planner: LocalPlanner, tools: list[dict[str, Any]]) -> None:
        self.model = planner.bind_tools(tools)
        self.history: list[BaseMessage] = []

    def say(self, text: str) -> AIMessage:
        self.history.append(HumanMessage(text))
        return self._reply()

    def tool_result(self, result: Any, *, status: str = "success") -> AIMessage:
        call = self.history[-1].tool_calls[0]  # type: ignore[attr-defined]
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


def test_refund_asks_for_missing_id_then_calls_and_renders(
    planner: LocalPlanner, suite: Any
) -> None:
    chat = Chat(planner, suite.tools)
    ask = chat.say("I want to refund 20 EUR to a customer")
    assert not ask.tool_calls
    assert "payment id" in str(ask.content) and "pay_" in str(ask.content)
    call = chat.say("it's pay_abc123")
    assert call.tool_calls[0]["name"] == "create_refund"
    assert call.tool_calls[0]["args"] == {
        "payment_id": "pay_abc123",
        "amount": 2000,
        "currency": "EUR",
    }
    answer = chat.tool_result({"refund_id": "rfd_9", "status": "succeeded"})
    assert answer.content == "Refund rfd_9 for pay_abc123 is succeeded."
    assert not answer.tool_calls


def test_amount_without_currency_asks_for_currency(planner: LocalPlanner, suite: Any) -> None:
    chat = Chat(planner, suite.tools)
    ask = chat.say("refund 500 on pay_jp0001")
    assert not ask.tool_calls and "currency of 500" in str(ask.content)
    call = chat.say("yen")
    assert call.tool_calls[0]["args"] == {
        "payment_id": "pay_jp0001",
        "amount": 500,
        "currency": "JPY",
    }


def test_period_asked_then_filled_from_relative_range(planner: LocalPlanner, suite: Any) -> None:
    chat = Chat(planner, suite.tools)
    ask = chat.say("what's my payment success rate in Japan?")
    assert not ask.tool_calls and "period" in str(ask.content)
    assert ask.additional_kwargs[STATE_KEY]["slots"] == {"market": "JP"}
    call = chat.say("the last 7 days")
    assert call.tool_calls[0]["args"] == {
        "start_date": "2026-11-19",
        "end_date": "2026-11-25",
        "market": "JP",
    }
    answer = chat.tool_result({"rate": 0.934, "total": 1200})
    assert (
        answer.content
        == "Your success rate from 2026-11-19 to 2026-11-25 was 93.4% over 1200 payments."
    )


def test_new_request_while_asking_switches_topic(planner: LocalPlanner, suite: Any) -> None:
    chat = Chat(planner, suite.tools)
    assert not chat.say("please process a refund").tool_calls
    call = chat.say("actually, show me my open disputes instead")
    assert call.tool_calls[0]["name"] == "list_disputes"
    assert call.tool_calls[0]["args"] == {"status": "open"}


def test_cancel_drops_the_pending_request(planner: LocalPlanner, suite: Any) -> None:
    chat = Chat(planner, suite.tools)
    chat.say("please process a refund")
    reply = chat.say("never mind")
    assert not reply.tool_calls and "cancelled" in str(reply.content)
    assert reply.additional_kwargs[STATE_KEY]["pending"] is None


def test_unclear_request_gets_clarifying_question_then_choice(
    planner: LocalPlanner, suite: Any
) -> None:
    chat = Chat(planner, suite.tools)
    ask = chat.say("what happened to my customer's payment pay_88jjkk, did it complete?")
    assert not ask.tool_calls and "Did you want to" in str(ask.content)
    candidates = ask.additional_kwargs[STATE_KEY]["candidates"]
    assert set(candidates) == {"payment_status", "payment_failure"}
    call = chat.say("the second one")
    wanted = suite.planner.intent(candidates[1]).tool_name
    assert call.tool_calls[0]["name"] == wanted
    assert call.tool_calls[0]["args"] == {"payment_id": "pay_88jjkk"}


@pytest.mark.parametrize(
    "text", ["tell me a joke", "what's the weather in Paris tomorrow", "write a poem"]
)
def test_out_of_scope_is_declined_without_action(
    planner: LocalPlanner, suite: Any, text: str
) -> None:
    reply = Chat(planner, suite.tools).say(text)
    assert not reply.tool_calls
    assert "can't help" in str(reply.content) or "not sure" in str(reply.content)


def test_handoff_and_the_receiving_agent_answers(planner: LocalPlanner, suite: Any) -> None:
    chat = Chat(planner, suite.tools)
    call = chat.say("we are being hit by a card testing attack")
    assert call.tool_calls[0]["name"] == "transfer_to_risk"
    # The receiving agent has no transfer_to_risk tool: it answers the user's request itself.
    risk_tool = {
        "type": "function",
        "function": {
            "name": "block_card",
            "description": "Block a card",
            "parameters": {"type": "object", "properties": {}},
        },
    }
    risk_spec = PlannerSpec.model_validate(
        {
            "intents": [
                {
                    "name": "block",
                    "description": "Block cards under attack",
                    "tool": "block_card",
                    "examples": [
                        "card testing attack",
                        "block the cards",
                        "fraud attack on my store",
                    ],
                }
            ]
        }
    )
    risk = LocalPlanner(spec=risk_spec, embedder=planner.embedder, clock=lambda: TODAY)
    history = [
        *chat.history,
        ToolMessage(
            "Transferred to risk", tool_call_id=call.tool_calls[0]["id"], name="transfer_to_risk"
        ),
    ]
    reply = risk.bind_tools([risk_tool]).invoke(history)
    assert reply.tool_calls[0]["name"] == "block_card"
    # The agent that handed off, if asked again, only confirms the transfer.
    confirm = planner.bind_tools(suite.tools).invoke(history)
    assert not confirm.tool_calls and "risk" in str(confirm.content)


def test_outcomes_pick_their_templates(planner: LocalPlanner, suite: Any) -> None:
    chat = Chat(planner, suite.tools)
    chat.say("refund pay_abc123 in full")
    rejected = chat.tool_result({"status": "rejected", "approval": "rejected"})
    assert (
        rejected.content == "The refund for pay_abc123 was not approved, so nothing was refunded."
    )
    chat = Chat(planner, suite.tools)
    chat.say("refund pay_abc123 in full")
    failed = chat.tool_result(
        {"error": {"code": "refund_window_closed", "message": "too late"}}, status="error"
    )
    assert failed.content == "The refund could not be made: too late."


def test_empty_results_use_the_empty_template(planner: LocalPlanner, suite: Any) -> None:
    chat = Chat(planner, suite.tools)
    chat.say("show my lost disputes")
    assert chat.tool_result({"disputes": []}).content == "You have no matching disputes."


def test_tool_data_cannot_inject_template_syntax(planner: LocalPlanner, suite: Any) -> None:
    chat = Chat(planner, suite.tools)
    chat.say("status of pay_abc123")
    answer = chat.tool_result(
        {
            "status": "{payment_id.__class__} {0}",
            "amount": 1999,
            "currency": "JPY",
            "method": "CARD",
        }
    )
    assert answer.content == "Payment pay_abc123 is {payment_id.__class__} {0} (1,999 JPY, CARD)."


def test_intent_whose_tool_is_not_bound_is_refused(planner: LocalPlanner, suite: Any) -> None:
    tools = [t for t in suite.tools if t["function"]["name"] != "create_refund"]
    reply = Chat(planner, tools).say("refund 20 USD on pay_abc123")
    assert not reply.tool_calls and "can't do that" in str(reply.content)


def test_call_ids_are_stable_for_a_history_and_new_per_turn(
    planner: LocalPlanner, suite: Any
) -> None:
    model = planner.bind_tools(suite.tools)
    history: list[BaseMessage] = [HumanMessage("status of pay_abc123")]
    first, again = model.invoke(history), model.invoke(history)
    assert first.tool_calls[0]["id"] == again.tool_calls[0]["id"]
    later = model.invoke(
        [
            *history,
            first,
            ToolMessage("{}", tool_call_id=first.tool_calls[0]["id"]),
            HumanMessage("status of pay_abc123"),
        ]
    )
    assert later.tool_calls[0]["id"] != first.tool_calls[0]["id"]


def test_without_intents_it_derives_them_from_tools(planner: LocalPlanner, suite: Any) -> None:
    bare = LocalPlanner(spec=PlannerSpec(), embedder=planner.embedder, clock=lambda: TODAY)
    reply = bare.bind_tools(suite.tools).invoke(
        [HumanMessage("look up payment pay_abc123 and its status")]
    )
    assert reply.tool_calls[0]["name"] == "get_payment"
    assert reply.tool_calls[0]["args"] == {"payment_id": "pay_abc123"}


def test_greeting_lists_capabilities(planner: LocalPlanner, suite: Any) -> None:
    reply = Chat(planner, suite.tools).say("hello!")
    assert "check the status of a payment" in str(reply.content)


def test_runtime_rejection_shape_renders_approval_rejected(
    planner: LocalPlanner, suite: Any
) -> None:
    chat = Chat(planner, suite.tools)
    chat.say("refund pay_abc123 in full")
    reply = chat.tool_result(
        {"rejected": True, "approval_id": "apr_1", "reason": "too big"}, status="error"
    )
    assert reply.content == "The refund for pay_abc123 was not approved, so nothing was refunded."


def test_policy_refusal_renders_error_template(planner: LocalPlanner, suite: Any) -> None:
    chat = Chat(planner, suite.tools)
    chat.say("refund 20 USD on pay_abc123")
    error = {
        "error": {
            "type": "policy_error",
            "code": "over_limit",
            "message": "amount over the limit",
            "param": "amount",
        }
    }
    reply = chat.tool_result(error, status="error")
    assert reply.content == "The refund could not be made: amount over the limit."


# ----- what the thread already said ------------------------------------------------------


def test_that_payment_takes_the_id_the_conversation_was_about(
    planner: LocalPlanner, suite: Any
) -> None:
    chat = Chat(planner, suite.tools)
    call = chat.say("what is the status of pay_9Kq2Lm?")
    assert call.tool_calls[0]["args"] == {"payment_id": "pay_9Kq2Lm"}
    chat.tool_result({"id": "pay_9Kq2Lm", "status": "FAILED"})
    follow = chat.say("why was that one declined?")
    assert follow.tool_calls[0]["name"] == "explain_decline"
    assert follow.tool_calls[0]["args"] == {"payment_id": "pay_9Kq2Lm"}


def test_a_reference_to_a_list_of_several_is_asked_not_guessed(
    planner: LocalPlanner, suite: Any
) -> None:
    chat = Chat(planner, suite.tools)
    chat.say("show me my open disputes")
    chat.tool_result(
        {
            "disputes": [
                {"id": "dsp_a1", "paymentId": "pay_a1"},
                {"id": "dsp_b2", "paymentId": "pay_b2"},
            ]
        }
    )
    ask = chat.say("why was that payment declined?")
    assert not ask.tool_calls
    assert "payment id" in str(ask.content)


def test_without_a_reference_a_missing_id_is_still_asked(planner: LocalPlanner, suite: Any) -> None:
    chat = Chat(planner, suite.tools)
    chat.say("what is the status of pay_1Ab2Cd?")
    chat.tool_result({"id": "pay_1Ab2Cd", "status": "SUCCESS"})
    ask = chat.say("I need to refund a customer 20 EUR")
    assert not ask.tool_calls and "payment id" in str(ask.content)


def test_a_reference_answers_the_question_for_a_missing_id(
    planner: LocalPlanner, suite: Any
) -> None:
    chat = Chat(planner, suite.tools)
    chat.say("check payment pay_7Yt6Rd for me")
    chat.tool_result({"id": "pay_7Yt6Rd", "status": "SUCCESS"})
    ask = chat.say("I need to refund a customer 15 EUR")
    assert not ask.tool_calls
    call = chat.say("the same payment as before")
    assert call.tool_calls[0]["args"] == {
        "payment_id": "pay_7Yt6Rd",
        "amount": 1500,
        "currency": "EUR",
    }


def test_from_result_fills_a_slot_only_from_an_agreeing_successful_call(
    embedder: Embedder,
) -> None:
    spec = PlannerSpec.model_validate(
        {
            "intents": [
                {
                    "name": "draft",
                    "tool": "draft_response",
                    "examples": ["draft the response to the dispute"],
                },
                {
                    "name": "submit",
                    "tool": "submit_response",
                    "examples": ["submit the response to the dispute"],
                    "slots": {
                        "evidence": {
                            "kind": "enum",
                            "from_result": "draft_response.evidence",
                            "default": {"NOTE": "fallback"},
                        }
                    },
                },
            ]
        }
    )

    def tool(name: str, props: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": name,
                "description": name,
                "parameters": {"type": "object", "properties": props, "required": list(props)},
            },
        }

    dispute = {"type": "string", "pattern": "dsp_[a-z0-9]+"}
    tools = [
        tool("draft_response", {"dispute_id": dispute}),
        tool("submit_response", {"dispute_id": dispute, "evidence": {"type": "object"}}),
    ]
    chat = Chat(LocalPlanner(spec=spec, embedder=embedder, clock=lambda: TODAY), tools)
    assert chat.say("draft the response to dispute dsp_one1").tool_calls
    chat.tool_result({"evidence": {"THREE_DS": "ECI 05, authenticated"}})
    assert chat.say("draft the response to dispute dsp_two2").tool_calls
    chat.tool_result({"error": {"code": "not_found"}}, status="error")
    again = chat.say("now submit the response to dispute dsp_one1")
    assert again.tool_calls[0]["args"] == {
        "dispute_id": "dsp_one1",
        "evidence": {"THREE_DS": "ECI 05, authenticated"},
    }
    chat.tool_result({"status": "UNDER_REVIEW"})
    other = chat.say("submit the response to dispute dsp_two2")  # its draft failed
    assert other.tool_calls[0]["args"]["evidence"] == {"NOTE": "fallback"}


def test_the_answer_follows_the_arguments_an_approver_edited(
    planner: LocalPlanner, suite: Any
) -> None:
    chat = Chat(planner, suite.tools)
    call = chat.say("refund 20 EUR on pay_abc123")
    edited = {**call.tool_calls[0]["args"], "payment_id": "pay_xyz789"}
    chat.history.append(
        ToolMessage(
            json.dumps({"refund_id": "rfd_1", "status": "succeeded"}),
            tool_call_id=call.tool_calls[0]["id"],
            name="create_refund",
            additional_kwargs={"executed_args": edited},
        )
    )
    answer = chat._reply()
    assert answer.content == "Refund rfd_1 for pay_xyz789 is succeeded."


def test_a_new_request_with_a_number_is_not_taken_as_the_asked_amount(
    embedder: Embedder,
) -> None:
    spec = PlannerSpec.model_validate(
        {
            "intents": [
                {
                    "name": "payout",
                    "tool": "send_payout",
                    "examples": ["pay out money to my bank account", "send a payout"],
                },
                {
                    "name": "declines",
                    "tool": "list_declines",
                    "examples": ["list my declined payments", "show the top declines"],
                },
            ]
        }
    )
    tools = [
        {
            "type": "function",
            "function": {
                "name": "send_payout",
                "description": "send a payout",
                "parameters": {
                    "type": "object",
                    "properties": {"amount": {"type": "integer"}, "currency": {"type": "string"}},
                    "required": ["amount", "currency"],
                },
            },
        },
        {
            "type": "function",
            "function": {
                "name": "list_declines",
                "description": "list declined payments",
                "parameters": {
                    "type": "object",
                    "properties": {"limit": {"type": "integer"}},
                },
            },
        },
    ]
    planner = LocalPlanner(spec=spec, embedder=embedder, clock=lambda: TODAY)
    chat = Chat(planner, tools)
    ask = chat.say("I want to send a payout to my bank")
    assert not ask.tool_calls and "amount" in str(ask.content)
    switched = chat.say("hold on, show me the top 5 declined payments first")
    assert switched.tool_calls[0]["name"] == "list_declines", switched
    assert switched.tool_calls[0]["args"] == {"limit": 5}
    answer = Chat(planner, tools)
    answer.say("I want to send a payout to my bank")
    call = answer.say("make it 40 EUR")
    assert call.tool_calls[0]["args"] == {"amount": 4000, "currency": "EUR"}


def test_intent_does_not_depend_on_which_currency_or_ip_is_named(
    planner: LocalPlanner, suite: Any
) -> None:
    dialogue = planner.dialogue(suite.tools)
    rankings = [
        [(r.name, round(r.score, 6)) for r in dialogue.classify(text).ranking]
        for text in (
            "please give 20 EUR back on pay_k2j3h4",
            "please give 1,250 THB back on pay_k2j3h4",
            "please give ₩5000 back on pay_k2j3h4",
        )
    ]
    assert rankings[0] == rankings[1] == rankings[2]


def test_a_write_intent_with_min_margin_asks_on_a_near_tie(embedder: Embedder) -> None:
    def spec(margin: float | None) -> PlannerSpec:
        return PlannerSpec.model_validate(
            {
                "intents": [
                    {"name": "draft", "tool": "draft", "examples": ["draft the reply"]},
                    {
                        "name": "send",
                        "tool": "send",
                        "examples": ["send the draft reply"],
                        "min_margin": margin,
                    },
                ]
            }
        )

    tools = [
        {"type": "function", "function": {"name": n, "description": n, "parameters": {}}}
        for n in ("draft", "send")
    ]
    text = "the draft reply, send"
    eager = LocalPlanner(spec=spec(None), embedder=embedder, clock=lambda: TODAY)
    careful = LocalPlanner(spec=spec(0.2), embedder=embedder, clock=lambda: TODAY)
    ranking = eager.dialogue(tools).classify(text).ranking
    assert ranking[0].name == "send" and ranking[0].score - ranking[1].score < 0.2
    assert eager.dialogue(tools).classify(text).verdict == "act"
    assert careful.dialogue(tools).classify(text).verdict == "clarify"
    assert careful.dialogue(tools).classify("send").verdict == "act"


def test_a_near_tie_between_two_intents_of_one_tool_acts_instead_of_asking(
    embedder: Embedder,
) -> None:
    def spec(second_tool: str) -> PlannerSpec:
        return PlannerSpec.model_validate(
            {
                "ambiguity_margin": 0.5,  # every near tie would be a question
                "intents": [
                    {"name": "details", "tool": "look", "examples": ["show the dispute"]},
                    {"name": "assess", "tool": second_tool, "examples": ["rate the dispute"]},
                ],
            }
        )

    tools = [
        {"type": "function", "function": {"name": n, "description": n, "parameters": {}}}
        for n in ("look", "judge")
    ]
    text = "the dispute"
    shared = LocalPlanner(spec=spec("look"), embedder=embedder, clock=lambda: TODAY)
    separate = LocalPlanner(spec=spec("judge"), embedder=embedder, clock=lambda: TODAY)
    assert shared.dialogue(tools).classify(text).verdict == "act"
    assert separate.dialogue(tools).classify(text).verdict == "clarify"


def test_an_optional_id_is_taken_from_the_thread_only_when_named_again(
    embedder: Embedder,
) -> None:
    spec = PlannerSpec.model_validate(
        {
            "intents": [
                {"name": "show", "tool": "show_payment", "examples": ["show payment"]},
                {"name": "why", "tool": "explain", "examples": ["why did it fail"]},
            ]
        }
    )
    pid = {"type": "string", "pattern": "pay_[a-z0-9]+"}
    tools = [
        {
            "type": "function",
            "function": {
                "name": "show_payment",
                "description": "show",
                "parameters": {"properties": {"payment_id": pid}, "required": ["payment_id"]},
            },
        },
        {
            "type": "function",
            "function": {
                "name": "explain",
                "description": "explain a decline; without an id the latest one",
                "parameters": {"properties": {"payment_id": pid}},
            },
        },
    ]
    planner = LocalPlanner(spec=spec, embedder=embedder, clock=lambda: TODAY)
    named = Chat(planner, tools)
    named.say("show payment pay_abc1")
    named.tool_result({"id": "pay_abc1"})
    assert named.say("why did that payment fail").tool_calls[0]["args"] == {
        "payment_id": "pay_abc1"
    }
    vague = Chat(planner, tools)
    vague.say("show payment pay_abc1")
    vague.tool_result({"id": "pay_abc1"})
    assert vague.say("why did it fail").tool_calls[0]["args"] == {}
