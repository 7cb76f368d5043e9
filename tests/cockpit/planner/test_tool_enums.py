"""Arguments with a fixed set of values reach the model as ``enum``, and the planner fills them.

The tools' argument models type such arguments as ``Literal`` (statuses, entity kinds,
dimensions, portfolios), so the JSON schema an LLM sees lists the values and a wrong one is
refused at validation. The local planner reads the same schemas: an ``enum`` slot is filled
when the user names one of its values, and asked for with the values listed.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, get_args

import pytest
from pydantic import BaseModel, ValidationError

from cockpit.planner.slots import SlotPlan, describe_slot, extract, plan_slots
from cockpit.planner.spec import SlotHint
from tools.credit.catalog import PORTFOLIOS
from tools.credit.tools import BacktestArgs, Portfolio
from tools.fraud.tools import BlockArgs, GraphArgs
from tools.payments.analytics import DIMENSIONS
from tools.payments.tools import (
    GroupBy,
    ListDisputesArgs,
    SearchArgs,
    SuccessRateArgs,
)

TODAY = date(2026, 11, 25)


def _plan(args: type[BaseModel], name: str, hints: dict[str, SlotHint] | None = None) -> SlotPlan:
    plans = plan_slots(args.model_json_schema(), hints or {})
    return next(p for p in plans if p.name == name)


@pytest.mark.parametrize(
    ("args", "name", "values"),
    [
        (SearchArgs, "state", ["AUTHORIZED", "CAPTURED", "FAILED", "CANCELLED", "PROCESSING"]),
        (ListDisputesArgs, "status", ["NEEDS_RESPONSE", "UNDER_REVIEW", "WON", "LOST", "ACCEPTED"]),
        (SuccessRateArgs, "group_by", list(DIMENSIONS)),
        (BacktestArgs, "portfolio", list(PORTFOLIOS)),
        (GraphArgs, "kind", ["customer", "card", "device", "ip"]),
        (BlockArgs, "kind", ["customer", "card", "device", "ip"]),
    ],
)
def test_fixed_value_arguments_are_enum_slots(
    args: type[BaseModel], name: str, values: list[str]
) -> None:
    plan = _plan(args, name)
    assert plan.kind == "enum" and plan.enum == values
    assert describe_slot(plan) == f"the {name.replace('_', ' ')} (one of: {', '.join(values)})"


def test_the_literals_are_the_domains_own_values() -> None:
    assert get_args(GroupBy) == DIMENSIONS
    assert get_args(Portfolio) == PORTFOLIOS


def test_a_value_outside_the_enum_is_refused() -> None:
    with pytest.raises(ValidationError):
        SearchArgs.model_validate({"state": "captured"})
    with pytest.raises(ValidationError):
        SuccessRateArgs.model_validate({"group_by": "country"})


@pytest.mark.parametrize(
    ("args", "text", "expected"),
    [
        (SearchArgs, "list captured payments from the last week", {"state": "CAPTURED"}),
        (SearchArgs, "show my recent payments", {}),
        (ListDisputesArgs, "which disputes are under review?", {"status": "UNDER_REVIEW"}),
        (ListDisputesArgs, "show every dispute on record, won and lost ones as well", {}),
        (SuccessRateArgs, "success rate by issuer over 30 days", {"group_by": "issuer"}),
        (SuccessRateArgs, "success rate split by three ds", {"group_by": "three_ds"}),
        (
            BacktestArgs,
            "backtest it on the german credit holdout",
            {"portfolio": "german_credit_holdout"},
        ),
    ],
)
def test_the_planner_fills_an_enum_slot_from_the_words_naming_a_value(
    args: type[BaseModel], text: str, expected: dict[str, Any]
) -> None:
    plans = [p for p in plan_slots(args.model_json_schema(), {}) if p.kind == "enum"]
    got = extract(text, plans, today=TODAY)
    assert got.values == expected


class Colour(StrEnum):
    RED = "red"
    DARK_BLUE = "dark_blue"


class PaintArgs(BaseModel):
    colour: Colour
    trim: Colour | None = None


def test_an_enum_class_argument_is_read_through_its_definition() -> None:
    plans = plan_slots(PaintArgs.model_json_schema(), {})
    assert [(p.name, p.kind, p.enum, p.required) for p in plans] == [
        ("colour", "enum", ["red", "dark_blue"], True),
        ("trim", "enum", ["red", "dark_blue"], False),
    ]
    assert extract("paint it dark blue", plans[:1], today=TODAY).values == {"colour": "dark_blue"}
