"""End-to-end training on simulator data: features → time-ordered split → model → held-out metrics.

Used by ``cockpit fraud train``, the benchmarks and the tests. The held-out
period is the last ``test_frac`` of transactions by time; features for it are
computed in the same pass as for training (state carries over in time, as it
would in production) and labels are only visible once they have arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cockpit.errors import UserError
from cockpit.progress import Progress
from tools.fraud.features import FEATURE_FAMILIES, FEATURE_NAMES, bulk_features
from tools.fraud.features.tabular import amounts_usd
from tools.fraud.model import CostModel, FraudModel, TrainParams, evaluate, train_model
from tools.fraud.simulator import SimConfig, simulate


@dataclass(slots=True)
class TrainingRun:
    """A trained model with the data it saw, for evaluation and ablations."""

    model: FraudModel
    features: pd.DataFrame
    frame: pd.DataFrame
    cut: int
    """Index of the first held-out row."""
    test_metrics: dict[str, Any]


def feature_subset(families: tuple[str, ...]) -> tuple[str, ...]:
    """Feature names of the given families (``tabular``, ``sequence``, ``graph``), in canonical order."""
    unknown = [f for f in families if f not in FEATURE_FAMILIES]
    if unknown:
        raise UserError(
            f"unknown feature families {unknown}", code="unknown_feature_family", param="families"
        )
    wanted = {name for fam in families for name in FEATURE_FAMILIES[fam]}
    return tuple(n for n in FEATURE_NAMES if n in wanted)


def train_on_frame(
    frame: pd.DataFrame,
    *,
    features: pd.DataFrame | None = None,
    families: tuple[str, ...] = ("tabular", "sequence", "graph"),
    test_frac: float = 0.3,
    params: TrainParams | None = None,
    costs: CostModel | None = None,
    progress: Progress | None = None,
) -> TrainingRun:
    """Train on the earliest ``1 - test_frac`` of a labelled, time-sorted frame; evaluate on the rest.

    ``progress(done, total)`` hears the boosting rounds.
    """
    if not 0.0 < test_frac < 1.0:
        raise UserError(
            "test_frac must be between 0 and 1", code="invalid_value", param="test_frac"
        )
    frame = frame.sort_values("ts", kind="stable").reset_index(drop=True)
    feats = features if features is not None else bulk_features(frame)
    y = frame["is_fraud"].to_numpy(dtype=int)
    amounts = amounts_usd(frame)
    cut = int(len(frame) * (1.0 - test_frac))
    model = train_model(
        feats.iloc[:cut],
        y[:cut],
        amounts=amounts[:cut],
        feature_names=feature_subset(families),
        params=params,
        costs=costs,
        progress=progress,
    )
    test = evaluate(model, feats.iloc[cut:], y[cut:], amounts=amounts[cut:])
    model.metrics["test"] = test
    model.metrics["families"] = list(families)
    return TrainingRun(model=model, features=feats, frame=frame, cut=cut, test_metrics=test)


def train_from_simulator(
    config: SimConfig | None = None,
    *,
    families: tuple[str, ...] = ("tabular", "sequence", "graph"),
    params: TrainParams | None = None,
    progress: Progress | None = None,
) -> TrainingRun:
    """Simulate a world and train on it (the default ``cockpit fraud train``)."""
    cfg = config or SimConfig()
    run = train_on_frame(simulate(cfg), families=families, params=params, progress=progress)
    run.model.metrics["data"] = {
        "source": "simulator",
        "seed": cfg.seed,
        "n_customers": cfg.n_customers,
        "days": cfg.days,
        "rows": len(run.frame),
        "fraud_rows": int(run.frame["is_fraud"].sum()),
    }
    return run


def pattern_recall(
    run: TrainingRun, *, pattern: str, fpr: float = 0.01, model: FraudModel | None = None
) -> dict[str, float]:
    """Recall of one fraud pattern in the held-out period at a threshold with ``fpr`` on genuine rows."""
    m = model or run.model
    held = run.frame.iloc[run.cut :]
    x = run.features.iloc[run.cut :][list(m.feature_names)].to_numpy(dtype=np.float64)
    prob = m.predict_proba(x)
    legit = (held["is_fraud"] == 0).to_numpy()
    target = (held["pattern"] == pattern).to_numpy()
    neg = np.sort(prob[legit])[::-1]
    k = int(np.floor(fpr * len(neg)))
    thr = neg[min(k, len(neg) - 1)] if len(neg) else 1.0
    return {
        "pattern_rows": float(target.sum()),
        "recall": float(np.mean(prob[target] > thr)) if target.any() else float("nan"),
        "fpr": float(np.mean(prob[legit] > thr)) if legit.any() else float("nan"),
    }


__all__ = [
    "TrainingRun",
    "feature_subset",
    "pattern_recall",
    "train_from_simulator",
    "train_on_frame",
]
