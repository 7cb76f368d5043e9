"""The fraud starter model ships trained: it is current, equals a fresh training, a fresh
registry gets it as its first version, and a model trained from other inputs is never used."""

from __future__ import annotations

import json
import math
import re
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


_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _same_up_to_rounding(a: str, b: str) -> bool:
    """Equal text, except that numbers may differ in their last digits.

    The same training on another CPU can sum features and gradients in another order (numpy and
    LightGBM pick SIMD paths by CPU), which moves leaf values by ~1e-13; a real change to the
    data or the recipe moves splits, counts and leaves far more."""
    if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return False
    pairs = zip(_NUMBER.findall(a), _NUMBER.findall(b), strict=True)
    return all(math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-12) for x, y in pairs)


def test_rounding_noise_is_tolerated_and_real_changes_are_not() -> None:
    model = "leaf_value=0.71868966644222709 -1.5e-3 count=12"
    assert _same_up_to_rounding(
        model, "leaf_value=0.71868966644222753 -1.5000000000001e-3 count=12"
    )
    assert not _same_up_to_rounding(model, "leaf_value=0.71868 -1.5e-3 count=12")
    assert not _same_up_to_rounding(model, "leaf_value=0.71868966644222709 -1.5e-3 count=13")
    assert not _same_up_to_rounding(model, "leaf_value=0.71868966644222709 -1.5e-3 counts=12")


@pytest.mark.slow
def test_the_shipped_model_equals_a_fresh_training() -> None:
    shipped = starter.shipped_model(DEMO_SIM)
    assert shipped is not None
    fresh = train_from_simulator(DEMO_SIM, families=starter.FAMILIES).model
    assert _same_up_to_rounding(shipped.booster.model_to_string(), fresh.booster.model_to_string())
    assert _same_up_to_rounding(
        json.dumps(model_meta(shipped), sort_keys=True),
        json.dumps(json.loads(json.dumps(model_meta(fresh))), sort_keys=True),
    )


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
