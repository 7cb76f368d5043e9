"""Slots that live in records or lists the thread holds: read them, or say which read comes first.

A slot with ``from_record`` takes a field of a record (the payment's currency), one with
``from_list`` an id picked from a list ("the one due first"), one with ``from_result`` a value
of an earlier result. These functions fill such slots from what the thread already read and
name the tool call to make first when it has not read it yet. They never call a tool, and
never guess an id the intent asks for itself.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

from langchain_core.messages import BaseMessage

from cockpit.planner.context import (
    points_at,
    read_record,
    recall_exact,
    recall_id,
    recall_result,
    record_value,
    refers_back,
)
from cockpit.planner.picks import choose, find_pick
from cockpit.planner.places import currency_role
from cockpit.planner.slots import Extraction, SlotPlan, extract
from cockpit.planner.spec import RecordSource
from cockpit.planner.thread import called_this_turn


def _record_id(
    source: RecordSource,
    text: str,
    plans: Sequence[SlotPlan],
    slots: Mapping[str, Any],
    messages: Sequence[BaseMessage],
    *,
    today: date,
) -> str | None:
    """The id of the record ``source`` reads: the intent's own slot of that name, else an
    id of that shape in the utterance, else the one the user refers back to."""
    value = slots.get(source.id)
    if isinstance(value, str) and value:
        return value
    if any(p.name == source.id for p in plans):
        return None  # the intent's own slot, still empty: it is asked for, not guessed
    plan = SlotPlan(name=source.id, kind="id", required=False, schema={})
    got = extract(text, [plan], today=today)
    found = got.values.get(source.id)
    if isinstance(found, str):
        return found
    if refers_back(text, plan) or points_at(text, plan):
        return recall_id(messages, plan)
    return None


def implied_currency(
    text: str,
    plans: Sequence[SlotPlan],
    got: Extraction,
    messages: Sequence[BaseMessage],
    *,
    today: date,
) -> str | None:
    """The currency of the record an amount is about ("5 bucks" on an SGD payment), when
    the currency slot reads it from a record the thread already holds."""
    plan = next((p for p in plans if p.kind == "currency" and p.hint is not None), None)
    source = plan.hint.from_record if plan is not None and plan.hint is not None else None
    if source is None:
        return None
    record_id = _record_id(source, text, plans, got.values, messages, today=today)
    if record_id is None:
        return None
    _, record = read_record(messages, source.tool, source.arg or source.id, record_id)
    path = _record_path(source.field, got.values)
    value = record_value(record, path) if record is not None and path else None
    return str(value).upper() if isinstance(value, str) and value else None


def record_will_say_currency(
    text: str,
    plans: Sequence[SlotPlan],
    got: Extraction,
    messages: Sequence[BaseMessage],
    *,
    tools: Collection[str],
    today: date,
) -> bool:
    """Whether an amount whose currency was only guessed ("5 bucks", "$12": USD) should
    wait for the record that says it: the currency slot reads a record that can still be
    read, now (its id is known) or once its id, which the intent asks for, is given."""
    if not got.currency_assumed or got.heard_amount is None:
        return False
    plan = next((p for p in plans if p.kind == "currency" and p.hint is not None), None)
    source = plan.hint.from_record if plan is not None and plan.hint is not None else None
    if source is None or source.tool not in tools:
        return False
    record_id = _record_id(source, text, plans, got.values, messages, today=today)
    if record_id is None:
        return any(p.name == source.id for p in plans)
    attempted, _ = read_record(messages, source.tool, source.arg or source.id, record_id)
    return not attempted


def from_records(
    text: str,
    plans: Sequence[SlotPlan],
    slots: dict[str, Any],
    messages: Sequence[BaseMessage],
    *,
    tools: Collection[str],
    today: date,
    full_amount: bool,
    said_amount: str | None = None,
) -> tuple[str, dict[str, Any]] | None:
    """Fill ``from_record`` slots from records the thread already read; return the read
    (tool, args) to make first when a needed record was not read yet. An amount the user
    said (``said_amount``, still waiting for its currency) is never replaced by a record's."""
    needed: tuple[str, dict[str, Any]] | None = None
    for plan in plans:
        source = plan.hint.from_record if plan.hint is not None else None
        if source is None or plan.name in slots or (plan.kind == "amount" and said_amount):
            continue
        if source.when == "full_amount" and not full_amount:
            continue
        path = _record_path(source.field, slots)
        record_id = _record_id(source, text, plans, slots, messages, today=today)
        if record_id is None or path is None:
            continue
        arg = source.arg or source.id
        attempted, record = read_record(messages, source.tool, arg, record_id)
        if record is not None:
            value = _slot_value(plan, record_value(record, path))
            if value is not None:
                slots[plan.name] = value
        elif not attempted and source.tool in tools and needed is None:
            needed = (source.tool, {arg: record_id})
    return needed


def from_list(
    text: str,
    plans: Sequence[SlotPlan],
    slots: dict[str, Any],
    messages: Sequence[BaseMessage],
    *,
    tools: Collection[str],
    today: date,
) -> tuple[str, dict[str, Any]] | None:
    """Fill an id the request picks from a list ("the one due first"); return the list
    call to make first when this turn has not read that list yet."""
    pick = find_pick(text, today)
    for plan in plans:
        source = plan.hint.from_list if plan.hint is not None else None
        if source is None or pick is None or plan.name in slots:
            continue
        items = recall_exact(messages, f"{source.tool}.{source.items}", source.args)
        if items is None:
            if source.tool in tools and not called_this_turn(messages, source.tool):
                return source.tool, dict(source.args)
            continue
        chosen = choose(
            items if isinstance(items, list) else [],
            pick,
            id_field=source.id,
            date_field=source.date,
        )
        if chosen is not None:
            slots[plan.name] = chosen
    return None


def recall(
    text: str,
    plans: Sequence[SlotPlan],
    slots: dict[str, Any],
    messages: Sequence[BaseMessage],
) -> None:
    """Fill what the thread already says: referred-back ids, then ``from_result`` slots."""
    for plan in plans:
        if plan.kind != "id" or plan.name in slots:
            continue
        if refers_back(text, plan) if plan.required else points_at(text, plan):
            value = recall_id(messages, plan)
            if value is not None:
                slots[plan.name] = value
    ids = {p.name: slots[p.name] for p in plans if p.kind == "id" and p.name in slots}
    for plan in plans:
        source = plan.hint.from_result if plan.hint is not None else None
        if source and plan.name not in slots:
            value = recall_result(messages, source, ids)
            if value is not None:
                slots[plan.name] = value


def leave_currency_open(got: Extraction, plans: Sequence[SlotPlan]) -> None:
    """Take back a guessed currency (and the amount read in it): the number waits, as said,
    for the record's currency."""
    for plan in plans:
        if plan.kind in ("amount", "currency") and currency_role(plan.name) is None:
            got.values.pop(plan.name, None)
    got.pending_amount = got.heard_amount


def _record_path(field: str, slots: Mapping[str, Any]) -> str | None:
    """``field`` with its ``{slot}`` segments filled from ``slots``; None while one is empty."""
    parts: list[str] = []
    for part in field.split("."):
        if part.startswith("{") and part.endswith("}"):
            value = slots.get(part[1:-1])
            if not isinstance(value, str) or not value:
                return None
            part = value
        parts.append(part)
    return ".".join(parts)


def _slot_value(plan: SlotPlan, value: Any) -> Any:
    """A record's field as the slot's JSON type (minor units stay integers)."""
    if value is None or isinstance(value, Mapping | list):
        return None
    if plan.kind == "currency" and isinstance(value, str):
        return value.upper()
    if plan.json_type == "integer" and not isinstance(value, bool):
        try:
            return int(str(value))
        except ValueError:
            return None
    return value


__all__ = [
    "from_list",
    "from_records",
    "implied_currency",
    "leave_currency_open",
    "recall",
    "record_will_say_currency",
]
