"""cockpit.money: one ISO 4217 table, strict amount parsing, and the pydantic types built on it."""

from __future__ import annotations

import ast
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from cockpit import money
from cockpit.errors import ValidationFailed
from cockpit.money import (
    CurrencyCode,
    MajorAmount,
    MinorAmount,
    ModelMajorAmount,
    ModelMinorAmount,
)
from tests.support.source import parse_source

ROOT = Path(__file__).resolve().parents[2]

# Values no amount field may accept, in any mode (the list, and a few neighbours).
ALWAYS_BAD: list[tuple[Any, str]] = [
    (True, "amount_not_integer"),
    (False, "amount_not_integer"),
    ("--5", "amount_invalid"),
    ("+5", "amount_invalid"),
    ("²", "amount_invalid"),
    ("１２３", "amount_invalid"),  # full-width digits
    ("١٢٣", "amount_invalid"),  # Arabic-Indic digits
    ("۱۲۳", "amount_invalid"),  # extended Arabic-Indic digits
    ("1e3", "amount_invalid"),
    ("NaN", "amount_invalid"),
    ("Infinity", "amount_invalid"),
    ("-Infinity", "amount_invalid"),
    ("", "amount_invalid"),
    (" 100", "amount_invalid"),
    ("1_000", "amount_invalid"),
    ("1,000", "amount_invalid"),
    ("0x10", "amount_invalid"),
    ("9" * 5000, "amount_too_large"),
    ("9" * 19, "amount_too_large"),
    (10**18, "amount_too_large"),
    (-5, "amount_negative"),
    ("-5", "amount_negative"),
    (None, "amount_not_integer"),
    ([100], "amount_not_integer"),
    ({"value": 100}, "amount_not_integer"),
]


@pytest.mark.parametrize(("value", "code"), ALWAYS_BAD)
@pytest.mark.parametrize("integral_floats", [False, True])
def test_parse_minor_rejects_with_the_field_named(
    value: Any, code: str, integral_floats: bool
) -> None:
    with pytest.raises(ValidationFailed) as err:
        money.parse_minor(value, param="amount.value", integral_floats=integral_floats)
    assert err.value.status == 422
    assert err.value.param == "amount.value"
    assert err.value.code == code


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (1000.0, "amount_not_integer"),
        (9999999.0, "amount_not_integer"),
        (0.0, "amount_not_integer"),
        (float("nan"), "amount_not_integer"),
        (float("inf"), "amount_not_integer"),
    ],
)
def test_rest_mode_refuses_every_float(value: float, code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        money.parse_minor(value, param="value")
    assert (err.value.code, err.value.param) == (code, "value")


@pytest.mark.parametrize(
    "value", [1000.5, 0.1, float("nan"), float("inf"), float("-inf"), 1e19, -1.0]
)
def test_model_mode_refuses_inexact_floats(value: float) -> None:
    with pytest.raises(ValidationFailed):
        money.parse_minor(value, integral_floats=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (1000, 1000),
        ("1000", 1000),
        ("0", 0),
        ("9" * 18, 10**18 - 1),
        (10**18 - 1, 10**18 - 1),
    ],
)
def test_parse_minor_accepts_ints_and_ascii_digit_strings(value: Any, expected: int) -> None:
    assert money.parse_minor(value) == expected
    assert type(money.parse_minor(value)) is int


def test_model_mode_takes_integral_floats_exactly() -> None:
    assert money.parse_minor(1000.0, integral_floats=True) == 1000
    assert money.parse_minor(9999999.0, integral_floats=True) == 9999999


def test_decimal_strings_for_minor_units_say_the_exponent() -> None:
    with pytest.raises(ValidationFailed) as err:
        money.parse_minor("10.50", currency="USD")
    assert err.value.code == "amount_wrong_exponent" and "2 decimals" in err.value.message


def test_signed_allows_a_minus() -> None:
    assert money.parse_minor("-5", signed=True) == -5
    with pytest.raises(ValidationFailed):
        money.parse_minor("--5", signed=True)


# ----- major units ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (True, "amount_invalid"),
        ("1e309", "amount_invalid"),
        ("1e3", "amount_invalid"),
        ("NaN", "amount_invalid"),
        ("Infinity", "amount_invalid"),
        ("12.", "amount_invalid"),
        (".5", "amount_invalid"),
        ("--5", "amount_invalid"),
        ("１２.５", "amount_invalid"),
        ("١٢", "amount_invalid"),
        ("²", "amount_invalid"),
        (1000.0, "amount_invalid"),  # REST: floats refused
        ("9" * 16, "amount_too_large"),
        ("9" * 5000, "amount_too_large"),
        ("1." + "0" * 13, "amount_wrong_exponent"),
        ("-1", "amount_negative"),
    ],
)
def test_parse_major_rejects(value: Any, code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        money.parse_major(value, param="amount")
    assert (err.value.code, err.value.param) == (code, "amount")


def test_parse_major_bounds_decimals_by_the_currency() -> None:
    assert money.parse_major("12.34", currency="USD") == Decimal("12.34")
    assert money.parse_major("12.345", currency="KWD") == Decimal("12.345")
    for value, ccy in (("12.345", "USD"), ("1.5", "JPY")):
        with pytest.raises(ValidationFailed) as err:
            money.parse_major(value, currency=ccy)
        assert err.value.code == "amount_wrong_exponent"


def test_parse_major_floats_only_in_model_mode() -> None:
    assert money.parse_major(1250.5, floats=True) == Decimal("1250.5")
    assert money.parse_major(0.1 + 0.2, floats=True) == Decimal("0.3")
    for bad in (float("nan"), float("inf"), 1e309, 1e16):
        with pytest.raises(ValidationFailed):
            money.parse_major(bad, floats=True)


# ----- the table, conversion, formatting ------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "exp"),
    [
        ("JPY", 0),
        ("KRW", 0),
        ("VND", 0),
        ("CLP", 0),
        ("ISK", 0),
        ("UGX", 0),
        ("XOF", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("OMR", 3),
        ("JOD", 3),
        ("TND", 3),
        ("IQD", 3),
        ("LYD", 3),
        ("CLF", 4),
        ("EUR", 2),
        ("USD", 2),
        ("GBP", 2),
        ("IDR", 2),
        ("HUF", 2),
        ("TWD", 2),
        ("PHP", 2),
        ("MYR", 2),
        ("THB", 2),
        ("SGD", 2),
        ("HKD", 2),
        ("CNY", 2),
        ("INR", 2),
        ("MOP", 2),
        ("jpy", 0),
    ],
)
def test_iso_4217_exponents(currency: str, exp: int) -> None:
    assert money.exponent(currency) == exp
    assert money.is_known(currency)


def test_table_sanity() -> None:
    assert all(len(c) == 3 and c.isascii() and c.isupper() for c in money.EXPONENTS)
    assert set(money.EXPONENTS.values()) == {0, 2, 3, 4}
    assert len(money.EXPONENTS) > 150
    assert not {"XXX", "XAU", "XDR", "HRK"} & set(money.EXPONENTS)
    assert money.exponent("HRK") == 2 and not money.is_known("HRK")  # withdrawn, ECB history


def test_every_currency_the_codebase_names_is_in_the_table() -> None:
    from cockpit.planner.lexicon import CURRENCY_CODES, CURRENCY_SYMBOLS, CURRENCY_WORDS
    from tools.fraud.schema import CURRENCY_EXPONENT
    from tools.payments.money import SUPPORTED_CURRENCIES

    used = (
        set(CURRENCY_CODES)
        | set(CURRENCY_SYMBOLS.values())
        | set(CURRENCY_WORDS.values())
        | set(CURRENCY_EXPONENT)
        | SUPPORTED_CURRENCIES
    )
    assert used - set(money.EXPONENTS) == set()


@pytest.mark.parametrize("bad", ["XXX", "ZZZ", "US", "USDD", "ＵＳＤ", 840, None, True])
def test_unknown_currencies(bad: Any) -> None:
    assert not money.is_known(bad)
    with pytest.raises(ValidationFailed) as err:
        money.normalize_currency(bad, param="amount.currency")
    assert (err.value.code, err.value.param) == ("unknown_currency", "amount.currency")


def test_minor_major_round_trip() -> None:
    assert money.to_major(1234, "USD") == Decimal("12.34")
    assert money.to_major(1234, "JPY") == Decimal(1234)
    assert money.to_major(1234, "KWD") == Decimal("1.234")
    assert money.to_minor(Decimal("12.34"), "USD") == 1234
    assert money.to_minor(Decimal("1.234"), "KWD") == 1234
    with pytest.raises(ValidationFailed) as err:
        money.to_minor(Decimal("12.345"), "USD")
    assert err.value.code == "amount_wrong_exponent"
    assert money.to_minor(Decimal("12.345"), "USD", rounding=ROUND_HALF_EVEN) == 1234
    assert money.to_minor(Decimal("12.355"), "USD", rounding=ROUND_HALF_EVEN) == 1236
    with pytest.raises(ValidationFailed):
        money.to_minor(Decimal("NaN"), "USD")


def test_format_amount() -> None:
    assert money.format_amount(1234, "usd") == "12.34 USD"
    assert money.format_amount(1234, "JPY") == "1234 JPY"
    assert money.format_amount(1, "BHD") == "0.001 BHD"
    assert money.format_amount(123456789, "EUR", grouping=True) == "1,234,567.89 EUR"


# ----- pydantic types -------------------------------------------------------------------------


class _Rest(BaseModel):
    amount: MinorAmount = Field(gt=0)
    currency: CurrencyCode


class _Tool(BaseModel):
    amount: ModelMinorAmount = Field(gt=0)
    currency: CurrencyCode


class _Major(BaseModel):
    amount: MajorAmount


class _ModelMajor(BaseModel):
    amount: ModelMajorAmount


@pytest.mark.parametrize(("value", "code"), ALWAYS_BAD)
@pytest.mark.parametrize("model", [_Rest, _Tool])
def test_pydantic_types_name_the_field(model: type[BaseModel], value: Any, code: str) -> None:
    with pytest.raises(ValidationError) as err:
        model.model_validate({"amount": value, "currency": "USD"})
    first = err.value.errors()[0]
    assert first["loc"] == ("amount",)
    assert first["type"] == code


def test_rest_type_refuses_floats_tool_type_takes_integral_ones() -> None:
    with pytest.raises(ValidationError):
        _Rest.model_validate({"amount": 1000.0, "currency": "USD"})
    assert _Tool.model_validate({"amount": 1000.0, "currency": "usd"}).amount == 1000
    with pytest.raises(ValidationError):
        _Tool.model_validate({"amount": 1000.5, "currency": "USD"})


def test_tool_args_are_plain_ints_after_validation() -> None:
    # What the runtime's policy reads: "9999999" from a model is the int 9999999.
    args = _Tool.model_validate({"amount": "9999999", "currency": "sgd"})
    assert type(args.amount) is int and args.amount == 9999999 and args.currency == "SGD"
    assert _Tool.model_validate_json('{"amount": 9999999.0, "currency": "SGD"}').amount == 9999999
    assert _Tool.model_json_schema()["properties"]["amount"]["type"] == "integer"
    assert _Tool.model_json_schema()["properties"]["amount"]["exclusiveMinimum"] == 0


def test_json_input_is_as_strict_as_python_input() -> None:
    for raw in ('{"amount": true, "currency": "USD"}', '{"amount": 1000.0, "currency": "USD"}'):
        with pytest.raises(ValidationError) as err:
            _Rest.model_validate_json(raw)
        assert err.value.errors()[0]["loc"] == ("amount",)
    with pytest.raises(ValidationError):
        _Rest.model_validate({"amount": 0, "currency": "USD"})


def test_major_types() -> None:
    assert _Major.model_validate({"amount": "1250.50"}).amount == Decimal("1250.50")
    assert _Major.model_validate({"amount": 3}).amount == Decimal(3)
    for bad in ("1e309", 1250.5, True, "NaN"):
        with pytest.raises(ValidationError) as err:
            _Major.model_validate({"amount": bad})
        assert err.value.errors()[0]["loc"] == ("amount",)
    assert _ModelMajor.model_validate({"amount": 1250.5}).amount == Decimal("1250.5")


# ----- one source of truth --------------------------------------------------------------------


def _exponent_tables(path: Path, root: Path = ROOT) -> list[str]:
    """Dict literals (or dict.fromkeys calls) that map "JPY" to 0 — an exponent table."""
    tree = parse_source(path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "JPY"
                    and isinstance(value, ast.Constant)
                    and value.value == 0
                ):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "fromkeys"
            and len(node.args) == 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == 0
            and "JPY" in ast.unparse(node.args[0])
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_no_other_module_keeps_an_exponent_table() -> None:
    found = []
    for package in ("cockpit", "tools", "knowledge", "agents", "evals"):
        for path in (ROOT / package).rglob("*.py"):
            if path != ROOT / "cockpit" / "money.py":
                found += _exponent_tables(path)
    assert found == []


def test_the_scan_would_catch_a_copy(tmp_path: Path) -> None:
    copy = tmp_path / "copy.py"
    copy.write_text('T = {"USD": 2, "JPY": 0}\nU = dict.fromkeys(["JPY", "KRW"], 0)\n')
    assert len(_exponent_tables(copy, tmp_path)) == 2


def test_payments_re_exports_keep_working() -> None:
    from tools.payments import money as payments_money

    assert payments_money.format_amount is money.format_amount
    assert payments_money.EXPONENTS["JPY"] == 0 and payments_money.EXPONENTS["KWD"] == 3
    assert payments_money.parse_minor("1000", "USD") == 1000
    with pytest.raises(ValidationFailed) as err:
        payments_money.parse_minor("١٠٠٠", "USD", param="amount.value")
    assert (err.value.code, err.value.param) == ("amount_invalid", "amount.value")
    with pytest.raises(ValidationFailed) as err:
        payments_money.parse_minor(True, "USD")  # type: ignore[arg-type]
    assert err.value.code == "amount_not_integer"
