"""The ULB recipe and its inner folds on a small synthetic frame of ULB's shape (the 150 MB CSV
is never needed)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from cockpit.errors import UserError
from tools.fraud.metrics import classification_report
from tools.fraud.model import FraudModel, TrainParams
from tools.fraud.ulb import COMPONENTS, FEATURES, UlbParams, train_ulb, ulb_features
from tools.fraud.ulb_folds import fold_slices, score_folds, summarise

ROWS = 6000
FAST = UlbParams(trees=TrainParams(n_estimators=40, learning_rate=0.1, min_child_samples=10))


def _frame(*, late_pattern: str | None = None, seed: int = 3) -> pd.DataFrame:
    """Two days of ULB-shaped rows, 2% fraud, shown by a low ``V14``; if ``late_pattern`` is
    named, fraud in the last fifth of the rows shows by a high value of that component instead."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(ROWS, len(COMPONENTS))), columns=list(COMPONENTS))
    frame.insert(0, "Time", np.sort(rng.uniform(0, 2 * 86_400, ROWS)).round())
    frame["Amount"] = rng.lognormal(3.5, 1.2, ROWS).round(2)
    fraud = rng.random(ROWS) < 0.02
    frame.loc[fraud, "V14"] -= 3.0
    if late_pattern is not None:
        late = fraud & (np.arange(ROWS) >= int(ROWS * 0.8))
        frame.loc[late, "V14"] += 3.0
        frame.loc[late, late_pattern] += 6.0
    frame["Class"] = fraud.astype(int)
    return frame


def _train(frame: pd.DataFrame, params: UlbParams = FAST) -> tuple[pd.DataFrame, FraudModel]:
    feats = ulb_features(frame)
    model = train_ulb(
        feats, frame["Class"].to_numpy(), amounts=frame["Amount"].to_numpy(), params=params
    )
    return feats, model


def test_features_are_components_log_amount_and_hour_of_day() -> None:
    frame = _frame()
    frame.loc[0, ["Time", "Amount"]] = [25 * 3600 + 59, 0.0]
    feats = ulb_features(frame)
    assert tuple(feats.columns) == FEATURES
    assert feats.loc[0, "hour"] == 1.0  # the second day's 01:00 is the first day's
    assert feats.loc[0, "log_amount"] == 0.0
    assert np.allclose(feats["log_amount"], np.log1p(frame["Amount"]))
    assert feats["hour"].between(0, 23).all()
    assert feats[list(COMPONENTS)].equals(frame[list(COMPONENTS)])


def test_features_refuse_a_frame_of_another_shape() -> None:
    with pytest.raises(UserError) as err:
        ulb_features(_frame().drop(columns=["V7", "Time"]))
    assert err.value.code == "ulb_columns_missing"
    assert "V7" in str(err.value) and "Time" in str(err.value)


def test_refit_learns_from_the_holdout_with_the_fixed_rounds() -> None:
    frame = _frame(late_pattern="V3")
    feats, model = _train(frame)
    assert model.booster.num_trees() == FAST.trees.n_estimators
    assert model.metrics["train_rows"] == ROWS
    _, before = _train(frame.iloc[: int(ROWS * 0.8)])
    # Genuine rows given the holdout's fraud marker (a high V3): the refit model, which trained
    # on the holdout, raises their margin; one trained on the rows before it alone barely does.
    genuine = feats[frame["Class"].to_numpy() == 0].head(200)
    marked = genuine.assign(V3=genuine["V3"] + 6.0)

    def lift(m: FraudModel) -> float:
        x, xm = (f.to_numpy(dtype=np.float64) for f in (genuine, marked))
        return float(np.mean(m.margin(xm) - m.margin(x)))

    assert lift(model) > 1.0
    assert lift(model) > 3 * abs(lift(before))


def test_calibration_and_policy_come_from_the_holdout() -> None:
    frame = _frame()
    feats, model = _train(frame)
    holdout = frame["Class"].to_numpy()[int(ROWS * 0.8) :]
    assert model.metrics["holdout_rows"] == len(holdout)
    assert model.metrics["validation"]["positives"] == holdout.sum()
    assert 0.0 <= model.policy.review_at <= model.policy.decline_at <= 1.0
    assert model.calib_a > 0.0  # a higher margin stays a higher probability
    prob = model.predict_proba(feats.to_numpy(dtype=np.float64))
    report = classification_report(frame["Class"].to_numpy(), prob)
    assert report["pr_auc"] > 10 * report["prevalence"]


def test_training_is_deterministic_per_seed() -> None:
    frame = _frame()
    _, first = _train(frame)
    _, again = _train(frame)
    _, other = _train(frame, UlbParams(trees=dataclasses.replace(FAST.trees, seed=8)))
    text = first.booster.model_to_string()
    assert text == again.booster.model_to_string()
    assert text != other.booster.model_to_string()


def test_training_refuses_a_holdout_without_fraud() -> None:
    frame = _frame()
    frame.loc[int(ROWS * 0.8) :, "Class"] = 0
    with pytest.raises(UserError) as err:
        _train(frame)
    assert err.value.code == "insufficient_training_data"


def test_inner_folds_fit_on_the_past_and_score_the_slice_after_it() -> None:
    slices = fold_slices(1000)
    assert [(f.start, f.stop, s.start, s.stop) for f, s in slices] == [
        (0, 500, 500, 700),
        (0, 700, 700, 850),
        (0, 850, 850, 1000),
    ]
    with pytest.raises(UserError) as err:
        fold_slices(1000, [(0.7, 0.5)])
    assert err.value.code == "ulb_fold_bounds"


def test_inner_folds_never_read_rows_after_the_last_scored_slice() -> None:
    frame = _frame()
    feats, y = ulb_features(frame), frame["Class"].to_numpy()
    bounds = [(0.5, 0.7)]
    first = score_folds(feats, y, params=FAST, seeds=(7,), bounds=bounds)
    # the last 30% scrambled: features reversed, labels all fraud
    later = slice(int(ROWS * 0.7), ROWS)
    feats_b, y_b = feats.copy(), y.copy()
    feats_b.iloc[later] = feats.iloc[later].to_numpy()[::-1]
    y_b[later] = 1
    again = score_folds(feats_b, y_b, params=FAST, seeds=(7,), bounds=bounds)
    assert first == again
    assert first[0].fit_rows == ROWS // 2 and first[0].scored_rows == int(ROWS * 0.7) - ROWS // 2


def test_inner_folds_score_every_fold_with_every_seed() -> None:
    frame = _frame()
    y = frame["Class"].to_numpy()
    scores = score_folds(ulb_features(frame), y, params=FAST, seeds=(7, 8))
    assert [(s.fold, s.seed) for s in scores] == [(k, s) for s in (7, 8) for k in range(3)]
    assert all(s.pr_auc > 10 * y.mean() for s in scores)
    summary = summarise(scores)
    assert summary.pr_auc == round(float(np.mean([s.pr_auc for s in scores])), 4)
    assert len(summary.pr_auc_by_seed) == 2 and len(summary.pr_auc_by_fold) == 3
    assert summary.scored_frauds == int(y[ROWS // 2 :].sum())


def test_inner_folds_refuse_a_fold_without_fraud_to_score() -> None:
    frame = _frame()
    frame.loc[int(ROWS * 0.85) :, "Class"] = 0
    with pytest.raises(UserError) as err:
        score_folds(ulb_features(frame), frame["Class"].to_numpy(), params=FAST, seeds=(7,))
    assert err.value.code == "insufficient_training_data"
