"""Each app (each database) has its own fraud hub; the bootstrap model is trained once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cockpit.config import Settings
from tools.fraud import service


def test_two_apps_in_one_process_share_no_streaming_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained: list[Any] = []
    real = service.train_from_simulator

    def counting(sim: Any) -> Any:
        trained.append(sim)
        return real(sim)

    monkeypatch.setattr(service, "train_from_simulator", counting)
    monkeypatch.setattr(service, "_bootstrap", {})
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
