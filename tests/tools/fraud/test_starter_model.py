"""The fraud starter model ships trained: it is current, equals a fresh training, a fresh
registry gets it as its first version, and a model trained from other inputs is never used."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tools.fraud import starter
from tools.fraud.registry import ModelRegistry, model_meta
from tools.fraud.service import DEMO_SIM
from tools.fraud.training import train_from_simulator


def test_the_shipped_model_is_current() -> None:
    shipped = starter.shipped_model(DEMO_SIM)
    assert shipped is not None, "stale or missing: run python scripts/ship_startup_artefacts.py"


@pytest.mark.slow
def test_the_shipped_model_equals_a_fresh_training() -> None:
    shipped = starter.shipped_model(DEMO_SIM)
    assert shipped is not None
    fresh = train_from_simulator(DEMO_SIM, families=starter.FAMILIES).model
    assert shipped.booster.model_to_string() == fresh.booster.model_to_string()
    assert model_meta(shipped) == json.loads(json.dumps(model_meta(fresh)))


def test_a_fresh_registry_gets_the_shipped_model_once(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    assert starter.install_starter(registry, DEMO_SIM) == "v0001"
    assert registry.metadata("v0001")["note"] == starter.NOTE
    loaded = registry.load()
    assert loaded.booster.model_to_string() == starter.MODEL_FILE.read_text(encoding="utf-8")
    # A registry with a model keeps it: nothing is installed over it.
    assert starter.install_starter(registry, DEMO_SIM) is None
    assert registry.versions() == ["v0001"]


def test_a_model_trained_from_other_inputs_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = replace(DEMO_SIM, seed=DEMO_SIM.seed + 1)
    assert starter.training_key(other) != starter.training_key(DEMO_SIM)
    assert starter.shipped_model(other) is None
    assert starter.install_starter(ModelRegistry(tmp_path / "a"), other) is None
    monkeypatch.setattr(starter, "_TRAINING_LIBRARIES", ("numpy",))
    assert starter.shipped_model(DEMO_SIM) is None


def test_a_tampered_model_file_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = starter.MODEL_FILE.read_text(encoding="utf-8")
    (tmp_path / "model.txt").write_text(text.replace("tree_sizes", "tree_sizes ", 1))
    monkeypatch.setattr(starter, "MODEL_FILE", tmp_path / "model.txt")
    assert starter.shipped_model(DEMO_SIM) is None
