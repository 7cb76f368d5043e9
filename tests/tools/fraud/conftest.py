"""Shared fixtures: one small simulated world and one model trained on it (session scope keeps tests fast)."""

from __future__ import annotations

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
