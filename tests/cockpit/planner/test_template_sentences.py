"""Answers say what they know in sentences: optional sections, human dates, money with its
currency, the window used, and a check that flags bare placeholders ("-", "n/a")."""

from __future__ import annotations

import glob
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from cockpit.embeddings import Embedder, make_embedder
from cockpit.planner import LocalPlanner, PlannerSpec, TemplateError, check_template, render
from cockpit.planner import dates as planner_dates
from cockpit.planner.template import placeholder_findings

ROOT = Path(__file__).resolve().parents[3]


def test_a_section_is_said_only_when_all_its_values_are_known() -> None:
    template = "Payment {id}. {[Authorised with code {auth}. ]}Captured {amount|money:ccy}."
    known = {"id": "pay_1", "auth": "A1B2", "amount": 1250, "ccy": "SGD"}
    assert render(template, known) == (
        "Payment pay_1. Authorised with code A1B2. Captured 12.50 SGD."
    )
    assert render(template, {**known, "auth": None}) == "Payment pay_1. Captured 12.50 SGD."
    # A default counts as a value; an empty list does not.
    assert render("{[Tags: {t|default:none}.]}", {}) == "Tags: none."
    assert render("A {[B {t|list}]} C", {"t": []}) == "A C"


def test_money_uses_the_currency_exponent_and_groups_thousands() -> None:
    assert render("{a|money:c}", {"a": 1500000, "c": "KRW"}) == "1,500,000 KRW"
    assert render("{a|money:c}", {"a": 1234, "c": "KWD"}) == "1.234 KWD"
    assert render("{a|money:c}", {"a": 1250, "c": "sgd"}) == "12.50 SGD"


def test_dates_read_as_people_write_them() -> None:
    data = {"due": "2026-12-18T23:59:00Z", "day": "2026-11-25", "odd": "soon"}
    assert render("{due|date} / {day|date} / {odd|date}", data) == (
        "18 Dec 2026 / 25 Nov 2026 / soon"
    )
    assert render("{due|datetime}", data) == "18 Dec 2026, 23:59 UTC"
    items = {"d": [{"due": "2026-12-01"}, {"due": "2026-12-18"}]}
    assert render("{d|map:due|date|list}", items) == "1 Dec 2026, 18 Dec 2026"


@pytest.mark.parametrize("bad", ["{[ {a} ]", "{[ {[ {a} ]} ]}", "{a|map}", "{[ {a|eval} ]}"])
def test_malformed_sections_and_filters_are_refused(bad: str) -> None:
    with pytest.raises(TemplateError):
        check_template(bad)


def test_bare_placeholder_defaults_are_flagged() -> None:
    assert placeholder_findings("{a|default:-} {b|default:n/a} {c|default:none}") == [
        "{a|default:-} renders a bare placeholder",
        "{b|default:n/a} renders a bare placeholder",
    ]
    assert placeholder_findings("Brand: none (-)") == ["the text itself says n/a or none (-)"]
    assert placeholder_findings("{[Brand {b}.]} Brand unknown.") == []
    spec = PlannerSpec.model_validate(
        {
            "intents": [
                {
                    "name": "look",
                    "examples": ["x"],
                    "tool": "t",
                    "responses": {"ok": "Brand {b|default:-}."},
                }
            ],
            "error_template": "Failed: {error|default:n/a}",
        }
    )
    assert spec.template_findings() == [
        "error_template: {error|default:n/a} renders a bare placeholder",
        "intents.0.responses.ok: {b|default:-} renders a bare placeholder",
    ]


def test_every_agent_spec_loads_and_its_findings_are_listed() -> None:
    """Loads each agent's planner.yaml and lists what the check flags (their owners fix the
    wording; this test fails only if a spec stops loading or the check itself breaks)."""
    files = sorted(glob.glob(str(ROOT / "agents" / "*" / "planner.yaml")))
    assert files
    for path in files:
        spec = PlannerSpec.model_validate(yaml.safe_load(Path(path).read_text()))
        assert all(": " in finding for finding in spec.template_findings())


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return make_embedder("minilm")


def test_the_answer_can_name_the_window_the_call_used(embedder: Embedder) -> None:
    spec = PlannerSpec.model_validate(
        {
            "intents": [
                {
                    "name": "rate",
                    "examples": ["what is my success rate", "how many payments succeeded"],
                    "tool": "success_rate",
                    "responses": {"ok": "Success rate {window}: {rate|pct}."},
                }
            ]
        }
    )
    tools = [
        {
            "type": "function",
            "function": {
                "name": "success_rate",
                "description": "success rate",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "start_date": {"type": "string"},
                        "end_date": {"type": "string"},
                    },
                    "required": ["start_date", "end_date"],
                },
            },
        }
    ]
    planner = LocalPlanner(spec=spec, embedder=embedder, clock=lambda: date(2026, 11, 25))
    model = planner.bind_tools(tools)
    history: list[Any] = [HumanMessage("what is my success rate for the last 7 days")]
    call = model.invoke(history)
    assert isinstance(call, AIMessage) and call.tool_calls
    args = call.tool_calls[0]["args"]
    history += [call, ToolMessage('{"rate": 0.9}', tool_call_id=call.tool_calls[0]["id"])]
    answer = model.invoke(history)
    assert args == {"start_date": "2026-11-19", "end_date": "2026-11-25"}
    if hasattr(planner_dates, "describe_span"):
        # The window as the user named it, with its dates.
        assert "19" in str(answer.content) and "25 Nov 2026" in str(answer.content)
        assert "last 7 days" in str(answer.content).lower()
    else:
        assert answer.content == "Success rate 19 Nov 2026 to 25 Nov 2026: 90.0%."
    assert str(answer.content).endswith(": 90.0%.")
