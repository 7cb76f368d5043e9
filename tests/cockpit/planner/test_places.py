"""Markets by country name or demonym; currency pairs; home versus foreign currencies."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cockpit.planner.places import (
    currencies_as_word,
    currency_role,
    currency_roles,
    find_currencies,
    find_market,
    find_pair,
)
from cockpit.planner.slots import extract, plan_slots

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "market"),
    [
        ("declines in Indonesia", "ID"),
        ("why do Thai customers fail", "TH"),
        ("orders from the Philippines", "PH"),
        ("Malaysian shoppers abandon checkout", "MY"),
        ("Filipinos paying with cards", "PH"),
        ("Aussies", "AU"),
        ("payments for ID", "ID"),
        ("the payment ID is missing", None),
        ("how are my payments", None),
    ],
)
def test_markets(text: str, market: str | None) -> None:
    assert find_market(text) == market


def test_market_restricted_to_allowed_values() -> None:
    assert find_market("Thai and Indonesian buyers", allowed=["ID"]) == "ID"


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("how much in baht", ["THB"]),
        ("rupiah, ringgit and pesos", ["IDR", "MYR", "PHP"]),
        ("dong or won", ["VND"]),  # "won" alone is the verb
        ("the won and the yen", ["KRW", "JPY"]),
        ("80 euros in won right now", ["EUR", "KRW"]),
        ("payouts in real time", []),
        ("Singapore dollars", ["SGD"]),
        ("RMB", ["CNY"]),
        ("yuan", ["CNY"]),
        ("integrate with php", []),  # the language, in lower case
        ("try again", []),
    ],
)
def test_currency_names(text: str, codes: list[str]) -> None:
    assert [m.code for m in find_currencies(text)] == codes


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("forecast USD to THB", ("USD", "THB")),
        ("USD/THB next month", ("USD", "THB")),
        ("EUR-SGD outlook", ("EUR", "SGD")),
        ("usd to thb", ("USD", "THB")),
        ("USDTHB", ("USD", "THB")),
        ("from euros to Singapore dollars", ("EUR", "SGD")),
        ("THB against USD", ("THB", "USD")),
        ("the euro against the dollar", ("EUR", "USD")),
        ("how many baht per dollar", ("USD", "THB")),
        ("convert 1000 SGD to PHP", ("SGD", "PHP")),
        ("what's 800 EUR worth in SGD", ("EUR", "SGD")),
        ("forecast the peso", None),
        ("USD to USD", None),
        # A short verb between the two currencies, then the joining word.
        ("will the ringgit get stronger against the euro", ("MYR", "EUR")),
        ("what would 90 euros turn into in yen", ("EUR", "JPY")),
        ("how many baht do I get for a dollar", ("USD", "THB")),
        # Another clause or punctuation between them names no pair.
        ("we book in SGD and keep some money in ringgit", None),
        ("our home currency is SGD; we also hold euros in a wallet", None),
    ],
)
def test_pairs(text: str, pair: tuple[str, str] | None) -> None:
    assert find_pair(text) == pair


def test_currencies_read_as_one_word() -> None:
    text = "will the Thai baht weaken against the euro? the disputes I won"
    assert currencies_as_word(text) == (
        "will the currency weaken against the currency? the disputes I won"
    )


@pytest.mark.parametrize(
    ("text", "home", "foreign"),
    [
        ("how much PHP will I need", None, ("PHP",)),
        ("I pay suppliers in PHP", None, ("PHP",)),
        ("hedge my receivables, my home currency is SGD", "SGD", ()),
        ("my base currency is SGD, what about my ringgit", "SGD", ("MYR",)),
        ("we report in SGD and buy in USD", "SGD", ("USD",)),
        ("our accounts are kept in EUR, we sell in yen", "EUR", ("JPY",)),
        ("SGD is our home currency; hedge THB", "SGD", ("THB",)),
        ("how exposed am I to the peso and ringgit", None, ("PHP", "MYR")),
    ],
)
def test_home_and_foreign(text: str, home: str | None, foreign: tuple[str, ...]) -> None:
    roles = currency_roles(text)
    assert (roles.home, roles.foreign) == (home, foreign)


def test_a_known_home_currency_is_never_foreign() -> None:
    assert currency_roles("SGD and PHP flows", home="SGD").foreign == ("PHP",)


def test_roles_from_argument_names() -> None:
    assert currency_role("pair") == "pair"
    assert currency_role("source") == "base" and currency_role("target") == "quote"
    assert currency_role("home") == "home" and currency_role("currencies") == "foreign"
    assert currency_role("currency") is None


FORECAST = {
    "type": "object",
    "properties": {"pair": {"type": "string"}, "horizon": {"type": "integer"}},
    "required": ["pair"],
}
CONVERT = {
    "type": "object",
    "properties": {
        "amount": {"type": "string"},
        "source": {"type": "string"},
        "target": {"type": "string"},
    },
}
HEDGE = {
    "type": "object",
    "properties": {
        "home": {"type": "string"},
        "tenor_days": {"type": "integer"},
        "currencies": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["home"],
}
HEDGE_HINTS: dict[str, Any] = {}


def fill(text: str, schema: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return extract(text, plan_slots(schema, {}), today=TODAY, **kwargs).values


def test_pair_argument() -> None:
    got = fill("where is the dollar to baht rate going over the next 2 weeks", FORECAST)
    assert got == {"pair": "USD/THB", "horizon": 14}


def test_a_pair_argument_is_never_the_raw_sentence() -> None:
    got = fill("no idea", FORECAST, asked=["pair"])
    assert "pair" not in got


def test_source_and_target() -> None:
    got = fill("what is 5000 baht in Singapore dollars", CONVERT)
    assert got == {"amount": "5000", "source": "THB", "target": "SGD"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("how much PHP will I need next month", {"currencies": ["PHP"], "tenor_days": 30}),
        ("I pay suppliers in PHP, should I hedge", {"currencies": ["PHP"]}),
        ("hedge my ringgit, home currency SGD", {"home": "SGD", "currencies": ["MYR"]}),
    ],
)
def test_foreign_currency_is_never_the_home_one(text: str, expected: dict[str, Any]) -> None:
    assert fill(text, HEDGE) == expected


def test_home_answered_when_asked() -> None:
    assert fill("SGD", HEDGE, asked=["home"]) == {"home": "SGD"}
