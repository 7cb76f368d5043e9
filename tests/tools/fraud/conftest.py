"""Shared fixtures: one small simulated world and one model trained on it (session scope keeps tests fast)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from tools.fraud.features import bulk_features
from tools.fraud.model import TrainParams
from tools.fraud.simulator import SimConfig, simulate
from tools.fraud.training import TrainingRun, train_on_frame

SMALL = SimConfig(seed=11, n_customers=500, days=30, n_rings=6, ato_per_day=1.5)


@pytest.fixture(scope="session")
def sim_frame() -> pd.DataFrame:
    return simulate(SMALL)


@pytest.fixture(scope="session")
def sim_features(sim_frame: pd.DataFrame) -> pd.DataFrame:
    return bulk_features(sim_frame)


@pytest.fixture(scope="session")
def trained(sim_frame: pd.DataFrame, sim_features: pd.DataFrame) -> TrainingRun:
    return train_on_frame(sim_frame, features=sim_features, params=TrainParams(n_estimators=200))


@pytest.fixture
def calls_to(monkeypatch: pytest.MonkeyPatch) -> Callable[[object, str], list[Any]]:
    """``calls_to(owner, name)`` wraps ``owner.name`` for this test; the list it returns gets the
    first argument of every call (how often a hub trained or simulated, and with what)."""

    def wrap(owner: object, name: str) -> list[Any]:
        seen: list[Any] = []
        real = getattr(owner, name)

        def counting(first: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(first)
            return real(first, *args, **kwargs)

        monkeypatch.setattr(owner, name, counting)
        return seen

    return wrap
