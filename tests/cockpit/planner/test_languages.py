"""Requests in other languages: detection, glossary translation, and the planner's policy.

End-to-end tests drive the built-in copilot's real planner spec and tool schemas through
``LocalPlanner`` (history in, one AIMessage out), so a glossary or detection change that
would send the wrong tool call, or any tool call for an unsupported language, fails here.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from cockpit.embeddings import Embedder, make_embedder
from cockpit.errors import ValidationFailed
from cockpit.planner import LocalPlanner, PlannerSpec
from cockpit.planner.languages import (
    CONFIRM_KEY,
    Detector,
    compile_lexicons,
    load_glossary,
)
from cockpit.runtime.graph import bound_schemas, tool_schema
from cockpit.specs.registry import load_builtin_specs
from cockpit.specs.spec import AgentSpec, load_spec_file
from cockpit.toolkit import default_registry

ROOT = Path(__file__).resolve().parents[3]
TODAY = date(2026, 11, 25)
PAYMENTS = "tools.payments:planner_lexicon.yaml"
PAY = "pay_7Hd92kQ1"


# ----- detection ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def detector() -> Detector:
    lexicons = compile_lexicons((PAYMENTS,), ["refund", "payment", "declined", "status"])
    return Detector(
        ["refund", "payment", "declined", "status", "please"],
        {code: lexicon.words for code, lexicon in lexicons.items()},
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (f"kenapa pembayaran {PAY} ditolak?", "id"),
        (f"tolong refund {PAY}", "id"),
        ("tingkat keberhasilan pembayaran minggu ini", "id"),
        (f"kenapa bayaran {PAY} ditolak", "ms"),
        (f"ทำไมการชำระเงิน {PAY} ถูกปฏิเสธ", "th"),
        (f"为什么 {PAY} 被拒绝", "zh"),
        ("这周的支付成功率", "zh"),
        (f"tại sao thanh toán {PAY} bị từ chối", "vi"),
        (f"tai sao thanh toan {PAY} bi tu choi", "vi"),  # typed without diacritics
        (f"¿por qué se rechazó el pago {PAY}?", "es"),
        ("disputa dsp_81kd2", "es"),
        (f"返金してください {PAY}", "ja"),
        (f"{PAY} 결제 환불해 주세요", "ko"),
        (f"warum wurde die Zahlung {PAY} abgelehnt", "de"),
        ("Welche Unterlagen fehlen noch?", "de"),
        (f"Erstattung für {PAY}", "de"),
        (f"why was {PAY} declined", "en"),
        (f"refund {PAY} please", "en"),
        ("nah just accept dsp_81kd2, 4402.02 baht", "en"),  # currency names are not evidence
        ("go final with 9.5k euros", "en"),
        ("Berlin Outdoor's preview approves.", "en"),  # unknown words read as English
    ],
)
def test_detects_the_language(detector: Detector, text: str, code: str) -> None:
    assert detector.detect(text).code == code


def test_an_id_alone_decides_nothing(detector: Detector) -> None:
    assert not detector.detect(PAY).decided
    assert not detector.detect("50.000").decided


# ----- translation -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lexicons() -> dict[str, Any]:
    return compile_lexicons((PAYMENTS,), ["refund", "status", "payment"])


@pytest.mark.parametrize(
    ("code", "text", "english", "topic"),
    [
        ("id", f"kenapa pembayaran {PAY} ditolak?", f"why payment {PAY} declined?", "declines"),
        ("id", f"kembalikan dana {PAY} sebagian 50.000", f"refund {PAY} partial 50,000", "refunds"),
        ("id", "tingkat keberhasilan 7 hari terakhir", "success rate last 7 days", "success rate"),
        ("th", f"คืนเงิน {PAY}", f"refund {PAY}", "refunds"),
        ("zh", "这周的支付成功率", "this week payment success rate", "success rate"),
        ("zh", f"退款5万 {PAY}", f"refund 50,000 {PAY}", "refunds"),
        ("zh", "争议 dsp_81kd2", "dispute dsp_81kd2", "disputes"),
        ("vi", f"hoàn tiền {PAY}", f"refund {PAY}", "refunds"),
        ("es", "tasa de éxito de esta semana", "success rate this week", "success rate"),
        (
            "es",
            f"reembolsa 1.234,50 MXN del pago {PAY}",
            f"refund 1,234.50 MXN payment {PAY}",
            "refunds",
        ),
        (
            "ko",
            f"{PAY} 결제를 2만원 환불해 주세요",
            f"{PAY} payment 20,000 KRW refund please",
            "refunds",
        ),
        ("ko", "결제가 왜 거절됐나요?", "payment why declined?", "declines"),
        ("ko", "이번 주 결제 성공률", "this week payment success rate", "success rate"),
        ("ko", "어떤 서류가 누락됐나요?", "which documents missing?", "onboarding"),
        ("de", f"Bitte erstatte 30 EUR für {PAY}", f"please refund 30 EUR for {PAY}", "refunds"),
        ("de", "Welche Unterlagen fehlen?", "which documents are missing?", "onboarding"),
        ("de", "Erfolgsquote letzte Woche", "success rate last week", "success rate"),
        ("id", "dokumen apa yang masih kurang", "documents what still missing", "onboarding"),
        ("zh", "还缺什么资料", "still missing what documents", "onboarding"),
        ("vi", "còn thiếu giấy tờ gì", "still missing documents what", "onboarding"),
    ],
)
def test_translates_phrases_and_keeps_ids_and_amounts(
    lexicons: dict[str, Any], code: str, text: str, english: str, topic: str
) -> None:
    translation = lexicons[code].translate(text)
    assert translation.text == english
    assert topic in translation.topics
    assert translation.coverage == 1.0


def test_coverage_counts_what_nothing_accounts_for(lexicons: dict[str, Any]) -> None:
    translation = lexicons["id"].translate("cuaca besok bagaimana")  # the weather tomorrow
    assert translation.coverage < 0.5
    assert not translation.topics
    assert "cuaca" in translation.unknown
    # English loanwords the agent knows count as understood.
    assert lexicons["id"].translate(f"cek status pembayaran {PAY} dong").coverage == 1.0


@pytest.mark.parametrize(
    ("code", "text", "english"),
    [
        ("ko", "20000원", "20000 KRW"),
        ("ko", "20,000 원", "20,000 KRW"),
        ("ko", "2만원", "20,000 KRW"),
        ("ko", "1만 5천원", "15,000 KRW"),  # a compound that counts down is one amount
        ("ko", "2만 3000원", "23,000 KRW"),
        ("ko", "만원", "10,000 KRW"),
        ("zh", "5万3000", "53,000"),
        ("id", "50 ribu 20 hari", "50,000 20 days"),  # a second number, not 50,020
    ],
)
def test_numbers_with_multipliers_and_units(
    lexicons: dict[str, Any], code: str, text: str, english: str
) -> None:
    assert lexicons[code].translate(text).text == english


def test_korean_particles_and_short_words_only_where_they_belong(
    lexicons: dict[str, Any],
) -> None:
    # 원 (won) only after a number: 지원 is "support", not a currency.
    assert "KRW" not in lexicons["ko"].translate("지원 환불").text
    # 내 "my" only as a whole word: 내역 ("history") is not "my".
    assert "my" not in lexicons["ko"].translate("환불 내역").text
    assert lexicons["ko"].translate("내 환불").text == "my refund"
    # A particle says nothing about understanding: an unknown word with one stays unknown.
    weather = lexicons["ko"].translate("내일 날씨는")
    assert weather.coverage == 0.0 and not weather.topics


def test_accents_prefer_the_exact_phrase(lexicons: dict[str, Any]) -> None:
    assert lexicons["es"].translate("qué pasó").text.startswith("what")
    assert lexicons["es"].translate("por que").text == "why"  # accents omitted


# ----- glossary files ------------------------------------------------------------------------


def test_glossary_references_are_checked() -> None:
    with pytest.raises(ValidationFailed, match=r"package\.module:file\.yaml"):
        load_glossary("../../etc/passwd")
    with pytest.raises(ValidationFailed, match="not found"):
        load_glossary("tools.payments:no_such_file.yaml")


def test_glossary_rejects_unknown_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "glossary_pkg_for_test"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "bad.yaml").write_text("xx:\n  terms: {foo: bar}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValidationFailed, match="unknown language codes"):
        load_glossary("glossary_pkg_for_test:bad.yaml")


def test_builtin_agents_glossaries_load() -> None:
    for agent in ("copilot", "dispute", "cockpit"):
        spec = load_spec_file(ROOT / "agents" / agent / "agent.yaml")
        assert spec.planner is not None and spec.planner.glossaries == [PAYMENTS]
        lexicons = compile_lexicons(spec.planner.glossaries)
        assert set(lexicons) == {"id", "ms", "th", "zh", "vi", "es", "ko", "de"}
        for lexicon in lexicons.values():
            assert set(lexicon.topics) == {
                "declines",
                "refunds",
                "disputes",
                "success rate",
                "onboarding",
            }


# ----- through the planner with the copilot's real spec ---------------------------------------


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return make_embedder("minilm")


@pytest.fixture(scope="module")
def copilot() -> AgentSpec:
    return load_spec_file(ROOT / "agents" / "copilot" / "agent.yaml")


def _tools(spec: AgentSpec) -> list[dict[str, Any]]:
    """The agent's tools as the runtime binds them, handoffs to the built-in agents included."""
    return bound_schemas(spec, load_builtin_specs([ROOT / "agents"]), default_registry)


class Chat:
    def __init__(self, planner: LocalPlanner, tools: list[dict[str, Any]]) -> None:
        self.model = planner.bind_tools(tools)
        self.history: list[BaseMessage] = []

    def say(self, text: str) -> AIMessage:
        self.history.append(HumanMessage(text))
        return self._reply()

    def tool_result(self, result: Any) -> AIMessage:
        call = self.history[-1].tool_calls[0]  # type: ignore[attr-defined]
        self.history.append(
            ToolMessage(json.dumps(result), tool_call_id=call["id"], name=call["name"])
        )
        return self._reply()

    def _reply(self) -> AIMessage:
        reply = self.model.invoke(self.history)
        assert isinstance(reply, AIMessage)
        self.history.append(reply)
        return reply


@pytest.fixture
def chat(copilot: AgentSpec, embedder: Embedder) -> Chat:
    assert copilot.planner is not None
    planner = LocalPlanner(spec=copilot.planner, embedder=embedder, clock=lambda: TODAY)
    return Chat(planner, _tools(copilot))


@pytest.mark.parametrize(
    "text",
    [
        f"kenapa pembayaran {PAY} ditolak?",
        f"kenapa bayaran {PAY} ditolak",
        f"ทำไมการชำระเงิน {PAY} ถูกปฏิเสธ",
        f"为什么 {PAY} 被拒绝",
        f"tại sao thanh toán {PAY} bị từ chối",
        f"¿por qué se rechazó el pago {PAY}?",
        f"{PAY} 결제가 왜 거절됐나요?",
        f"Warum wurde die Zahlung {PAY} abgelehnt?",
    ],
)
def test_a_declined_payment_question_is_explained(chat: Chat, text: str) -> None:
    reply = chat.say(text)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("payments_explain_decline", {"payment_id": PAY})
    ]


def test_the_answer_opens_with_a_note_in_the_detected_language(chat: Chat) -> None:
    chat.say(f"kenapa pembayaran {PAY} ditolak?")
    answer = chat.tool_result({"paymentId": PAY, "code": "51", "message": "insufficient funds"})
    assert not answer.tool_calls
    text = str(answer.content)
    assert text.startswith("(Dijawab dalam bahasa Inggris — Answering in English")
    assert (
        "Bahasa Indonesia requests about declines, refunds, disputes, success rate and onboarding"
        in text
    )
    assert PAY in text


@pytest.mark.parametrize("text", ["这周的支付成功率", "tingkat keberhasilan pembayaran minggu ini"])
def test_success_rate_this_week(chat: Chat, text: str) -> None:
    reply = chat.say(text)
    assert [(c["name"], c["args"].get("days")) for c in reply.tool_calls] == [
        ("payments_success_rate_report", 7)
    ]


def test_a_refund_in_chinese_refunds_the_right_payment(chat: Chat, copilot: AgentSpec) -> None:
    reply = chat.say(f"退款 {PAY} 150 SGD")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("payments_refund", {"payment_id": PAY, "amount": 15000, "currency": "SGD"})
    ]
    # Above the copilot's 100.00 SGD limit: the runtime asks a human before it runs.
    policy = next(t for t in copilot.tools if t.name == "payments_refund")
    assert policy.approval is not None and policy.approval.above is not None
    assert policy.approval.above["SGD"] < 15000


def test_a_refund_in_korean_won_is_in_krw(chat: Chat) -> None:
    reply = chat.say(f"{PAY} 건 25000원 환불 부탁드립니다")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("payments_refund", {"payment_id": PAY, "amount": 25000, "currency": "KRW"})
    ]


def test_a_refund_in_korean_with_a_multiplier(chat: Chat) -> None:
    reply = chat.say(f"{PAY} 결제를 3만원 환불하고 싶어요")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("payments_refund", {"payment_id": PAY, "amount": 30000, "currency": "KRW"})
    ]


def test_a_refund_in_german(chat: Chat) -> None:
    reply = chat.say(f"Bitte erstatte 30 EUR für {PAY}")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("payments_refund", {"payment_id": PAY, "amount": 3000, "currency": "EUR"})
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Ist unser Onboarding abgeschlossen?",
        "Welche Unterlagen fehlen noch für die Verifizierung?",
        "status verifikasi KYB",
        "dokumen apa yang masih kurang",
        "¿ya terminó la verificación de mi cuenta?",
        "status pengesahan akaun saya",
        "还缺什么资料",
        "còn thiếu giấy tờ gì",
        "KYB 심사 상태가 어떻게 되나요?",
        "เอกสารอะไรที่ยังขาดสำหรับการยืนยันตัวตน",
    ],
)
def test_an_onboarding_question_reads_the_kyb_status(chat: Chat, text: str) -> None:
    reply = chat.say(text)
    assert [c["name"] for c in reply.tool_calls] == ["payments_merchant_kyb_status"]


def test_a_dispute_in_spanish_goes_to_the_dispute_agent(chat: Chat) -> None:
    reply = chat.say("disputa dsp_81kd2")
    assert [c["name"] for c in reply.tool_calls] == ["transfer_to_dispute"]


@pytest.mark.parametrize(
    "text",
    [
        f"返金してください {PAY}",  # Japanese
        "オンボーディングは完了しましたか",  # Japanese
        f"Rimborsa il pagamento {PAY}",  # Italian
    ],
)
def test_an_unsupported_language_gets_the_supported_languages_and_no_call(
    chat: Chat, text: str
) -> None:
    reply = chat.say(text)
    assert not reply.tool_calls
    content = str(reply.content)
    assert "haven't done anything" in content
    for name in (
        "English",
        "Bahasa Indonesia",
        "中文 (Chinese)",
        "Español (Spanish)",
        "한국어 (Korean)",
        "Deutsch (German)",
    ):
        assert name in content
    assert "declines, refunds, disputes, success rate and onboarding" in content


def test_an_off_topic_request_in_a_supported_language_is_declined(chat: Chat) -> None:
    reply = chat.say("cuaca besok bagaimana di Jakarta")  # the weather tomorrow
    assert not reply.tool_calls
    assert "declines, refunds, disputes, success rate and onboarding" in str(reply.content)


def test_an_off_topic_request_in_german_is_declined(chat: Chat) -> None:
    reply = chat.say("Wie wird das Wetter morgen in Berlin?")  # the weather tomorrow
    assert not reply.tool_calls
    assert "Deutsch (German)" in str(reply.content)


def test_a_partly_understood_write_is_confirmed_in_english_first(chat: Chat) -> None:
    ask = chat.say(f"jangan refund {PAY} 20 SGD")  # "do not refund …"
    assert not ask.tool_calls
    assert "do not refund" in str(ask.content) and "reply “yes”" in str(ask.content)
    assert CONFIRM_KEY in ask.additional_kwargs
    go = chat.say("ya")
    assert [(c["name"], c["args"]) for c in go.tool_calls] == [
        ("payments_refund", {"payment_id": PAY, "amount": 2000, "currency": "SGD"})
    ]


def test_a_rephrase_after_the_confirmation_is_a_new_request(chat: Chat) -> None:
    chat.say(f"refund {PAY} tapi cuma setengah dong kak 20 SGD")
    reply = chat.say(f"kenapa pembayaran {PAY} ditolak?")
    assert [c["name"] for c in reply.tool_calls] == ["payments_explain_decline"]


def test_english_turns_are_unchanged(copilot: AgentSpec, embedder: Embedder) -> None:
    assert copilot.planner is not None
    bare = copilot.planner.model_copy(update={"glossaries": []})
    tools = _tools(copilot)
    for text in (f"why was {PAY} declined", "refund 20 SGD on pay_k2j3h8", "what can you do"):
        with_glossary = Chat(
            LocalPlanner(spec=copilot.planner, embedder=embedder, clock=lambda: TODAY), tools
        ).say(text)
        without = Chat(LocalPlanner(spec=bare, embedder=embedder, clock=lambda: TODAY), tools).say(
            text
        )
        assert with_glossary.content == without.content
        assert with_glossary.tool_calls == without.tool_calls


def test_an_agent_without_glossaries_answers_only_english(embedder: Embedder) -> None:
    spec = PlannerSpec.model_validate(
        {"intents": [{"name": "look", "tool": "lookup", "examples": ["look up payment pay_1"]}]}
    )
    tools = [tool_schema("lookup", "Look up", {"type": "object", "properties": {}})]
    reply = Chat(LocalPlanner(spec=spec, embedder=embedder, clock=lambda: TODAY), tools).say(
        f"kenapa pembayaran {PAY} ditolak?"
    )
    assert not reply.tool_calls
    assert "English only" in str(reply.content)
