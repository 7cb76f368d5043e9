"""The ULB recipe's blend of trees and a linear score, on small synthetic frames of ULB's shape."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from cockpit.errors import UserError
from tools.fraud.metrics import classification_report
from tools.fraud.model import FraudModel, TrainParams, evaluate
from tools.fraud.registry import ModelRegistry
from tools.fraud.ulb import COMPONENTS, UlbParams, train_ulb, ulb_features
from tools.fraud.ulb_blend import BlendedModel, blend_meta, fit_linear, with_blend

ROWS = 6000
FAST = UlbParams(trees=TrainParams(n_estimators=40, learning_rate=0.1, min_child_samples=10))
AVERAGED = dataclasses.replace(FAST, stacked=False, linear_weight=0.5)


def _frame(seed: int) -> pd.DataFrame:
    """ULB-shaped rows, ~3% fraud, shown only by a small shift of every component at once: a
    direction a linear score finds and shallow trees on one component at a time barely do."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(ROWS, len(COMPONENTS))), columns=list(COMPONENTS))
    frame.insert(0, "Time", np.sort(rng.uniform(0, 2 * 86_400, ROWS)).round())
    frame["Amount"] = rng.lognormal(3.5, 1.2, ROWS).round(2)
    fraud = rng.random(ROWS) < 0.03
    frame.loc[fraud, list(COMPONENTS)] += 0.45
    frame["Class"] = fraud.astype(int)
    return frame


def _train(frame: pd.DataFrame, params: UlbParams = FAST) -> BlendedModel:
    return train_ulb(
        ulb_features(frame),
        frame["Class"].to_numpy(),
        amounts=frame["Amount"].to_numpy(),
        params=params,
    )


def _x(frame: pd.DataFrame) -> np.ndarray:
    return ulb_features(frame).to_numpy(dtype=np.float64)


def test_the_recipe_stacks_its_trees_on_the_linear_score_by_default() -> None:
    assert UlbParams().stacked and UlbParams().linear_weight == 0.25
    model = _train(_frame(seed=1))
    assert model.stacked and model.linear_weight == 0.25


def test_the_averaged_model_scores_by_the_weighted_log_odds_of_both_halves() -> None:
    frame = _frame(seed=1)
    model = _train(frame, AVERAGED)
    x = _x(frame)
    assert isinstance(model, BlendedModel) and not model.stacked and model.linear_weight == 0.5
    expected = 0.5 * model.tree_margin(x) + 0.5 * model.linear.margin(x)
    assert np.allclose(model.margin(x), expected)
    assert np.allclose(model.predict_proba(x), model.calibrate(expected))
    assert not np.allclose(model.margin(x), model.tree_margin(x))
    # evaluate(), which the service and the benchmark use, scores the blend
    report = evaluate(
        model, ulb_features(frame), frame["Class"].to_numpy(), amounts=frame["Amount"].to_numpy()
    )
    assert (
        report["pr_auc"]
        == classification_report(frame["Class"].to_numpy(), model.predict_proba(x))["pr_auc"]
    )


def test_weight_zero_is_the_trees_alone_and_one_the_linear_score_alone() -> None:
    frame = _frame(seed=1)
    x = _x(frame)
    trees = _train(frame, dataclasses.replace(AVERAGED, linear_weight=0.0))
    linear = _train(frame, dataclasses.replace(AVERAGED, linear_weight=1.0))
    assert np.allclose(trees.margin(x), FraudModel.margin(trees, x))
    assert np.allclose(linear.margin(x), linear.linear.margin(x))
    # the same seed, rows and rounds grow the same trees whatever the weight
    assert trees.booster.model_to_string() == linear.booster.model_to_string()


def test_the_blend_ranks_fresh_rows_better_where_the_signal_is_linear() -> None:
    model = _train(_frame(seed=1), AVERAGED)
    stacked = _train(_frame(seed=1))
    fresh = _frame(seed=2)
    x, y = _x(fresh), fresh["Class"].to_numpy()
    trees = classification_report(y, model.tree_margin(x))["pr_auc"]
    for blend in (model, stacked):
        assert classification_report(y, blend.predict_proba(x))["pr_auc"] > trees + 0.03


def test_contributions_add_up_to_the_blended_margin() -> None:
    frame = _frame(seed=1)
    model = _train(frame)
    x = _x(frame)[:50]
    contrib = model.contributions(x)
    assert contrib.shape == (50, x.shape[1] + 1)
    assert np.allclose(contrib.sum(axis=1), model.margin(x))


def test_linear_score_standardises_and_ignores_a_constant_column() -> None:
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(100.0, 20.0, 4000), np.full(4000, 7.0)])
    y = (x[:, 0] + rng.normal(0.0, 10.0, 4000) > 130.0).astype(int)
    score = fit_linear(x, y, c=1.0)
    assert score.mean[0] == pytest.approx(x[:, 0].mean())
    assert score.scale[0] == pytest.approx(x[:, 0].std())
    assert score.scale[1] == 1.0
    assert score.coef[0] > 1.0
    terms = score.contributions(x)
    assert np.all(terms[:, 1] == 0.0)
    assert np.allclose(terms.sum(axis=1), score.margin(x))
    assert classification_report(y, score.margin(x))["roc_auc"] > 0.9


def test_linear_score_refuses_a_single_class() -> None:
    with pytest.raises(UserError) as err:
        fit_linear(np.ones((10, 2)), np.zeros(10), c=1.0)
    assert err.value.code == "insufficient_training_data"


def _trees_as_stored(model: BlendedModel) -> FraudModel:
    """What a store that keeps only the LightGBM text and calibration would give back."""
    return FraudModel(
        booster=lgb.Booster(model_str=model.booster.model_to_string()),
        feature_names=model.feature_names,
        calib_a=model.calib_a,
        calib_b=model.calib_b,
        policy=model.policy,
    )


def test_a_stored_blend_comes_back_scoring_the_same() -> None:
    frame = _frame(seed=1)
    model = _train(frame)
    x = _x(frame)
    meta = json.loads(json.dumps(blend_meta(model)))
    plain = _trees_as_stored(model)
    assert not np.allclose(plain.predict_proba(x), model.predict_proba(x))
    back = with_blend(plain, meta)
    assert isinstance(back, BlendedModel) and back.policy == model.policy
    assert np.allclose(back.predict_proba(x), model.predict_proba(x))
    assert blend_meta(plain) is None and with_blend(plain, None) is plain
    with pytest.raises(UserError) as err:
        with_blend(plain, {**meta, "coef": meta["coef"][:-1]})
    assert err.value.code == "model_blend_mismatch"


STACKED = dataclasses.replace(FAST, stacked=True, linear_weight=0.25)


def test_stacked_trees_learn_the_residual_of_the_linear_score() -> None:
    frame = _frame(seed=1)
    x, y = _x(frame), frame["Class"].to_numpy()
    model = _train(frame, STACKED)
    assert model.stacked and model.metrics["stacked"] is True
    expected = model.linear.margin(x) + 0.75 * model.tree_margin(x)
    assert np.allclose(model.margin(x), expected)
    assert np.allclose(model.predict_proba(x), model.calibrate(expected))
    # the trees started from the linear log-odds, not from the base rate (~3% fraud, log-odds
    # about -3.5) as trees grown apart on the same rows and seed do: theirs is only a correction
    averaged = _train(frame, dataclasses.replace(STACKED, stacked=False))
    assert model.booster.model_to_string() != averaged.booster.model_to_string()
    assert float(np.mean(averaged.tree_margin(x))) < -3.0
    assert abs(float(np.mean(model.tree_margin(x)))) < 1.5
    report = evaluate(model, ulb_features(frame), y, amounts=frame["Amount"].to_numpy())
    assert report["pr_auc"] == classification_report(y, model.predict_proba(x))["pr_auc"]


def test_stacked_weight_zero_is_the_boosted_model_and_one_the_linear_score() -> None:
    frame = _frame(seed=1)
    x = _x(frame)
    boosted = _train(frame, dataclasses.replace(STACKED, linear_weight=0.0))
    linear = _train(frame, dataclasses.replace(STACKED, linear_weight=1.0))
    assert np.allclose(boosted.margin(x), boosted.linear.margin(x) + boosted.tree_margin(x))
    assert np.allclose(linear.margin(x), linear.linear.margin(x))


def test_stacked_contributions_add_up_and_a_stored_stack_scores_the_same() -> None:
    frame = _frame(seed=1)
    model = _train(frame, STACKED)
    x = _x(frame)
    contrib = model.contributions(x[:50])
    assert np.allclose(contrib.sum(axis=1), model.margin(x[:50]))
    meta = json.loads(json.dumps(blend_meta(model)))
    assert meta is not None and meta["stacked"] is True
    plain = _trees_as_stored(model)
    back = with_blend(plain, meta)
    assert isinstance(back, BlendedModel) and back.stacked
    assert np.allclose(back.predict_proba(x), model.predict_proba(x))
    # a meta stored before stacking existed has no flag and comes back averaged
    older = {k: v for k, v in meta.items() if k != "stacked"}
    averaged = with_blend(plain, older)
    assert isinstance(averaged, BlendedModel) and not averaged.stacked
    assert not np.allclose(averaged.margin(x), model.margin(x))


def test_the_registry_stores_and_loads_a_blend_as_trained(tmp_path: Path) -> None:
    frame = _frame(seed=1)
    x = _x(frame)
    registry = ModelRegistry(tmp_path / "models")
    for params in (STACKED, AVERAGED):
        model = _train(frame, params)
        version = registry.save(model)
        back = registry.load(version)
        assert isinstance(back, BlendedModel) and back.stacked == model.stacked
        assert np.allclose(back.predict_proba(x), model.predict_proba(x))
        assert registry.metadata(version)["blend"] == json.loads(json.dumps(blend_meta(model)))
    # a plain model is stored as before: no blend key, loaded as trees alone
    trees = FraudModel(**{f.name: getattr(model, f.name) for f in dataclasses.fields(FraudModel)})
    version = registry.save(trees)
    assert "blend" not in registry.metadata(version)
    assert type(registry.load(version)) is FraudModel
