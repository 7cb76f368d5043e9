"""PlannerSpec validation (errors name the field) and the safe template renderer."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cockpit.planner import PlannerSpec, TemplateError, check_template, render


def intent(**overrides: Any) -> dict[str, Any]:
    return {"name": "status", "examples": ["status of pay_1"], "tool": "get_payment", **overrides}


@pytest.mark.parametrize(
    ("doc", "loc"),
    [
        ({"intents": [intent(responses={"ok": "{a!r}"})]}, ("intents", 0, "responses")),
        ({"intents": [intent(answer="hi")]}, ("intents", 0)),
        ({"intents": [intent(name="Bad Name")]}, ("intents", 0, "name")),
        ({"intents": [intent(examples=[])]}, ("intents", 0, "examples")),
        (
            {"intents": [intent(slots={"payment_id": {"pattern": "("}})]},
            ("intents", 0, "slots", "payment_id", "pattern"),
        ),
        (
            {"intents": [intent(slots={"payment_id": {"kind": "colour"}})]},
            ("intents", 0, "slots", "payment_id", "kind"),
        ),
        ({"intents": [intent(), intent()]}, ("intents",)),
        ({"clarify_threshold": 1.5}, ("clarify_threshold",)),
        ({"clarify_template": "{options"}, ("clarify_template",)),
        ({"intents": [intent(unknown_field=1)]}, ("intents", 0, "unknown_field")),
    ],
)
def test_invalid_specs_name_the_field(doc: dict[str, Any], loc: tuple[Any, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        PlannerSpec.model_validate(doc)
    assert info.value.errors()[0]["loc"][: len(loc)] == loc


def test_handoff_intent_calls_transfer_tool() -> None:
    spec = PlannerSpec.model_validate(
        {"intents": [{"name": "risk", "examples": ["fraud"], "handoff": "risk"}]}
    )
    assert spec.intents[0].tool_name == "transfer_to_risk"


def test_render_paths_filters_and_missing_values() -> None:
    data = {
        "p": {"amount": 1234, "currency": "USD"},
        "items": [{"id": "a"}, {"id": "b"}],
        "rate": 0.5,
    }
    assert render("{p.amount|money:p.currency}", data) == "12.34 USD"
    assert render("{items|list:id} ({items|count})", data) == "a, b (2)"
    assert render("{rate|pct} {missing} {missing|default:none}", data) == "50.0% n/a none"
    assert render("{{literal}} {items.1.id}", data) == "{literal} b"
    reasons = {"r": [{"code": "MF04", "text": "High dispute rate"}, {"code": "MF06"}], "none": []}
    assert render("{r|pairs:code,text}", reasons) == "MF04 (High dispute rate), MF06 (n/a)"
    assert render("{none|pairs:code,text}", reasons) == "none"


def test_render_never_touches_attributes_or_reparses_values() -> None:
    class Secret:
        token = "s3cret"

    data = {"obj": Secret(), "text": "{obj.token}"}
    assert render("{obj.token}", data) == "n/a"
    assert render("{text}", data) == "{obj.token}"


@pytest.mark.parametrize(
    "bad", ["{a!r}", "{a:>10}", "{a[0]}", "{}", "{a|eval}", "{a", "a}", "{a|pairs:x}"]
)
def test_check_template_rejects_format_syntax(bad: str) -> None:
    with pytest.raises(TemplateError):
        check_template(bad)
