"""Chat shorthand is written out before intent detection; ids and other words stay."""

from __future__ import annotations

import pytest

from cockpit.planner.intents import normalise
from cockpit.planner.shorthand import standard_spelling


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("it didnt go thru", "it didn't go through"),
        ("how much can I withdraw rn", "how much can I withdraw right now"),
        ("pls check this txn", "please check this transaction"),
        ("Dont refund it", "don't refund it"),
        ("the turn signal", "the turn signal"),  # whole words only
        ("run it", "run it"),
    ],
)
def test_shorthand(text: str, expected: str) -> None:
    assert standard_spelling(text) == expected


def test_intent_text_reads_values_as_their_kind() -> None:
    text = "why didnt pay_8F3K2m go thru? is the baht weaker vs the US dollar, 100 USD"
    assert normalise(text) == (
        "why didn't payment go through? is the currency weaker vs the currency, amount"
    )
