"""The money filter over a per-currency map (balances): every sum in its own currency."""

from __future__ import annotations

from cockpit.planner.template import render


def test_a_map_of_accounts_per_currency_renders_major_units_in_each_currency() -> None:
    balances = {
        "SGD": {"pending": 213139, "available": 19414491, "reserve": 0},
        "KRW": {"available": 15000},
    }
    text = render("{balances|money}", {"balances": balances})
    assert text == (
        "SGD: pending 2,131.39 SGD, available 194,144.91 SGD, reserve 0.00 SGD; "
        "KRW: available 15,000 KRW"
    )
    assert "19414491" not in text


def test_a_flat_map_of_sums_per_currency() -> None:
    assert render("{x|money}", {"x": {"SGD": 1200, "KRW": 5}}) == "12.00 SGD; 5 KRW"


def test_a_plain_sum_is_unchanged() -> None:
    assert render("{v|money:c}", {"v": 1250, "c": "EUR"}) == "12.50 EUR"


def test_an_amount_object_renders_as_money_wherever_it_appears() -> None:
    payments = [
        {"paymentId": "pay_1", "paymentAmount": {"currency": "SGD", "value": "23053"}},
        {"paymentId": "pay_2", "paymentAmount": {"currency": "KRW", "value": "15000"}},
    ]
    text = render("{payments|pairs:paymentId,paymentAmount}", {"payments": payments})
    assert text == "pay_1 (230.53 SGD), pay_2 (15,000 KRW)"
