"""Slot extraction from tool schemas: ids, money, dates, markets, methods, enums, text."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cockpit.planner import SlotHint
from cockpit.planner.dates import find_dates
from cockpit.planner.slots import extract, infer_kind, plan_slots

TODAY = date(2026, 11, 25)  # a Wednesday

REFUND = {
    "type": "object",
    "properties": {
        "payment_id": {"type": "string", "pattern": "^pay_[A-Za-z0-9]{4,}$"},
        "amount": {"type": "integer"},
        "currency": {"type": "string"},
        "reason": {"type": "string"},
    },
    "required": ["payment_id"],
}
RATE = {
    "type": "object",
    "properties": {
        "start_date": {"type": "string", "format": "date"},
        "end_date": {"type": "string", "format": "date"},
        "market": {"type": "string"},
        "payment_method": {"type": "string"},
    },
}


def fill(text: str, schema: dict[str, Any], **hints: SlotHint) -> dict[str, Any]:
    return extract(text, plan_slots(schema, hints), today=TODAY).values


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("refund 12.34 USD on pay_abcd1", 1234, "USD"),
        ("refund ¥1500 on pay_abcd1", 1500, "JPY"),
        ("refund ₩10,000 on pay_abcd1", 10000, "KRW"),
        ("refund 1.5 KWD on pay_abcd1", 1500, "KWD"),
        ("refund BHD 0.125 on pay_abcd1", 125, "BHD"),
        ("refund 2k euros on pay_abcd1", 200000, "EUR"),
        ("refund HK$ 88 on pay_abcd1", 8800, "HKD"),
        ("refund 0.125 usd on pay_abcd1", 12, "USD"),  # half-even: 12.5 cents -> 12
    ],
)
def test_money_in_minor_units_by_currency_exponent(text: str, amount: int, currency: str) -> None:
    got = fill(text, REFUND)
    assert got["amount"] == amount and got["currency"] == currency
    assert got["payment_id"] == "pay_abcd1"


def test_ids_are_never_amounts_and_ranges_never_amounts() -> None:
    got = fill("refund pay_2000ab for the last 7 days of orders", REFUND)
    assert got == {"payment_id": "pay_2000ab"}


def test_amount_without_currency_is_held_until_a_currency_is_known() -> None:
    result = extract("refund 30 on pay_abcd1", plan_slots(REFUND, {}), today=TODAY)
    assert "amount" not in result.values and result.pending_amount == "30"
    hinted = {"amount": SlotHint(default_currency="SGD")}
    assert fill("refund 30 on pay_abcd1", REFUND, **hinted)["amount"] == 3000


def test_reason_free_text() -> None:
    assert fill("refund pay_abcd1 because the parcel never arrived", REFUND)["reason"] == (
        "the parcel never arrived"
    )


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("last 7 days", "2026-11-19", "2026-11-25"),
        ("this month", "2026-11-01", "2026-11-25"),
        ("last month", "2026-10-01", "2026-10-31"),
        ("since Monday", "2026-11-23", "2026-11-25"),
        ("last week", "2026-11-16", "2026-11-22"),
        ("yesterday", "2026-11-24", "2026-11-24"),
        ("from 3 Oct to 10 Oct", "2026-10-03", "2026-10-10"),
        ("between 2026-01-05 and 2026-02-01", "2026-01-05", "2026-02-01"),
        ("in December", "2025-12-01", "2025-12-31"),  # a month ahead of today means last year's
        ("Q1 2026", "2026-01-01", "2026-03-31"),
        ("year to date", "2026-01-01", "2026-11-25"),
        ("since 1st November", "2026-11-01", "2026-11-25"),
    ],
)
def test_relative_and_explicit_ranges(text: str, start: str, end: str) -> None:
    got = fill(f"success rate {text}", RATE)
    assert (got["start_date"], got["end_date"]) == (start, end)


def test_horizon_days() -> None:
    [span] = find_dates("over the next 3 weeks", TODAY)
    assert span.horizon_days == 21


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card success rate in Japan", {"market": "JP", "payment_method": "CARD"}),
        ("GrabPay in Malaysia", {"market": "MY", "payment_method": "GRABPAY_MY"}),
        ("alipay hk conversion", {"payment_method": "ALIPAY_HK"}),
        ("Touch 'n Go rate in MY", {"market": "MY", "payment_method": "TNG"}),
        ("how can I boost my success rate", {}),  # "boost" the verb is not the BOOST wallet
        ("the payment ID is missing", {}),  # "ID" is not Indonesia without market context
        ("payments for ID", {"market": "ID"}),
    ],
)
def test_markets_and_methods(text: str, expected: dict[str, str]) -> None:
    assert fill(text, RATE) == expected


def test_enum_with_synonyms_and_restricted_values() -> None:
    schema = {
        "type": "object",
        "properties": {"status": {"type": "string", "enum": ["open", "won", "lost"]}},
    }
    hints = {"status": SlotHint(synonyms={"open": ["pending", "unresolved"]})}
    assert fill("which chargebacks are unresolved", schema, **hints) == {"status": "open"}
    assert fill("disputes I lost", schema, **hints) == {"status": "lost"}
    method = {
        "type": "object",
        "properties": {"method": {"type": "string", "enum": ["GCASH", "MAYA"]}},
    }
    assert fill("via gcash", method) == {"method": "GCASH"}


def test_kind_inference_from_names_and_schema() -> None:
    assert infer_kind("dispute_id", {"type": "string"}) == "id"
    assert infer_kind("amount_minor", {"type": "integer"}) == "amount"
    assert infer_kind("date_from", {"type": "string"}) == "start_date"
    assert infer_kind("horizon_days", {"type": "integer"}) == "days"
    assert infer_kind("question", {"type": "string"}) == "query"
    assert infer_kind("country", {"type": "string"}) == "market"


def test_optional_pydantic_fields_and_defaults() -> None:
    schema = {
        "type": "object",
        "properties": {
            "dispute_id": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "limit": {"type": "integer", "default": 10},
        },
        "required": ["limit"],
    }
    plans = {p.name: p for p in plan_slots(schema, {})}
    assert plans["dispute_id"].kind == "id" and not plans["dispute_id"].required
    assert not plans["limit"].required  # a schema default means it never needs asking
    assert fill("dispute dsp_12ab34, top 5", schema) == {"dispute_id": "dsp_12ab34", "limit": 5}


def test_a_patterned_slot_finds_values_that_are_not_prefix_ids() -> None:
    hint = SlotHint(pattern=r"\d{1,3}(?:\.\d{1,3}){3}")
    plans = plan_slots(
        {"properties": {"ip": {"type": "string"}, "amount": {"type": "number"}}},
        {"ip": hint},
    )
    got = extract("block 203.0.113.7 and nothing else", plans, today=TODAY)
    assert got.values == {"ip": "203.0.113.7"}
    none = extract("version 1.2.3 of the app", plans, today=TODAY)
    assert "ip" not in none.values
