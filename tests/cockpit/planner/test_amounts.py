"""Money as merchants write it: colloquial sums, both separator conventions, implied currency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from cockpit.planner.amounts import (
    find_bare_amount,
    find_fraction,
    find_money,
    parse_number,
    resolve_currency,
    says_full_amount,
    words_to_number,
)
from cockpit.planner.slots import Extraction, evidence, extract, plan_slots

TODAY = date(2026, 11, 25)
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


def refund(text: str, **kwargs: Any) -> Extraction:
    return extract(text, plan_slots(REFUND, {}), today=TODAY, **kwargs)


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("15,000", "15000"),
        ("1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("35,50", "35.50"),
        ("1.234.567", "1234567"),
        ("1,5", "1.5"),
        ("0.125", "0.125"),
    ],
)
def test_both_separator_conventions(token: str, value: str) -> None:
    assert parse_number(token) == Decimal(value)


def test_a_dot_and_three_digits_is_thousands_only_for_currencies_without_three_decimals() -> None:
    assert parse_number("15.000", currency="IDR") == Decimal(15000)
    assert parse_number("1.500", currency="KWD") == Decimal("1.5")
    assert parse_number("1.500") == Decimal("1.5")  # no currency: the English reading


@pytest.mark.parametrize(
    ("words", "value"),
    [("twenty", 20), ("twenty-five", 25), ("a hundred", 100), ("two thousand five hundred", 2500)],
)
def test_number_words(words: str, value: int) -> None:
    assert words_to_number(words) == value


@pytest.mark.parametrize(
    ("text", "value", "currency", "cue"),
    [
        ("5 bucks", "5", None, "generic"),
        ("a tenner", "10", None, "slang"),
        ("a fiver", "5", None, "slang"),
        ("twenty dollars", "20", None, "dollar"),
        ("$12", "12", None, "dollar"),
        ("S$ 20", "20", "SGD", "code"),
        ("12 SGD", "12", "SGD", "code"),
        ("EUR 35,50", "35.50", "EUR", "code"),
        ("35,50 EUR", "35.50", "EUR", "code"),
        ("1.234,56 EUR", "1234.56", "EUR", "code"),
        ("Rp 15.000", "15000", "IDR", "code"),
        ("1.5k SGD", "1500", "SGD", "code"),
        ("fifty baht", "50", "THB", "code"),
        ("300 Singapore dollars", "300", "SGD", "code"),
        ("2 grand", "2000", None, "slang"),
        ("Rp 50rb", "50000", "IDR", "code"),  # Indonesian thousands
        ("2 juta rupiah", "2000000", "IDR", "code"),
    ],
)
def test_sums_and_how_they_name_their_currency(
    text: str, value: str, currency: str | None, cue: str
) -> None:
    [money] = find_money(text)
    assert (money.value, money.currency, money.cue) == (Decimal(value), currency, cue)


def test_everyday_words_that_are_also_currencies_are_not_sums() -> None:
    assert find_money("show the two disputes I won") == []
    assert find_money("is this one real") == []
    assert [m.currency for m in find_money("50 won")] == ["KRW"]


@pytest.mark.parametrize(
    ("implied", "fallback", "cue", "expected"),
    [
        ("SGD", None, "dollar", "SGD"),
        ("THB", None, "dollar", "USD"),  # baht are no dollars
        (None, "HKD", "dollar", "HKD"),
        (None, None, "dollar", "USD"),
        ("THB", None, "generic", "THB"),  # "bucks" follow the payment's currency
        (None, None, "generic", "USD"),
        ("SGD", None, "slang", "SGD"),
        (None, None, "slang", None),  # "a tenner" of nothing known: ask
    ],
)
def test_resolving_a_currency_cue(
    implied: str | None, fallback: str | None, cue: str, expected: str | None
) -> None:
    [money] = find_money({"dollar": "$5", "generic": "5 bucks", "slang": "a fiver"}[cue])
    assert resolve_currency(money, implied=implied, fallback=fallback) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the card ending 4242",
        "card ending in 4242",
        "last 4 digits 4242",
        "decline code 51",
        "it failed with code 05",
        "at 3pm",
        "around 15:30",
        "show the top 5",
        "3 items came back",
        "he tried 12 times",
        "refund 20 of them",
        "a 15% discount",
    ],
)
def test_numbers_that_are_never_amounts(text: str) -> None:
    assert find_bare_amount(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("refund 15,000 please", "15000"),
        ("refund 20k", "20000"),
        ("refund 12.50", "12.50"),
        ("refund 75 ribu", "75000"),
    ],
)
def test_bare_amounts(text: str, value: str) -> None:
    money = find_bare_amount(text)
    assert money is not None and money.value == Decimal(value)


@pytest.mark.parametrize(
    "text",
    [
        "refund it in full",
        "full refund please",
        "refund everything",
        "give back the whole amount",
        "refund the rest",
        "refund the remaining",
        "the remainder please",
        "all of it",
        "refund it fully",
    ],
)
def test_the_whole_remaining_amount(text: str) -> None:
    assert says_full_amount(text)
    got = refund(f"{text} on pay_abcd1", implied_currency="SGD")
    assert got.full_amount and "amount" not in got.values and got.pending_amount is None


def test_a_number_beats_words_about_the_rest() -> None:
    got = refund("refund the remaining 20 SGD on pay_abcd1")
    assert got.values["amount"] == 2000 and not got.full_amount


@pytest.mark.parametrize(
    ("text", "share"), [("refund half", "0.5"), ("refund 30%", "0.3"), ("a third of it", None)]
)
def test_shares_of_the_amount(text: str, share: str | None) -> None:
    expected = Decimal(share) if share else Decimal(1) / 3
    assert find_fraction(text) == expected
    got = refund(f"{text} on pay_abcd1")
    assert got.fraction == expected and "amount" not in got.values


def test_a_rate_is_no_share_of_the_amount() -> None:
    assert find_fraction("at 12% APR") is None


@pytest.mark.parametrize(
    ("text", "implied", "amount", "currency"),
    [
        ("give 5 bucks back on pay_abcd1", "SGD", 500, "SGD"),
        ("give 5 bucks back on pay_abcd1", "THB", 500, "THB"),
        ("give 5 bucks back on pay_abcd1", None, 500, "USD"),
        ("$12 refund on pay_abcd1", "SGD", 1200, "SGD"),
        ("refund twenty dollars on pay_abcd1", "HKD", 2000, "HKD"),
        ("refund twenty dollars on pay_abcd1", "JPY", 2000, "USD"),
        ("refund US$12 on pay_abcd1", "SGD", 1200, "USD"),  # an explicit code always wins
        ("refund S$ 20 on pay_abcd1", "USD", 2000, "SGD"),
        ("refund 120 on pay_abcd1", "SGD", 12000, "SGD"),  # a bare number: the payment's
        ("refund 15,000 on pay_abcd1", "KRW", 15000, "KRW"),
        ("refund 20k on pay_abcd1", "IDR", 2000000, "IDR"),
        ("refund a tenner on pay_abcd1", "GBP", 1000, "GBP"),
        ("refund 1.234,56 EUR on pay_abcd1", None, 123456, "EUR"),
        ("refund 30 on pay_abcd1 in SGD", None, 3000, "SGD"),
    ],
)
def test_implied_currency_in_extract(
    text: str, implied: str | None, amount: int, currency: str
) -> None:
    got = refund(text, implied_currency=implied)
    assert (got.values.get("amount"), got.values.get("currency")) == (amount, currency)


def test_a_known_currency_slot_is_the_context_too() -> None:
    plans = plan_slots(REFUND, {})
    got = extract("make it 5 bucks", plans, today=TODAY, known={"currency": "HKD"})
    assert got.values["amount"] == 500 and got.values["currency"] == "HKD"


def test_without_any_currency_the_amount_waits() -> None:
    got = refund("refund a tenner on pay_abcd1")
    assert got.pending_amount == "10" and "amount" not in got.values


@pytest.mark.parametrize(
    "text",
    [
        "refund pay_abcd1, card ending 4242",
        "refund pay_abcd1, it declined with code 51",
        "refund pay_abcd1 at 3pm",
        "refund the top 5 on pay_abcd1",
        "refund pay_abcd1 from 2026-11-03",
        "refund pay_abcd1, 10% was wrong",
    ],
)
def test_codes_times_counts_dates_and_percentages_are_not_refund_amounts(text: str) -> None:
    got = refund(text, implied_currency="SGD")
    assert "amount" not in got.values and got.pending_amount is None


def test_colloquial_sums_are_amount_evidence() -> None:
    assert "amount" in evidence("give 5 bucks back", TODAY)
    assert "amount" in evidence("refund a tenner", TODAY)
    assert "amount" not in evidence("show the top 5", TODAY)


@pytest.mark.parametrize(
    ("text", "assumed"),
    [
        ("give 5 bucks back on pay_abcd1", True),
        ("$12 refund on pay_abcd1", True),
        ("refund 120 on pay_abcd1", True),
        ("refund 12 SGD on pay_abcd1", False),
        ("refund 30 on pay_abcd1 in SGD", False),
        ("refund pay_abcd1 in full", False),
    ],
)
def test_whether_the_record_should_decide_the_currency(text: str, assumed: bool) -> None:
    assert refund(text).currency_assumed is assumed


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("grant it at 7 000 EUR", Decimal(7000)),  # space-grouped thousands, never "000 EUR"
        ("EUR 12 500", Decimal(12500)),
        ("1 234,50 EUR", Decimal("1234.50")),
    ],
)
def test_space_grouped_thousands_are_one_sum(text: str, value: Decimal) -> None:
    assert [m.value for m in find_money(text)] == [value]


@pytest.mark.parametrize(
    ("text", "value"),
    [("final at 15,000", Decimal(15000)), ("cut the limit to 20k", Decimal(20000))],
)
def test_a_grouped_or_scaled_number_is_a_sum_after_at_or_to(text: str, value: Decimal) -> None:
    found = find_bare_amount(text)
    assert found is not None and found.value == value


def test_a_digit_for_a_word_is_no_sum() -> None:
    assert find_bare_amount("can i get a loan 4 my biz") is None
