"""The JDM export of a scorecard scores exactly like the Python point tables."""

from __future__ import annotations

from typing import Any

import pytest

from tools.credit.catalog import builtin_scorecard, portfolio
from tools.credit.export import scorecard_to_jdm
from tools.credit.jdm import build_engine, check_decision_model


@pytest.mark.parametrize("name", ["german_credit", "merchant_financing"])
def test_engine_and_point_tables_agree_on_every_applicant(name: str) -> None:
    card = builtin_scorecard(name)
    doc = scorecard_to_jdm(card)
    assert check_decision_model(doc) == []
    engine = build_engine("card", doc)
    rows: list[dict[str, Any]] = portfolio(
        "german_credit" if name == "german_credit" else name
    ).frame.to_dict("records")
    for row in rows[:1000]:
        clean = card.validate(row)
        result = engine.evaluate("card", {"applicant": clean})["result"]
        assert result["score"] == sum(card.points(clean))
        assert result["points"] == card.evaluate(clean).points
