"""Each app (each database) has its own fraud hub; a fresh one starts from the shipped starter
model, or trains one once per process when that is stale."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cockpit.config import Settings
from tools.fraud import service, starter
from tools.fraud.registry import ModelRegistry, default_root


def test_two_apps_in_one_process_share_no_streaming_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls_to: Callable[[object, str], list[Any]]
) -> None:
    trained = calls_to(service, "train_from_simulator")
    monkeypatch.setattr(service, "_bootstrap", {})
    # As if the shipped starter model were stale: the fallback trains, once per process.
    monkeypatch.setattr(service, "install_starter", lambda _registry, _sim: None)
    first, second = {}, {}  # two apps' extras
    one = Settings(data_dir=tmp_path / "one", demo=False)
    two = Settings(data_dir=tmp_path / "two", demo=False)
    hub_one = service.get_hub(first, one)
    assert service.get_hub(first, one) is hub_one  # the same app keeps its hub
    hub_two = service.get_hub(second, two)
    assert hub_two is not hub_one
    assert hub_one.tenant("t") is not hub_two.tenant("t")
    # The second data dir registered the model trained for the first, instead of retraining.
    assert len(trained) == 1
    assert (tmp_path / "two").exists()


def test_a_fresh_data_dir_gets_the_shipped_model_without_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(_sim: Any) -> Any:
        raise AssertionError("the shipped starter model is current: nothing should train")

    monkeypatch.setattr(service, "train_from_simulator", refuse)
    monkeypatch.setattr(service, "_bootstrap", {})
    settings = Settings(data_dir=tmp_path / "one", demo=False)
    service.get_hub({}, settings)
    registry = ModelRegistry(default_root(settings))
    assert registry.versions() == ["v0001"]
    assert registry.metadata("v0001")["note"] == starter.NOTE
