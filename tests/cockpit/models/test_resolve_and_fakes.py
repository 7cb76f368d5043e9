"""resolve_model references, fake scripted models and their bind_tools."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import StructuredTool

from cockpit.errors import ModelBehaviorError, UserError
from cockpit.models import ChainedChatModel, parse_model_ref, resolve_model
from cockpit.planner import LocalPlanner, PlannerSpec
from cockpit.testing import ScriptedChatModel, register_fake_script, unregister_fake_script


@pytest.mark.parametrize(
    ("ref", "code"),
    [
        ("gpt-4o", "invalid_model"),
        ("azure:gpt", "invalid_model"),
        ("local:llama", "invalid_model"),
        ("openai:", "invalid_model"),
    ],
)
def test_bad_references_name_the_field(ref: str, code: str) -> None:
    with pytest.raises(UserError) as info:
        resolve_model(ref)
    assert info.value.code == code and info.value.param == "model"


def test_bad_fallback_names_its_position() -> None:
    with pytest.raises(UserError) as info:
        resolve_model("local:planner", fallbacks=["local:planner", "nope"])
    assert info.value.param == "fallbacks.1"


def test_parse_and_local_default() -> None:
    assert parse_model_ref("openai:gpt-4o-mini") == ("openai", "gpt-4o-mini")
    model = resolve_model("local:planner", planner=PlannerSpec())
    assert isinstance(model, ChainedChatModel)
    assert isinstance(model.primary, LocalPlanner)


def test_unknown_fake_script() -> None:
    with pytest.raises(UserError) as info:
        resolve_model("fake:does-not-exist")
    assert info.value.code == "unknown_model"


def test_scripted_model_replays_tool_calls_by_history_position() -> None:
    call = AIMessage(
        content="", tool_calls=[{"name": "refund", "args": {"payment_id": "pay_1"}, "id": "c1"}]
    )
    register_fake_script("refunder", [call, "Refunded."])
    try:
        tool = StructuredTool.from_function(
            lambda payment_id: "ok", name="refund", description="Refund a payment."
        )
        model = resolve_model("fake:refunder").bind_tools([tool])
        history: list = [HumanMessage("refund pay_1")]
        first = model.invoke(history)
        assert first.tool_calls[0]["args"] == {"payment_id": "pay_1"}
        history += [first, ToolMessage("ok", tool_call_id="c1")]
        # A brand-new model instance continues where the history says (restart-safe).
        second = resolve_model("fake:refunder").invoke(history)
        assert second.content == "Refunded."
        with pytest.raises(ModelBehaviorError) as info:
            resolve_model("fake:refunder").invoke([*history, second, HumanMessage("again")])
        assert info.value.code == "script_exhausted"
    finally:
        unregister_fake_script("refunder")


def test_scripted_model_records_bound_tools_and_raises_steps() -> None:
    model = ScriptedChatModel(script=[RuntimeError("boom"), "fine"], script_name="s")
    tool = {
        "type": "function",
        "function": {
            "name": "t",
            "description": "d",
            "parameters": {"type": "object", "properties": {}},
        },
    }
    with pytest.raises(RuntimeError):
        model.bind_tools([tool]).invoke([HumanMessage("x")])
    assert model.bound_tools[0]["function"]["name"] == "t"
    assert len(model.calls) == 1


def test_public_surfaces_resolve() -> None:
    import cockpit.models
    import cockpit.planner
    import cockpit.testing

    for module in (cockpit.models, cockpit.planner, cockpit.testing):
        assert len(set(module.__all__)) == len(module.__all__)
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{module.__name__}.{name}"


def test_planner_given_as_dict_is_validated_with_the_field_named() -> None:
    from cockpit.errors import ValidationFailed

    doc = {"intents": [{"name": "x", "examples": ["hi"], "tool": "t"}]}
    model = resolve_model("local:planner", planner=doc)
    assert isinstance(model, ChainedChatModel)
    assert model.primary.spec.intents[0].name == "x"  # type: ignore[attr-defined]
    with pytest.raises(ValidationFailed) as info:
        resolve_model(
            "local:planner", planner={"intents": [{"name": "x", "examples": [], "tool": "t"}]}
        )
    assert info.value.param == "planner.intents.0.examples"
