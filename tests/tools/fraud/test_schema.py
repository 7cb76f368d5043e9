from __future__ import annotations

from typing import Any

import pytest

from cockpit.errors import ValidationFailed
from tools.fraud.schema import parse_transaction

GOOD: dict[str, Any] = {
    "txn_id": "t1",
    "ts": "2026-01-05T10:00:00Z",
    "customer_id": "c1",
    "card_id": "k1",
    "device_id": "d1",
    "ip": "10.0.0.1",
    "merchant_id": "m1",
    "amount_minor": 1250,
    "currency": "usd",
}


def test_good_input_is_normalised() -> None:
    txn = parse_transaction(GOOD)
    assert txn.currency == "USD"
    assert txn.amount_usd == pytest.approx(12.5)
    assert txn.ts == pytest.approx(1_767_607_200.0)


@pytest.mark.parametrize(
    ("change", "code", "param"),
    [
        ({"currency": None}, "invalid_type", "currency"),
        ({"currency": "XXX"}, "unknown_currency", "currency"),
        ({"amount_minor": float("nan")}, "invalid_amount", "amount_minor"),
        ({"amount_minor": 12.5}, "invalid_amount", "amount_minor"),
        ({"amount_minor": "lots"}, "invalid_amount", "amount_minor"),
        ({"amount_minor": -1}, "invalid_amount", "amount_minor"),
        ({"amount_minor": 10**40}, "invalid_amount", "amount_minor"),
        ({"ts": "yesterday"}, "invalid_type", "ts"),
        ({"ts": float("inf")}, "invalid_value", "ts"),
        ({"liveness_score": 2.0}, "invalid_value", "liveness_score"),
        ({"method": "cash"}, "invalid_value", "method"),
        ({"surprise": 1}, "unknown_field", "surprise"),
    ],
)
def test_bad_input_gets_a_stable_code(change: dict[str, Any], code: str, param: str) -> None:
    data = {**GOOD, **change}
    with pytest.raises(ValidationFailed) as err:
        parse_transaction(data)
    assert err.value.code == code
    assert err.value.param == param


@pytest.mark.parametrize("field", ["txn_id", "customer_id", "amount_minor", "currency", "ts"])
def test_missing_fields(field: str) -> None:
    data = {k: v for k, v in GOOD.items() if k != field}
    with pytest.raises(ValidationFailed) as err:
        parse_transaction(data)
    assert err.value.code == "missing_field"
    assert err.value.param == field


def test_not_an_object() -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_transaction(["t1"])
    assert err.value.code == "invalid_type"
