"""The linear half of the ULB recipe, and the model that scores by both halves.

The trees find the sharp, local fraud regions of the PCA components; a strongly regularised
logistic regression on the standardised features gives a smooth ranking that extrapolates
where the trees have seen few frauds (the newest period drifts). The two are combined in
log-odds in one of two ways (see :data:`tools.fraud.ulb.UlbParams` for which ranked ULB's
inner folds better):

* **averaged**: trees and regression fitted apart, margin ``(1 - w) · trees + w · linear``;
* **stacked**: the regression first, then the trees boosted from its log-odds (LightGBM's
  ``init_score``), so they learn only what it misses; margin ``linear + (1 - w) · trees``,
  which is the average ``(1 - w) · (linear + trees) + w · linear`` of the boosted model and
  the regression.

:class:`BlendedModel` is a :class:`~tools.fraud.model.FraudModel` whose margin is that combination,
so calibration, policy, :func:`~tools.fraud.model.evaluate` and ``predict_proba`` apply to the
blend unchanged, and its per-feature contributions still add up to the margin it scores.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from cockpit.errors import UserError
from tools.fraud.model import FraudModel


@dataclass(frozen=True, slots=True)
class LinearScore:
    """A logistic regression on standardised features: ``((x - mean) / scale) · coef + intercept``."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def _standard(self, x: np.ndarray) -> np.ndarray:
        centred = np.asarray(x, dtype=np.float64) - self.mean
        return np.asarray(centred / self.scale, dtype=np.float64)

    def margin(self, x: np.ndarray) -> np.ndarray:
        """Log-odds per row."""
        return np.asarray(self._standard(x) @ self.coef + self.intercept, dtype=np.float64)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per-feature terms of the log-odds, the intercept as the last column (as TreeSHAP)."""
        terms = self._standard(x) * self.coef
        return np.column_stack([terms, np.full(len(terms), self.intercept)])


def fit_linear(x: np.ndarray, y: np.ndarray, *, c: float) -> LinearScore:
    """Standardise each column on ``x`` and fit an L2 logistic regression with inverse strength ``c``.

    A column that does not vary keeps scale 1 (it then contributes nothing).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y).astype(int)
    if len(np.unique(y)) < 2:
        raise UserError(
            "the linear score needs both fraud and genuine rows", code="insufficient_training_data"
        )
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0.0] = 1.0
    lr = LogisticRegression(C=c, max_iter=5000)
    lr.fit((x - mean) / scale, y)
    return LinearScore(
        mean=mean,
        scale=scale,
        coef=lr.coef_[0].astype(np.float64),
        intercept=float(lr.intercept_[0]),
    )


@dataclass(slots=True, kw_only=True)
class BlendedModel(FraudModel):
    """Trees and a linear score combined in log-odds: averaged, or stacked (module docstring)."""

    linear: LinearScore
    linear_weight: float
    """``w``: averaged, 0 scores by the trees alone and 1 by the linear score alone; stacked,
    0 scores by the boosted model (linear + trees) and 1 by the linear score alone."""
    stacked: bool = False
    """The trees were boosted from the linear score's log-odds and hold only the residual."""

    def tree_margin(self, x: np.ndarray) -> np.ndarray:
        """The trees' log-odds alone: a model by themselves if averaged, the residual if stacked."""
        return FraudModel.margin(self, x)

    def _tree_share(self) -> float:
        return 1.0 - self.linear_weight

    def _linear_share(self) -> float:
        return 1.0 if self.stacked else self.linear_weight

    def margin(self, x: np.ndarray) -> np.ndarray:
        trees, linear = self.tree_margin(x), self.linear.margin(x)
        return self._tree_share() * trees + self._linear_share() * linear

    def contributions(self, x: np.ndarray) -> np.ndarray:
        trees = FraudModel.contributions(self, x)
        return self._tree_share() * trees + self._linear_share() * self.linear.contributions(x)


def blend_meta(model: FraudModel) -> dict[str, Any] | None:
    """A blended model's linear half and weight as JSON, ``None`` for trees alone.

    For whatever stores a model beside its LightGBM text (the registry's ``model_meta``):
    without it a stored blend would come back scoring by its trees alone.
    """
    if not isinstance(model, BlendedModel):
        return None
    lin = model.linear
    return {
        "weight": model.linear_weight,
        "stacked": model.stacked,
        "mean": lin.mean.tolist(),
        "scale": lin.scale.tolist(),
        "coef": lin.coef.tolist(),
        "intercept": lin.intercept,
    }


def with_blend(model: FraudModel, meta: dict[str, Any] | None) -> FraudModel:
    """``model`` scoring with the linear half :func:`blend_meta` wrote (``model`` if ``None``)."""
    if meta is None:
        return model
    kept = {f.name: getattr(model, f.name) for f in fields(FraudModel)}
    linear = LinearScore(
        mean=np.asarray(meta["mean"], dtype=np.float64),
        scale=np.asarray(meta["scale"], dtype=np.float64),
        coef=np.asarray(meta["coef"], dtype=np.float64),
        intercept=float(meta["intercept"]),
    )
    if len(linear.coef) != len(model.feature_names):
        raise UserError(
            f"linear score has {len(linear.coef)} weights for {len(model.feature_names)} features",
            code="model_blend_mismatch",
        )
    # a meta written before stacking existed is an averaged blend
    stacked = bool(meta.get("stacked", False))
    return BlendedModel(**kept, linear=linear, linear_weight=float(meta["weight"]), stacked=stacked)


__all__ = ["BlendedModel", "LinearScore", "blend_meta", "fit_linear", "with_blend"]
