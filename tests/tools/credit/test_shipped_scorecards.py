"""The built-in scorecards ship trained: the shipped cards are current and equal a fresh
training, and a card trained from other inputs is never used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.credit import catalog


@pytest.mark.parametrize("name", catalog.SCORECARDS)
def test_the_shipped_card_is_current_and_equals_training(name: str) -> None:
    shipped = catalog._shipped(name)
    assert shipped is not None, f"{name}: stale or missing; run python -m tools.credit.catalog"
    assert shipped.to_dict() == catalog.train_builtin_scorecard(name).to_dict()


def test_a_card_trained_from_other_inputs_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.loads((catalog.SHIPPED / "german_credit.json").read_text())
    body["key"] = "0" * 64
    (tmp_path / "german_credit.json").write_text(json.dumps(body))
    monkeypatch.setattr(catalog, "SHIPPED", tmp_path)
    assert catalog._shipped("german_credit") is None
    assert catalog._shipped("merchant_financing") is None  # not shipped there at all


def test_the_key_follows_the_training_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    key = catalog.training_key("german_credit")
    assert key != catalog.training_key("merchant_financing")
    monkeypatch.setattr(catalog, "_TRAINING_LIBRARIES", ("numpy",))
    assert catalog.training_key("german_credit") != key
