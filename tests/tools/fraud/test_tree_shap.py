"""The table TreeSHAP of reason codes equals LightGBM's ``pred_contrib``, and so do the reasons."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from tools.fraud.reasons import TreeShap, top_reasons, tree_shap
from tools.fraud.training import TrainingRun

#: Small deep trees, single-threaded and seeded, so each test trains the same booster.
_PARAMS = {
    "objective": "binary",
    "num_leaves": 31,
    "max_depth": 6,
    "min_child_samples": 5,
    "verbosity": -1,
    "num_threads": 1,
    "seed": 1,
}


def _wire(names: tuple[str, ...], values: np.ndarray, contrib: np.ndarray) -> list[object]:
    """What a score answer shows of the reasons (as ``ScoreResult.to_dict`` rounds them)."""
    shown: list[object] = []
    for r in top_reasons(names, values, contrib[:-1], k=3):
        features = [(f.feature, f.value, round(f.contribution, 6)) for f in r.features[:4]]
        shown.append((r.code, round(r.contribution, 6), features))
    return shown


def test_equals_pred_contrib_on_the_fraud_model(
    trained: TrainingRun, sim_features: pd.DataFrame
) -> None:
    model = trained.model
    x = sim_features[list(model.feature_names)].to_numpy(dtype=np.float64)
    assert len(x) >= 2_000 and np.isnan(x).any()  # thousands of rows, missing values among them
    ours = TreeShap(model.booster, len(model.feature_names))
    theirs = model.contributions(x)
    mine = np.vstack([ours.contributions(x[i : i + 7]) for i in range(0, len(x), 7)])
    assert np.abs(mine - theirs).max() <= 1e-9
    assert ((mine == 0.0) == (theirs == 0.0)).all()  # unused features are exactly zero in both
    for i in range(len(x)):
        assert _wire(model.feature_names, x[i], mine[i]) == _wire(
            model.feature_names, x[i], theirs[i]
        )


def test_missing_and_zero_rules_and_repeated_features() -> None:
    """Zero-as-missing and NaN splits, both default sides, a feature split twice on a path."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3_000, 4))
    x[rng.random(x.shape) < 0.15] = np.nan
    x[rng.random(x.shape) < 0.15] = 0.0
    y = np.nan_to_num(x[:, 0]) * 2 + np.nan_to_num(x[:, 1]) ** 2 + rng.normal(size=3_000) > 1
    for zero_as_missing in (False, True):
        params = {**_PARAMS, "zero_as_missing": zero_as_missing}
        booster = lgb.train(params, lgb.Dataset(x, label=y.astype(int)), num_boost_round=30)
        probe = np.vstack([x[:1_500], [[np.nan, 0.0, 0.0, np.nan], [0.0, np.nan, -0.0, 1e-40]]])
        ours = TreeShap(booster, 4).contributions(probe)
        theirs = booster.predict(probe, pred_contrib=True, num_threads=1)
        assert np.abs(ours - theirs).max() <= 1e-9


def test_other_models_are_left_to_lightgbm() -> None:
    rng = np.random.default_rng(4)
    x = rng.integers(0, 6, size=(500, 2)).astype(np.float64)
    booster = lgb.train(
        {"objective": "binary", "verbosity": -1, "num_threads": 1, "min_child_samples": 5},
        lgb.Dataset(x, label=(x[:, 0] > 2).astype(int), categorical_feature=[0]),
        num_boost_round=5,
    )
    assert tree_shap(booster, 2) is None


def test_boosters_loaded_from_one_model_share_its_tables(trained: TrainingRun) -> None:
    """Every app loads its own booster from its registry: the tables are built once a model."""
    text = trained.model.booster.model_to_string()
    first, second = (lgb.Booster(model_str=text) for _ in range(2))
    n = len(trained.model.feature_names)
    shared = tree_shap(first, n)
    assert shared is not None and tree_shap(second, n) is shared
    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, size=(300, 2)).astype(np.float64)
    other = lgb.train(_PARAMS, lgb.Dataset(x, label=(x[:, 0] > 2).astype(int)), num_boost_round=5)
    assert tree_shap(other, 2) not in (None, shared)
