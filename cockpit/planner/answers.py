"""The answer after a tool ran: the intent's template for the outcome, filled from the call and
its result, and the next step it offers.

The outcome (``ok``, ``empty``, ``error``, ``approval_rejected`` or one the tool names) picks
the template; the period a call covered is named as the user named it. It renders what the
tool returned and never calls another tool.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage

from cockpit.planner import dates as planner_dates
from cockpit.planner.context import parse_tool_content
from cockpit.planner.replies import say
from cockpit.planner.spec import IntentSpec, PlannerSpec
from cockpit.planner.state import PlannerState, state_of, with_state
from cockpit.planner.template import format_date, lookup, scalar_text
from cockpit.planner.thread import entities_of

_NO_OFFER = frozenset({"error", "empty", "approval_rejected"})


def answer_result(
    tool_message: ToolMessage,
    *,
    args: dict[str, Any],
    intent: IntentSpec | None,
    tool_name: str,
    query: str,
    spec: PlannerSpec,
    today: date,
) -> AIMessage:
    """The answer to ``tool_message`` (a call of ``tool_name`` with ``args``, made for
    ``intent`` on the user's ``query``), with the step it offers next on its state."""
    result = parse_tool_content(tool_message)
    outcome = outcome_of(tool_message, result)
    context: dict[str, Any] = {**args}
    if isinstance(result, Mapping):
        context.update(result)
    context.update(
        {"args": args, "result": result, "outcome": outcome, "error": error_text(result)}
    )
    window = _window(args, query, today)
    if window and "window" not in context:
        context["window"] = window
    template = intent.responses.get(outcome) if intent else None
    if template is None and outcome == "empty" and intent is not None:
        template = intent.responses.get("ok")
    if template is None:
        template = {
            "error": spec.error_template,
            "approval_rejected": spec.approval_rejected_template,
        }.get(outcome)
    if template is None:
        reply = say("Done. {summary}", {"summary": scalar_text(result)}, intent=tool_name)
    else:
        reply = say(template, context, intent=intent.name if intent else None)
    offer = intent.offer if intent is not None else None
    if offer is not None and (
        outcome in offer.outcomes if offer.outcomes else outcome not in _NO_OFFER
    ):
        answered = state_of(reply) or PlannerState()
        answered.offer = offer.intent
        answered.entities = entities_of(args)
        reply = with_state(reply, answered)
    return reply


def _window(args: Mapping[str, Any], query: str, today: date) -> str | None:
    """How the answer names the period a call covered ("last week (16–22 Nov 2026)"): the
    period as the user's words named it when they name the one the call used, else the
    call's own dates."""
    start, end = args.get("start_date"), args.get("end_date")
    describe = getattr(planner_dates, "describe_span", None)
    if isinstance(start, str) and isinstance(end, str):
        if describe is not None and query:
            for span in planner_dates.find_dates(query, today):
                if span.start.isoformat() == start and span.end.isoformat() == end:
                    return str(describe(span))
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            return None
        format_range = getattr(planner_dates, "format_range", None)
        if format_range is not None:
            return str(format_range(first, last))
        return f"{format_date(start)} to {format_date(end)}"
    days = args.get("days")
    if isinstance(days, int) and not isinstance(days, bool):
        return _lookback_window(days, query, today)
    return None


def _lookback_window(days: int, query: str, today: date) -> str:
    """A look-back-only call names the days it covered with their dates, and the calendar
    period the user asked for when the look-back was sized to cover it ("the last 10 days
    (16–25 Nov 2026), which covers last week (16–22 Nov 2026)")."""
    first = today - timedelta(days=days - 1)
    covered = f"the last {days} days ({planner_dates.format_range(first, today)})"
    for span in planner_dates.find_dates(query, today) if query else ():
        if span.lookback_days == days and (span.start, span.end) != (first, today):
            return f"{covered}, which covers {planner_dates.describe_span(span)}"
    return covered


def outcome_of(message: ToolMessage, result: Any) -> str:
    explicit = message.additional_kwargs.get("outcome")
    if isinstance(explicit, str):
        return explicit
    if isinstance(result, Mapping):
        if isinstance(result.get("outcome"), str):
            return str(result["outcome"])
        status = str(result.get("status") or "").lower()
        # The runtime reports a human rejection as {"rejected": true, "approval_id": ...}.
        rejected = result.get("rejected") is True or result.get("approval") == "rejected"
        if status in ("approval_rejected", "rejected") or rejected:
            return "approval_rejected"
    if message.status == "error" or (isinstance(result, Mapping) and result.get("error")):
        return "error"
    if result in ([], {}, "", None):
        return "empty"
    if isinstance(result, Mapping):
        lists = [v for v in result.values() if isinstance(v, list)]
        if len(lists) == 1 and not lists[0] and len(result) <= 3:
            return "empty"
    return "ok"


def error_text(result: Any) -> str:
    if isinstance(result, Mapping):
        error = result.get("error")
        if isinstance(error, Mapping):
            return scalar_text(lookup(error, "message") or error.get("code"))
        if error:
            return scalar_text(error)
        if result.get("message"):
            return scalar_text(result["message"])
    return scalar_text(result)


__all__ = [
    "answer_result",
    "error_text",
    "outcome_of",
]
