"""Amounts at the REST boundary: every malformed amount is a 422 naming the field, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.apptest import Api, running_app


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with running_app(Path(tmp_path_factory.mktemp("money"))) as a:
        yield a


@pytest.fixture(scope="module")
def merchant_key(api: Api) -> str:
    return api.tenant("money-http", role="merchant")


def _unprocessable(r: Any, param: str) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    body: dict[str, Any] = r.json()
    assert body["param"] == param, body
    assert "Traceback" not in r.text and 'File "' not in r.text
    return body


@pytest.mark.parametrize(
    ("value", "param"),
    [
        (True, "amount.value"),  # must not become 1
        (False, "amount.value"),
        (1000.0, "amount.value"),  # was accepted as 1000
        (9999999.0, "amount.value"),
        ("--5", "amount.value"),  # was a 500 (int() raised)
        ("²", "amount.value"),  # was a 500 ("²".isdigit() is True)
        ("１２３", "amount.value"),  # full-width: was accepted as 123
        ("١٢٣", "amount.value"),  # Arabic-Indic: was accepted as 123
        ("1e3", "amount.value"),
        ("NaN", "amount.value"),
        ("Infinity", "amount.value"),
        ("9" * 5000, "amount.value"),  # was a 500 (int() digit limit)
        ("-5", "amount.value"),
        (None, "amount.value"),
    ],
)
def test_payment_amount_value(api: Api, merchant_key: str, value: Any, param: str) -> None:
    r = api.client.post(
        "/v1/payments/payments",
        json={"merchant_id": "m_x", "amount": {"currency": "USD", "value": value}},
        headers={**api.h(merchant_key), "Idempotency-Key": "money-1"},
    )
    _unprocessable(r, param)


def test_payment_amount_not_an_object(api: Api, merchant_key: str) -> None:
    r = api.client.post(
        "/v1/payments/payments",
        json={"merchant_id": "m_x", "amount": True},
        headers={**api.h(merchant_key), "Idempotency-Key": "money-2"},
    )
    _unprocessable(r, "amount")


@pytest.mark.parametrize("path", ["captures", "refunds"])
def test_capture_and_refund_amounts(api: Api, merchant_key: str, path: str) -> None:
    r = api.client.post(
        f"/v1/payments/payments/pay_missing/{path}",
        json={"amount": {"currency": "USD", "value": True}},
        headers={**api.h(merchant_key), "Idempotency-Key": "money-3"},
    )
    _unprocessable(r, "amount.value")


@pytest.mark.parametrize(
    "amount", ["1e309", "NaN", "Infinity", "-Infinity", "--5", "١٢٣", "9" * 5000, "1,000", "0x10"]
)
def test_fx_convert_amount(api: Api, merchant_key: str, amount: str) -> None:
    r = api.client.get(
        "/v1/fx/convert",
        params={"amount": amount, "from": "USD", "to": "EUR"},
        headers=api.h(merchant_key),
    )
    body = _unprocessable(r, "amount")
    assert body["code"] == "invalid_amount"


def test_fx_convert_good_amount(api: Api, merchant_key: str) -> None:
    r = api.client.get(
        "/v1/fx/convert",
        params={"amount": "100.50", "from": "USD", "to": "JPY"},
        headers=api.h(merchant_key),
    )
    assert r.status_code == 200, r.text
    assert r.json()["amount"] == "100.50"
