from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cockpit.errors import InternalError, NotFound, UserError
from tools.fraud.metrics import recall_at_fpr
from tools.fraud.model import CostModel, choose_policy, train_model
from tools.fraud.registry import ModelRegistry
from tools.fraud.training import TrainingRun, feature_subset, pattern_recall


def test_trained_model_is_useful_on_held_out_period(trained: TrainingRun) -> None:
    test = trained.test_metrics
    # DOMAIN 11.3: on a simulator AP ≥ 0.6 and AUC ≥ 0.85 are the gate.
    assert test["pr_auc"] >= 0.6
    assert test["roc_auc"] >= 0.85
    assert test["pr_auc"] > 5 * test["prevalence"]
    assert 0.0 <= test["brier"] < 0.05
    assert test["false_decline_rate"] <= 0.005


def test_policy_thresholds_are_ordered_and_cost_based(trained: TrainingRun) -> None:
    pol = trained.model.policy
    assert 0.0 <= pol.review_at <= pol.decline_at <= 1.0
    stats = trained.model.metrics["policy"]
    assert stats["expected_cost"] <= stats["cost_approve_all"]
    assert stats["valid_false_decline_rate"] <= pol.costs.max_decline_fpr


def test_choose_policy_respects_the_decline_fpr_cap() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(5000) < 0.05
    scores = np.clip(np.where(y, rng.normal(0.7, 0.2, 5000), rng.normal(0.2, 0.15, 5000)), 0, 1)
    amounts = rng.lognormal(4, 1, 5000)
    strict, _ = choose_policy(scores, y, amounts, costs=CostModel(max_decline_fpr=0.0))
    assert np.mean(scores[~y] >= strict.decline_at) == 0.0
    loose, stats = choose_policy(scores, y, amounts, costs=CostModel(max_decline_fpr=0.05))
    assert loose.decline_at <= strict.decline_at
    assert stats["expected_cost"] < float(amounts[y].sum())


def test_recall_at_fpr_is_conservative() -> None:
    y = np.array([0] * 1000 + [1] * 10)
    s = np.r_[np.linspace(0, 1, 1000), np.full(10, 0.999)]
    # At FPR < 0.1% no genuine row may be above the threshold: the legit 1.0 sets it.
    assert recall_at_fpr(y, s, 0.0005) == 0.0
    # At 0.1% one genuine row (the 1.0) may be flagged, so the frauds at 0.999 are caught.
    assert recall_at_fpr(y, s, 0.001) == 1.0


def test_graph_features_matter_for_rings(trained: TrainingRun) -> None:
    names = feature_subset(("tabular", "sequence"))
    assert not any(n.startswith("graph_") for n in names)
    with pytest.raises(UserError):
        feature_subset(("nope",))
    with_graph = pattern_recall(trained, pattern="fraud_ring")
    assert with_graph["pattern_rows"] > 5
    assert with_graph["recall"] >= 0.8
    assert with_graph["fpr"] <= 0.01


def test_training_refuses_data_without_fraud(sim_features: pd.DataFrame) -> None:
    y = np.zeros(len(sim_features), dtype=int)
    with pytest.raises(UserError) as err:
        train_model(sim_features, y, amounts=np.ones(len(y)))
    assert err.value.code == "insufficient_training_data"


def test_registry_round_trip_versions_and_checksum(trained: TrainingRun, tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path / "models")
    with pytest.raises(NotFound):
        reg.load()
    model = dataclasses.replace(trained.model)  # save() stamps the version on the object
    v1 = reg.save(model, note="first")
    assert model.version == "v0001"
    v2 = reg.save(model, make_live=False)
    assert (v1, v2) == ("v0001", "v0002")
    assert reg.live_version() == "v0001"
    loaded = reg.load()
    assert loaded.version == "v0001"
    x = trained.features.iloc[trained.cut :][list(loaded.feature_names)].to_numpy()[:500]
    np.testing.assert_allclose(loaded.predict_proba(x), trained.model.predict_proba(x), rtol=1e-12)
    assert loaded.policy == trained.model.policy
    meta = reg.metadata("v0001")
    assert meta["metrics"]["test"]["pr_auc"] == pytest.approx(trained.test_metrics["pr_auc"])
    json.dumps(meta)  # strict JSON: NaNs were stored as null
    reg.set_live("v0002")
    assert reg.load().version == "v0002"
    with pytest.raises(NotFound):
        reg.set_live("v0009")
    model_file = tmp_path / "models" / "v0002" / "model.txt"
    model_file.write_text(model_file.read_text() + "\n", encoding="utf-8")
    with pytest.raises(InternalError) as err:
        reg.load()
    assert err.value.code == "model_corrupt"
