"""Scorecard training and scoring: monotonic bins, WoE/IV, points scaling, PSI, calibration."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cockpit.errors import ValidationFailed
from tools.credit.catalog import builtin_scorecard, portfolio
from tools.credit.data import GERMAN_FEATURES, load_german_credit
from tools.credit.metrics import auc, calibration, ks, psi
from tools.credit.scorecard import Scaling, Scorecard
from tools.credit.training import train_scorecard


def test_scaling_follows_the_pdo_formula() -> None:
    s = Scaling(600, 50, 20)
    assert s.factor == pytest.approx(28.8539, abs=1e-3)
    assert s.offset == pytest.approx(487.123, abs=1e-2)


def test_score_maps_back_to_the_base_odds(german_card: Scorecard) -> None:
    s = german_card.scaling
    assert german_card.pd_from_score(s.base_points) == pytest.approx(1 / (1 + s.base_odds))
    # PDO points more doubles the good:bad odds.
    odds = lambda p: (1 - p) / p  # noqa: E731
    assert odds(german_card.pd_from_score(560)) / odds(
        german_card.pd_from_score(540)
    ) == pytest.approx(2.0)


def test_numerical_bins_are_monotonic_and_protected_fields_are_never_scored(
    german_card: Scorecard,
) -> None:
    assert all(f.monotonic() for f in german_card.features)
    names = set(german_card.feature_names)
    assert not names & {"personal_status_and_sex", "foreign_worker"}
    assert german_card.dropped["foreign_worker"] == "protected attribute"
    # Every scored feature has a sound (negative) weight. No IV screen by default: a candidate
    # is left out only for a wrong-sign weight or a single bin, and the card says which.
    assert all(f.coefficient < 0 for f in german_card.features)
    left_out = {k: german_card.dropped[k] for k in german_card.iv if k not in names}
    assert left_out and set(left_out.values()) <= {
        "wrong-sign coefficient (collinear with others)",
        "a single bin (no signal)",
    }
    # Higher WoE (safer bin) always earns more points.
    for f in german_card.features:
        pairs = sorted((b.woe, b.points) for b in f.bins)
        assert [p for _, p in pairs] == sorted(p for _, p in pairs)


def test_iv_matches_its_definition_on_the_bin_counts(german_card: Scorecard) -> None:
    frame, y = load_german_credit()
    f = next(f for f in german_card.features if f.name == "status_of_existing_checking_account")
    from tools.credit.catalog import _german_split

    train, _ = _german_split()
    x, t = frame.iloc[train][f.name].to_numpy(), y[train]
    idx = np.asarray([f.category_bins[v] for v in x])
    goods = np.bincount(idx, weights=1 - t)
    bads = np.bincount(idx, weights=t)
    pg, pb = (
        (goods + 0.5) / (goods.sum() + 0.5 * len(goods)),
        (bads + 0.5) / (bads.sum() + 0.5 * len(bads)),
    )
    assert f.iv == pytest.approx(float(np.sum((pg - pb) * np.log(pg / pb))), abs=1e-3)
    assert f.iv > 0.3  # the strongest German-credit characteristic


def test_fast_point_tables_agree_with_vectorised_scoring(
    german_card: Scorecard, german_frame: pd.DataFrame, german_rows: list[dict[str, Any]]
) -> None:
    vec = german_card.score_frame(german_frame)
    one = np.asarray([sum(german_card.points(r)) for r in german_rows])
    assert np.array_equal(vec, one)
    r = german_card.evaluate(german_rows[0])
    assert r.score == sum(r.points.values()) and 0 < r.pd < 1


def test_serialisation_round_trips_exactly(
    german_card: Scorecard, german_rows: list[dict[str, Any]]
) -> None:
    copy = Scorecard.from_dict(german_card.to_dict())
    assert copy.to_dict() == german_card.to_dict()
    assert [sum(copy.points(r)) for r in german_rows[:50]] == [
        sum(german_card.points(r)) for r in german_rows[:50]
    ]
    with pytest.raises(ValidationFailed):
        Scorecard.from_dict({**german_card.to_dict(), "format": 99})


def test_holdout_discrimination_and_calibration(german_card: Scorecard) -> None:
    pf = portfolio("german_credit_holdout")
    scores = german_card.score_frame(pf.frame)
    assert auc(pf.y, -scores) > 0.75
    assert ks(pf.y, -scores) > 0.35
    _, brier, ece = calibration(pf.y, german_card.pd_frame(scores))
    assert brier < 0.2 and ece < 0.08


def test_psi_is_small_for_the_same_population_and_large_for_a_shifted_one(
    german_card: Scorecard,
) -> None:
    pf = portfolio("german_credit_holdout")
    scores = german_card.score_frame(pf.frame)
    assert german_card.stability(scores) < 0.1
    assert german_card.stability(scores - 40) > 0.25
    assert psi(scores, scores) == pytest.approx(0.0)


def test_metrics_on_known_cases() -> None:
    assert auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert ks([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0


def test_training_rejects_unusable_data(german_frame: pd.DataFrame) -> None:
    with pytest.raises(ValidationFailed) as err:
        train_scorecard(german_frame, np.zeros(1000), specs=GERMAN_FEATURES, name="x")
    assert err.value.code == "single_class"
    with pytest.raises(ValidationFailed) as err:
        train_scorecard(
            german_frame.drop(columns=["purpose"]),
            np.arange(1000) % 2,
            specs=GERMAN_FEATURES,
            name="x",
        )
    assert err.value.code == "missing_columns"


def test_merchant_card_learns_the_hidden_risk_drivers() -> None:
    card = builtin_scorecard("merchant_financing")
    assert {"dispute_rate", "tenure_months", "monthly_revenue"} <= set(card.feature_names)
    pf = portfolio("merchant_financing")
    assert auc(pf.y, -card.score_frame(pf.frame)) > 0.7
    dispute = next(f for f in card.features if f.name == "dispute_rate")
    # More disputes, fewer points (a decreasing trend).
    assert [b.points for b in dispute.bins] == sorted(
        (b.points for b in dispute.bins), reverse=True
    )
    assert math.isfinite(card.intercept)
