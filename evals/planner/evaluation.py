"""Planner quality harness: intent and slot accuracy on held-out paraphrases.

A suite is a YAML file of tools + a ``planner`` spec, and a held-out file of
``cases`` (text, gold intent, gold slots) plus ``out_of_scope`` requests. The
bundled suite (``data/copilot.yaml``) is a payments-copilot-like test agent of
its own; the built-in agents' held-out files are read by :mod:`evals.planner.agents`.
Every case goes through the real :class:`LocalPlanner` (bound to the suite's
tools), exactly as the runtime calls it, so the figures are end to end.

- intent accuracy: the reply acts on (or asks slots for) the gold intent;
- slot accuracy: among cases whose gold intent has arguments and whose intent
  was right, the arguments equal the gold slots exactly (nothing missing,
  nothing extra; free-text ``query`` arguments are not compared);
- out-of-scope handling: the reply makes no tool call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from langchain_core.messages import AIMessage, HumanMessage

from cockpit.embeddings import Embedder
from cockpit.planner.dialogue import STATE_KEY, PlannerState
from cockpit.planner.model import LocalPlanner
from cockpit.planner.slots import plan_slots
from cockpit.planner.spec import PlannerSpec

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    intent: str
    slots: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Suite:
    tools: list[dict[str, Any]]
    planner: PlannerSpec
    cases: list[Case]
    out_of_scope: list[str]
    today: date


@dataclass
class Outcome:
    text: str
    gold_intent: str | None
    predicted_intent: str | None
    gold_slots: dict[str, Any]
    slots: dict[str, Any]
    tool_called: str | None
    reply: str
    seconds: float
    gold_tool: str | None = None
    """The tool the expected intent calls: another intent making the same call is as good."""

    @property
    def intent_ok(self) -> bool:
        same_call = self.tool_called is not None and self.tool_called == self.gold_tool
        return self.predicted_intent == self.gold_intent or same_call


@dataclass
class Report:
    intent_accuracy: float
    slot_accuracy: float
    joint_accuracy: float
    out_of_scope_handled: float
    n_cases: int
    n_slot_cases: int
    n_out_of_scope: int
    latencies_ms: list[float] = field(default_factory=list)
    failures: list[Outcome] = field(default_factory=list)
    asked: int = 0
    """In-scope cases answered with a question (clarify) instead of a tool call."""
    wrong_calls: int = 0
    """In-scope cases that called a tool of another intent: the costly kind of miss."""

    def summary(self) -> dict[str, Any]:
        return {
            "intent_accuracy": round(self.intent_accuracy, 4),
            "asked_instead": self.asked,
            "wrong_tool_calls": self.wrong_calls,
            "slot_accuracy": round(self.slot_accuracy, 4),
            "joint_accuracy": round(self.joint_accuracy, 4),
            "out_of_scope_handled": round(self.out_of_scope_handled, 4),
            "n_cases": self.n_cases,
            "n_slot_cases": self.n_slot_cases,
            "n_out_of_scope": self.n_out_of_scope,
        }


def load_suite(
    spec_path: Path = DATA_DIR / "copilot.yaml", cases_path: Path = DATA_DIR / "heldout.yaml"
) -> Suite:
    """Read a suite (defaults: the bundled payments-copilot test agent)."""
    spec_doc = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    cases_doc = yaml.safe_load(cases_path.read_text(encoding="utf-8"))
    return Suite(
        tools=list(spec_doc["tools"]),
        planner=PlannerSpec.model_validate(spec_doc["planner"]),
        cases=[
            Case(text=c["text"], intent=c["intent"], slots=dict(c.get("slots") or {}))
            for c in cases_doc["cases"]
        ],
        out_of_scope=list(cases_doc.get("out_of_scope") or []),
        today=date.fromisoformat(str(cases_doc["today"])),
    )


def _query_slots(suite: Suite, intent_name: str) -> set[str]:
    intent = suite.planner.intent(intent_name)
    if intent is None or intent.tool_name is None:
        return set()
    tool = _tool(suite.tools, intent.tool_name)
    params = tool.get("parameters", {}) if tool else {}
    return {p.name for p in plan_slots(params, intent.slots) if p.kind == "query"}


_NONE = object()


def _gold_tool(suite: Suite, intent_name: str | None) -> str | None:
    intent = suite.planner.intent(intent_name) if intent_name else None
    return intent.tool_name if intent is not None else None


def _defaults(suite: Suite, intent_name: str) -> dict[str, Any]:
    intent = suite.planner.intent(intent_name)
    if intent is None or intent.tool_name is None:
        return {}
    tool = _tool(suite.tools, intent.tool_name)
    params = tool.get("parameters", {}) if tool else {}
    return {p.name: p.default for p in plan_slots(params, intent.slots) if p.default is not None}


def _tool(tools: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    for tool in tools:
        function = tool.get("function", tool)
        if function.get("name") == name:
            return dict(function)
    return None


def _has_slots(suite: Suite, intent_name: str) -> bool:
    intent = suite.planner.intent(intent_name)
    if intent is None or intent.tool_name is None:
        return False
    tool = _tool(suite.tools, intent.tool_name)
    props = (tool or {}).get("parameters", {}).get("properties", {})
    return bool(set(props) - _query_slots(suite, intent_name))


def run_turn(
    planner: LocalPlanner, tools: list[dict[str, Any]], text: str
) -> tuple[AIMessage, float]:
    """One first turn through the bound planner; returns the reply and its wall time."""
    bound = planner.bind_tools(tools)
    started = time.perf_counter()
    reply = bound.invoke([HumanMessage(text)])
    return reply, time.perf_counter() - started


def _interpret(suite: Suite, reply: AIMessage) -> tuple[str | None, dict[str, Any], str | None]:
    state = PlannerState.load(reply.additional_kwargs.get(STATE_KEY))
    if reply.tool_calls:
        call = reply.tool_calls[0]
        by_tool = {i.tool_name: i.name for i in suite.planner.intents}
        intent = state.intent if state and state.intent else by_tool.get(call["name"])
        return intent, dict(call["args"]), call["name"]
    if state is None or state.pending == "clarify":
        return None, {}, None
    return state.intent, dict(state.slots), None


def evaluate(suite: Suite, *, embedder: Embedder | None = None) -> Report:
    """Run every case and out-of-scope request through a fresh planner."""
    planner = LocalPlanner(spec=suite.planner, embedder=embedder, clock=lambda: suite.today)
    outcomes: list[Outcome] = []
    latencies: list[float] = []
    for case in suite.cases:
        reply, seconds = run_turn(planner, suite.tools, case.text)
        latencies.append(seconds * 1000)
        intent, slots, tool = _interpret(suite, reply)
        ignore = _query_slots(suite, case.intent)
        # Values the spec fills by itself (a slot's default) are not the user's words: a case
        # lists them only when the user said something else.
        defaults = _defaults(suite, intent) if intent else {}
        compared = {
            k: v
            for k, v in slots.items()
            if k not in ignore and (k in case.slots or defaults.get(k, _NONE) != v)
        }
        outcomes.append(
            Outcome(
                case.text,
                case.intent,
                intent,
                case.slots,
                compared,
                tool,
                str(reply.content),
                seconds,
                _gold_tool(suite, case.intent),
            )
        )
    oos_ok = 0
    oos_outcomes: list[Outcome] = []
    for text in suite.out_of_scope:
        reply, seconds = run_turn(planner, suite.tools, text)
        latencies.append(seconds * 1000)
        handled = not reply.tool_calls
        oos_ok += handled
        if not handled:
            intent, slots, tool = _interpret(suite, reply)
            oos_outcomes.append(
                Outcome(text, None, intent, {}, slots, tool, str(reply.content), seconds)
            )
    intent_ok = [o for o in outcomes if o.intent_ok]
    slot_cases = [o for o in intent_ok if o.gold_intent and _has_slots(suite, o.gold_intent)]
    slot_ok = [o for o in slot_cases if o.slots == o.gold_slots]
    joint_ok = [o for o in intent_ok if o.slots == o.gold_slots]
    failures = [o for o in outcomes if not o.intent_ok or o.slots != o.gold_slots] + oos_outcomes
    n = max(len(outcomes), 1)
    return Report(
        intent_accuracy=len(intent_ok) / n,
        slot_accuracy=len(slot_ok) / max(len(slot_cases), 1),
        joint_accuracy=len(joint_ok) / n,
        out_of_scope_handled=oos_ok / max(len(suite.out_of_scope), 1),
        n_cases=len(outcomes),
        n_slot_cases=len(slot_cases),
        n_out_of_scope=len(suite.out_of_scope),
        latencies_ms=latencies,
        failures=failures,
        asked=sum(1 for o in outcomes if o.tool_called is None and o.predicted_intent is None),
        wrong_calls=sum(1 for o in outcomes if o.tool_called is not None and not o.intent_ok),
    )


__all__ = ["DATA_DIR", "Case", "Outcome", "Report", "Suite", "evaluate", "load_suite", "run_turn"]
